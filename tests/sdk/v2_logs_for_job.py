"""Scenario, run with the SageMaker Python SDK v2's own virtualenv (.venv-sdk2), not imported:

    sagemaker.Session().logs_for_job(job_name, wait=True)

tailing a training job that the test created through boto3 (reference §11.1: the SDK polls
DescribeLogStreams / GetLogEvents every 10 s and DescribeTrainingJob every 30 s, then flushes once
more after the job ends). Environment: endpoint variables, region, dummy credentials only.

Usage: python v2_logs_for_job.py JOB_NAME
"""

import sys

import sagemaker


def main() -> None:
    job_name = sys.argv[1]
    sagemaker.Session().logs_for_job(job_name, wait=True)
    print("SCENARIO-RESULT {}", flush=True)


if __name__ == "__main__":
    main()
