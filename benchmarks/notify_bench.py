"""The alarm notification benchmark: from an acknowledged breaching PutMetricData to the SNS
notification POSTed to a real webhook.

    python benchmarks/run.py notify [--quick] [--no-moto] [--no-save]
    python benchmarks/notify_bench.py [--quick] [--no-moto] [--no-save] [--samples N] [--alarms N]

The whole path a user relies on, on a real sagewatch server: PutMetricData stores the value, the
alarm engine evaluates the alarm and transitions it, the alarm's SNS action publishes AWS's alarm
message to the topic, SNS queues the http delivery and a delivery worker POSTs the signed
notification to the subscriber, a real HTTP listener (``webhook.py``) started here, whose
subscription was confirmed with the token it received.

``--alarms`` metric alarms (default 50), one per metric (``Bench/Notify`` ``ValidationLoss``,
dimension ``TrainingJobName``), each: ``Maximum``, ``Period`` 10 (a high-resolution alarm; the
data is sent with ``StorageResolution`` 1), ``EvaluationPeriods`` 1, ``GreaterThanThreshold`` 1.0,
``TreatMissingData`` ``ignore`` (an empty period keeps the state), ``AlarmActions`` and
``OKActions`` = the topic. Each alarm is first brought to OK (a value of 0.5; its OK notification
is waited for, not measured). Then the alarms take turns: each put sends the value that moves
its alarm to the other state (4.0 when it is OK, 0.5 when it is in ALARM), so every put is a
transition and every transition a notification. An alarm gets a new value only in a later
10-second period than its previous one (the benchmark waits for the next period when needed), so
a period never holds both a breaching and a non-breaching value.

For each put: the latency is the arrival time of the POST that carries that alarm's new state
(the notification's ``Message`` is AWS's alarm JSON: ``AlarmName``, ``NewStateValue``,
``StateChangeTime``) minus the moment ``put_metric_data`` returned. ``time.time()`` on the one
machine for both. The rows give p50 / p99 (nearest rank) / max of the breaching puts (the goal:
p99 <= 1 s; AWS evaluates alarms once a minute) and of the puts back to OK; the JSON also splits
each latency at ``StateChangeTime`` (acknowledged -> transition, transition -> POST).

moto: its alarms never evaluate (no PutMetricData moves one; see the cloudwatch suite), so no
notification ever comes; a few alarms are probed (breaching value, ``--moto-wait-s`` for the
POST) and the column says ``never`` when none arrived.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Moto, Row, Sagewatch, boto3_client, log, run_standalone, suite_arguments  # noqa: E402
from webhook import Post, Webhook, confirm_all  # noqa: E402

# botocore's CloudWatch model lists smithy-rpc-v2-cbor first, which moto does not speak: both
# servers get the json protocol, as in the cloudwatch suite.
from cloudwatch_bench import Clients  # noqa: E402

NAME = "notify"
NAMESPACE = "Bench/Notify"
METRIC = "ValidationLoss"
PERIOD = 10
THRESHOLD, BREACHING, NOT_BREACHING = 1.0, 4.0, 0.5
DEFAULTS = {"samples": 100, "alarms": 50, "wait_s": 30.0, "moto_probes": 3, "moto_wait_s": 5.0}
QUICK = {**DEFAULTS, "samples": 10, "alarms": 10, "moto_probes": 1, "moto_wait_s": 2.0}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def _alarm_name(i: int) -> str:
    return f"bench-notify-{i:03d}"


def _dimensions(i: int) -> list[dict]:
    return [{"Name": "TrainingJobName", "Value": f"bench-job-{i:03d}"}]


def _alarm_message(post: Post) -> dict | None:
    """AWS's alarm JSON from a Notification POST (None for anything else)."""
    if post.body.get("Type") != "Notification":
        return None
    try:
        message = json.loads(post.body.get("Message", ""))
    except ValueError:
        return None
    return message if isinstance(message, dict) and "AlarmName" in message else None


def _change_time(message: dict) -> float | None:
    """StateChangeTime, as AWS writes it (``2026-01-01T00:00:00.123+0000``), in epoch seconds."""
    try:
        return dt.datetime.strptime(message["StateChangeTime"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    except (KeyError, TypeError, ValueError):
        return None


class Notifications:
    """The alarm notifications the listener received, looked up by (alarm, new state)."""

    def __init__(self, hook: Webhook) -> None:
        self.hook = hook

    def wait(self, name: str, state: str, after: int, timeout: float) -> tuple[Post, dict] | None:
        """The first notification of ``name`` entering ``state`` among the POSTs after the first
        ``after`` ones."""
        found: list = []

        def arrived(hook: Webhook) -> bool:
            for post in hook.posts[after:]:
                message = _alarm_message(post)
                if message and message["AlarmName"] == name and message.get("NewStateValue") == state:
                    found.append((post, message))
                    return True
            return False

        return found[0] if self.hook.wait(arrived, timeout) else None

    def count(self) -> int:
        return len(self.hook.snapshot())


def set_up(server, cloudwatch, hook: Webhook, alarms: int, confirms: bool) -> str:
    sns = boto3_client("sns", server.endpoint)
    topic_arn = sns.create_topic(Name=f"bench-notify-{uuid.uuid4().hex[:8]}")["TopicArn"]
    endpoint = hook.url("/alarms")
    sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint)
    if confirms:
        confirm_all(sns, hook, topic_arn, [endpoint])
    for i in range(alarms):
        cloudwatch.put_metric_alarm(
            AlarmName=_alarm_name(i), Namespace=NAMESPACE, MetricName=METRIC, Dimensions=_dimensions(i),
            Statistic="Maximum", Period=PERIOD, EvaluationPeriods=1, Threshold=THRESHOLD,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
            AlarmActions=[topic_arn], OKActions=[topic_arn])
    return topic_arn


def put(cloudwatch, i: int, value: float, at: float) -> None:
    cloudwatch.put_metric_data(Namespace=NAMESPACE, MetricData=[{
        "MetricName": METRIC, "Dimensions": _dimensions(i), "Timestamp": _utc(at), "Value": value,
        "StorageResolution": 1}])


def measure(server: Sagewatch, clients: Clients, p: dict) -> dict:
    cloudwatch = clients.client(server.endpoint)
    alarms, samples = p["alarms"], p["samples"]
    with Webhook() as hook:
        notifications = Notifications(hook)
        set_up(server, cloudwatch, hook, alarms, confirms=True)
        log(f"sagewatch: {alarms} alarms on a topic with a confirmed http subscription; bringing them to OK")
        last_period = {}
        for i in range(alarms):
            before = notifications.count()
            now = time.time()
            put(cloudwatch, i, NOT_BREACHING, now)
            last_period[i] = int(now // PERIOD)
            if notifications.wait(_alarm_name(i), "OK", before, p["wait_s"]) is None:
                raise RuntimeError(f"{_alarm_name(i)}: no OK notification within {p['wait_s']:.0f} s")
        log(f"sagewatch: all {alarms} alarms OK; {samples} breaching and {samples} OK puts")
        state = {i: "OK" for i in range(alarms)}
        results = {"ALARM": [], "OK": []}
        problems: list[str] = []
        waited_for_period = 0.0
        for n in range(2 * samples):
            i = n % alarms
            if int(time.time() // PERIOD) == last_period[i]:  # this alarm already has a value in this period
                pause = (last_period[i] + 1) * PERIOD - time.time() + 0.01
                waited_for_period += pause
                time.sleep(max(0.0, pause))
            target = "ALARM" if state[i] == "OK" else "OK"
            before = notifications.count()
            sent = time.time()
            put(cloudwatch, i, BREACHING if target == "ALARM" else NOT_BREACHING, sent)
            acked = time.time()
            last_period[i] = int(sent // PERIOD)
            found = notifications.wait(_alarm_name(i), target, before, p["wait_s"])
            if found is None:
                problems.append(f"put {n} ({_alarm_name(i)} -> {target}): no notification within {p['wait_s']:.0f} s")
                break
            post, message = found
            changed = _change_time(message)
            results[target].append({
                "alarm": i, "latency_s": post.arrived - acked, "from_send_s": post.arrived - sent,
                "put_call_s": acked - sent,
                "ack_to_transition_s": None if changed is None else changed - acked,
                "transition_to_post_s": None if changed is None else post.arrived - changed,
            })
            state[i] = target
        time.sleep(0.5)  # let a late duplicate show
        notified = [m for m in map(_alarm_message, hook.snapshot()) if m]
    out: dict = {"alarms": alarms, "problems": problems, "waited_for_periods_s": round(waited_for_period, 1),
                 "notifications": len(notified)}
    for target, rows in results.items():
        if not rows:
            continue
        latencies = [r["latency_s"] for r in rows]
        splits = {k: [r[k] for r in rows if r[k] is not None]
                  for k in ("ack_to_transition_s", "transition_to_post_s", "put_call_s")}
        out[target] = {
            "samples": len(rows), "p50_s": statistics.median(latencies), "p99_s": percentile(latencies, 99),
            "max_s": max(latencies), "mean_s": statistics.fmean(latencies),
            **{f"{k}_p50": statistics.median(v) for k, v in splits.items() if v},
            **{f"{k}_p99": percentile(v, 99) for k, v in splits.items() if v},
            "latencies_ms": [round(x * 1000, 2) for x in latencies],
        }
        log(f"sagewatch: -> {target}: {len(rows)} puts, p50 {out[target]['p50_s'] * 1000:.1f} ms, "
            f"p99 {out[target]['p99_s'] * 1000:.1f} ms, max {out[target]['max_s'] * 1000:.1f} ms")
    for problem in problems:
        log(f"sagewatch: {problem}")
    return out


def probe_moto(server: Moto, clients: Clients, p: dict) -> dict:
    """moto's alarms: a breaching value each, then wait for a POST that never comes."""
    cloudwatch = clients.client(server.endpoint)
    probes = p["moto_probes"]
    with Webhook() as hook:
        notifications = Notifications(hook)
        set_up(server, cloudwatch, hook, probes, confirms=False)
        arrived = 0
        for i in range(probes):
            before = notifications.count()
            put(cloudwatch, i, BREACHING, time.time())
            if notifications.wait(_alarm_name(i), "ALARM", before, p["moto_wait_s"]) is not None:
                arrived += 1
        found = cloudwatch.describe_alarms(AlarmNames=[_alarm_name(i) for i in range(probes)])["MetricAlarms"]
    states = sorted({a["StateValue"] for a in found})
    log(f"moto: {arrived} of {probes} breaching puts notified within {p['moto_wait_s']:.0f} s; alarm states {states}")
    return {"probes": probes, "notified": arrived, "wait_s": p["moto_wait_s"], "states": states}


def run(options: dict) -> tuple[list[Row], dict]:
    p = {**(QUICK if options.get("quick") else DEFAULTS),
         **{k: v for k, v in options.items() if k in DEFAULTS and v is not None}}
    load_before = os.getloadavg()
    clients = Clients()
    try:
        with Sagewatch() as server:
            sw = measure(server, clients, p)
        mo = None
        if not options.get("no_moto"):
            with Moto() as server:
                mo = probe_moto(server, clients, p)
    finally:
        clients.close()
    load_after = os.getloadavg()

    moto_display = ""
    if mo is not None:
        moto_display = "never" if mo["notified"] == 0 else f"{mo['notified']} of {mo['probes']}"
    rows = []
    for target, label in (("ALARM", "acknowledged breaching PutMetricData -> webhook POST"),
                          ("OK", "acknowledged PutMetricData back to OK -> webhook POST")):
        s = sw.get(target)
        if not s:
            continue
        split = (f"acknowledged -> StateChangeTime p50 {s['ack_to_transition_s_p50'] * 1000:.1f} ms, "
                 f"StateChangeTime -> POST p50 {s['transition_to_post_s_p50'] * 1000:.1f} ms "
                 f"(p99 {s['transition_to_post_s_p99'] * 1000:.1f} ms)"
                 if "transition_to_post_s_p50" in s else "")
        goal = target == "ALARM"
        rows += [
            Row(f"{label}, p50", "s", s["p50_s"], higher_is_better=False,
                moto_display=moto_display if goal else ""),
            Row(f"{label}, p99", "s", s["p99_s"], higher_is_better=False,
                target="<= 1 s" if goal else "", target_kind="max" if goal else "", target_value=1.0,
                moto_display=moto_display if goal else "",
                note=f"{s['samples']} puts; max {s['max_s']:.3f} s; PutMetricData call p50 "
                     f"{s['put_call_s_p50'] * 1000:.1f} ms; {split}"
                     + (f"; moto: none of {mo['probes']} breaching puts notified within "
                        f"{mo['wait_s']:.0f} s (its alarms stay {mo['states']})"
                        if goal and mo and not mo["notified"] else "")),
        ]
    parameters = {
        "alarms": f"{p['alarms']} metric alarms, Maximum, Period {PERIOD}, EvaluationPeriods 1, "
                  f"GreaterThanThreshold {THRESHOLD:g}, TreatMissingData ignore, AlarmActions = OKActions = "
                  "one SNS topic with one confirmed http subscription (a real listener)",
        "samples": f"{p['samples']} breaching and {p['samples']} back-to-OK puts (values {BREACHING:g} / "
                   f"{NOT_BREACHING:g}, StorageResolution 1), alarms in turn, one value per alarm per "
                   f"{PERIOD}-second period (waited {sw['waited_for_periods_s']} s for new periods in all)",
        "load average (1 min) before / after": f"{load_before[0]:.2f} / {load_after[0]:.2f}",
    }
    broken = bool(sw["problems"]) or sw.get("ALARM", {}).get("samples", 0) < p["samples"]
    return rows, {"parameters": parameters, "details": {"sagewatch": sw, "moto": mo}, "broken": broken}


def main(argv: list[str] | None = None) -> int:
    parser = suite_arguments(__doc__)
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--samples", type=int, help="breaching puts measured (default 100; as many back to OK)")
    parser.add_argument("--alarms", type=int, help="alarms taking turns (default 50)")
    return run_standalone(NAME, run, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
