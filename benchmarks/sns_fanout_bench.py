"""The SNS fan-out benchmark: one Publish to a topic with 100 confirmed http subscribers, each a
real HTTP endpoint; how long until all 100 have the notification.

    python benchmarks/run.py sns_fanout [--quick] [--no-moto] [--no-save]
    python benchmarks/sns_fanout_bench.py [--quick] [--no-moto] [--no-save] [--subscribers N] [--publishes N]

One real listener (``webhook.py``: one HTTP/1.1 server on a loopback port, 100 paths
``/hook/000`` ... ``/hook/099``, one thread per connection) stands for 100 subscribers: every
subscription needs its own endpoint. On sagewatch each subscription is confirmed the way an
endpoint confirms one: the listener receives the SubscriptionConfirmation POST and the benchmark
calls ConfirmSubscription with its Token; ListSubscriptionsByTopic must then show all 100
confirmed. Then ``--publishes`` Publish calls (boto3, one after another, each waited for): each
carries a numbered message; a publish is done when each of the 100 paths has received exactly one
Notification with that MessageId, that TopicArn and that Message. Times are ``time.time()`` on the
one machine:

- **acknowledged Publish -> all 100 POSTs received**: the last of the 100 arrivals minus the moment
  Publish returned (sagewatch answers once the 100 deliveries are durably queued, then sends
  them from its delivery workers);
- **Publish sent -> all 100 POSTs received**: the last arrival minus the moment before the call.
  This is the row compared with moto: moto's Publish posts to every http subscriber itself, one
  after another, before it answers (``moto/sns/models.py`` ``Subscription.publish``:
  ``requests.post`` in the request), so from its acknowledgement the time is zero or less.

p50 / p99 by nearest rank over the publishes, after 3 unmeasured ones.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Moto, Row, Sagewatch, boto3_client, log, run_standalone, suite_arguments  # noqa: E402
from webhook import Webhook, confirm_all  # noqa: E402

NAME = "sns_fanout"
WARMUP = 3
DEFAULTS = {"subscribers": 100, "publishes": 100, "moto_publishes": 30, "wait_s": 30.0}
QUICK = {"subscribers": 20, "publishes": 10, "moto_publishes": 5, "wait_s": 30.0}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def subscribe_all(sns, hook: Webhook, topic_arn: str, count: int, confirms: bool) -> list[str]:
    endpoints = [hook.url(f"/hook/{i:03d}") for i in range(count)]
    for endpoint in endpoints:
        sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint)
    if confirms:
        confirm_all(sns, hook, topic_arn, endpoints)
    confirmed = []
    kwargs = {"TopicArn": topic_arn}
    while True:
        page = sns.list_subscriptions_by_topic(**kwargs)
        confirmed += [s["Endpoint"] for s in page["Subscriptions"]
                      if s["SubscriptionArn"].startswith("arn:")]  # not "PendingConfirmation"
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    if sorted(confirmed) != sorted(endpoints):
        raise RuntimeError(f"{len(set(confirmed) & set(endpoints))} of {count} subscriptions confirmed")
    return endpoints


def fan_out(server, p: dict, publishes: int) -> dict:
    sns = boto3_client("sns", server.endpoint)
    with Webhook() as hook:
        topic_arn = sns.create_topic(Name=f"bench-fanout-{uuid.uuid4().hex[:8]}")["TopicArn"]
        endpoints = subscribe_all(sns, hook, topic_arn, p["subscribers"], confirms=server.name == "sagewatch")
        paths = {urllib.parse.urlsplit(e).path for e in endpoints}
        log(f"{server.name}: {len(endpoints)} http subscriptions confirmed; {publishes} publishes")
        from_ack, from_send, publish_call, problems = [], [], [], []
        process = psutil.Process(server.pid)
        for n in range(WARMUP + publishes):
            if n == WARMUP:
                cpu_before = _cpu(process)
            message = f"fan-out {n:04d} " + "x" * 200
            sent = time.time()
            message_id = sns.publish(TopicArn=topic_arn, Message=message, Subject="bench")["MessageId"]
            acked = time.time()

            def arrived(hook, message_id=message_id):
                return len(hook.by_message_id.get(message_id, ())) >= len(paths)

            if not hook.wait(arrived, p["wait_s"]):
                got = len(hook.by_message_id.get(message_id, ()))
                problems.append(f"publish {n}: {got} of {len(paths)} POSTs within {p['wait_s']:.0f} s")
                break
            posts = list(hook.by_message_id[message_id])
            wrong = [post.path for post in posts if post.body.get("Type") != "Notification"
                     or post.body.get("TopicArn") != topic_arn or post.body.get("Message") != message]
            if wrong or sorted(post.path for post in posts) != sorted(paths):
                problems.append(f"publish {n}: {len(wrong)} wrong notifications, "
                                f"{len({post.path for post in posts})} distinct endpoints of {len(posts)} POSTs")
                break
            if n < WARMUP:
                continue
            last = max(post.arrived for post in posts)
            from_ack.append(last - acked)
            from_send.append(last - sent)
            publish_call.append(acked - sent)
        server_cpu = _cpu(process) - cpu_before if publishes and not problems else None
        # Nothing may arrive twice: let late duplicates (a redelivery) show before counting.
        time.sleep(0.5)
        notifications = [post for post in hook.snapshot() if post.body.get("Type") == "Notification"]
        duplicates = len(notifications) - len({(post.path, post.body.get("MessageId")) for post in notifications})
    out = {"subscribers": len(paths), "publishes": len(from_send), "problems": problems,
           "duplicates": duplicates,
           # CPU of the server process (with its children) over the measured publishes, and of the
           # listener's loop thread over everything it received.
           "server_cpu_ms_per_publish": None if server_cpu is None else server_cpu / len(from_send) * 1000,
           "listener_cpu_ms_per_post": hook.cpu_s / max(len(hook.posts), 1) * 1000}
    if from_send:
        out.update({
            "from_ack_p50_s": statistics.median(from_ack), "from_ack_p99_s": percentile(from_ack, 99),
            "from_ack_max_s": max(from_ack),
            "from_send_p50_s": statistics.median(from_send), "from_send_p99_s": percentile(from_send, 99),
            "from_send_max_s": max(from_send),
            "publish_call_p50_s": statistics.median(publish_call),
            "publish_call_p99_s": percentile(publish_call, 99),
            "from_ack_ms": [round(x * 1000, 2) for x in from_ack],
            "from_send_ms": [round(x * 1000, 2) for x in from_send],
        })
        log(f"{server.name}: Publish sent -> all {len(paths)} POSTs p50 {out['from_send_p50_s'] * 1000:.1f} ms, "
            f"p99 {out['from_send_p99_s'] * 1000:.1f} ms; Publish call p50 "
            f"{out['publish_call_p50_s'] * 1000:.1f} ms")
    for problem in problems:
        log(f"{server.name}: {problem}")
    return out


def run(options: dict) -> tuple[list[Row], dict]:
    p = {**(QUICK if options.get("quick") else DEFAULTS),
         **{k: v for k, v in options.items() if k in DEFAULTS and v is not None}}
    load_before = os.getloadavg()
    with Sagewatch() as server:
        sw = fan_out(server, p, p["publishes"])
    mo = None
    if not options.get("no_moto"):
        with Moto() as server:
            mo = fan_out(server, p, p["moto_publishes"])
    load_after = os.getloadavg()

    count = p["subscribers"]
    broken = bool(sw["problems"] or sw["duplicates"] or not sw["publishes"])
    rows = []
    if sw["publishes"]:
        moto_ok = mo is not None and mo["publishes"] and not mo["problems"]
        moto_note = ""
        if mo is not None:
            moto_note = (f"; moto: {mo['publishes']} publishes, its Publish call itself takes p50 "
                         f"{mo['publish_call_p50_s'] * 1000:.0f} ms (it POSTs to the {count} subscribers one "
                         f"after another before answering)" if moto_ok else f"; moto broke: {mo['problems'][:1]}")
        rows += [
            Row(f"acknowledged Publish -> all {count} POSTs received, p50", "s", sw["from_ack_p50_s"],
                higher_is_better=False),
            Row(f"acknowledged Publish -> all {count} POSTs received, p99", "s", sw["from_ack_p99_s"],
                higher_is_better=False,
                note=f"{sw['publishes']} publishes one after another; max {sw['from_ack_max_s']:.3f} s; "
                     f"sagewatch's Publish call p50 {sw['publish_call_p50_s'] * 1000:.1f} ms; server CPU "
                     f"{sw['server_cpu_ms_per_publish']:.0f} ms per publish of {count} deliveries; the listener's "
                     f"CPU {sw['listener_cpu_ms_per_post']:.2f} ms per POST; duplicate POSTs {sw['duplicates']}"),
            Row(f"Publish sent -> all {count} POSTs received, p50", "s", sw["from_send_p50_s"],
                mo["from_send_p50_s"] if moto_ok else None, higher_is_better=False),
            Row(f"Publish sent -> all {count} POSTs received, p99", "s", sw["from_send_p99_s"],
                mo["from_send_p99_s"] if moto_ok else None, higher_is_better=False,
                note=f"max {sw['from_send_max_s']:.3f} s{moto_note}"),
        ]
    parameters = {
        "subscribers": f"{count} http subscriptions to one real listener (one port, one path each), "
                       "confirmed with ConfirmSubscription (sagewatch) / confirmed at Subscribe (moto)",
        "publishes": f"{p['publishes']} on sagewatch, {p['moto_publishes']} on moto, one after another, "
                     f"after {WARMUP} unmeasured; each a ~210-byte message with a Subject",
        "load average (1 min) before / after": f"{load_before[0]:.2f} / {load_after[0]:.2f}",
    }
    return rows, {"parameters": parameters, "details": {"sagewatch": sw, "moto": mo}, "broken": broken}


def main(argv: list[str] | None = None) -> int:
    parser = suite_arguments(__doc__)
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--subscribers", type=int, help="http subscribers of the topic (default 100)")
    parser.add_argument("--publishes", type=int, help="measured publishes on sagewatch (default 100)")
    parser.add_argument("--moto-publishes", type=int, help="measured publishes on moto (default 30)")
    return run_standalone(NAME, run, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
