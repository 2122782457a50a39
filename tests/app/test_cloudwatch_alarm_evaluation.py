"""Alarms evaluated by the server with real time passing.

Three groups, set up so that their waits overlap and the module takes about a minute:

* ``live``: 10-second alarms on high-resolution data, all created together by one fixture; a
  feeder thread keeps publishing for the M-of-N scenario. Data stops arriving for the
  TreatMissingData scenarios, and each mode moves the way AWS documents. The tests only wait for
  the outcomes.
* ``tables``: the evaluation-range tables of the AWS user guide ("How CloudWatch alarm state is
  evaluated when data is missing"; aws-behaviour.md §8.2), every row in every TreatMissingData
  mode. They use one-minute alarms on backfilled data, so the whole table is judged at creation
  and stays put until the next minute boundary.
* composites, ActionsSuppressor, anomaly-band, metric-math and percentile alarms.

Alarm names carry a per-run tag, so reruns against the same server never collide.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    ARN_PREFIX,
    alarm,
    at,
    cloudwatch_data_root,
    cw_cbor,
    cw_clients,
    cw_json,
    cw_query,
    history,
    minute_floor,
    transitions,
    wait_for,
    wait_state,
)

TOPIC = "arn:aws:sns:us-east-1:000000000000:alarm-topic"
OK_TOPIC = "arn:aws:sns:us-east-1:000000000000:ok-topic"
INSUFFICIENT_TOPIC = "arn:aws:sns:us-east-1:000000000000:insufficient-topic"
BAD, GOOD, THRESHOLD = 10.0, 1.0, 5.0
MISSING_MODES = ("missing", "ignore", "breaching", "notBreaching")


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


def still_alarm(client, name: str, **extra) -> str:
    """A metric alarm no data moves: SetAlarmState drives it (TreatMissingData=ignore keeps it)."""
    client.put_metric_alarm(**alarm_args(name, "e2e/still", f"never-{name}", 60, Statistic="Sum",
                                         TreatMissingData="ignore", **extra))
    return name


# == live scenarios: 10-second alarms, real time ================================================


@dataclass
class Live:
    client: object
    tag: str
    ns: str
    period_start: int  # start of the 10-second period the scenarios were created in
    names: dict[str, str] = field(default_factory=dict)
    feeder: threading.Thread | None = None
    fed: list[tuple[int, float]] = field(default_factory=list)  # (period start, value) the feeder put
    errors: list[BaseException] = field(default_factory=list)

    def name(self, key: str) -> str:
        return self.names[key]


@pytest.fixture(scope="module")
def live(cw_json):
    client = cw_json
    tag = uuid.uuid4().hex[:8]
    ns = f"e2e/live/{tag}"
    now = time.time()
    if now % 10 > 7:  # leave the setup a few seconds inside one period
        time.sleep(10 - now % 10 + 0.2)
    p = int(time.time() // 10 * 10)
    scenario = Live(client, tag, ns, p)

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

    def feed() -> None:
        try:
            for step, value in enumerate((BAD, GOOD, BAD, GOOD), 1):
                start = p + 10 * step
                time.sleep(max(0.0, start + 3 - time.time()))
                client.put_metric_data(Namespace=ns, MetricData=[hi("mofn", time.time(), value)])
                scenario.fed.append((start, value))
        except BaseException as error:  # reported by the test that waits for the feeder
            scenario.errors.append(error)

    scenario.feeder = threading.Thread(target=feed, name="mofn-feeder", daemon=True)
    scenario.feeder.start()
    yield scenario
    scenario.feeder.join(timeout=60)


# -- composites and ActionsSuppressor (run first: their own waits overlap the live scenarios) ----


def test_nested_composites_follow_child_transitions(live, cw_query):
    client, tag = cw_query, live.tag
    a, b, c = (still_alarm(client, f"nest-{tag}-{x}") for x in "abc")
    inner, outer, top = f"nest-{tag}-inner", f"nest-{tag}-outer", f"nest-{tag}-top"
    client.put_composite_alarm(AlarmName=inner, AlarmRule=f"ALARM({a}) AND NOT OK({ARN_PREFIX}{b})")
    client.put_composite_alarm(AlarmName=outer, AlarmRule=f'ALARM("{inner}") OR (ALARM({c}) AND INSUFFICIENT_DATA({b}))')
    client.put_composite_alarm(AlarmName=top, AlarmRule=f"NOT ALARM({outer})")
    for name in (inner, outer):
        wait_state(client, name, "OK", timeout=10)
    wait_state(client, top, "ALARM", timeout=10)

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


def test_composite_at_least_and_constants(live, cw_cbor):
    client, tag = cw_cbor, live.tag
    kids = [still_alarm(client, f"atl-{tag}-{i}") for i in range(4)]
    two = f"atl-{tag}-two"
    half_ok = f"atl-{tag}-half-ok"
    client.put_composite_alarm(AlarmName=two, AlarmRule=f"AT_LEAST(2, ALARM, ({', '.join(kids)}))")
    client.put_composite_alarm(AlarmName=half_ok, AlarmRule=f"AT_LEAST(50%, OK, ({', '.join(kids)})) OR FALSE")
    wait_state(client, two, "OK", timeout=10)
    wait_state(client, half_ok, "OK", timeout=10)
    client.set_alarm_state(AlarmName=kids[0], StateValue="ALARM", StateReason="t")
    assert alarm(client, two)["StateValue"] == "OK"
    client.set_alarm_state(AlarmName=kids[3], StateValue="ALARM", StateReason="t")
    assert alarm(client, two)["StateValue"] == "ALARM"
    client.set_alarm_state(AlarmName=kids[1], StateValue="OK", StateReason="t")
    assert alarm(client, half_ok)["StateValue"] == "OK"
    client.set_alarm_state(AlarmName=kids[2], StateValue="OK", StateReason="t")
    assert alarm(client, half_ok)["StateValue"] == "ALARM"


def test_composite_set_alarm_state_holds_until_a_child_changes(live, cw_json):
    # SetAlarmState: "Composite alarms stay until a child changes."
    client, tag = cw_json, live.tag
    child = still_alarm(client, f"hold-{tag}-child")
    comp = f"hold-{tag}-comp"
    client.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({child})")
    wait_state(client, comp, "OK", timeout=10)
    client.set_alarm_state(AlarmName=comp, StateValue="ALARM", StateReason="forced")
    assert alarm(client, comp)["StateValue"] == "ALARM"
    client.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="child moves")
    described = alarm(client, comp)
    assert described["StateValue"] == "OK"
    assert described["StateReason"].startswith(f"{ARN_PREFIX}{child} transitioned to OK at ")


def test_actions_suppressor(live, cw_json):
    """ActionsSuppressor: suppressed while the suppressor is in ALARM, held through the
    ExtensionPeriod after it leaves ALARM and through the WaitPeriod before it enters it; the
    held actions run when the period ends (API reference, CompositeAlarm.ActionsSuppressedBy)."""
    client, tag = cw_json, live.tag
    child, sup = still_alarm(client, f"supp-{tag}-child"), still_alarm(client, f"supp-{tag}-sup")
    comp = f"supp-{tag}-comp"
    client.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({child})", AlarmActions=[TOPIC],
                               OKActions=[OK_TOPIC], ActionsSuppressor=sup, ActionsSuppressorWaitPeriod=4,
                               ActionsSuppressorExtensionPeriod=4)

    def actions() -> list[str]:
        return [json.loads(i["HistoryData"])["notificationResource"] for i in history(client, comp, "Action")]

    # 1. Created: INSUFFICIENT_DATA -> OK while the suppressor is not in ALARM: the OK actions
    #    wait for the WaitPeriod, then run.
    described = wait_state(client, comp, "OK", timeout=10)
    assert (described.get("ActionsSuppressedBy"), actions()) == ("WaitPeriod", [])
    assert described.get("ActionsSuppressedReason")
    wait_for(lambda: actions() == [OK_TOPIC], timeout=15, what="the held OK action")
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
    wait_for(lambda: actions() == [OK_TOPIC, TOPIC], timeout=15, what="the ALARM action after the extension")
    assert "ActionsSuppressedBy" not in alarm(client, comp)
    time.sleep(4.5)  # let the suppressor's extension period (from its OK transition) run out

    # 4. WaitPeriod, and the suppressor goes into ALARM during it: the actions stay suppressed.
    client.set_alarm_state(AlarmName=child, StateValue="OK", StateReason="child fine")
    assert alarm(client, comp)["ActionsSuppressedBy"] == "WaitPeriod"
    client.set_alarm_state(AlarmName=sup, StateValue="ALARM", StateReason="maintenance again")
    assert alarm(client, comp)["ActionsSuppressedBy"] == "Alarm"
    time.sleep(5)  # past the wait period: nothing may run while the suppressor is in ALARM
    assert actions() == [OK_TOPIC, TOPIC]
    assert alarm(client, comp)["ActionsSuppressedBy"] == "Alarm"


# -- the live scenarios' outcomes ---------------------------------------------------------------


def test_missing_data_goes_insufficient(live):
    client, name = live.client, live.name("stop-missing")
    assert wait_state(client, name, "INSUFFICIENT_DATA", timeout=60)
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
    wait_state(client, breaching, "ALARM", timeout=60)
    wait_state(client, not_breaching, "OK", timeout=60)
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
    wait_state(client, live.name("stop-missing"), "INSUFFICIENT_DATA", timeout=60)
    wait_state(client, live.name("stop-notBreaching"), "OK", timeout=60)
    described = alarm(client, name)
    assert described["StateValue"] == "ALARM"
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "ALARM")]


def test_disabled_actions_do_not_run(live):
    client, name = live.client, live.name("stop-quiet")
    wait_state(client, name, "OK", timeout=60)
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")]
    assert history(client, name, "Action") == []


def test_premature_alarm_then_insufficient_data(live):
    """'- - X - -' with M = N = 3 and missing: no ALARM while the one breaching point is recent,
    ALARM once it is three periods old (the guide's premature-alarm rule), INSUFFICIENT_DATA when
    it leaves the evaluation range."""
    client, name = live.client, live.name("sparse")
    wait_for(lambda: [s for s, _ in state_reasons(client, name)] == ["ALARM", "INSUFFICIENT_DATA"], timeout=70,
             what="ALARM then INSUFFICIENT_DATA")
    (alarm_item, insufficient_item) = [json.loads(i["HistoryData"]) for i in history(client, name, "StateUpdate")]
    point = live.period_start - 20
    assert alarm_item["newState"]["stateReason"] == (
        f"Threshold Crossed: 1 datapoint [10.0 ({reason_time(point)})] was greater than the threshold (5.0).")
    assert alarm_item["newState"]["stateReasonData"]["evaluatedDatapoints"] == [
        {"timestamp": data_time(point), "sampleCount": 1.0, "value": 10.0}]
    assert insufficient_item["newState"]["stateReason"] == "Insufficient Data: 3 datapoints were unknown."
    # The ALARM came when the point was 3 periods old, not at creation.
    alarm_at = history(client, name, "StateUpdate")[0]["Timestamp"].timestamp()
    assert alarm_at >= point + 30


def test_m_out_of_n_with_live_data(live):
    client, name = live.client, live.name("mofn")
    wait_for(lambda: len(live.fed) == 4 or live.errors, timeout=70, what="the feeder")
    assert not live.errors, live.errors
    wait_for(lambda: transitions(client, name)[-1:] == [("ALARM", "OK")], timeout=20, what="ALARM -> OK")
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
    wait_for(lambda: transitions(client, live.name("mofn"))[-1:] == [("ALARM", "OK")], timeout=90,
             what="the M-of-N alarm to finish")
    wait_for(lambda: transitions(client, inner)[-1:] == [("ALARM", "OK")], timeout=10, what="inner back to OK")
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
    wait_state(client, name, "OK", timeout=20)
    client.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing alarm")
    wait_for(lambda: len(transitions(client, name)) == 3, timeout=25, what="the return to OK")
    assert transitions(client, name) == [("INSUFFICIENT_DATA", "OK"), ("OK", "ALARM"), ("ALARM", "OK")]
    reasons = state_reasons(client, name)
    assert reasons[1] == ("ALARM", "testing alarm")
    assert reasons[2][1].startswith("Threshold Crossed: ")
    assert alarm(client, name)["StateReason"] == reasons[2][1]


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
def tables(live, cw_json):
    client = cw_json
    for _attempt in range(3):
        if time.time() % 60 > 40:
            time.sleep(60 - time.time() % 60 + 1)
        minute = minute_floor(time.time())
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
        moving = [names[(row, mode)] for row, _, _, states in TABLE
                  for mode, state in zip(MISSING_MODES, states) if state not in ("retain", "INSUFFICIENT_DATA")]

        def settled():
            found = client.describe_alarms(AlarmNamePrefix=f"table-{tag}-", MaxRecords=100)["MetricAlarms"]
            return len(found) == len(names) and all(
                a["StateValue"] != "INSUFFICIENT_DATA" for a in found if a["AlarmName"] in moving) and found

        found = wait_for(settled, timeout=20, what="the table alarms to be evaluated")
        time.sleep(0.5)  # alarms that stay where they are were evaluated in the same moment
        found = client.describe_alarms(AlarmNamePrefix=f"table-{tag}-", MaxRecords=100)["MetricAlarms"]
        if time.time() < minute + 59:  # judged on the intended range, not one minute later
            return Tables(client, minute, names, {a["AlarmName"]: a for a in found})
    raise AssertionError("could not set the tables up within one minute")


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
def evaluated(live, cw_json):
    """Alarms judged at creation on backfilled one-minute data."""
    client = cw_json
    tag = uuid.uuid4().hex[:8]
    ns = f"e2e/evaluated/{tag}"
    minute = minute_floor(time.time())
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
    spiky = wait_state(client, names["spiky"], "ALARM", timeout=15)
    steady = wait_state(client, names["steady"], "OK", timeout=15)
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
    described = wait_state(client, names["math"], "ALARM", timeout=15)
    assert described["StateReason"] == (
        f"Threshold Crossed: 2 datapoints [30.0 ({reason_time(minute - 60)}), 30.0 ({reason_time(minute - 120)})] "
        "were greater than or equal to the threshold (25.0).")
    data = reason_data(described)
    assert "statistic" not in data and data["recentDatapoints"] == [30.0, 30.0]


def test_percentile_alarms(evaluated):
    client, _, minute, names = evaluated
    p90 = wait_state(client, names["p90"], "ALARM", timeout=15)
    assert p90["StateReason"] == (f"Threshold Crossed: 1 datapoint [18.0 ({reason_time(minute - 60)})] was greater "
                                  "than the threshold (15.0).")
    assert reason_data(p90)["extendedStatistic"] == "p90"
    # p99 needs 10 / (1 - 0.99) = 1000 samples; with 20, "ignore" keeps the state.
    wait_state(client, names["p99-evaluate"], "ALARM", timeout=15)
    assert alarm(client, names["p99-ignore"])["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm(client, names["p99-ignore"])["StateReason"] == "Unchecked: Initial alarm creation"
