"""Alarms on the event bus: what CloudWatch puts on EventBridge's default bus, observed the way a
user observes it.

The application runs in process with a fake clock (tests/inprocess.py). A rule on the default bus
(``{"source": ["aws.cloudwatch"]}``) targets an SNS topic; the topic's http subscription is a
real HTTP listener started here (tests/e2e/sns_endpoints.py), so every event the rule matched
arrives as the Message of a real SNS notification POST. A breaching datapoint puts exactly one
``CloudWatch Alarm State Change`` on the bus; creating, updating and deleting an alarm each put a
``CloudWatch Alarm Configuration Change``. The order of the changes is seen at the engine's
listener seam, where server.py takes them to the bus.
"""

from __future__ import annotations

import json
import threading

import pytest

from sagewatch.clock import FakeClock

from ..e2e.cloudwatch_clients import alarm, at
from ..e2e.sns_endpoints import Webhook, of_type
from ..inprocess import InProcessSagewatch

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC
NS = "app/alarm-events"
REGION, ACCOUNT = "us-east-1", "000000000000"


class Bus:
    """The default bus as a user watches it: an SNS topic every aws.cloudwatch event goes to,
    with a real webhook subscribed to it."""

    def __init__(self, server: InProcessSagewatch, hook: Webhook) -> None:
        self.server, self.hook = server, hook
        sns, events = server.client("sns"), server.client("events")
        self.topic = sns.create_topic(Name="alarm-events")["TopicArn"]
        sns.subscribe(TopicArn=self.topic, Protocol="http", Endpoint=hook.url)
        server.settle()
        _, body = hook.wait_for(of_type("SubscriptionConfirmation"))
        sns.confirm_subscription(TopicArn=self.topic, Token=json.loads(body)["Token"])
        events.put_rule(Name="cloudwatch-events", EventPattern=json.dumps({"source": ["aws.cloudwatch"]}))
        events.put_targets(Rule="cloudwatch-events", Targets=[{"Id": "topic", "Arn": self.topic}])

    def events(self) -> list[dict]:
        """Every event delivered so far (the queue settled first), in the order they happened."""
        self.server.settle()
        delivered = [json.loads(json.loads(body)["Message"]) for _, body in self.hook.received("Notification")]
        return sorted(delivered, key=lambda event: event["time"])

    def of_type(self, detail_type: str) -> list[dict]:
        return [e for e in self.events() if e["detail-type"] == detail_type]


@pytest.fixture
def app(tmp_path):
    hook = Webhook(confirm=False)
    server = InProcessSagewatch(tmp_path / "data", FakeClock(START), region=REGION, account_id=ACCOUNT)
    try:
        with server:
            yield server, Bus(server, hook)
    finally:
        hook.stop()


def metric_alarm(cw, name: str, **extra) -> None:
    members = dict(AlarmName=name, Namespace=NS, MetricName=name, Statistic="Maximum", Period=60,
                   EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                   TreatMissingData="ignore", AlarmDescription="loss too high")
    cw.put_metric_alarm(**(members | extra))


def test_a_breaching_datapoint_puts_exactly_its_state_change_on_the_bus(app):
    server, bus = app
    cw = server.client("cloudwatch")
    metric_alarm(cw, "loss-high", Dimensions=[{"Name": "TrainingJobName", "Value": "job-1"}])
    server.settle()
    assert bus.of_type("CloudWatch Alarm State Change") == []  # no data yet: no transition

    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "loss-high", "Timestamp": at(server.clock.now()),
                                                  "Dimensions": [{"Name": "TrainingJobName", "Value": "job-1"}],
                                                  "Value": 9.0}])
    server.settle()
    (event,) = bus.of_type("CloudWatch Alarm State Change")
    described = alarm(cw, "loss-high")
    arn = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:loss-high"
    assert (event["source"], event["account"], event["region"], event["resources"]) == (
        "aws.cloudwatch", ACCOUNT, REGION, [arn])
    assert event["version"] == "0" and event["id"]
    detail = event["detail"]
    assert detail["alarmName"] == "loss-high"
    assert detail["state"] == {
        "reason": described["StateReason"], "reasonData": described["StateReasonData"],
        "timestamp": described["StateTransitionedTimestamp"].strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{described['StateTransitionedTimestamp'].microsecond // 1000:03d}+0000",
        "value": "ALARM"}
    assert detail["previousState"]["value"] == "INSUFFICIENT_DATA"
    assert detail["previousState"]["reason"] == "Unchecked: Initial alarm creation"
    assert "reasonData" not in detail["previousState"]
    [metric] = detail["configuration"]["metrics"]
    assert detail["configuration"]["description"] == "loss too high"
    assert metric["metricStat"] == {"metric": {"dimensions": {"TrainingJobName": "job-1"}, "name": "loss-high",
                                               "namespace": NS}, "period": 60, "stat": "Maximum"}
    assert metric["returnData"] is True

    # Another breaching datapoint is no transition, and puts nothing more on the bus.
    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": "loss-high", "Timestamp": at(server.clock.now()),
                                                  "Dimensions": [{"Name": "TrainingJobName", "Value": "job-1"}],
                                                  "Value": 10.0}])
    server.advance(60)
    assert len(bus.of_type("CloudWatch Alarm State Change")) == 1


def test_created_updated_and_deleted_alarms_put_their_configuration_changes_on_the_bus(app):
    server, bus = app
    cw = server.client("cloudwatch")
    metric_alarm(cw, "cfg")
    server.clock.advance(2)
    metric_alarm(cw, "cfg", Threshold=7.5, DatapointsToAlarm=1)
    server.clock.advance(2)
    cw.delete_alarms(AlarmNames=["cfg"])
    changes = bus.of_type("CloudWatch Alarm Configuration Change")
    assert [e["detail"]["operation"] for e in changes] == ["create", "update", "delete"]
    created, updated, deleted = (e["detail"] for e in changes)
    assert created["configuration"]["threshold"] == 5.0 and "previousConfiguration" not in created
    assert created["state"]["value"] == "INSUFFICIENT_DATA"
    assert updated["previousConfiguration"]["threshold"] == 5.0
    assert updated["configuration"]["threshold"] == 7.5 and updated["configuration"]["datapointsToAlarm"] == 1
    assert updated["configuration"]["timestamp"] > updated["previousConfiguration"]["timestamp"]
    assert deleted["configuration"]["threshold"] == 7.5 and "previousConfiguration" not in deleted
    assert {e["resources"][0] for e in changes} == {f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cfg"}
    for e in changes:
        assert e["detail"]["configuration"]["alarmName"] == "cfg"
        assert e["detail"]["configuration"]["treatMissingData"] == "ignore"


def test_a_composite_alarms_transition_names_its_rule_and_triggering_child(app):
    server, bus = app
    cw = server.client("cloudwatch")
    metric_alarm(cw, "child")
    cw.put_composite_alarm(AlarmName="parent", AlarmRule="ALARM(child)")
    server.settle()
    cw.set_alarm_state(AlarmName="child", StateValue="ALARM", StateReason="child breaks")
    server.settle()
    [parent] = [e for e in bus.of_type("CloudWatch Alarm State Change") if e["detail"]["alarmName"] == "parent"
                and e["detail"]["state"]["value"] == "ALARM"]
    assert parent["detail"]["configuration"] == {"alarmRule": "ALARM(child)"}
    triggering = json.loads(parent["detail"]["state"]["reasonData"])["triggeringAlarms"]
    assert [t["arn"] for t in triggering] == [f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:child"]
    child = [e for e in bus.of_type("CloudWatch Alarm State Change") if e["detail"]["alarmName"] == "child"]
    assert [e["detail"]["state"]["reason"] for e in child] == ["child breaks"]


def test_listeners_hear_a_new_alarms_configuration_before_its_first_transition():
    changes = []
    server = InProcessSagewatch(clock=FakeClock(START))
    engine = server.system.alarm_engine
    engine.add_configuration_listener(lambda change: changes.append((change.operation, change.alarm.name)))
    engine.add_listener(lambda change: changes.append((change.new_state, change.alarm.name)))
    with server:
        cw = server.client("cloudwatch")
        # Breaching when data is missing: it goes to ALARM at its first evaluation, at once.
        metric_alarm(cw, "at-once", TreatMissingData="breaching")
        server.settle()
        cw.delete_alarms(AlarmNames=["at-once"])
        server.settle()
    assert changes == [("create", "at-once"), ("ALARM", "at-once"), ("delete", "at-once")]


def test_a_listener_that_blocks_holds_up_no_request_and_no_action():
    release, entered = threading.Event(), threading.Event()
    acted = []

    def blocking(change):
        entered.set()
        release.wait(60)

    server = InProcessSagewatch(clock=FakeClock(START))
    server.system.alarm_engine.add_listener(blocking)
    server.system.alarm_actions.register(lambda arn: arn.endswith(":acted"), lambda arn, change: acted.append(arn))
    try:
        with server:
            cw = server.client("cloudwatch")
            metric_alarm(cw, "blocked", AlarmActions=["arn:aws:lambda:us-east-1:000000000000:function:acted"])
            server.settle()
            cw.set_alarm_state(AlarmName="blocked", StateValue="ALARM", StateReason="go")
            assert entered.wait(20), "the listener was never told"
            # The listener is blocked; the next transition and its action go on regardless.
            cw.set_alarm_state(AlarmName="blocked", StateValue="OK", StateReason="back")
            assert alarm(cw, "blocked")["StateValue"] == "OK"
            assert server.system.alarm_actions.wait_idle(20)
            assert acted == ["arn:aws:lambda:us-east-1:000000000000:function:acted"]
            release.set()
            server.settle()
    finally:
        release.set()
