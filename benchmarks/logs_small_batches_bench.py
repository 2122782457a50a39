"""Reads of a stream written as many tiny batches, before and after the store merges its blocks.

    python benchmarks/logs_small_batches_bench.py [--batches 10000] [--events-per-batch 5] [--no-save]

sagewatch's agent ships a job's output as one small PutLogEvents batch every ~100 ms, and each
batch is stored as one block (store/log_blocks.py). This writes one stream as ``--batches``
batches of ``--events-per-batch`` events (raw HTTP, one keep-alive connection), then times, through
boto3 against a real server:

    GetLogEvents, whole stream from the head   every page (10,000 events each) until the token repeats
    GetLogEvents, the last 100 events          one call from the tail (what a tailing reader asks)
    FilterLogEvents 'WARN', whole stream       every page until nextToken is absent

each once on a freshly started server (cold: no decoded block cached) and as the median of
``--repeats`` runs after that (warm); then merges the blocks (``merge_small_blocks``, run on the
server's database file from this process while the server runs), restarts the server and times
the same reads again. Every read's event count is checked. Writes
``results/<date>-logs-small-batches.json`` and ``results/latest-logs-small-batches.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS_DIR, Sagewatch, boto3_client, describe_machine_markdown, log, machine_description  # noqa: E402

from sagewatch.store.sqlite.database import Database  # noqa: E402
from sagewatch.store.sqlite.logs import SQLiteLogStore  # noqa: E402

SUITE = "logs-small-batches"
GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "llama-ft-2024-06-10-12-00-00-000/algo-1-1718020800"
TAIL = 100


def message(line: int, when: int) -> str:
    if line % 97 == 0:
        return f"{when} WARN [data] dataloader worker {line % 8} took 3.2s to produce batch {line}"
    return (f"{when} INFO [train] epoch={line // 20000} step={line} loss={2.8 / (1 + line / 5000):.5f} "
            f"acc={min(0.99, line / 60000):.4f} lr=3.000e-04 samples/s=512.3")


def ingest(server: Sagewatch, batches: int, per_batch: int) -> tuple[int, int, float]:
    """(events, WARN events, seconds): one agent's output, a batch every 100 ms of log time."""
    client = boto3_client("logs", server.endpoint)
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    start = int(time.time() * 1000) - batches * 100 - 60_000
    bodies, warn, line = [], 0, 0
    for batch in range(batches):
        events = []
        for i in range(per_batch):
            when = start + batch * 100 + i
            events.append({"timestamp": when, "message": message(line, when)})
            warn += line % 97 == 0
            line += 1
        bodies.append(orjson.dumps({"logGroupName": GROUP, "logStreamName": STREAM, "logEvents": events}))
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.PutLogEvents"}
    connection = http.client.HTTPConnection("127.0.0.1", int(server.endpoint.rsplit(":", 1)[1]), timeout=60)
    began = time.perf_counter()
    for body in bodies:
        connection.request("POST", "/", body, headers)
        response = connection.getresponse()
        data = response.read()
        if response.status != 200 or b"rejectedLogEventsInfo" in data:
            raise RuntimeError(f"ingest failed: {response.status} {data[:300]!r}")
    seconds = time.perf_counter() - began
    connection.close()
    return line, warn, seconds


def read_whole(client) -> int:
    kwargs = {"logGroupName": GROUP, "logStreamName": STREAM, "startFromHead": True}
    count, token = 0, None
    while True:
        response = client.get_log_events(**kwargs)
        count += len(response["events"])
        if response["nextForwardToken"] == token:
            return count
        token = kwargs["nextToken"] = response["nextForwardToken"]


def read_tail(client) -> int:
    return len(client.get_log_events(logGroupName=GROUP, logStreamName=STREAM, startFromHead=False,
                                     limit=TAIL)["events"])


def filter_whole(client) -> int:
    kwargs = {"logGroupName": GROUP, "filterPattern": "WARN"}
    count = 0
    while True:
        response = client.filter_log_events(**kwargs)
        count += len(response["events"])
        if "nextToken" not in response:
            return count
        kwargs["nextToken"] = response["nextToken"]


def timed(call, expected: int) -> float:
    began = time.perf_counter()
    got = call()
    seconds = time.perf_counter() - began
    if got != expected:
        raise RuntimeError(f"{call.__name__} read {got} events, expected {expected}")
    return seconds


def measure_reads(server: Sagewatch, events: int, warn: int, repeats: int) -> dict:
    """Cold (first read after a restart) and warm (median) seconds of each read."""
    out = {}
    for name, call, expected in (("get_whole", read_whole, events), ("get_tail", read_tail, TAIL),
                                 ("filter_warn", filter_whole, warn)):
        server.server.stop()
        server.server.start()
        client = boto3_client("logs", server.endpoint)
        bound = lambda: call(client)  # noqa: E731
        bound.__name__ = name
        cold = timed(bound, expected)
        warm = statistics.median(timed(bound, expected) for _ in range(repeats))
        out[name] = {"cold_s": cold, "warm_s": warm}
        log(f"{name}: cold {cold:.3f} s, warm {warm:.3f} s")
    return out


def blocks(database: Database) -> int:
    return database.execute("SELECT COUNT(*) FROM log_blocks").fetchone()[0]


def merge(server: Sagewatch, budget: int) -> dict:
    database = Database(server.server.data_dir / "sagewatch.db")
    try:
        store = SQLiteLogStore(database)
        before = blocks(database)
        calls, merged, longest = 0, 0, 0.0
        began = time.perf_counter()
        while True:
            started = time.perf_counter()
            done = store.merge_small_blocks(budget)
            longest = max(longest, time.perf_counter() - started)
            calls += 1
            merged += done
            if not done:
                break
        seconds = time.perf_counter() - began
        after = blocks(database)
    finally:
        database.close()
    log(f"merge: {before:,} blocks -> {after:,} in {seconds:.3f} s ({calls} calls of budget {budget}, "
        f"longest {longest * 1000:.0f} ms)")
    return {"blocks_before": before, "blocks_after": after, "blocks_merged": merged, "seconds": seconds,
            "calls": calls, "budget": budget, "longest_call_s": longest}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=10_000)
    parser.add_argument("--events-per-batch", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=int, default=4096)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    started = time.monotonic()
    machine = machine_description()
    with Sagewatch() as server:
        events, warn, ingest_s = ingest(server, args.batches, args.events_per_batch)
        log(f"ingest: {events:,} events in {args.batches:,} batches, {ingest_s:.1f} s")
        before = measure_reads(server, events, warn, args.repeats)
        merged = merge(server, args.budget)
        after = measure_reads(server, events, warn, args.repeats)

    rows = []
    for name, what in (("get_whole", f"GetLogEvents, whole stream ({events:,} events)"),
                       ("get_tail", f"GetLogEvents, last {TAIL} events"),
                       ("filter_warn", f"FilterLogEvents 'WARN', whole stream ({warn:,} matches)")):
        for kind in ("cold", "warm"):
            b, a = before[name][f"{kind}_s"], after[name][f"{kind}_s"]
            rows.append((f"{what}, {kind}", b, a))
    header = "| read | before merging | after merging | speed-up |\n|---|---|---|---|\n"
    table = header + "".join(f"| {w} | {b:.3f} s | {a:.3f} s | {b / a:.1f}x |\n" for w, b, a in rows)
    merge_line = (f"Merging: {merged['blocks_before']:,} blocks -> {merged['blocks_after']:,} in "
                  f"{merged['seconds']:.2f} s ({merged['calls']} calls of merge_small_blocks({merged['budget']}); "
                  f"the longest call {merged['longest_call_s'] * 1000:.0f} ms, each run of blocks its own "
                  f"short transaction). Ingest: {events:,} events as {args.batches:,} batches in "
                  f"{ingest_s:.1f} s on one connection.")
    print("\n" + table + "\n" + merge_line)
    if args.no_save:
        return 0
    stamp = _dt.datetime.now().astimezone()
    data = {"suite": SUITE, "date": stamp.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - started, 1), "machine": machine,
            "parameters": vars(args), "before": before, "after": after, "merge": merged,
            "ingest": {"events": events, "batches": args.batches, "seconds": ingest_s}}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"{stamp:%Y-%m-%d}-{SUITE}.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    (RESULTS_DIR / f"latest-{SUITE}.md").write_text(
        f"# {SUITE} benchmark, {stamp:%Y-%m-%d %H:%M %Z}\n\n"
        f"Produced by `python benchmarks/logs_small_batches_bench.py` in {data['duration_s']:.0f} s; raw "
        f"numbers in `{json_path.name}`. What is measured: the script's docstring. Cold: the first "
        f"read after a server restart; warm: the median of {args.repeats} reads after it.\n\n"
        f"## Machine\n\n{describe_machine_markdown(machine)}\n## Results\n\n{table}\n{merge_line}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
