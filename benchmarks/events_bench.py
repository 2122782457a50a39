"""The EventBridge benchmark: PutEvents matched through 1,000 rules on one bus, on sagewatch and on
moto's EventBridge in the same run.

    python benchmarks/run.py events [--quick] [--no-moto] [--no-save]
    python benchmarks/events_bench.py [--quick] [--no-moto] [--no-save] [--rules N] [--events N]

The rules (seeded, deterministic) are what an ML platform's bus carries: 20 sources
(``com.acme.training``, ``com.acme.serving``, ...) with 8 detail-types each, and rules that
mostly name a source, a detail-type and one detail field exactly (``{"source": [...],
"detail-type": [...], "detail": {"status": ["Failed"]}}``, 70 %), some two detail fields (10 %),
a ``prefix`` (8 %), a ``numeric`` range (7 %) or an ``anything-but`` (5 %). The events (seeded)
are drawn from the same sources, detail-types and detail values; each carries its sequence
number in ``detail.seq``, which no rule looks at. About one rule in a thousand matches a given
event (1.04 per event on average, 35 % of the events match none: the exact numbers are in
the results).

Every rule has one target, so a match is real work on both servers:

- sagewatch: an SNS topic with one confirmed http subscription, a real listener (``webhook.py``)
  in this process. PutEvents answers once a durable target delivery per match is queued; the
  delivery publishes the event to the topic, whose own delivery POSTs it to the listener. The
  listener counts, per ``detail.seq``, how many times each event arrived: it must be exactly the
  number of rules the event matches, for every event (so a match missed, a match too many or a
  duplicate delivery each break the run).
- moto: an SQS queue, because moto's PutEvents fails with HTTP 500 on an SNS target
  (``NotImplementedError: Expr not defined for Rule``: ``moto/events/models.py``
  ``Rule.send_to_targets`` carries out log-group, SQS, archive, bus and API-destination targets
  only); moto tests every rule's pattern against every event and sends the matched ones to the
  queue inside PutEvents. The queue's ApproximateNumberOfMessages must equal the matches.

The expected matches come from sagewatch's own matcher
(``sagewatch.services.events.patterns``): every rule compiled, every event (the envelope
PutEvents builds, aws-behaviour.md §5.1) flattened once and tested against every rule of its
source (every rule names exactly one source), before any server runs.

PutEvents requests (10 entries each) are serialized before the clock starts by botocore's own
json serializer (the bytes an SDK sends: ``X-Amz-Target: AWSEvents.PutEvents``, json 1.1) and
sent on 2 persistent connections; every response must be 200 with ``FailedEntryCount`` 0.

- **acknowledged**: entries acknowledged / seconds from the first request sent to the last
  response read. sagewatch's target deliveries run beside it on the same cores.
- **delivered** (sagewatch): entries / seconds from the first request sent to the arrival of
  the last of the POSTs the matches cause: the rate sagewatch sustains with every delivery done.
- two baselines on the same sagewatch server, before the run above, with the first
  ``--baseline-events`` of the same events: to a bus holding the same 1,000 rules without
  targets (matching alone: nothing is queued), and to a bus without rules (the API path alone).

moto gets the first requests of the same sequence until ``--moto-events`` or its time budget.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (ROOT, CREDENTIALS, Moto, Row, Sagewatch, boto3_client, log, run_standalone,  # noqa: E402
                    suite_arguments)
from webhook import Post, Webhook, confirm_all  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from sagewatch.services.events.patterns import compile_pattern, flatten_event  # noqa: E402

NAME = "events"
REGION = CREDENTIALS["AWS_DEFAULT_REGION"]
ACCOUNT = "123456789012"
BUS = "ml-platform"
# The same rules without targets (matching alone), and a bus with no rules (the API path alone).
UNTARGETED_BUS = "ml-platform-untargeted"
EMPTY_BUS = "ml-platform-empty"
AUTHORIZATION = (f"AWS4-HMAC-SHA256 Credential=testing/20260101/{REGION}/events/aws4_request, "
                 "SignedHeaders=host, Signature=x")

DEFAULTS = {"rules": 1000, "events": 20_000, "baseline_events": 10_000, "moto_events": 1_000,
            "moto_budget_s": 180.0, "connections": 2, "seed": 10, "stall_s": 60.0}
QUICK = {**DEFAULTS, "rules": 200, "events": 2_000, "baseline_events": 1_000, "moto_events": 200,
         "moto_budget_s": 20.0}

TEAMS = ("training", "serving", "data", "eval", "labeling", "features", "registry", "pipelines",
         "notebooks", "batch", "tuning", "monitoring", "billing", "security", "infra", "search",
         "recsys", "vision", "speech", "nlp")
DETAIL_TYPES = ("Job State Change", "Endpoint State Change", "Dataset Version Created",
                "Model Registered", "Drift Detected", "Quota Warning", "Checkpoint Saved",
                "Evaluation Finished")
STATUSES = ("Pending", "InProgress", "Completed", "Failed", "Stopping", "Stopped")
INSTANCE_TYPES = ("ml.g5.xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.m5.large", "ml.c5.2xlarge")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")
PROJECTS = 40


# -- the workload ---------------------------------------------------------------------------------


def make_rules(count: int, seed: int) -> list[tuple[str, str]]:
    """(name, pattern text). Every pattern names exactly one source."""
    rng = random.Random(seed)
    rules = []
    for i in range(count):
        source = f"com.acme.{rng.choice(TEAMS)}"
        detail_type = rng.choice(DETAIL_TYPES)
        kind = rng.random()
        if kind < 0.70:
            field, value = rng.choice((("status", rng.choice(STATUSES)),
                                       ("project", f"project-{rng.randrange(PROJECTS):02d}"),
                                       ("instanceType", rng.choice(INSTANCE_TYPES))))
            pattern = {"source": [source], "detail-type": [detail_type], "detail": {field: [value]}}
        elif kind < 0.80:
            pattern = {"source": [source], "detail-type": [detail_type],
                       "detail": {"status": [rng.choice(STATUSES)], "region": [rng.choice(REGIONS)]}}
        elif kind < 0.88:
            pattern = {"source": [source],
                       "detail": {"jobName": [{"prefix": f"exp-{rng.randrange(PROJECTS):02d}-"}]}}
        elif kind < 0.95:
            low = round(rng.uniform(0.5, 3.0), 2)
            pattern = {"source": [source], "detail-type": [detail_type],
                       "detail": {"metrics": {"loss": [{"numeric": [">", low, "<=", low + 1.5]}]}}}
        else:
            pattern = {"source": [source], "detail-type": [detail_type],
                       "detail": {"status": [{"anything-but": ["Completed", "Stopped"]}]}}
        rules.append((f"bench-rule-{i:04d}", json.dumps(pattern)))
    return rules


def make_entries(count: int, seed: int) -> list[dict]:
    """PutEvents entries (Source, DetailType, Detail)."""
    rng = random.Random(seed + 1)
    entries = []
    for i in range(count):
        project = rng.randrange(PROJECTS)
        detail = {
            "jobName": f"exp-{project:02d}-run-{rng.randrange(10_000):04d}",
            "project": f"project-{project:02d}",
            "status": rng.choice(STATUSES),
            "instanceType": rng.choice(INSTANCE_TYPES),
            "region": rng.choice(REGIONS),
            "metrics": {"loss": round(rng.uniform(0.1, 5.0), 4), "accuracy": round(rng.random(), 4),
                        "epoch": rng.randrange(100)},
            "tags": {"owner": f"user{rng.randrange(200)}", "cost-center": f"cc-{rng.randrange(12)}"},
            "seq": i,
        }
        entries.append({"Source": f"com.acme.{rng.choice(TEAMS)}", "DetailType": rng.choice(DETAIL_TYPES),
                        "Detail": json.dumps(detail), "Resources": []})
    return entries


def expected_matches(rules: list[tuple[str, str]], entries: list[dict]) -> list[int]:
    """For each entry, how many rules match it: sagewatch's own matcher on the envelope PutEvents
    builds (aws-behaviour.md §5.1), checked against the rules of the entry's source only (every
    rule names exactly one source, so no other rule can match)."""
    by_source: dict[str, list] = {}
    for _, text in rules:
        pattern = json.loads(text)
        [source] = pattern["source"]
        by_source.setdefault(source, []).append(compile_pattern(text))
    counts = []
    for entry in entries:
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": entry["DetailType"],
                 "source": entry["Source"], "account": ACCOUNT, "time": "2026-01-01T00:00:00Z",
                 "region": REGION, "resources": [], "detail": json.loads(entry["Detail"])}
        flat = flatten_event(event)
        counts.append(sum(pattern.matches_flat(flat) for pattern in by_source.get(entry["Source"], ())))
    return counts


def serialize_requests(entries: list[dict], bus: str) -> list[tuple[bytes, dict]]:
    """PutEvents bodies of 10 entries to ``bus``, serialized by botocore's json serializer."""
    import botocore.session
    from botocore.serialize import create_serializer

    model = botocore.session.get_session().get_service_model("events")
    operation = model.operation_model("PutEvents")
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    bodies = []
    for i in range(0, len(entries), 10):
        batch = [{**entry, "EventBusName": bus} for entry in entries[i:i + 10]]
        request = serializer.serialize_to_request({"Entries": batch}, operation)
        headers = dict(request["headers"])
        headers["Authorization"] = AUTHORIZATION
        body = request["body"]
        bodies.append((body.encode() if isinstance(body, str) else body, headers))
    return bodies


# -- running it -----------------------------------------------------------------------------------


def set_up(server, rules: list[tuple[str, str]], target: str | None, bus: str = BUS) -> list[str]:
    """The bus and the rules, each with one target (none if ``target`` is None). Returns the
    rule ARNs."""
    events = boto3_client("events", server.endpoint)
    events.create_event_bus(Name=bus)
    arns = []
    for name, pattern in rules:
        arns.append(events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern)["RuleArn"])
        if target is None:
            continue
        failed = events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "notify", "Arn": target}])
        if failed["FailedEntryCount"]:
            raise RuntimeError(f"PutTargets {name}: {failed['FailedEntries']}")
    return arns


def _event_of(post: Post) -> dict | None:
    """The EventBridge event a POST carries: the SNS notification's Message (or the bare body,
    had the subscription raw delivery)."""
    body = post.body
    if body.get("Type") == "Notification":
        try:
            body = json.loads(body.get("Message", ""))
        except ValueError:
            return None
    return body if isinstance(body, dict) and "detail" in body else None


def send(endpoint: str, bodies: list[tuple[bytes, dict]], connections: int, budget_s: float) -> dict:
    """Request i on connection i % connections, until all are sent or ``budget_s`` has passed.
    Every response must be 200 with FailedEntryCount 0."""
    port = int(endpoint.rsplit(":", 1)[1])
    work = [list(range(c, len(bodies), connections)) for c in range(connections)]
    done: list[list[int]] = [[] for _ in range(connections)]
    errors: list[str] = []
    barrier = threading.Barrier(connections + 1)
    clock = {"start": time.perf_counter()}

    def run(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        connection.connect()
        barrier.wait()
        try:
            for i in work[index]:
                if errors or time.perf_counter() - clock["start"] > budget_s:
                    return
                body, headers = bodies[i]
                connection.request("POST", "/", body, headers)
                response = connection.getresponse()
                data = response.read()
                if response.status != 200:
                    errors.append(f"{response.status}: {data[:500]!r}")
                    return
                answer = json.loads(data)
                if answer.get("FailedEntryCount"):
                    errors.append(f"FailedEntryCount {answer['FailedEntryCount']}: {answer['Entries'][:2]}")
                    return
                done[index].append(i)
        except (OSError, http.client.HTTPException, ValueError) as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in range(connections)]
    for thread in threads:
        thread.start()
    barrier.wait()
    wall_start = time.time()
    start = clock["start"] = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    sent = sorted(i for d in done for i in d)
    return {"requests": len(sent), "planned": len(bodies), "seconds": seconds, "errors": errors[:3],
            "sent": sent, "wall_start": wall_start}


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def _sent_rate(result: dict, entries_per_request: list[int]) -> None:
    events = sum(entries_per_request[i] for i in result["sent"])
    result.update(events=events, events_per_s=events / result["seconds"] if result["sent"] else 0.0)


def baseline(server, bodies: list[tuple[bytes, dict]], per_request: list[int], label: str, p: dict) -> dict:
    result = send(server.endpoint, bodies, p["connections"], float("inf"))
    _sent_rate(result, per_request)
    log(f"{server.name}: {label}: {result['events']:,} events acknowledged in {result['seconds']:.2f} s = "
        f"{result['events_per_s']:,.0f} events/s" + (f"; errors: {result['errors']}" if result["errors"] else ""))
    return {k: v for k, v in result.items() if k != "sent"}


def run_sagewatch(rules, bodies, baselines: dict, per_request: list[int], matches: list[int], p: dict) -> dict:
    with Sagewatch() as server, Webhook() as hook:
        # What the rest costs: the API path alone (a bus without rules), then matching alone (the
        # same rules on a bus of their own, without targets: nothing is queued).
        boto3_client("events", server.endpoint).create_event_bus(Name=EMPTY_BUS)
        empty = baseline(server, baselines[EMPTY_BUS], per_request, "no rules on the bus", p)
        set_up(server, rules, None, UNTARGETED_BUS)
        untargeted = baseline(server, baselines[UNTARGETED_BUS], per_request,
                              f"{len(rules):,} rules without targets", p)
        sns = boto3_client("sns", server.endpoint)
        topic_arn = sns.create_topic(Name="bench-events-target")["TopicArn"]
        endpoint = hook.url("/events")
        sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint)
        confirm_all(sns, hook, topic_arn, [endpoint])
        log(f"sagewatch: creating bus {BUS}, {len(rules):,} rules with one target each (an SNS topic "
            "with one confirmed http subscriber)")
        began = time.perf_counter()
        set_up(server, rules, topic_arn)
        log(f"sagewatch: set up in {time.perf_counter() - began:.1f} s; sending {len(bodies):,} PutEvents")
        process = psutil.Process(server.pid)
        cpu_before = _cpu(process)
        result = send(server.endpoint, bodies, p["connections"], float("inf"))
        _sent_rate(result, per_request)
        log(f"sagewatch: {result['events']:,} events acknowledged in {result['seconds']:.2f} s = "
            f"{result['events_per_s']:,.0f} events/s" + (f"; errors: {result['errors']}" if result["errors"] else ""))
        sent_entries = [e for i in result["sent"] for e in range(i * 10, min(i * 10 + 10, len(matches)))]
        expected = sum(matches[e] for e in sent_entries)
        # Wait for every delivery, as long as they keep coming.
        seen, still = -1, time.monotonic()
        while True:
            hook.wait(lambda hook: hook.notifications >= expected, 5)
            count = hook.notifications
            if count >= expected or time.monotonic() - still > p["stall_s"]:
                break
            if count != seen:
                seen, still = count, time.monotonic()
                log(f"sagewatch: {count:,} of {expected:,} deliveries received")
        server_cpu_s = _cpu(process) - cpu_before
        time.sleep(1.0)  # a late duplicate would show here
        posts = hook.snapshot()
    arrivals = sorted(post.arrived for post in posts if post.body.get("Type") == "Notification")
    got: dict[int, int] = {}
    unreadable = 0
    for post in posts:
        if post.body.get("Type") != "Notification":
            continue
        event = _event_of(post)
        if event is None:
            unreadable += 1
        else:
            got[event["detail"]["seq"]] = got.get(event["detail"]["seq"], 0) + 1
    wrong = [seq for seq in sent_entries if got.get(seq, 0) != matches[seq]]
    extra = sorted(set(got) - set(sent_entries))
    result.update(
        expected_deliveries=expected, deliveries_received=len(arrivals), unreadable=unreadable,
        events_delivered_wrong=len(wrong), wrong_examples=[(seq, matches[seq], got.get(seq, 0)) for seq in wrong[:5]],
        unexpected_events=len(extra), no_rules=empty, untargeted=untargeted,
        # The server's CPU (user + system, its children too) from the first PutEvents to the last
        # POST: matching, queueing, and both deliveries of every match.
        server_cpu_s=server_cpu_s, server_cpu_ms_per_match=server_cpu_s / max(expected, 1) * 1000,
    )
    if arrivals:
        delivered_s = arrivals[-1] - result["wall_start"]
        result.update(delivered_s=delivered_s, delivered_events_per_s=result["events"] / delivered_s,
                      backlog_drain_s=arrivals[-1] - (result["wall_start"] + result["seconds"]))
    log(f"sagewatch: {len(arrivals):,} deliveries received, {expected:,} expected; {len(wrong):,} events "
        f"delivered a wrong number of times" + (f"; last arrived {result['delivered_s']:.1f} s after the first "
                                                 "PutEvents" if arrivals else ""))
    return result


def run_moto(rules, bodies, per_request: list[int], matches_per_request: list[int], p: dict) -> dict:
    with Moto() as server:
        sqs = boto3_client("sqs", server.endpoint)
        url = sqs.create_queue(QueueName="bench-events-target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        log(f"moto: creating bus {BUS}, {len(rules):,} rules with one target each (an SQS queue)")
        began = time.perf_counter()
        set_up(server, rules, queue_arn)
        log(f"moto: set up in {time.perf_counter() - began:.1f} s; sending {len(bodies):,} PutEvents "
            f"(budget {p['moto_budget_s']:.0f} s)")
        result = send(server.endpoint, bodies, p["connections"], p["moto_budget_s"])
        _sent_rate(result, per_request)
        queued = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        result["expected_deliveries"] = sum(matches_per_request[i] for i in result["sent"])
        result["deliveries_received"] = int(queued["Attributes"]["ApproximateNumberOfMessages"])
    log(f"moto: {result['events']:,} events acknowledged in {result['seconds']:.1f} s = "
        f"{result['events_per_s']:,.1f} events/s; {result['deliveries_received']:,} messages in the target "
        f"queue, {result['expected_deliveries']:,} expected" + (f"; errors: {result['errors']}" if result["errors"] else ""))
    return result


def run(options: dict) -> tuple[list[Row], dict]:
    p = {**(QUICK if options.get("quick") else DEFAULTS),
         **{k: v for k, v in options.items() if k in DEFAULTS and v is not None}}
    rules = make_rules(p["rules"], p["seed"])
    entries = make_entries(p["events"], p["seed"])
    log(f"{len(rules):,} rules, {len(entries):,} events; counting the expected matches")
    matches = expected_matches(rules, entries)
    bodies = serialize_requests(entries, BUS)
    baselines = {bus: serialize_requests(entries[:p["baseline_events"]], bus) for bus in (EMPTY_BUS, UNTARGETED_BUS)}
    per_request = [len(entries[i:i + 10]) for i in range(0, len(entries), 10)]
    matches_per_request = [sum(matches[i:i + 10]) for i in range(0, len(entries), 10)]
    log(f"{sum(matches):,} matches expected ({sum(matches) / len(entries):.2f} per event; "
        f"{sum(1 for m in matches if m == 0):,} events match no rule)")

    load_before = os.getloadavg()
    sw = run_sagewatch(rules, bodies, baselines, per_request, matches, p)
    mo = None
    if not options.get("no_moto"):
        mo = run_moto(rules, bodies[:max(1, p["moto_events"] // 10)], per_request, matches_per_request, p)
    load_after = os.getloadavg()

    broken = []
    if sw["errors"] or sw["requests"] != len(bodies):
        broken.append(f"sagewatch PutEvents: {sw['requests']} of {len(bodies)} requests answered; {sw['errors']}")
    for label in ("no_rules", "untargeted"):
        if sw[label]["errors"] or sw[label]["requests"] != sw[label]["planned"]:
            broken.append(f"sagewatch PutEvents ({label}): {sw[label]['errors']}")
    if sw["events_delivered_wrong"] or sw["unexpected_events"] or sw["unreadable"]:
        broken.append(f"sagewatch: {sw['events_delivered_wrong']:,} events delivered a wrong number of times "
                      f"(seq, expected, got: {sw['wrong_examples']}), {sw['unexpected_events']} unknown events, "
                      f"{sw['unreadable']} unreadable POSTs")
    moto_ok = mo is not None and not mo["errors"] and mo["sent"]
    moto_notes = ""
    if mo is not None:
        moto_notes = (f"; moto {mo['events']:,} events in {mo['seconds']:.1f} s"
                      + ("" if mo["requests"] == mo["planned"] else f" (stopped by its {p['moto_budget_s']:.0f} s budget)")
                      + f", {mo['deliveries_received']:,} messages in its target queue, {mo['expected_deliveries']:,} expected"
                      + (f"; moto errors: {mo['errors'][:1]}" if mo["errors"] else ""))
    rows = [
        Row(f"PutEvents through {len(rules):,} rules, acknowledged", "events/s", sw["events_per_s"],
            mo["events_per_s"] if moto_ok else None,
            comparable=not mo or mo["deliveries_received"] == mo["expected_deliveries"],
            note=f"sagewatch {sw['events']:,} events in {sw['seconds']:.2f} s, with its target deliveries "
                 f"running beside it" + moto_notes),
    ]
    if "delivered_s" in sw:
        rows.append(Row(f"PutEvents through {len(rules):,} rules, every match delivered (first request -> "
                        "last POST received)", "events/s", sw["delivered_events_per_s"],
                        note=f"{sw['deliveries_received']:,} POSTs received = {sw['expected_deliveries']:,} "
                             f"matches, each event exactly as many times as the rules it matches "
                             f"({sw['events_delivered_wrong']} wrong); last POST {sw['delivered_s']:.1f} s after "
                             f"the first request, {sw['backlog_drain_s']:.1f} s after the last acknowledgement; "
                             f"server CPU {sw['server_cpu_s']:.0f} s in all, {sw['server_cpu_ms_per_match']:.1f} ms "
                             "per match (matching, queueing, the target delivery and the SNS http delivery)"))
    rows += [
        Row(f"PutEvents through {len(rules):,} rules without targets (matching alone)", "events/s",
            sw["untargeted"]["events_per_s"],
            note=f"{sw['untargeted']['events']:,} events to a bus holding the same rules without targets, on the "
                 "same server before the run above: nothing is queued"),
        Row("PutEvents to a bus without rules (the API path alone)", "events/s", sw["no_rules"]["events_per_s"],
            note=f"{sw['no_rules']['events']:,} events, the same requests"),
    ]
    parameters = {
        "rules": f"{len(rules):,} on one custom bus ({BUS}), one target each (sagewatch: an SNS topic with one "
                 "confirmed http subscriber; moto: an SQS queue); 70 % source + detail-type + one detail "
                 "field, 10 % two detail fields, 8 % prefix, 7 % numeric range, 5 % anything-but",
        "events": f"{len(entries):,} for sagewatch, the first {p['moto_events']:,} for moto (budget "
                  f"{p['moto_budget_s']:.0f} s); {sum(matches) / len(entries):.2f} matching rules per event, "
                  f"{sum(1 for m in matches if m == 0) / len(entries):.0%} match none",
        "requests": f"PutEvents of 10 entries, pre-serialized by botocore, on {p['connections']} persistent "
                    "connections",
        "load average (1 min) before / after": f"{load_before[0]:.2f} / {load_after[0]:.2f}",
    }
    for problem in broken:
        log(f"BROKEN: {problem}")
    details = {"sagewatch": {k: v for k, v in sw.items() if k != "sent"},
               "moto": {k: v for k, v in mo.items() if k != "sent"} if mo else None,
               "expected_matches": sum(matches), "problems": broken}
    return rows, {"parameters": parameters, "details": details, "broken": bool(broken)}


def main(argv: list[str] | None = None) -> int:
    parser = suite_arguments(__doc__)
    parser.add_argument("--no-moto", action="store_true")
    parser.add_argument("--rules", type=int, help="rules on the bus (default 1,000)")
    parser.add_argument("--events", type=int, help="events sent to sagewatch (default 20,000)")
    parser.add_argument("--moto-events", type=int, help="events sent to moto (default 1,000)")
    parser.add_argument("--baseline-events", type=int,
                        help="events sent to a bus without rules and to the rules without targets (default 10,000)")
    return run_standalone(NAME, run, parser, argv)


if __name__ == "__main__":
    sys.exit(main())
