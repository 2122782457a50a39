"""Alarms evaluated by the real application as time passes, on a clock the tests move.

The application runs in process (tests/inprocess.py) on a ``FakeClock``: each test moves the
clock through the moments the alarm engine has work due (every 10-second or minute tick, the end
of a suppression period) and the engine evaluates at each, as it would while real time passed.
After every request the engine is let catch up, so what a test reads is what a client would see
once the engine had evaluated, without sleeping for it: these scenarios used to sleep about 50 s
to reach period boundaries; the outcomes are now also exact in time.

* ``live``: 10-second alarms on high-resolution data, created together; a feeder puts data at
  chosen moments for the M-of-N scenario. Data stops arriving for the TreatMissingData
  scenarios, and each mode moves the way AWS documents.
* ``tables``: the evaluation-range tables of the AWS user guide ("How CloudWatch alarm state is
  evaluated when data is missing"; aws-behaviour.md §8.2), every row in every TreatMissingData
  mode, judged at creation on backfilled one-minute data.
* composites, ActionsSuppressor, anomaly-band, metric-math and percentile alarms.

CloudWatch speaks three protocols; the scenarios use each of them (json, query, cbor clients).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field

import pytest

from sagewatch.clock import FakeClock

from ..e2e.cloudwatch_clients import (  # noqa: F401  (fixtures)
    ARN_PREFIX,
    PROTOCOLS,
    alarm,
    at,
    cloudwatch_client,
    cloudwatch_data_root,
    history,
    minute_floor,
    transitions,
)
from ..inprocess import ENDPOINT, InProcessSagewatch

TOPIC = "arn:aws:sns:us-east-1:000000000000:alarm-topic"
OK_TOPIC = "arn:aws:sns:us-east-1:000000000000:ok-topic"
INSUFFICIENT_TOPIC = "arn:aws:sns:us-east-1:000000000000:insufficient-topic"
BAD, GOOD, THRESHOLD = 10.0, 1.0, 5.0
MISSING_MODES = ("missing", "ignore", "breaching", "notBreaching")
# 2026-01-01 00:00:05 UTC: five seconds into a minute, and into a 10-second period.
START = 1_767_225_605.0


class App:
    """An in-process sagewatch on a fake clock, with a CloudWatch client per protocol."""

    def __init__(self, server: InProcessSagewatch, data_root) -> None:
        self.server = server
        self.clock: FakeClock = server.clock
        self.clients = {pid: server.attach(cloudwatch_client(ENDPOINT, name, data_root))
                        for pid, name in PROTOCOLS.items()}
        self.json, self.query, self.cbor = (self.clients[p] for p in ("json", "query", "cbor"))

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        self.server.advance(seconds)

    def advance_to(self, moment: float) -> None:
        self.server.advance_to(moment)


def running_app(folder, data_root, start: float = START):
    return InProcessSagewatch(folder / "data", FakeClock(start), settle_after_requests=True)


@pytest.fixture
def app(tmp_path, cloudwatch_data_root):
    with running_app(tmp_path, cloudwatch_data_root) as server:
        yield App(server, cloudwatch_data_root)


def reason_time(seconds: float) -> str:
    """How a datapoint's time appears in a StateReason: "26/10/23 16:42:00" (AWS-recorded)."""
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(seconds))


def data_time(seconds: float) -> str:
    """How times appear in StateReasonData: "2019-10-02T17:04:40.000+0000"."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds * 1000) % 1000:03d}+0000"


def alarm_args(name: str, ns: str, metric: str, period: int, **extra) -> dict:
    args = dict(AlarmName=name, Namespace=ns, MetricName=metric, Statistic="Average", Period=period,
                EvaluationPeriods=1, Threshold=THRESHOLD, ComparisonOperator="GreaterThanThreshold")
    args.update(extra)
    return {k: v for k, v in args.items() if v is not None}


def reason_data(described: dict) -> dict:
    return json.loads(described["StateReasonData"])


def state_reasons(client, name: str) -> list[tuple[str, str]]:
    """(new state, reason) of every StateUpdate, oldest first."""
    out = []
    for item in history(client, name, "StateUpdate"):
        new = json.loads(item["HistoryData"])["newState"]
        out.append((new["stateValue"], new["stateReason"]))
    return out


def state(client, name: str, expected: str) -> dict:
    """The alarm, which must be in ``expected`` state."""
    described = alarm(client, name)
    assert described["StateValue"] == expected, (name, described["StateValue"], described["StateReason"])
    return described


def actions_of(client, name: str) -> list[str]:
    return [json.loads(i["HistoryData"])["notificationResource"] for i in history(client, name, "Action")]


def still_alarm(client, name: str, **extra) -> str:
    """A metric alarm no data moves: SetAlarmState drives it (TreatMissingData=ignore keeps it)."""
    client.put_metric_alarm(**alarm_args(name, "e2e/still", f"never-{name}", 60, Statistic="Sum",
                                         TreatMissingData="ignore", **extra))
    return name


# == live scenarios: 10-second alarms, time moved by the test ===================================


@dataclass
class Live:
    app: App
    client: object
    tag: str
    ns: str
    period_start: int  # start of the 10-second period the scenarios were created in
    names: dict[str, str] = field(default_factory=dict)
    fed: list[tuple[int, float]] = field(default_factory=list)  # (period start, value) the feeder put
    set_at: float = 0.0  # when SetAlarmState forced the "set" alarm into ALARM

    def name(self, key: str) -> str:
        return self.names[key]


@pytest.fixture(scope="module")
def live(tmp_path_factory, cloudwatch_data_root):
    with running_app(tmp_path_factory.mktemp("live"), cloudwatch_data_root) as server:
        app = App(server, cloudwatch_data_root)
        yield run_live_scenarios(app)


def run_live_scenarios(app: App) -> Live:
    """Create every live scenario in one 10-second period, then let 100 seconds pass, with a
    datum of the M-of-N scenario put 3 s into each of the next four periods."""
    client = app.json
    tag = uuid.uuid4().hex[:8]
    ns = f"e2e/live/{tag}"
    p = int(app.now() // 10 * 10)
    scenario = Live(app, client, tag, ns, p)

    def hi(metric: str, seconds: float, value: float) -> dict:
        return {"MetricName": metric, "Timestamp": at(seconds), "Value": value, "StorageResolution": 1}

    # -- data stops arriving: one datum two periods back, then nothing ---------------------------
    stop = {"missing": BAD, "ignore": BAD, "breaching": GOOD, "notBreaching": BAD}
    data = [hi(f"stop-{mode}", p - 20 + 5, value) for mode, value in stop.items()]
    data.append(hi("stop-quiet", p - 20 + 5, BAD))
    # -- "- - X - -" as it develops: premature ALARM, then INSUFFICIENT_DATA ---------------------
    data.append(hi("sparse", p - 20 + 5, BAD))
    # -- M of N, live: three good periods back; the feeder goes on -------------------------------
    data += [hi("mofn", p - 10 * k + 5, GOOD) for k in (1, 2, 3)]
    # -- SetAlarmState, then back to the real state ------------------------------------------------
    data.append(hi("set", p - 20 + 5, GOOD))
    client.put_metric_data(Namespace=ns, MetricData=data)

    def create(key: str, metric: str, **extra) -> None:
        name = f"live-{tag}-{key}"
        scenario.names[key] = name
        client.put_metric_alarm(**alarm_args(name, ns, metric, 10, **extra))

    create("stop-missing", "stop-missing", TreatMissingData="missing", InsufficientDataActions=[INSUFFICIENT_TOPIC],
           AlarmActions=[TOPIC])
    create("stop-ignore", "stop-ignore", TreatMissingData="ignore")
    create("stop-breaching", "stop-breaching", TreatMissingData="breaching", AlarmActions=[TOPIC],
           OKActions=[OK_TOPIC])
    create("stop-notBreaching", "stop-notBreaching", TreatMissingData="notBreaching", AlarmActions=[TOPIC],
           OKActions=[OK_TOPIC])
    create("stop-quiet", "stop-quiet", TreatMissingData="notBreaching", AlarmActions=[TOPIC], OKActions=[OK_TOPIC],
           ActionsEnabled=False)
    create("sparse", "sparse", EvaluationPeriods=3)  # M = N = 3, TreatMissingData missing
    create("mofn", "mofn", EvaluationPeriods=3, DatapointsToAlarm=2, AlarmActions=[TOPIC], OKActions=[OK_TOPIC])
    create("set", "set", TreatMissingData="notBreaching")
    # Composites over the live M-of-N alarm, one nested in the other.
    outer, inner = f"live-{tag}-outer", f"live-{tag}-inner"
    scenario.names.update(inner=inner, outer=outer)
    client.put_composite_alarm(AlarmName=inner, AlarmRule=f'ALARM("{scenario.name("mofn")}")')
    client.put_composite_alarm(AlarmName=outer, AlarmRule=f"NOT ALARM({inner}) AND TRUE")

    # SetAlarmState on an alarm in OK, a second later: ALARM until its next evaluation.
    state(client, scenario.name("set"), "OK")
    app.advance(1)
    client.set_alarm_state(AlarmName=scenario.name("set"), StateValue="ALARM", StateReason="testing alarm")
    scenario.set_at = app.now()

    for step, value in enumerate((BAD, GOOD, BAD, GOOD), 1):
        start = p + 10 * step
        app.advance_to(start + 3)
        client.put_metric_data(Namespace=ns, MetricData=[hi("mofn", app.now(), value)])
        scenario.fed.append((start, value))
    app.advance_to(p + 100)
    return scenario


# -- composites and ActionsSuppressor (run first: their own waits overlap the live scenarios) ----


def test_nested_composites_follow_child_transitions(app):
    client, tag = app.query, "t"
    a, b, c = (still_alarm(client, f"nest-{tag}-{x}") for x in "abc")
    inner, outer, top = f"nest-{tag}-inner", f"nest-{tag}-outer", f"nest-{tag}-top"
    client.put_composite_alarm(AlarmName=inner, AlarmRule=f"ALARM({a}) AND NOT OK({ARN_PREFIX}{b})")
    client.put_composite_alarm(AlarmName=outer, AlarmRule=f'ALARM("{inner}") OR (ALARM({c}) AND INSUFFICIENT_DATA({b}))')
    client.put_composite_alarm(AlarmName=top, AlarmRule=f"NOT ALARM({outer})")
    for name in (inner, outer):
        state(client, name, "OK")
    state(client, top, "ALARM")

    client.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="a breaks")  # b INSUFFICIENT_DATA
    assert alarm(client, inner)["StateValue"] == "ALARM"
    assert alarm(client, outer)["StateValue"] == "ALARM"
    assert alarm(client, top)["StateValue"] == "OK"
    described = alarm(client, inner)
    assert described["StateReason"].startswith(f"{ARN_PREFIX}{a} transitioned to ALARM at ")
    triggering = {t["arn"]: t for t in reason_data(described)["triggeringAlarms"]}[ARN_PREFIX + a]
    assert triggering["state"]["value"] == "ALARM"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", triggering["state"]["timestamp"])

    client.set_alarm_state(AlarmName=b, StateValue="OK", StateReason="b fine")  # inner false; c not ALARM
    assert [alarm(client, n)["StateValue"] for n in (inner, outer, top)] == ["OK", "OK", "ALARM"]
    client.set_alarm_state(AlarmName=c, StateValue="ALARM", StateReason="c breaks")  # b is OK, not INSUFFICIENT
    assert [alarm(client, n)["StateValue"] for n in (inner, outer, top)] == ["OK", "OK", "ALARM"]
    client.set_alarm_state(AlarmName=b, StateValue="INSUFFICIENT_DATA", StateReason="b unknown")
    assert [alarm(client, n)["StateValue"] for n in (inner, outer, top)] == ["ALARM", "ALARM", "OK"]
    assert transitions(client, top) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"), ("OK", "ALARM"),
                                        ("ALARM", "OK")]
    # A composite's history items are CompositeAlarm items.
    assert {i["AlarmType"] for i in history(client, top)} == {"CompositeAlarm"}


def test_composite_at_least_and_constants(app):
    client, tag = app.cbor, "t"
    kids = [still_alarm(client, f"atl-{tag}-{i}") for i in range(4)]
    two = f"atl-{tag}-two"
    half_ok = f"atl-{tag}-half-ok"
    client.put_composite_alarm(AlarmName=two, AlarmRule=f"AT_LEAST(2, ALARM, ({', '.join(kids)}))")
    client.put_composite_alarm(AlarmName=half_ok, AlarmRule=f"AT_LEAST(50%, OK, ({', '.join(kids)})) OR FALSE")
    state(client, two, "OK")
    state(client, half_ok, "OK")
    client.set_alarm_state(AlarmName=kids[0], StateValue="ALARM", StateReason="t")
    assert alarm(client, two)["StateValue"] == "OK"
    client.set_alarm_state(AlarmName=kids[3], StateValue="ALARM", StateReason="t")
    assert alarm(client, two)["StateValue"] == "ALARM"
    client.set_alarm_state(AlarmName=kids[1], StateValue="OK", StateReason="t")
    assert alarm(client, half_ok)["StateValue"] == "OK"
    client.set_alarm_state(AlarmName=kids[2], StateValue="OK", StateReason="t")
    assert alarm(client, half_ok)["StateValue"] == "ALARM"


def test_composite_set_alarm_state_holds_until_a_child_changes(app):
    # SetAlarmState: "Composite alarms stay until a child changes."
    client, tag = app.json, "t"
    child = still_alarm(client, f"hold-{tag}-child")
    comp = f"hold-{tag}-comp"
    client.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({child})")
    state(client, comp, "OK")
    client.set_alarm_state(AlarmName=comp, StateValue="ALARM", StateReason="forced")
    assert alarm(client, comp)["StateValue"] == "ALARM"
    app.advance(120)  # minutes pass: a composite is not re-evaluated on a tick
    assert alarm(client, comp)["StateValue"] == "ALARM"
    client.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="child moves")
    described = alarm(client, comp)
    assert described["StateValue"] == "OK"
    assert described["StateReason"].startswith(f"{ARN_PREFIX}{child} transitioned to OK at ")


def test_actions_suppressor(app):
    """ActionsSuppressor: suppressed while the suppressor is in ALARM, held through the
    ExtensionPeriod after it leaves ALARM and through the WaitPeriod before it enters it; the
    held actions run when the period ends (API reference, CompositeAlarm.ActionsSuppressedBy)."""
    client, tag = app.json, "t"
    child, sup = still_alarm(client, f"supp-{tag}-child"), still_alarm(client, f"supp-{tag}-sup")
    comp = f"supp-{tag}-comp"
    client.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({child})", AlarmActions=[TOPIC],
                               OKActions=[OK_TOPIC], ActionsSuppressor=sup, ActionsSuppressorWaitPeriod=4,
                               ActionsSuppressorExtensionPeriod=4)

    def actions() -> list[str]:
        return actions_of(client, comp)

    # 1. Created: INSUFFICIENT_DATA -> OK while the suppressor is not in ALARM: the OK actions
    #    wait for the WaitPeriod, then run.
    described = state(client, comp, "OK")
    assert (described.get("ActionsSuppressedBy"), actions()) == ("WaitPeriod", [])
    assert described.get("ActionsSuppressedReason")
    app.advance(3.9)
    assert (alarm(client, comp).get("ActionsSuppressedBy"), actions()) == ("WaitPeriod", [])
    app.advance(0.1)  # the wait period is over
    assert actions() == [OK_TOPIC]
    assert "ActionsSuppressedBy" not in alarm(client, comp)

    # 2. The suppressor in ALARM: the composite's ALARM actions are suppressed.
    client.set_alarm_state(AlarmName=sup, StateValue="ALARM", StateReason="maintenance")
    client.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="child breaks")
    described = alarm(client, comp)
    assert described["StateValue"] == "ALARM"
    assert described["ActionsSuppressedBy"] == "Alarm"
    assert actions() == [OK_TOPIC]

    # 3. The suppressor leaves ALARM: the ExtensionPeriod holds the actions, then they run.
    client.set_alarm_state(AlarmName=sup, StateValue="OK", StateReason="maintenance over")
    assert alarm(client, comp)["ActionsSuppressedBy"] == "ExtensionPeriod"
    assert actions() == [OK_TOPIC]
    app.advance(3.9)
    assert alarm(client, comp)["ActionsSuppressedBy"] == "ExtensionPeriod"
    assert actions() == [OK_TOPIC]
    app.advance(0.1)  # the extension period is over
    assert actions() == [OK_TOPIC, TOPIC]
    assert "ActionsSuppressedBy" not in alarm(client, comp)
    app.advance(4.5)  # well past the suppressor's extension period (from its OK transition)

    # 4. WaitPeriod, and the suppressor goes into ALARM during it: the actions stay suppressed.
    client.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="child fine")
    assert alarm(client, comp)["ActionsSuppressedBy"] == "WaitPeriod"
    client.set_alarm_state(AlarmName=sup, StateValue="ALARM", StateReason="maintenance again")
    assert alarm(client, comp)["ActionsSuppressedBy"] == "Alarm"
    app.advance(5)  # past the wait period: nothing may run while the suppressor is in ALARM
    assert actions() == [OK_TOPIC, TOPIC]
    assert alarm(client, comp)["ActionsSuppressedBy"] == "Alarm"


def test_held_actions_survive_a_restart(tmp_path, cloudwatch_data_root):
    """Actions a composite holds through its suppressor's WaitPeriod are not forgotten when the
    server restarts in the middle of it: the restarted engine holds them on and runs them when
    the period ends (the gap Step 2 noted, and Step 5 item 3 asks to close)."""
    folder = tmp_path / "restart"
    with running_app(folder, cloudwatch_data_root) as server:
        app = App(server, cloudwatch_data_root)
        client = app.json
        child, sup = still_alarm(client, "held-child"), still_alarm(client, "held-sup")
        client.put_composite_alarm(AlarmName="held-comp", AlarmRule=f"ALARM({child})", AlarmActions=[TOPIC],
                                   OKActions=[OK_TOPIC], ActionsSuppressor=sup, ActionsSuppressorWaitPeriod=30,
                                   ActionsSuppressorExtensionPeriod=30)
        app.advance(31)  # the first transition's OK actions have run
        assert actions_of(client, "held-comp") == [OK_TOPIC]
        client.set_alarm_state(AlarmName=child, StateValue="ALARM", StateReason="child breaks")
        assert alarm(client, "held-comp")["ActionsSuppressedBy"] == "WaitPeriod"
        app.advance(10)
        stopped_at = app.now()
    with running_app(folder, cloudwatch_data_root, start=stopped_at + 5) as server:
        app = App(server, cloudwatch_data_root)
        client = app.json
        delivered = []  # what an SNS handler would be handed (Step 5 puts OldStateValue in its message)
        server.system.alarm_actions.register(
            lambda arn: arn == TOPIC,
            lambda arn, change: delivered.append((change.old_state, change.new_state, change.reason)))
        assert alarm(client, "held-comp")["ActionsSuppressedBy"] == "WaitPeriod"
        assert actions_of(client, "held-comp") == [OK_TOPIC]
        app.advance(16)  # the wait period (30 s from the ALARM transition) ends
        assert actions_of(client, "held-comp") == [OK_TOPIC, TOPIC]
        [(old_state, new_state, reason)] = delivered
        assert (old_state, new_state) == ("OK", "ALARM")
        assert reason == alarm(client, "held-comp")["StateReason"]
        assert "ActionsSuppressedBy" not in alarm(client, "held-comp")


# -- the live scenarios' outcomes ---------------------------------------------------------------


def test_missing_data_goes_insufficient(live):
    client, name = live.client, live.name("stop-missing")
    state(client, name, "INSUFFICIENT_DATA")
    assert [s for s, _ in state_reasons(client, name)] == ["ALARM", "INSUFFICIENT_DATA"]
    described = alarm(client, name)
    assert described["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
    data = reason_data(described)
    assert data["recentDatapoints"] == [] and len(data["evaluatedDatapoints"]) == 1
    assert set(data["evaluatedDatapoints"][0]) == {"timestamp"}
    # InsufficientDataActions ran on the transition; AlarmActions on the first one.
    actions = [json.loads(i["HistoryData"])["notificationResource"] for i in history(client, name, "Action")]
    assert actions == [TOPIC, INSUFFICIENT_TOPIC]


def test_breaching_and_not_breaching_fill_missing_data(live):
    client = live.client
    breaching, not_breaching = live.name("stop-breaching"), live.name("stop-notBreaching")
    state(client, breaching, "ALARM")
    state(client, not_breaching, "OK")
    # AWS-recorded wording (localstack test_breaching_alarm_actions / test_put_metric_alarm).
    assert state_reasons(client, breaching)[-1] == (
        "ALARM", "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was "
                 "treated as [Breaching].")
    assert state_reasons(client, not_breaching)[-1] == (
        "OK", "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was "
              "treated as [NonBreaching].")
    assert [s for s, _ in state_reasons(client, breaching)] == ["OK", "ALARM"]
    assert [s for s, _ in state_reasons(client, not_breaching)] == ["ALARM", "OK"]
    data = reason_data(alarm(client, breaching))
    assert (data["recentDatapoints"], data["threshold"], data["period"], data["statistic"]) == ([], THRESHOLD, 10,
                                                                                                 "Average")
    assert "startDate" not in data
    # The first transition of each was judged on the datum two periods back.
    first = json.loads(history(client, breaching, "StateUpdate")[0]["HistoryData"])["newState"]
    assert first["stateReason"] == (f"Threshold Crossed: 1 datapoint [1.0 ({reason_time(live.period_start - 20)})] "
                                    "was not greater than the threshold (5.0).")
    assert first["stateReasonData"]["evaluatedDatapoints"] == [
        {"timestamp": data_time(live.period_start - 20), "sampleCount": 1.0, "value": 1.0}]
    assert first["stateReasonData"]["startDate"] == data_time(live.period_start - 20)
    # Actions: one per transition, from the list of the new state.
    for name, expected in ((breaching, [OK_TOPIC, TOPIC]), (not_breaching, [TOPIC, OK_TOPIC])):
        items = history(client, name, "Action")
        assert [json.loads(i["HistoryData"])["notificationResource"] for i in items] == expected
        assert all(i["AlarmName"] == name and i["AlarmType"] == "MetricAlarm" for i in items)


def test_ignore_keeps_the_state(live):
    client = live.client
    name = live.name("stop-ignore")
    # By the time the other modes have moved on, ignore must still be where the data left it.
    state(client, live.name("stop-missing"), "INSUFFICIENT_DATA")
    state(client, live.name("stop-notBreaching"), "OK")
    described = alarm(client, name)
    assert described["StateValue"] == "ALARM"
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "ALARM")]


def test_disabled_actions_do_not_run(live):
    client, name = live.client, live.name("stop-quiet")
    state(client, name, "OK")
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")]
    assert history(client, name, "Action") == []


def test_premature_alarm_then_insufficient_data(live):
    """'- - X - -' with M = N = 3 and missing: no ALARM while the one breaching point is recent,
    ALARM once it is three periods old (the guide's premature-alarm rule), INSUFFICIENT_DATA when
    it leaves the evaluation range."""
    client, name = live.client, live.name("sparse")
    assert [s for s, _ in state_reasons(client, name)] == ["ALARM", "INSUFFICIENT_DATA"]
    (alarm_item, insufficient_item) = [json.loads(i["HistoryData"]) for i in history(client, name, "StateUpdate")]
    point = live.period_start - 20
    assert alarm_item["newState"]["stateReason"] == (
        f"Threshold Crossed: 1 datapoint [10.0 ({reason_time(point)})] was greater than the threshold (5.0).")
    assert alarm_item["newState"]["stateReasonData"]["evaluatedDatapoints"] == [
        {"timestamp": data_time(point), "sampleCount": 1.0, "value": 10.0}]
    assert insufficient_item["newState"]["stateReason"] == "Insufficient Data: 3 datapoints were unknown."
    # The ALARM came at the first tick with the point 3 periods old, not at creation; the
    # INSUFFICIENT_DATA at the first tick with the point out of the 5-period evaluation range.
    alarm_at, insufficient_at = (i["Timestamp"].timestamp() for i in history(client, name, "StateUpdate"))
    assert point + 30 <= alarm_at < point + 40
    assert point + 60 <= insufficient_at < point + 70


def test_m_out_of_n_with_live_data(live):
    client, name = live.client, live.name("mofn")
    assert len(live.fed) == 4
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
    bad1, good2, bad3, good4 = (start for start, _ in live.fed)
    reasons = state_reasons(client, name)
    # Two breaching points out of the last three, not consecutive; the long reason style, as
    # DatapointsToAlarm was given.
    assert reasons[1] == ("ALARM", (
        f"Threshold Crossed: 2 out of the last 3 datapoints [10.0 ({reason_time(bad3)}), "
        f"10.0 ({reason_time(bad1)})] were greater than the threshold (5.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."))
    assert reasons[2] == ("OK", (
        f"Threshold Crossed: 2 out of the last 3 datapoints [1.0 ({reason_time(good4)}), "
        f"1.0 ({reason_time(good2)})] were not greater than the threshold (5.0) "
        "(minimum 2 datapoints for ALARM -> OK transition)."))
    alarm_data = json.loads(history(client, name, "StateUpdate")[1]["HistoryData"])["newState"]["stateReasonData"]
    assert alarm_data["recentDatapoints"] == [10.0, 1.0, 10.0]
    assert [p["timestamp"] for p in alarm_data["evaluatedDatapoints"]] == [data_time(bad3), data_time(bad1)]
    actions = [json.loads(i["HistoryData"])["notificationResource"] for i in history(client, name, "Action")]
    assert actions == [OK_TOPIC, TOPIC, OK_TOPIC]


def test_composites_follow_a_live_alarm(live):
    client = live.client
    inner, outer = live.name("inner"), live.name("outer")
    assert transitions(client, live.name("mofn"))[-1:] == [("ALARM", "OK")]
    assert transitions(client, inner) == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
    assert transitions(client, outer) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK"), ("OK", "ALARM")]
    items = [json.loads(i["HistoryData"])["newState"] for i in history(client, inner, "StateUpdate")]
    assert items[1]["stateReason"].startswith(f"{ARN_PREFIX}{live.name('mofn')} transitioned to ALARM at ")
    assert items[1]["stateReasonData"]["triggeringAlarms"][0]["arn"] == ARN_PREFIX + live.name("mofn")
    outer_items = [json.loads(i["HistoryData"])["newState"] for i in history(client, outer, "StateUpdate")]
    assert outer_items[1]["stateReason"].startswith(f"{ARN_PREFIX}{inner} transitioned to ALARM at ")


def test_set_alarm_state_lasts_until_the_next_evaluation(live):
    # User guide: "This temporary state change lasts only until the next alarm comparison occurs."
    client, name = live.client, live.name("set")
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
    reasons = state_reasons(client, name)
    assert reasons[1] == ("ALARM", "testing alarm")
    assert reasons[2][1].startswith("Threshold Crossed: ")
    assert alarm(client, name)["StateReason"] == reasons[2][1]
    # Back at the next 10-second tick after the SetAlarmState, not later.
    returned = history(client, name, "StateUpdate")[2]["Timestamp"].timestamp()
    assert live.set_at < returned <= (live.set_at // 10 + 1) * 10 + 0.1


def test_set_alarm_state_holds_until_the_tick(app):
    client, ns = app.json, "e2e/set"
    client.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Timestamp": at(app.now() - 60),
                                                      "Value": GOOD}])
    client.put_metric_alarm(**alarm_args("a", ns, "m", 60, TreatMissingData="notBreaching"))
    state(client, "a", "OK")
    app.advance(10)
    client.set_alarm_state(AlarmName="a", StateValue="ALARM", StateReason="testing alarm")
    next_minute = (app.now() // 60 + 1) * 60
    app.advance_to(next_minute - 0.5)  # a one-minute alarm is evaluated each minute
    assert state(client, "a", "ALARM")["StateReason"] == "testing alarm"
    app.advance_to(next_minute + 1)
    assert state(client, "a", "OK")["StateReason"].startswith("Threshold Crossed: ")


# == the user guide's tables ====================================================================

# (row id, DatapointsToAlarm M, pattern oldest -> newest, expected state per TreatMissingData mode
#  in MISSING_MODES order). N = 3 throughout, so the evaluation range is 5 periods. "retain" is
# "the current alarm state is maintained": here the initial INSUFFICIENT_DATA.
TABLE = [
    ("3of3 0-X-X", 3, "0 - X - X", ("OK", "OK", "OK", "OK")),
    ("3of3 0----", 3, "0 - - - -", ("OK", "OK", "OK", "OK")),
    ("3of3 -----", 3, "- - - - -", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ("3of3 0XX-X", 3, "0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("3of3 --X--", 3, "- - X - -", ("ALARM", "retain", "ALARM", "OK")),
    ("2of3 0-X-X", 2, "0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("2of3 00X0X", 2, "0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ("2of3 0-X--", 2, "0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ("2of3 ----0", 2, "- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ("2of3 ---X-", 2, "- - - X -", ("ALARM", "retain", "ALARM", "OK")),
]


@dataclass
class Tables:
    client: object
    minute: int  # the current minute when the alarms were created; slot k is minute - 60 k
    names: dict[tuple[str, str], str]
    described: dict[str, dict]


@pytest.fixture(scope="module")
def tables(tmp_path_factory, cloudwatch_data_root):
    """Every row in every mode, created 5 s into a minute on data backfilled into the five
    minutes before it; judged at creation."""
    with running_app(tmp_path_factory.mktemp("tables"), cloudwatch_data_root) as server:
        client = App(server, cloudwatch_data_root).json
        minute = minute_floor(server.clock.now())
        tag = uuid.uuid4().hex[:8]
        ns = f"e2e/tables/{tag}"
        data = []
        for i, (_, _, pattern, _) in enumerate(TABLE):
            slots = pattern.split()
            for j, slot in enumerate(slots):  # j = 0 is the oldest, 5 periods back
                if slot != "-":
                    k = len(slots) - j
                    data.append({"MetricName": f"row{i}", "Timestamp": at(minute - 60 * k + 30),
                                 "Value": BAD if slot == "X" else GOOD})
            # A datum well before the range, so that every row's metric exists.
            data.append({"MetricName": f"row{i}", "Timestamp": at(minute - 3600), "Value": BAD})
        client.put_metric_data(Namespace=ns, MetricData=data)
        names = {}
        for i, (row, m, _, _) in enumerate(TABLE):
            for mode in MISSING_MODES:
                name = f"table-{tag}-{i}-{mode}"
                names[(row, mode)] = name
                extra = {"DatapointsToAlarm": m} if m != 3 else {}
                client.put_metric_alarm(**alarm_args(name, ns, f"row{i}", 60, EvaluationPeriods=3,
                                                     TreatMissingData=mode, **extra))
        found = client.describe_alarms(AlarmNamePrefix=f"table-{tag}-", MaxRecords=100)["MetricAlarms"]
        assert len(found) == len(names)
        yield Tables(client, minute, names, {a["AlarmName"]: a for a in found})


@pytest.mark.parametrize("row, m, pattern, states", TABLE, ids=[row[0] for row in TABLE])
@pytest.mark.parametrize("mode_index", range(4), ids=MISSING_MODES)
def test_evaluation_tables(tables, row, m, pattern, states, mode_index):
    mode = MISSING_MODES[mode_index]
    expected = states[mode_index]
    described = tables.described[tables.names[(row, mode)]]
    assert described["StateValue"] == ("INSUFFICIENT_DATA" if expected == "retain" else expected)
    if expected == "retain":
        assert described["StateReason"] == "Unchecked: Initial alarm creation"


def test_table_reasons(tables):
    minute = tables.minute

    def get(row, mode):
        return tables.described[tables.names[(row, mode)]]

    def slot(k):
        return f"10.0 ({reason_time(minute - 60 * k)})"

    # "0 X X - X", M = N = 3: the newest three real points, all breaching (short style: no
    # DatapointsToAlarm in the request).
    described = get("3of3 0XX-X", "missing")
    assert described["StateReason"] == (f"Threshold Crossed: 3 datapoints [{slot(1)}, {slot(3)}, {slot(4)}] "
                                        "were greater than the threshold (5.0).")
    data = reason_data(described)
    assert data["recentDatapoints"] == [10.0, 10.0, 10.0]
    assert data["startDate"] == data_time(minute - 240)
    assert [p["timestamp"] for p in data["evaluatedDatapoints"]] == [data_time(minute - 60 * k) for k in (1, 3, 4)]
    assert data["period"] == 60 and data["threshold"] == 5.0 and data["statistic"] == "Average"
    # "0 - X - X", M = 2: long style, as DatapointsToAlarm was given.
    assert get("2of3 0-X-X", "ignore")["StateReason"] == (
        f"Threshold Crossed: 2 out of the last 3 datapoints [{slot(1)}, {slot(3)}] were greater than the "
        "threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).")
    # "- - - - -": nothing in range.
    assert get("3of3 -----", "breaching")["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
        "[Breaching].")
    assert get("3of3 -----", "notBreaching")["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
        "[NonBreaching].")
    assert len(reason_data(get("3of3 -----", "breaching"))["evaluatedDatapoints"]) == 3
    assert len(reason_data(get("3of3 -----", "notBreaching"))["evaluatedDatapoints"]) == 1
    # "0 - - - -": the one real point decides; TreatMissingData fills the rest.
    assert get("3of3 0----", "breaching")["StateReason"] == (
        f"Threshold Crossed: 1 datapoint [1.0 ({reason_time(minute - 300)})] was not greater than the threshold "
        "(5.0) and 2 missing datapoints were treated as [Breaching].")


# == anomaly bands, metric math, percentiles =====================================================


@pytest.fixture(scope="module")
def evaluated_app(tmp_path_factory, cloudwatch_data_root):
    with running_app(tmp_path_factory.mktemp("evaluated"), cloudwatch_data_root) as server:
        yield App(server, cloudwatch_data_root)


@pytest.fixture(scope="module")
def evaluated(evaluated_app):
    """Alarms judged at creation on backfilled one-minute data."""
    client = evaluated_app.json
    tag = uuid.uuid4().hex[:8]
    ns = f"e2e/evaluated/{tag}"
    minute = minute_floor(evaluated_app.now())
    data = []
    # 40 minutes of a steady metric (9, 11, 9, 11, ...) then a spike / a normal value.
    for metric, last in (("spiky", 50.0), ("steady", 10.0)):
        for k in range(41, 1, -1):
            data.append({"MetricName": metric, "Timestamp": at(minute - 60 * k + 30), "Value": 9.0 + 2 * (k % 2)})
        data.append({"MetricName": metric, "Timestamp": at(minute - 60 + 30), "Value": last})
    # Errors / calls for a metric-math alarm: 30 % errors in the last minutes.
    for k in (1, 2, 3):
        data.append({"MetricName": "Errors", "Timestamp": at(minute - 60 * k + 10), "Value": 3.0})
        data.append({"MetricName": "Calls", "Timestamp": at(minute - 60 * k + 10), "Value": 10.0})
    # Latency samples for percentile alarms: 20 samples in the last minute.
    data.append({"MetricName": "Latency", "Timestamp": at(minute - 60 + 20),
                 "Values": [float(v) for v in range(1, 21)]})
    client.put_metric_data(Namespace=ns, MetricData=data)

    def band_alarm(name, metric):
        client.put_metric_alarm(
            AlarmName=name, EvaluationPeriods=1, ThresholdMetricId="ad1",
            ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
            Metrics=[{"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": metric}, "Period": 60,
                                                 "Stat": "Average"}, "ReturnData": True},
                     {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True}])

    names = {key: f"eval-{tag}-{key}" for key in ("spiky", "steady", "math", "p90", "p99-ignore", "p99-evaluate")}
    client.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": "spiky", "Stat": "Average"})
    band_alarm(names["spiky"], "spiky")
    band_alarm(names["steady"], "steady")
    client.put_metric_alarm(AlarmName=names["math"], EvaluationPeriods=2, Threshold=25.0,
                            ComparisonOperator="GreaterThanOrEqualToThreshold", Metrics=[
                                {"Id": "e", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Errors"},
                                                           "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                                {"Id": "c", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Calls"},
                                                           "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                                {"Id": "rate", "Expression": "100 * e / c", "Label": "error rate"}])
    client.put_metric_alarm(**alarm_args(names["p90"], ns, "Latency", 60, Statistic=None, ExtendedStatistic="p90",
                                         Threshold=15.0))
    for mode in ("ignore", "evaluate"):
        client.put_metric_alarm(**alarm_args(names[f"p99-{mode}"], ns, "Latency", 60, Statistic=None,
                                             ExtendedStatistic="p99", Threshold=15.0,
                                             EvaluateLowSampleCountPercentile=mode))
    return client, ns, minute, names


def test_anomaly_band_alarm(evaluated):
    client, ns, minute, names = evaluated
    spiky = state(client, names["spiky"], "ALARM")
    steady = state(client, names["steady"], "OK")
    assert spiky["ThresholdMetricId"] == "ad1" and "Threshold" not in spiky
    point = reason_time(minute - 60)
    assert re.fullmatch(
        rf"Thresholds Crossed: 1 datapoint \[50\.0 \({re.escape(point)}\)\] was less than the lower thresholds "
        r"\[[0-9.]+\] or greater than the upper thresholds \[[0-9.]+\]\.", spiky["StateReason"]), spiky["StateReason"]
    data = reason_data(spiky)
    assert data["recentDatapoints"] == [50.0]
    (lower,), (upper,) = data["recentLowerThresholds"], data["recentUpperThresholds"]
    assert lower < 10.0 < upper < 50.0
    assert "threshold" not in data and "statistic" not in data
    assert reason_data(steady)["recentDatapoints"] == [10.0]
    # The band GetMetricData returns for the same expression agrees with the alarm's.
    results = client.get_metric_data(
        MetricDataQueries=[
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "spiky"}, "Period": 60,
                                        "Stat": "Average"}},
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}],
        StartTime=at(minute - 60), EndTime=at(minute))["MetricDataResults"]
    bands = sorted(r["Values"][0] for r in results if r["Id"] == "ad1")
    assert bands == pytest.approx([lower, upper])
    detectors = client.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]
    assert [(d["MetricName"], d["StateValue"]) for d in detectors] == [("spiky", "TRAINED")]


def test_metric_math_alarm(evaluated):
    client, _, minute, names = evaluated
    described = state(client, names["math"], "ALARM")
    assert described["StateReason"] == (
        f"Threshold Crossed: 2 datapoints [30.0 ({reason_time(minute - 60)}), 30.0 ({reason_time(minute - 120)})] "
        "were greater than or equal to the threshold (25.0).")
    data = reason_data(described)
    assert "statistic" not in data and data["recentDatapoints"] == [30.0, 30.0]


def test_percentile_alarms(evaluated):
    client, _, minute, names = evaluated
    p90 = state(client, names["p90"], "ALARM")
    assert p90["StateReason"] == (f"Threshold Crossed: 1 datapoint [18.0 ({reason_time(minute - 60)})] was greater "
                                  "than the threshold (15.0).")
    assert reason_data(p90)["extendedStatistic"] == "p90"
    # p99 needs 10 / (1 - 0.99) = 1000 samples; with 20, "ignore" keeps the state.
    state(client, names["p99-evaluate"], "ALARM")
    assert alarm(client, names["p99-ignore"])["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm(client, names["p99-ignore"])["StateReason"] == "Unchecked: Initial alarm creation"
