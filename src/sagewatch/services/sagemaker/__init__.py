"""SageMaker: training and processing jobs (service.py the API, jobs.py their lifecycle,
metric_definitions.py the algorithm metrics read from their logs)."""
