"""SageMaker job state changes on the event bus, end to end: real jobs run by a real server, and
their ``SageMaker Training|Processing Job State Change`` events observed as a user observes them.

A rule on the default bus names the job; its target is an SNS topic whose http subscription is a
real HTTP listener started here (tests/e2e/sns_endpoints.py), which confirms by GETting the
SubscribeURL. Each event arrives as the Message of a signed SNS notification. One event per
status change, secondary statuses included (services/sagemaker/job_events.py): the events of a
job, in the order of their changes, name exactly the statuses its Describe lists.
"""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest

from ..server import make_client
from .jobs import processing_request, streams_of, training_request, wait_for, wait_processing, wait_training
from .sns_endpoints import Webhook, of_type

REGION, ACCOUNT = "us-east-1", "000000000000"
TRAINING = "SageMaker Training Job State Change"
PROCESSING = "SageMaker Processing Job State Change"


@pytest.fixture(scope="module")
def clients(server):
    return {name: make_client(name, server.endpoint) for name in ("sagemaker", "events", "sns", "logs")}


@pytest.fixture(scope="module")
def bus(clients):
    """A topic every aws.sagemaker event of these tests goes to, and the webhook subscribed to it."""
    hook = Webhook(confirm=True)
    sns, events = clients["sns"], clients["events"]
    topic = sns.create_topic(Name=f"job-events-{uuid.uuid4().hex[:8]}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    hook.wait_for(of_type("SubscriptionConfirmation"))
    wait_for(lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"],
             lambda subs: subs and subs[0]["SubscriptionArn"] != "PendingConfirmation", timeout=30)
    rule = f"job-events-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventPattern=json.dumps(
        {"source": ["aws.sagemaker"], "detail": {"TrainingJobName": [{"prefix": "evt-"}]}}))
    events.put_rule(Name=rule + "-p", EventPattern=json.dumps(
        {"source": ["aws.sagemaker"], "detail-type": [PROCESSING],
         "detail": {"ProcessingJobName": [{"prefix": "evt-"}]}}))
    for name in (rule, rule + "-p"):
        events.put_targets(Rule=name, Targets=[{"Id": "topic", "Arn": topic}])
    yield hook
    hook.stop()


def events_of(hook: Webhook, name_member: str, name: str, last_status: str) -> list[dict]:
    """The events about one job, once the one with ``last_status`` has arrived, in the order of
    the changes (deliveries may arrive in any order: LastModifiedTime, then how far the job
    had come)."""
    def about(headers, body) -> dict | None:
        if headers.get("x-amz-sns-message-type") != "Notification":
            return None
        event = json.loads(json.loads(body)["Message"])
        return event if event["detail"].get(name_member) == name else None

    status_member = "TrainingJobStatus" if name_member == "TrainingJobName" else "ProcessingJobStatus"
    hook.wait_for(lambda h, b: (about(h, b) or {}).get("detail", {}).get(status_member) == last_status)
    found = [e for e in (about(h, b) for h, b in hook.received()) if e is not None]
    return sorted(found, key=lambda e: (e["detail"]["LastModifiedTime"],
                                       len(e["detail"].get("SecondaryStatusTransitions", ()))))


def millis(moment) -> int:
    return round(moment.timestamp() * 1000)


def script(tmp_path: Path, body: str) -> Path:
    code = tmp_path / f"code-{uuid.uuid4().hex[:6]}"
    code.mkdir()
    path = code / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_a_training_jobs_status_changes_arrive_as_events(clients, bus, tmp_path):
    sagemaker = clients["sagemaker"]
    name = f"evt-train-{uuid.uuid4().hex[:8]}"
    code = script(tmp_path, """
        import os
        print("validation_loss=0.5")
        open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write("weights")
    """)
    request = training_request(name, code, tmp_path / "output",
                               metric_definitions=[{"Name": "validation:loss", "Regex": r"validation_loss=([0-9.]+)"}])
    arn = sagemaker.create_training_job(**request, Tags=[{"Key": "team", "Value": "ml"}])["TrainingJobArn"]
    job = wait_training(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")

    events = events_of(bus, "TrainingJobName", name, "Completed")
    # One event per status change: the secondary statuses Describe lists, each once, in order.
    assert [(e["detail"]["TrainingJobStatus"], e["detail"]["SecondaryStatus"]) for e in events] == [
        ("Completed" if t["Status"] == "Completed" else "InProgress", t["Status"])
        for t in job["SecondaryStatusTransitions"]]
    assert events[0]["detail"]["SecondaryStatus"] == "Starting"
    for event in events:
        assert (event["source"], event["detail-type"], event["resources"]) == ("aws.sagemaker", TRAINING, [arn])
        assert (event["account"], event["region"], event["version"]) == (ACCOUNT, REGION, "0")
        assert event["detail"]["Tags"] == {"team": "ml"}
    # The last event is the finished job's Describe: times in epoch milliseconds, tags as a map.
    last = events[-1]["detail"]
    assert last["TrainingJobArn"] == arn and last["HyperParameters"] == job["HyperParameters"]
    assert last["ModelArtifacts"] == job["ModelArtifacts"]
    for member in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime"):
        assert last[member] == millis(job[member]), member
    assert [t["StartTime"] for t in last["SecondaryStatusTransitions"]] == [
        millis(t["StartTime"]) for t in job["SecondaryStatusTransitions"]]
    assert last["FinalMetricDataList"][0]["MetricName"] == "validation:loss"
    assert last["TrainingTimeInSeconds"] == job["TrainingTimeInSeconds"]


def test_a_stopped_training_job_reports_stopping_then_stopped(clients, bus, tmp_path):
    sagemaker = clients["sagemaker"]
    name = f"evt-stop-{uuid.uuid4().hex[:8]}"
    code = script(tmp_path, """
        import time
        for i in range(600):
            print(f"step {i}", flush=True)
            time.sleep(0.1)
    """)
    sagemaker.create_training_job(**training_request(name, code, tmp_path / "output"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=name),
             lambda r: r["SecondaryStatus"] == "Training", timeout=60)
    # Its lines are being shipped: the instance's agent is up (as the job tests stop a job).
    wait_for(lambda: streams_of(clients["logs"], "/aws/sagemaker/TrainingJobs", name), bool)
    sagemaker.stop_training_job(TrainingJobName=name)
    job = wait_training(sagemaker, name, timeout=120)
    assert job["TrainingJobStatus"] == "Stopped", job.get("FailureReason")
    events = events_of(bus, "TrainingJobName", name, "Stopped")
    statuses = [(e["detail"]["TrainingJobStatus"], e["detail"]["SecondaryStatus"]) for e in events]
    assert statuses[-2:] == [("Stopping", "Stopping"), ("Stopped", "Stopped")]
    assert len(statuses) == len(job["SecondaryStatusTransitions"])


def test_a_processing_jobs_status_changes_arrive_as_events(clients, bus, tmp_path):
    sagemaker = clients["sagemaker"]
    name = f"evt-process-{uuid.uuid4().hex[:8]}"
    request = processing_request(name, ["python3", "-c", "print('processed')"])
    arn = sagemaker.create_processing_job(**request)["ProcessingJobArn"]
    job = wait_processing(sagemaker, name)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    events = events_of(bus, "ProcessingJobName", name, "Completed")
    # No secondary statuses: created, then finished.
    assert [e["detail"]["ProcessingJobStatus"] for e in events] == ["InProgress", "Completed"]
    last = events[-1]
    assert (last["detail-type"], last["resources"]) == (PROCESSING, [arn])
    assert last["detail"]["ProcessingEndTime"] == millis(job["ProcessingEndTime"])
    assert last["detail"]["AppSpecification"] == job["AppSpecification"]
    assert last["detail"]["Tags"] == {}
