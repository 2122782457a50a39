"""SageMaker job state change events (services/sagemaker/job_events.py): the envelope of
reference §5.2 and a detail that is the Describe answer with Tags as a map and epoch-millisecond
times."""

from __future__ import annotations

from sagewatch.services.sagemaker.job_events import job_state_change_event
from sagewatch.services.sagemaker.jobs import PROCESSING_JOB, TRAINING_JOB
from sagewatch.store.jobs import JobRecord

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/kmeans-1"


def record(kind=TRAINING_JOB, arn=ARN) -> JobRecord:
    return JobRecord(kind=kind, name="kmeans-1", arn=arn, request={}, status="Completed",
                     secondary_status="Completed", transitions=[], creation_time=1583831889.05,
                     last_modified_time=1583831990.5)


def test_a_training_jobs_event_mirrors_describe_with_tags_as_a_map_and_millisecond_times():
    described = {
        "TrainingJobName": "kmeans-1", "TrainingJobArn": ARN, "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed", "HyperParameters": {"k": "3"},
        "CreationTime": 1583831889.05, "TrainingStartTime": 1583831900.001, "TrainingEndTime": 1583831990.499,
        "LastModifiedTime": 1583831990.5,
        "SecondaryStatusTransitions": [
            {"Status": "Starting", "StartTime": 1583831889.05, "EndTime": 1583831900.001, "StatusMessage": "s"},
            {"Status": "Completed", "StartTime": 1583831990.499, "EndTime": 1583831990.499, "StatusMessage": "c"}],
        "FinalMetricDataList": [{"MetricName": "loss", "Value": 0.5, "Timestamp": 1583831980.25}],
    }
    event = job_state_change_event("InProgress", record(), described=described, tags={"team": "ml"})
    assert event["source"] == "aws.sagemaker"
    assert event["detail-type"] == "SageMaker Training Job State Change"
    assert event["resources"] == [ARN]
    detail = event["detail"]
    assert detail["Tags"] == {"team": "ml"}
    assert detail["CreationTime"] == 1583831889050 and isinstance(detail["CreationTime"], int)
    assert detail["TrainingStartTime"] == 1583831900001
    assert detail["TrainingEndTime"] == 1583831990499
    assert detail["LastModifiedTime"] == 1583831990500
    assert detail["SecondaryStatusTransitions"][0] == {
        "Status": "Starting", "StartTime": 1583831889050, "EndTime": 1583831900001, "StatusMessage": "s"}
    assert detail["FinalMetricDataList"] == [{"MetricName": "loss", "Value": 0.5, "Timestamp": 1583831980250}]
    assert detail["HyperParameters"] == {"k": "3"} and detail["TrainingJobStatus"] == "Completed"
    assert described["CreationTime"] == 1583831889.05  # the answer given is not changed


def test_an_open_transition_keeps_no_end_time():
    described = {"TrainingJobStatus": "InProgress", "CreationTime": 10.0, "LastModifiedTime": 10.0,
                 "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": 10.0, "StatusMessage": "s"}]}
    detail = job_state_change_event(None, record(), described=described, tags={})["detail"]
    assert detail["SecondaryStatusTransitions"] == [{"Status": "Starting", "StartTime": 10000, "StatusMessage": "s"}]
    assert detail["Tags"] == {}


def test_a_processing_jobs_event():
    arn = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/prep"
    described = {"ProcessingJobName": "prep", "ProcessingJobArn": arn, "ProcessingJobStatus": "Failed",
                 "FailureReason": "AlgorithmError: boom", "CreationTime": 1704320199.0,
                 "ProcessingStartTime": 1704320734.0, "ProcessingEndTime": 1704320746.0,
                 "LastModifiedTime": 1704320746.0}
    event = job_state_change_event("InProgress", record(PROCESSING_JOB, arn), described=described, tags={})
    assert event["detail-type"] == "SageMaker Processing Job State Change"
    assert event["resources"] == [arn]
    # The numbers of AWS's processing example (reference §5.2).
    assert {k: event["detail"][k] for k in ("ProcessingEndTime", "ProcessingStartTime", "LastModifiedTime",
                                            "CreationTime")} == {
        "ProcessingEndTime": 1704320746000, "ProcessingStartTime": 1704320734000,
        "LastModifiedTime": 1704320746000, "CreationTime": 1704320199000}
    assert event["detail"]["FailureReason"] == "AlgorithmError: boom"
