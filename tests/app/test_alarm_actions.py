"""Alarm actions run off the alarm engine's lock.

A transition queues its actions; the actions worker runs them and records each as an ``Action``
history item once it has run. A handler that blocks (a job that takes long to stop, an SMTP
server that does not answer) must then hold up nothing else: not PutMetricData, not
SetAlarmState, not the evaluation of other alarms. Before, handlers ran under the engine's lock,
inside the request or evaluation that made the transition, and every one of those waited.

The application runs in process (tests/inprocess.py); the handlers are registered on its real
``AlarmActions``, the seam Step 4's SageMaker stop and Step 5's SNS delivery plug into.
"""

from __future__ import annotations

import json
import threading

import pytest

from sagewatch.clock import FakeClock

from ..e2e.cloudwatch_clients import alarm, at, history
from ..inprocess import InProcessSagewatch

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC
SLOW = "arn:aws:sns:us-east-1:000000000000:slow-topic"
BROKEN = "arn:aws:sns:us-east-1:000000000000:broken-topic"
# An action of a kind sagewatch has no handler for (SNS topics have one since Step 5).
UNHANDLED = "arn:aws:lambda:us-east-1:000000000000:function:no-handler"
NS = "app/actions"


class BlockingHandler:
    """An action handler that blocks until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls: list[tuple[str, str, float]] = []  # (arn, alarm, transition time)

    def __call__(self, arn, change) -> str:
        self.calls.append((arn, change.alarm.name, change.timestamp))
        self.entered.set()
        if not self.release.wait(timeout=60):
            raise RuntimeError("never released")
        return f"delivered {change.new_state}"


def broken(arn, change):
    raise RuntimeError("the topic refused the message")


@pytest.fixture
def app(tmp_path):
    handler = BlockingHandler()
    server = InProcessSagewatch(tmp_path / "data", FakeClock(START))
    server.system.alarm_actions.register(lambda arn: arn == SLOW, handler)
    server.system.alarm_actions.register(lambda arn: arn == BROKEN, broken)
    with server:
        try:
            yield server, handler
        finally:
            handler.release.set()  # whatever the test did, let the worker finish so the app stops


def finishes(what: str, call, seconds: float = 20.0):
    """Run ``call`` on another thread; fail if it has not returned after ``seconds``. A call
    stuck behind the blocked handler would never return (until the handler is released), so
    this only fails on a stall, never on a slow machine that is merely slow."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{what} was held up by a blocked alarm action"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def metric_alarm(cw, name: str, metric: str, **extra) -> None:
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=metric, Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="ignore", **extra)


def action_items(cw, name: str) -> list[dict]:
    return [json.loads(i["HistoryData"]) | {"_at": i["Timestamp"].timestamp(), "_summary": i["HistorySummary"]}
            for i in history(cw, name, "Action")]


def test_a_blocked_action_holds_up_no_request_and_no_evaluation(app):
    server, handler = app
    cw = server.client("cloudwatch")
    engine = server.system.alarm_engine
    metric_alarm(cw, "slow", "quiet", AlarmActions=[SLOW])
    metric_alarm(cw, "watcher", "load", AlarmActions=[UNHANDLED])
    metric_alarm(cw, "other", "other")
    server.settle()

    # The request that makes the transition returns without waiting for its action...
    finishes("SetAlarmState", lambda: cw.set_alarm_state(AlarmName="slow", StateValue="ALARM", StateReason="go"))
    assert handler.entered.wait(20), "the action never started"
    # The handler is blocked now. Everything else goes on:
    finishes("PutMetricData", lambda: cw.put_metric_data(Namespace=NS, MetricData=[
        {"MetricName": "load", "Timestamp": at(server.clock.now()), "Value": 9.0}]))
    assert finishes("evaluation", lambda: engine.settle(timeout=20, actions=False)), "evaluation stalled"
    assert alarm(cw, "watcher")["StateValue"] == "ALARM"  # evaluated on the data, meanwhile
    finishes("another SetAlarmState",
             lambda: cw.set_alarm_state(AlarmName="other", StateValue="ALARM", StateReason="manual"))
    assert alarm(cw, "other")["StateValue"] == "ALARM"
    finishes("PutMetricAlarm", lambda: metric_alarm(cw, "new", "load"))
    # Nothing is recorded for an action that has not run yet; the watcher's queued action waits
    # its turn behind the blocked one (actions run in the order of the transitions).
    assert action_items(cw, "slow") == []
    assert action_items(cw, "watcher") == []
    assert not server.system.alarm_actions.idle()

    # Ten seconds pass before the handler returns: the item is stamped when the action ran, and
    # carries the time of the transition that called for it.
    changed_at = handler.calls[0][2]
    server.clock.advance(10)
    handler.release.set()
    server.settle()
    (slow,) = action_items(cw, "slow")
    assert slow["actionState"] == "Succeeded"
    assert slow["notificationResource"] == SLOW
    assert slow["publishedMessage"] == "delivered ALARM"
    assert slow["stateUpdateTimestamp"] == int(changed_at * 1000)
    assert slow["_at"] == pytest.approx(changed_at + 10, abs=0.01)
    assert slow["_summary"] == f"Successfully executed action {SLOW}"
    (watcher,) = action_items(cw, "watcher")
    assert (watcher["actionState"], watcher["notificationResource"]) == ("Failed", UNHANDLED)
    assert watcher["error"] == "sagewatch has no target for this kind of action yet"
    assert handler.calls == [(SLOW, "slow", changed_at)]


def test_actions_run_in_the_order_of_transitions_and_failures_are_recorded(app):
    server, handler = app
    handler.release.set()  # nothing blocks here
    cw = server.client("cloudwatch")
    metric_alarm(cw, "flapping", "quiet", AlarmActions=[SLOW, BROKEN], OKActions=[SLOW])
    server.settle()
    for step, state in enumerate(("ALARM", "OK", "ALARM")):
        cw.set_alarm_state(AlarmName="flapping", StateValue=state, StateReason=f"step {step}")
        server.clock.advance(1)
    server.settle()
    items = action_items(cw, "flapping")
    assert [(i["notificationResource"], i["actionState"]) for i in items] == [
        (SLOW, "Succeeded"), (BROKEN, "Failed"), (SLOW, "Succeeded"), (SLOW, "Succeeded"), (BROKEN, "Failed")]
    assert [i.get("publishedMessage") for i in items] == [
        "delivered ALARM", None, "delivered OK", "delivered ALARM", None]
    assert items[1]["error"] == "the topic refused the message"
    assert items[1]["_summary"] == f"Failed to execute action {BROKEN}"
    # Each transition's actions carry that transition's time.
    assert [i["stateUpdateTimestamp"] for i in items] == [
        int((START + k) * 1000) for k in (0, 0, 1, 2, 2)]


def test_disabled_actions_are_not_queued(app):
    server, handler = app
    handler.release.set()
    cw = server.client("cloudwatch")
    metric_alarm(cw, "quiet", "quiet", AlarmActions=[SLOW], ActionsEnabled=False)
    server.settle()
    cw.set_alarm_state(AlarmName="quiet", StateValue="ALARM", StateReason="go")
    server.settle()
    assert handler.calls == [] and action_items(cw, "quiet") == []
