"""The pure parts of EventBridge's targets (services/events/targets.py): which ARNs are targets,
which job a StopJob target stops, the job name a Create*Job target fills in, the backoff, and
an API destination's path. Their deliveries run for real in tests/e2e/test_events_targets.py."""

import json
import random

import pytest

from sagewatch.clock import FakeClock
from sagewatch.services.events.targets import (
    API_DESTINATION, BACKOFF_CAP_SECONDS, CREATE_TRAINING_JOB, SNS_TOPIC, STOP_JOB, EventTargets, _fill_path,
    _jobs_named, backoff_seconds,
)

REGION, ACCOUNT = "us-east-1", "123456789012"


@pytest.fixture
def targets():
    return EventTargets(region=REGION, account_id=ACCOUNT, clock=FakeClock(1_700_000_000.0))


def test_what_each_arn_targets(targets):
    assert targets.kind_of(f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts") == SNS_TOPIC
    assert targets.kind_of(f"arn:aws:events:{REGION}:{ACCOUNT}:api-destination/d/0f0e") == API_DESTINATION
    assert targets.kind_of(targets.extension_arn("StopJob")) == STOP_JOB
    assert targets.kind_of(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:sagewatch-target/CreateTrainingJob") == \
        CREATE_TRAINING_JOB
    for other in [
        f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:sagewatch-target/StopJob",  # another Region
        f"arn:aws:sagemaker:{REGION}:999999999999:sagewatch-target/StopJob",  # another account
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:sagewatch-target/DeleteEverything",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default", "not-an-arn", "",
    ]:
        assert targets.kind_of(other) is None, other


ALARM_EVENT = {
    "version": "0", "id": "c4c1c1c9", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
    "account": ACCOUNT, "time": "2019-10-02T17:04:40Z", "region": REGION,
    "resources": [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:loss-rising"],
    "detail": {"alarmName": "loss-rising", "configuration": {"metrics": [
        {"id": "m1", "metricStat": {"metric": {"dimensions": {"TrainingJobName": "job-a"},
                                               "name": "validation:loss", "namespace": "/aws/sagemaker/TrainingJobs"},
                                    "period": 60, "stat": "Average"}, "returnData": True},
        {"id": "m2", "metricStat": {"metric": {"dimensions": {"Host": "proc-b/algo-1"}, "name": "CPUUtilization",
                                               "namespace": "/aws/sagemaker/ProcessingJobs"},
                                    "period": 60, "stat": "Average"}, "returnData": False},
    ]}, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}},
}


def test_stop_job_reads_the_alarm_events_dimensions():
    # The alarm's metrics name the jobs as the sagemaker:stop alarm action reads them.
    assert _jobs_named(json.dumps(ALARM_EVENT), ALARM_EVENT) == [
        ("TrainingJobName", "job-a"), ("ProcessingJobName", "proc-b")]


def test_stop_job_reads_a_sagemaker_job_state_change():
    event = {"source": "aws.sagemaker", "detail-type": "SageMaker Processing Job State Change",
             "detail": {"ProcessingJobName": "p-1", "ProcessingJobStatus": "InProgress"}}
    assert _jobs_named(json.dumps(event), event) == [("ProcessingJobName", "p-1")]


def test_stop_job_prefers_what_its_input_names():
    assert _jobs_named('{"TrainingJobName": "chosen"}', ALARM_EVENT) == [("TrainingJobName", "chosen")]
    assert _jobs_named('"not an object"', {"source": "my.app", "detail": {"TrainingJobName": "x"}}) == []


def test_a_create_job_request_without_a_name_gets_one_from_the_rule(targets):
    filled = json.loads(targets._named_request(CREATE_TRAINING_JOB, '{"RoleArn": "r"}', "nightly_retrain.v2"))
    assert filled == {"RoleArn": "r", "TrainingJobName": "nightly-retrain-v2-1700000000000"}
    # Two in the same millisecond get two names.
    again = json.loads(targets._named_request(CREATE_TRAINING_JOB, '{"RoleArn": "r"}', "nightly_retrain.v2"))
    assert again["TrainingJobName"] == "nightly-retrain-v2-1700000000001"
    # A name given is kept; a long rule name is cut to leave a valid job name (<= 63).
    assert json.loads(targets._named_request(CREATE_TRAINING_JOB, '{"TrainingJobName": "mine"}', "r")) == \
        {"TrainingJobName": "mine"}
    long = json.loads(targets._named_request(CREATE_TRAINING_JOB, "{}", "r" * 64))["TrainingJobName"]
    assert len(long) <= 63


def test_backoff_doubles_with_jitter_up_to_its_cap():
    rng = random.Random(7)
    for retries, full in [(0, 1.0), (1, 2.0), (5, 32.0), (20, BACKOFF_CAP_SECONDS), (500, BACKOFF_CAP_SECONDS)]:
        waits = [backoff_seconds(retries, rng) for _ in range(200)]
        assert all(full / 2 <= w <= full for w in waits)
        assert max(waits) - min(waits) > full / 4  # jittered, not fixed


def test_path_parameters_fill_the_endpoints_wildcards_in_order():
    assert _fill_path("https://h/orders/*/items/*?x=1", ["o 1", "i/2"]) == "https://h/orders/o%201/items/i%2F2?x=1"
    assert _fill_path("https://h/a/*", []) == "https://h/a/*"
    assert _fill_path("https://h/plain", ["unused"]) == "https://h/plain"
