"""CloudWatch Logs workloads: the same boto3 calls against sagewatch and moto, then a raw-HTTP
ingest against sagewatch alone.

    boto3   PutLogEvents     N events of ML training logs into one group of S streams
    boto3   GetLogEvents     every stream read whole (startFromHead, nextForwardToken until it repeats)
    boto3   FilterLogEvents  a term, and ``?Traceback ?ERROR``, over the whole group, every page
    raw     PutLogEvents     pre-serialized bodies on 2 persistent connections, RSS sampled

The workload is deterministic (seeded), so the number of events each filter pattern must match
is known before any server sees it; every count is checked on both servers.
"""

from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from dataclasses import dataclass

import orjson

from common import Moto, Row, RssSampler, Sagewatch, boto3_client, log, rss_bytes

NAME = "logs"

GROUP = "/aws/sagemaker/TrainingJobs"
JOB = "llama-ft-2024-06-10-12-00-00-000"
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
TERM = "WARN"
OR_PATTERN = "?Traceback ?ERROR"
OR_TERMS = ("Traceback", "ERROR")  # what OR_PATTERN means, one term at a time
MB = 1_000_000

DEFAULTS = {
    "events": 1_000_000,       # boto3 workloads, both servers
    "streams": 4,
    "raw_events": 5_000_000,   # raw ingest, sagewatch only
    "raw_connections": 2,
    "sagewatch_repeats": 3,    # FilterLogEvents: median of this many full runs
    "moto_repeats": 1,
    "moto_filter_budget_s": 600.0,  # stop paging moto after this long (reported as incomplete)
}
QUICK = {**DEFAULTS, "events": 40_000, "raw_events": 200_000, "moto_filter_budget_s": 60.0}


# -- the workload ---------------------------------------------------------------------------------

_TRACEBACKS = (
    (
        "Traceback (most recent call last):\n"
        '  File "/opt/ml/code/train.py", line 412, in <module>\n'
        "    main()\n"
        '  File "/opt/ml/code/train.py", line 398, in main\n'
        "    trainer.train(resume_from_checkpoint=args.resume)\n"
        '  File "/opt/conda/lib/python3.10/site-packages/transformers/trainer.py", line 1859, in train\n'
        "    return inner_training_loop(\n"
        '  File "/opt/conda/lib/python3.10/site-packages/torch/autograd/__init__.py", line 251, in backward\n'
        "    Variable._execution_engine.run_backward(\n"
        "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU {rank} has a "
        "total capacity of 79.15 GiB of which 1.21 GiB is free."
    ),
    (
        "Traceback (most recent call last):\n"
        '  File "/opt/ml/code/data.py", line 88, in __getitem__\n'
        "    sample = self.tokenizer(record['text'], truncation=True, max_length=4096)\n"
        '  File "/opt/conda/lib/python3.10/site-packages/transformers/tokenization_utils_base.py", line 2802, in __call__\n'
        "    encodings = self._call_one(text=text, text_pair=text_pair, **all_kwargs)\n"
        "KeyError: 'text' (shard s3://bench-data/train/part-{shard:05d}.jsonl)"
    ),
    (
        "Traceback (most recent call last):\n"
        '  File "/opt/conda/lib/python3.10/site-packages/torch/distributed/distributed_c10d.py", line 2050, in all_reduce\n'
        "    work = group.allreduce([tensor], opts)\n"
        "torch.distributed.DistBackendError: NCCL communicator was aborted on rank {rank}. "
        "Original reason for failure was: watchdog timeout after 1800000 ms"
    ),
)


def _iso(ms: int, _cache: dict = {}) -> str:
    second = ms // 1000
    prefix = _cache.get(second)
    if prefix is None:
        if len(_cache) > 100_000:
            _cache.clear()
        prefix = _cache[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return f"{prefix}.{ms % 1000:03d}Z"


def training_messages(rank: int, timestamps: list[int], seed: int) -> list[str]:
    """One host's training log: step lines with loss/accuracy, periodic eval and checkpoint lines,
    ~1% WARN lines, ~0.1% ERROR lines and ~0.05% multi-line Python tracebacks."""
    rng = random.Random(seed * 1000 + rank)
    messages = []
    loss, acc = 2.8, 0.12
    step = 0
    for ts in timestamps:
        when = _iso(ts)
        r = rng.random()
        if r < 0.010:
            kind = rng.randrange(3)
            if kind == 0:
                message = (f"{when} WARN [amp] gradient overflow at step={step}, reducing loss "
                           f"scale to {2 ** rng.randrange(10, 17)}.0")
            elif kind == 1:
                message = (f"{when} WARN [data] dataloader worker {rng.randrange(8)} took "
                           f"{rng.uniform(2, 9):.2f}s to produce batch {step}")
            else:
                message = (f"{when} WARN [nccl] slow allreduce on rank {rank}: "
                           f"{rng.randrange(200, 4000)} ms (bucket {rng.randrange(64)})")
        elif r < 0.011:
            message = (f"{when} ERROR [s3] failed to upload /opt/ml/checkpoints/step-{step}.pt: "
                       f"ReadTimeoutError, retrying (attempt {rng.randrange(1, 6)}/5)")
        elif r < 0.0115:
            message = rng.choice(_TRACEBACKS).format(rank=rank, shard=rng.randrange(4096))
        elif r < 0.0135:
            message = (f"{when} INFO [eval] epoch={step // 20000} step={step} val_loss={loss * 1.07:.5f} "
                       f"val_acc={acc * 0.97:.4f} val_ppl={2.718281828 ** min(loss, 20):.3f}")
        elif r < 0.0140:
            message = (f"{when} INFO [checkpoint] saving /opt/ml/checkpoints/step-{step}.pt "
                       f"({rng.uniform(1.2, 1.5):.2f} GiB) to s3://bench-models/{JOB}/")
        else:
            step += 1
            loss = max(0.05, loss * 0.99995 + rng.gauss(0, 0.01))
            acc = min(0.995, acc + (0.995 - acc) * 0.00005 + rng.gauss(0, 0.001))
            message = (f"{when} INFO [train] epoch={step // 20000} step={step} loss={loss:.5f} "
                       f"acc={acc:.4f} lr={3e-4 * min(1, step / 2000):.3e} "
                       f"grad_norm={abs(rng.gauss(1.1, 0.3)):.3f} "
                       f"samples/s={rng.gauss(512, 12):.1f} gpu_mem={rng.uniform(61, 64):.1f}GiB")
        messages.append(message)
    return messages


@dataclass
class Workload:
    streams: dict[str, list[dict]]  # stream name -> events in timestamp order
    total: int
    term_count: int
    or_count: int
    bytes: int

    @classmethod
    def generate(cls, events: int, stream_count: int, base_ms: int, seed: int = 7) -> "Workload":
        per_stream = events // stream_count
        streams = {}
        for rank in range(stream_count):
            # Hosts log at ~500 lines/s, slightly out of phase with each other.
            timestamps = [base_ms + 2 * i + (rank % 2) for i in range(per_stream)]
            messages = training_messages(rank, timestamps, seed)
            streams[f"{JOB}/algo-{rank + 1}-1718020800"] = [
                {"timestamp": t, "message": m} for t, m in zip(timestamps, messages)
            ]
        every = [e["message"] for s in streams.values() for e in s]
        return cls(
            streams=streams,
            total=len(every),
            term_count=sum(TERM in m for m in every),
            or_count=sum("Traceback" in m or "ERROR" in m for m in every),
            bytes=sum(len(m.encode()) for m in every),
        )


def batches(events: list[dict]) -> list[list[dict]]:
    """PutLogEvents batches: at most 10,000 events and 1,048,576 bytes (message + 26 each)."""
    out, current, size = [], [], 0
    for event in events:
        cost = len(event["message"].encode()) + EVENT_OVERHEAD
        if current and (len(current) == MAX_BATCH_EVENTS or size + cost > MAX_BATCH_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(event)
        size += cost
    if current:
        out.append(current)
    return out


def round_robin(per_stream: dict[str, list[list[dict]]]) -> list[tuple[str, list[dict]]]:
    """Interleave the streams' batches, as several hosts shipping logs at once would."""
    order = []
    queues = {name: list(b) for name, b in per_stream.items()}
    while any(queues.values()):
        for name, queue in queues.items():
            if queue:
                order.append((name, queue.pop(0)))
    return order


# -- boto3 workloads ---------------------------------------------------------------------------------


class WireTimer:
    """Adds up the time boto3 spends inside its HTTP send (request out, whole response body read):
    the server's share plus loopback. The rest of a call's time is boto3's own work (validating,
    serializing, parsing), which is the same whichever server answers."""

    def __init__(self, client) -> None:
        self.seconds = 0.0
        session = client._endpoint.http_session
        send = session.send

        def timed_send(request):
            start = time.perf_counter()
            try:
                return send(request)
            finally:
                self.seconds += time.perf_counter() - start

        session.send = timed_send

    def lap(self) -> float:
        seconds, self.seconds = self.seconds, 0.0
        return seconds


def put_all(client, plan: list[tuple[str, list[dict]]]) -> float:
    start = time.perf_counter()
    for name, batch in plan:
        response = client.put_log_events(logGroupName=GROUP, logStreamName=name, logEvents=batch)
        if response.get("rejectedLogEventsInfo"):
            raise RuntimeError(f"events rejected: {response['rejectedLogEventsInfo']}")
    return time.perf_counter() - start


def get_whole_stream(client, stream: str) -> tuple[int, int]:
    """(events, pages) reading a stream from its head until the forward token repeats."""
    count = pages = 0
    kwargs = {"logGroupName": GROUP, "logStreamName": stream, "startFromHead": True}
    token = None
    while True:
        response = client.get_log_events(**kwargs)
        pages += 1
        count += len(response["events"])
        if response["nextForwardToken"] == token:
            return count, pages
        token = kwargs["nextToken"] = response["nextForwardToken"]


def filter_all(client, pattern: str, budget_s: float, event_ids: set | None = None) -> dict:
    """Page FilterLogEvents over the whole group until nextToken is absent (or the budget ends);
    the ids of the events returned are added to ``event_ids`` when one is given."""
    count = pages = 0
    kwargs = {"logGroupName": GROUP, "filterPattern": pattern}
    start = time.perf_counter()
    first_page = None
    while True:
        response = client.filter_log_events(**kwargs)
        pages += 1
        count += len(response["events"])
        if event_ids is not None:
            event_ids.update(e["eventId"] for e in response["events"])
        if first_page is None:
            first_page = time.perf_counter() - start
        token = response.get("nextToken")
        elapsed = time.perf_counter() - start
        if not token:
            return {"count": count, "pages": pages, "seconds": elapsed, "complete": True,
                    "first_page_s": first_page}
        if elapsed > budget_s:
            return {"count": count, "pages": pages, "seconds": elapsed, "complete": False,
                    "first_page_s": first_page}
        kwargs["nextToken"] = token


def run_boto3(server, workload: Workload, plan, repeats: int, budget_s: float) -> dict:
    client = boto3_client("logs", server.endpoint)
    client.create_log_group(logGroupName=GROUP)
    wire = WireTimer(client)
    out: dict = {}

    log(f"{server.name}: PutLogEvents, {workload.total:,} events in {len(plan)} batches")
    for name in workload.streams:
        client.create_log_stream(logGroupName=GROUP, logStreamName=name)
    wire.lap()
    seconds = put_all(client, plan)
    out["put"] = {"seconds": seconds, "events_per_s": workload.total / seconds, "batches": len(plan),
                  "wire_s": wire.lap()}
    out["rss_after_load_mb"] = rss_bytes(server.pid) / MB
    log(f"{server.name}: {out['put']['events_per_s']:,.0f} events/s; RSS {out['rss_after_load_mb']:,.0f} MB")

    log(f"{server.name}: GetLogEvents, {len(workload.streams)} whole streams")
    wire.lap()
    start = time.perf_counter()
    got = pages = 0
    for name, events in workload.streams.items():
        count, stream_pages = get_whole_stream(client, name)
        if count != len(events):
            raise RuntimeError(f"{server.name}: GetLogEvents read {count} events of {name}, "
                               f"expected {len(events)}")
        got += count
        pages += stream_pages
    seconds = time.perf_counter() - start
    out["get"] = {"seconds": seconds, "events_per_s": got / seconds, "pages": pages,
                  "wire_s": wire.lap()}
    log(f"{server.name}: {out['get']['events_per_s']:,.0f} events/s ({pages} pages)")

    for key, pattern, expected in (("filter_term", TERM, workload.term_count),
                                   ("filter_or", OR_PATTERN, workload.or_count)):
        runs = []
        for i in range(repeats):
            log(f"{server.name}: FilterLogEvents {pattern!r} (run {i + 1}/{repeats})")
            wire.lap()
            result = filter_all(client, pattern, budget_s)
            result["wire_s"] = wire.lap()
            runs.append(result)
            log(f"{server.name}: {result['count']:,} events in {result['pages']} pages, "
                f"{result['seconds']:.3f} s{'' if result['complete'] else ' (INCOMPLETE: budget spent)'}")
            if not result["complete"]:
                break
        out[key] = {
            "pattern": pattern,
            "expected": expected,
            "count": runs[0]["count"],
            "counts_agree": len({r["count"] for r in runs}) == 1,
            "complete": all(r["complete"] for r in runs),
            "pages": runs[0]["pages"],
            "seconds": statistics.median(r["seconds"] for r in runs),
            "first_page_s": statistics.median(r["first_page_s"] for r in runs),
            "wire_s": statistics.median(r["wire_s"] for r in runs),
            "runs_s": [round(r["seconds"], 4) for r in runs],
        }
    if server.name == "moto":
        # moto cannot express "?Traceback ?ERROR" (it matches every event); the same answer from
        # it takes one query per term and a union of the results, which is what a moto user does.
        log(f"{server.name}: FilterLogEvents 'Traceback' and 'ERROR' separately, for their union")
        wire.lap()
        union: set = set()
        seconds = sum(filter_all(client, term, budget_s, union)["seconds"] for term in OR_TERMS)
        out["filter_or_by_terms"] = {"count": len(union), "seconds": seconds, "wire_s": wire.lap()}
        log(f"{server.name}: {len(union):,} events in the union, {seconds:.3f} s")
    return out


# -- raw HTTP ingest --------------------------------------------------------------------------------


def raw_bodies(stream: str, events: int, base_ms: int, messages: list[str], offset: int) -> tuple[list[bytes], int]:
    """Pre-serialized PutLogEvents bodies for one stream: (bodies, stored bytes)."""
    bodies, stored = [], 0
    current, size = [], 0
    n = len(messages)

    def flush():
        bodies.append(orjson.dumps(
            {"logGroupName": GROUP, "logStreamName": stream, "logEvents": current}))

    for i in range(events):
        message = messages[(offset + i) % n]
        cost = len(message.encode()) + EVENT_OVERHEAD
        if current and (len(current) == MAX_BATCH_EVENTS or size + cost > MAX_BATCH_BYTES):
            flush()
            current, size = [], 0
        current.append({"timestamp": base_ms + i, "message": message})
        size += cost
        stored += cost
    if current:
        flush()
    return bodies, stored


def raw_ingest(server: Sagewatch, total: int, connections: int, messages: list[str]) -> dict:
    client = boto3_client("logs", server.endpoint)
    client.create_log_group(logGroupName=GROUP)
    per_connection = total // connections
    # 1 ms apart: 2.5M events span ~42 minutes, all within the last hour.
    base_ms = int(time.time() * 1000) - 3_600_000
    log(f"raw: pre-serializing {per_connection * connections:,} events "
        f"({connections} streams, one per connection)")
    work, expected_bytes = [], 0
    for c in range(connections):
        stream = f"{JOB}/raw-{c + 1}"
        client.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        bodies, stored = raw_bodies(stream, per_connection, base_ms, messages, offset=c * 7919)
        work.append(bodies)
        expected_bytes += stored
    port = int(server.endpoint.rsplit(":", 1)[1])
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.PutLogEvents",
    }
    barrier = threading.Barrier(connections + 1)
    errors: list[str] = []
    accepted = [0] * connections

    def send(index: int, bodies: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()
        barrier.wait()
        try:
            for body in bodies:
                connection.request("POST", "/", body, headers)
                response = connection.getresponse()
                data = response.read()
                if response.status != 200 or b"rejectedLogEventsInfo" in data:
                    errors.append(f"{response.status}: {data[:300]!r}")
                    return
                accepted[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(work)]
    for thread in threads:
        thread.start()
    requests = sum(len(b) for b in work)
    log(f"raw: sending {requests} requests on {connections} connections")
    rss_before = rss_bytes(server.pid)
    with RssSampler(server.pid, 0.1) as sampler:
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        time.sleep(0.3)  # one or two samples after the last response
    if errors:
        raise RuntimeError(f"raw ingest failed: {errors[0]}")
    events = per_connection * connections
    stored = client.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]["storedBytes"]
    if stored != expected_bytes:
        raise RuntimeError(f"raw ingest: group storedBytes {stored}, expected {expected_bytes}")
    result = {
        "events": events,
        "requests": requests,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "rss_before_mb": rss_before / MB,
        "rss_peak_mb": sampler.peak / MB,
        "rss_samples": len(sampler.samples),
        "disk_mb": server.disk_bytes() / MB,
    }
    log(f"raw: {result['events_per_s']:,.0f} events/s; peak RSS {result['rss_peak_mb']:,.0f} MB "
        f"({len(sampler.samples)} samples); database {result['disk_mb']:,.0f} MB")
    return result


# -- the suite ---------------------------------------------------------------------------------------


def run(options: dict) -> tuple[list[Row], dict]:
    p = {**(QUICK if options.get("quick") else DEFAULTS),
         **{k: v for k, v in options.items() if k in DEFAULTS and v is not None}}
    base_ms = int(time.time() * 1000) - 30 * 60_000
    log(f"generating {p['events']:,} events of training logs in {p['streams']} streams")
    workload = Workload.generate(p["events"], p["streams"], base_ms)
    plan = round_robin({name: batches(events) for name, events in workload.streams.items()})
    log(f"{workload.total:,} events, {workload.bytes / MB:,.0f} MB of messages; "
        f"{TERM!r} matches {workload.term_count:,}, {OR_PATTERN!r} matches {workload.or_count:,}")

    with Sagewatch() as server:
        sw = run_boto3(server, workload, plan, p["sagewatch_repeats"], float("inf"))
    if options.get("no_moto"):
        mo = None
    else:
        with Moto() as server:
            mo = run_boto3(server, workload, plan, p["moto_repeats"], p["moto_filter_budget_s"])
    messages = [e["message"] for s in workload.streams.values() for e in s]
    with Sagewatch() as server:
        raw = raw_ingest(server, p["raw_events"], p["raw_connections"], messages)

    rows = _rows(workload, sw, mo, raw, p)
    details = {"sagewatch": sw, "moto": mo, "raw": raw}
    parameters = {
        "boto3 events": f"{workload.total:,} ({p['streams']} streams of {workload.total // p['streams']:,}; "
                        f"{workload.bytes / MB:,.0f} MB of messages; {len(plan)} PutLogEvents batches "
                        f"of <= 10,000 events / 1 MB)",
        "term pattern": f"{TERM!r}: {workload.term_count:,} matching events",
        "OR pattern": f"{OR_PATTERN!r}: {workload.or_count:,} matching events",
        "FilterLogEvents repeats": f"sagewatch median of {p['sagewatch_repeats']}, "
                                   f"moto median of {p['moto_repeats']}",
        "raw ingest": f"{raw['events']:,} events in {raw['requests']} pre-serialized requests on "
                      f"{p['raw_connections']} connections, RSS sampled every 100 ms",
    }
    return rows, {"parameters": parameters, "options": p, "details": details}


def _filter_row(label: str, key: str, sw: dict, mo: dict | None, expected: int, budget: float) -> Row:
    s = sw[key]
    if s["count"] != expected or not s["counts_agree"]:
        raise RuntimeError(f"sagewatch FilterLogEvents {s['pattern']!r} returned {s['count']} events, "
                           f"expected {expected}")
    notes = [f"sagewatch {s['count']:,} events = expected ({s['pages']} pages, runs {s['runs_s']} s)"]
    comparable = True
    moto_seconds = None
    if mo is not None:
        m = mo[key]
        moto_seconds = m["seconds"]
        if not m["complete"]:
            comparable = False
            notes.append(f"moto did NOT finish within the {budget:.0f} s budget: {m['count']:,} events "
                         f"in {m['pages']} pages by then; its number is a lower bound")
        elif m["count"] != expected and mo.get(f"{key}_by_terms", {}).get("count") == expected:
            terms = mo[f"{key}_by_terms"]
            notes.append(f"moto's '?a ?b' returned {m['count']:,} events, not the {expected:,} that "
                         f"match (it cannot express OR, see README); its number is the time of "
                         f"one query per term, whose union is exactly the {expected:,}")
            moto_seconds = terms["seconds"]
            m = {**m, "wire_s": terms["wire_s"]}
            mo[key] = m
        elif m["count"] != expected:
            comparable = False
            notes.append(f"moto returned {m['count']:,} events, expected {expected:,} "
                         f"(moto's filter semantics differ, see README) - ratio not comparable")
        else:
            notes.append(f"moto {m['count']:,} events = expected ({m['pages']} pages)")
        notes.append(f"first page alone: sagewatch {s['first_page_s']:.3f} s, moto {m['first_page_s']:.3f} s")
    return Row(
        workload=f"{label} ({expected:,} matches), all pages",
        unit="s", sagewatch=s["seconds"], moto=moto_seconds, higher_is_better=False,
        target=">= 10x moto", target_kind="ratio", target_value=10, comparable=comparable,
        note="; ".join(notes),
    )


def _wire_row(label: str, key: str, sw: dict, mo: dict | None, comparable: bool = True) -> Row:
    return Row(f"  of which in HTTP: {label}", "s", sw[key]["wire_s"],
               mo[key]["wire_s"] if mo else None, higher_is_better=False, comparable=comparable)


def _client_note(key: str, sw: dict, mo: dict | None) -> str:
    """How much of the boto3 time is boto3 itself, and the best ratio any server could reach."""
    s = sw[key]
    client = s["seconds"] - s["wire_s"]
    note = f"boto3's own work (outside HTTP) {client:.1f} s of sagewatch's {s['seconds']:.1f} s"
    if mo:
        m = mo[key]
        note += (f", {m['seconds'] - m['wire_s']:.1f} s of moto's {m['seconds']:.1f} s; a server "
                 f"answering in zero time would reach {m['seconds'] / client:.1f}x moto")
    return note


def _rows(workload: Workload, sw: dict, mo: dict | None, raw: dict, p: dict) -> list[Row]:
    n = f"{workload.total:,}"
    term = _filter_row(f"boto3 FilterLogEvents {TERM!r} over {n}", "filter_term", sw, mo,
                       workload.term_count, p["moto_filter_budget_s"])
    either = _filter_row(f"boto3 FilterLogEvents {OR_PATTERN!r} over {n}", "filter_or", sw, mo,
                         workload.or_count, p["moto_filter_budget_s"])
    get_note = f"pages: sagewatch {sw['get']['pages']}" + (f", moto {mo['get']['pages']}" if mo else "")
    rows = [
        Row(f"boto3 PutLogEvents, {n} events", "events/s", sw["put"]["events_per_s"],
            mo["put"]["events_per_s"] if mo else None, target=">= 2x moto", target_kind="ratio",
            target_value=2, note=_client_note("put", sw, mo)),
        _wire_row("PutLogEvents", "put", sw, mo),
        Row(f"boto3 GetLogEvents, {p['streams']} whole streams", "events/s",
            sw["get"]["events_per_s"], mo["get"]["events_per_s"] if mo else None,
            target=">= 2x moto", target_kind="ratio", target_value=2,
            note=f"{get_note}; {_client_note('get', sw, mo)}"),
        _wire_row("GetLogEvents", "get", sw, mo),
        term,
        _wire_row(f"FilterLogEvents {TERM!r}", "filter_term", sw, mo, term.comparable),
        either,
        _wire_row(f"FilterLogEvents {OR_PATTERN!r}", "filter_or", sw, mo, either.comparable),
        Row(f"Server RSS after boto3 load of {n} events", "MB", sw["rss_after_load_mb"],
            mo["rss_after_load_mb"] if mo else None, higher_is_better=False),
        Row(f"raw PutLogEvents ingest, {raw['events']:,} events, {p['raw_connections']} connections",
            "events/s", raw["events_per_s"], target=">= 200,000", target_kind="min",
            target_value=200_000, note=f"{raw['requests']} requests in {raw['seconds']:.1f} s"),
        Row(f"Server peak RSS during raw ingest of {raw['events']:,} events", "MB",
            raw["rss_peak_mb"], higher_is_better=False, target="<= 300 MB", target_kind="max",
            target_value=300,
            note=f"{raw['rss_samples']} samples; RSS before ingest {raw['rss_before_mb']:,.0f} MB; "
                 f"database on disk afterwards {raw['disk_mb']:,.0f} MB"),
    ]
    return rows
