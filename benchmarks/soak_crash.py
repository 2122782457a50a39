"""kill -9 soak: many SIGKILL / restart cycles of a real ``sagewatch server`` under mixed writes.

    python benchmarks/soak_crash.py --cycles N --seconds-per-cycle S [--seed K] [--data-dir DIR]

One cycle:

1. Client threads write at once, each on a fresh boto3 client with no retries and short timeouts:
   PutLogEvents batches to several streams (one shared), PutMetricData batches, and threads
   that create, change and delete resources (log groups with tags, log streams, small event
   batches, TagResource, DeleteLogStream, DeleteLogGroup; metric alarms created with tags, their
   updates, TagResource, DeleteAlarms), each under names of its own.
2. After a random delay (uniform in [--min-kill-delay, --seconds-per-cycle]) the server gets
   SIGKILL; every writer is cut off, mid-request or between two.
3. The server restarts on the same data directory and every request of the cycle is judged by
   its fate:
   - *acknowledged* (a 2xx answer; boto3 returns only once the whole body is read and parsed):
     everything it wrote is visible;
   - *in flight* (the connection broke after the request went out, no answer): everything it
     would have written is visible, or none of it. Anything between is *half-there*;
   - *never sent* (the connection was refused: the server was already gone): nothing visible.
4. The writers go on against the restarted server, so the database grows across cycles. Every
   --full-check-every cycles, and at the end, everything written since the start is read back.

Every --long-cycle-every cycles the kill comes later (up to --long-cycle-seconds), so that some
kills land while the server's background duties run (metric compaction and the WAL checkpoint,
every ``Settings.compaction_seconds`` = 5 s of a server's life, which a short cycle never sees).

What is checked exactly, and how:
- Log events: every message names its batch (cycle, writer, batch number, index); after each
  restart FilterLogEvents reads the cycle's window of the group, the full checks read every stream
  with GetLogEvents. A batch is whole (each event exactly once, in order, in its stream), absent,
  or neither. The group's storedBytes must agree with the events seen.
- Metric datums: each PutMetricData request carries a dimension of its own (``Batch``), so
  SampleCount and Sum per 60 s slot (GetMetricData, 250 batches a call) say exactly which of its
  datums are counted; the same request adds one datum to a per-writer total metric that many
  requests share (so the shared slots are compacted), whose SampleCount and Sum from
  GetMetricStatistics must match the batches present.
- Resources: each resource thread keeps a model of what its acknowledged requests made; after
  a restart the server must show exactly that model, or that model with the one request that
  was cut off applied whole (read back with DescribeLogGroups, DescribeLogStreams,
  FilterLogEvents, ListTagsForResource, DescribeAlarms).

Per-cycle and final figures go to stdout. Exit status 0: nothing lost, nothing half-there, nothing
invented; 1 otherwise, and the data directory and server log are kept for a post-mortem. The
seed is printed; it fixes the random choices, not the kill moments, so a rerun is a new run.

This covers crashes of the process (a commit in WAL mode is in the OS's hands); it cannot
test power cuts, for which the group commit's fsync (store/sqlite/durability.py) is the answer.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import math
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` importable
    sys.path.insert(0, str(ROOT))

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError  # noqa: E402

from tests.e2e.helpers import filter_all, now_ms, read_forward  # noqa: E402
from tests.server import ServerProcess, make_client  # noqa: E402

# Writers must notice a dead server at once and must never resend a request (make_client turns
# retries off): a resend after the kill would turn an in-flight request into a refused one.
WRITER_CLIENT = {"connect_timeout": 2, "read_timeout": 10}
CHECKER_CLIENT = {"connect_timeout": 5, "read_timeout": 60}

EVENTS_GROUP = "/soak/events"
SHARED_STREAM = "shared"
LOG_RESOURCE_PREFIX = "/soak/churn/"   # + writer number + "/": each resource writer's own names
ALARM_PREFIX = "soak-alarm-"           # + writer number + "-"
NAMESPACE = "Soak/Crash"
BATCH_METRIC = "datum"       # one Batch dimension value per PutMetricData request
TOTAL_METRIC = "requests"    # one datum per request, per writer: shared, hence compacted
SLOT_SECONDS = 60

# Each event counts as its UTF-8 message plus 26 bytes: the PutLogEvents batch-size rule
# (aws-behaviour.md §6.2), which sagewatch's storedBytes follows (tests/e2e/test_durability.py).
EVENT_OVERHEAD_BYTES = 26


def event_bytes(message: str) -> int:
    return len(message.encode()) + EVENT_OVERHEAD_BYTES


# -- figures ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    """What a stretch of the soak did and found. The failure counters must all stay 0."""

    cycles: int = 0
    requests_acknowledged: int = 0
    events_acknowledged: int = 0      # log events in acknowledged PutLogEvents requests
    datums_acknowledged: int = 0      # MetricDatum entries in acknowledged PutMetricData requests
    samples_acknowledged: int = 0     # the samples those datums carry (SampleCount)
    in_flight: int = 0                # requests cut off after they went out, before an answer
    in_flight_present: int = 0
    in_flight_absent: int = 0
    never_sent: int = 0               # connection refused: the server was already gone
    in_flight_by_operation: Counter = field(default_factory=Counter)  # "<operation> present|absent"
    # Failures:
    events_lost: int = 0              # acknowledged events not visible (or gone later)
    samples_lost: int = 0             # acknowledged samples not counted (or gone later)
    changes_lost: int = 0             # acknowledged resource changes not visible
    half_there: int = 0               # in-flight requests partly visible
    invented: int = 0                 # visible though never acknowledged nor in flight, or twice
    derived_mismatches: int = 0       # storedBytes or per-writer totals that disagree
    error_answers: int = 0            # non-2xx answers to requests that are all valid
    problems: list[str] = field(default_factory=list)

    FAILURES = ("events_lost", "samples_lost", "changes_lost", "half_there", "invented",
                "derived_mismatches", "error_answers")

    def failed(self) -> bool:
        return any(getattr(self, name) for name in self.FAILURES) or bool(self.problems)

    def add(self, other: "Figures") -> None:
        for f in fields(self):
            if f.name == "problems":
                self.problems += other.problems
            elif f.name == "in_flight_by_operation":
                self.in_flight_by_operation += other.in_flight_by_operation
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def problem(self, counter: str, text: str, amount: int = 1) -> None:
        setattr(self, counter, getattr(self, counter) + amount)
        self.problems.append(f"{counter}: {text}")


# -- requests and their fates ----------------------------------------------------------------------


class Fate(Enum):
    ACKNOWLEDGED = "acknowledged"
    IN_FLIGHT = "in flight"
    NEVER_SENT = "never sent"
    ERROR_ANSWER = "error answer"


class Presence(Enum):
    WHOLE = "whole"
    NONE = "absent"
    PART = "partly there"


@dataclass
class Sent:
    """One request a writer made, and what became of it."""

    cycle: int
    operation: str
    fate: Fate | None = None
    error: str = ""


def send(call: Callable[[], object]) -> tuple[Fate, str]:
    """Make one request; its fate. boto3 returns only after reading and parsing the whole
    answer, so a return is an acknowledgement that was wholly received."""
    try:
        call()
    except EndpointConnectionError as error:  # no connection: not a byte of the request left
        return Fate.NEVER_SENT, str(error)
    except ClientError as error:
        response = error.response
        return Fate.ERROR_ANSWER, (f"{response['Error'].get('Code')} {response['Error'].get('Message')!r} "
                                   f"HTTP {response['ResponseMetadata'].get('HTTPStatusCode')}")
    except (BotoCoreError, OSError) as error:  # the connection broke after the request went out
        return Fate.IN_FLIGHT, repr(error)
    return Fate.ACKNOWLEDGED, ""


def settle(figures: Figures, request: Sent, presence: Presence, what: str) -> None:
    """Count a request by its fate and what the restarted server shows of it. The caller
    counts the units (events, samples) an acknowledged request lost."""
    if request.fate is Fate.ACKNOWLEDGED:
        figures.requests_acknowledged += 1
        if presence is not Presence.WHOLE:
            figures.problems.append(f"acknowledged {what} is {presence.value}")
        return
    if request.fate is Fate.IN_FLIGHT:
        figures.in_flight += 1
        if presence is Presence.WHOLE:
            figures.in_flight_present += 1
            figures.in_flight_by_operation[f"{request.operation} present"] += 1
        elif presence is Presence.NONE:
            figures.in_flight_absent += 1
            figures.in_flight_by_operation[f"{request.operation} absent"] += 1
        else:
            figures.problem("half_there", f"{what}, in flight at the kill ({request.error}), is partly there")
        return
    if request.fate is Fate.NEVER_SENT:
        figures.never_sent += 1
    else:
        figures.problem("error_answers", f"{what} was answered {request.error}")
    if presence is not Presence.NONE:
        figures.problem("invented", f"{what} ({request.fate.value}) is {presence.value}")


class Writer:
    """One client thread's work across cycles: sequential, so at most one of its requests is
    in flight at a kill. ``next_request`` makes the next request (recording it before sending
    it); ``run`` sends until the server is gone."""

    service = ""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.client = None
        self.cycle = 0
        self.crash: BaseException | None = None  # a bug of the soak itself, re-raised by the caller

    def connect(self, endpoint: str, cycle: int) -> None:
        # Clients are made here, on the main thread: boto3's default session is not thread-safe.
        self.client = make_client(self.service, endpoint, **WRITER_CLIENT)
        self.cycle = cycle

    def next_request(self) -> tuple[Sent, Callable[[], object]]:
        raise NotImplementedError

    def acknowledged(self, request: Sent) -> None:
        """Called on the writer's thread after each 2xx."""

    def run(self) -> None:
        try:
            while True:
                request, call = self.next_request()
                request.fate, request.error = send(call)
                if request.fate is not Fate.ACKNOWLEDGED:
                    return  # the server is gone (or refused a valid request: reported later)
                self.acknowledged(request)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            self.crash = error


# -- log events ------------------------------------------------------------------------------------


@dataclass
class EventBatch(Sent):
    writer: int = 0
    number: int = 0
    stream: str = ""
    messages: list[str] = field(default_factory=list)
    seen: list[int] | None = None   # the indexes visible after the cycle's restart, in order

    @property
    def key(self) -> tuple[int, int]:
        return self.writer, self.number


def event_message(cycle: int, writer: int, number: int, index: int, filler: str) -> str:
    return f"c{cycle} w{writer} b{number} e{index} {filler}"


def parse_event_message(message: str) -> tuple[int, int, int, int]:
    """(cycle, writer, batch number, index) of a message event_message made."""
    cycle, writer, number, index = message.split(" ", 4)[:4]
    return int(cycle[1:]), int(writer[1:]), int(number[1:]), int(index[1:])


class EventWriter(Writer):
    """PutLogEvents batches to its own stream and to the stream all event writers share. Now and
    then a batch of 64 KiB or more, which the gateway answers on the event loop's own thread."""

    service = "logs"

    def __init__(self, number: int, rng: random.Random) -> None:
        super().__init__(rng)
        self.number = number
        self.own_stream = f"writer-{number}"
        self.batches: list[EventBatch] = []

    def next_request(self):
        rng = self.rng
        # ~1,000+ events of ~90 bytes on the wire each: over the gateway's 64 KiB line.
        size = rng.randint(1000, 1500) if rng.random() < 0.03 else rng.randint(1, 100)
        batch = EventBatch(self.cycle, "PutLogEvents", writer=self.number, number=len(self.batches),
                           stream=SHARED_STREAM if rng.random() < 0.3 else self.own_stream)
        batch.messages = [event_message(self.cycle, self.number, batch.number, j, "x" * rng.randint(0, 60))
                          for j in range(size)]
        # Timestamps increase within the batch, so its order in a stream is its own; the span
        # (< 2 s) is well inside the 24 h a batch may cover (aws-behaviour.md §6.2).
        first = now_ms()
        events = [{"timestamp": first + j, "message": m} for j, m in enumerate(batch.messages)]
        self.batches.append(batch)
        return batch, lambda: self.client.put_log_events(
            logGroupName=EVENTS_GROUP, logStreamName=batch.stream, logEvents=events)


class LogEventsWorkload:
    def __init__(self, writers: int, rng: random.Random) -> None:
        self.writers = [EventWriter(n, random.Random(rng.random())) for n in range(writers)]
        self.cycle_start_ms: dict[int, int] = {}
        self.stored_bytes_seen = 0

    def streams(self) -> list[str]:
        return [w.own_stream for w in self.writers] + [SHARED_STREAM]

    def setup(self, logs) -> None:
        logs.create_log_group(logGroupName=EVENTS_GROUP)
        for stream in self.streams():
            logs.create_log_stream(logGroupName=EVENTS_GROUP, logStreamName=stream)

    def batches_of(self, cycle: int) -> list[EventBatch]:
        return [b for w in self.writers for b in w.batches if b.cycle == cycle]

    def verify_cycle(self, logs, cycle: int, figures: Figures) -> None:
        """The cycle's batches, read with FilterLogEvents from the moment its writers started
        (each of its events is stamped no earlier than that)."""
        events, _ = filter_all(logs, logGroupName=EVENTS_GROUP, startTime=self.cycle_start_ms[cycle])
        visible: dict[tuple[int, int], list[tuple[int, str]]] = defaultdict(list)
        for event in events:
            event_cycle, writer, number, index = parse_event_message(event["message"])
            if event_cycle == cycle:  # a late-stamped event of an earlier cycle: full checks see it
                visible[(writer, number)].append((index, event["logStreamName"]))
        for batch in self.batches_of(cycle):
            seen = visible.pop(batch.key, [])
            batch.seen = [index for index, _ in seen]
            wrong_stream = [s for _, s in seen if s != batch.stream]
            if wrong_stream:
                figures.problem("invented", f"batch {batch.key} shows events in stream {wrong_stream[0]!r}, "
                                            f"sent to {batch.stream!r}")
            self._settle(figures, batch)
            figures.events_acknowledged += len(batch.messages) if batch.fate is Fate.ACKNOWLEDGED else 0
            self.stored_bytes_seen += sum(event_bytes(batch.messages[i]) for i in set(batch.seen)
                                          if i < len(batch.messages))
        for key, seen in visible.items():
            figures.problem("invented", f"events of batch {key} of cycle {cycle}, which no writer sent: {len(seen)}",
                            len(seen))
        stored = logs.describe_log_groups(logGroupNamePrefix=EVENTS_GROUP)["logGroups"][0]["storedBytes"]
        if stored != self.stored_bytes_seen:
            figures.problem("derived_mismatches", f"{EVENTS_GROUP} storedBytes {stored}, "
                                                  f"events seen so far make {self.stored_bytes_seen}")
            self.stored_bytes_seen = stored  # report each discrepancy once

    @staticmethod
    def _settle(figures: Figures, batch: EventBatch) -> None:
        seen, size = batch.seen, len(batch.messages)
        if seen == list(range(size)):
            presence = Presence.WHOLE
        elif not seen:
            presence = Presence.NONE
        else:
            presence = Presence.PART
        what = f"PutLogEvents batch {batch.key} of cycle {batch.cycle} ({size} events to {batch.stream!r})"
        if presence is Presence.PART:
            duplicates = len(seen) - len(set(seen))
            out_of_order = seen != sorted(seen)
            what += f": {len(set(seen))} of its events there, {duplicates} twice, out of order: {out_of_order}"
            if duplicates:
                figures.problem("invented", what, duplicates)
        if batch.fate is Fate.ACKNOWLEDGED and presence is not Presence.WHOLE:
            figures.events_lost += size - len(set(seen) & set(range(size)))
        settle(figures, batch, presence, what)

    def verify_all(self, logs, figures: Figures) -> None:
        """Every stream read whole with GetLogEvents: each batch shows exactly what it showed
        after its own cycle's restart."""
        visible: dict[tuple[int, int], list[int]] = defaultdict(list)
        where: dict[tuple[int, int], set[str]] = defaultdict(set)
        for stream in self.streams():
            for event in read_forward(logs, EVENTS_GROUP, stream):
                _, writer, number, index = parse_event_message(event["message"])
                visible[(writer, number)].append(index)
                where[(writer, number)].add(stream)
        for writer in self.writers:
            for batch in writer.batches:
                if batch.seen is None:
                    continue  # its cycle is not verified yet
                now = visible.pop(batch.key, [])
                if now != batch.seen:
                    gone = len(set(batch.seen) - set(now))
                    counter = "events_lost" if gone else "invented"
                    figures.problem(counter, f"batch {batch.key} of cycle {batch.cycle}: {len(batch.seen)} "
                                             f"events after its restart, {len(now)} now", max(gone, 1))
                elif now and where[batch.key] != {batch.stream}:
                    figures.problem("invented", f"batch {batch.key} is in streams {sorted(where[batch.key])}")
        unverified = {b.key for w in self.writers for b in w.batches if b.seen is None}
        for key, indexes in visible.items():
            if key not in unverified:
                figures.problem("invented", f"{len(indexes)} events of batch {key}, which no writer sent",
                                len(indexes))


# -- metric data -----------------------------------------------------------------------------------


@dataclass
class MetricBatch(Sent):
    writer: int = 0
    number: int = 0
    datums: int = 0
    expected: dict[int, tuple[float, float]] = field(default_factory=dict)  # slot -> (count, sum)
    seen: dict[int, tuple[float, float]] | None = None

    @property
    def dimension(self) -> str:
        return f"m{self.writer}-{self.number}"

    @property
    def samples(self) -> int:
        return int(sum(count for count, _ in self.expected.values()))


def utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


class MetricWriter(Writer):
    """PutMetricData: each request's datums under a Batch dimension of their own, spread over
    the last few minutes' slots, in all three datum forms, some high-resolution; plus one datum
    to the writer's shared total metric (value: the number of batch datums)."""

    service = "cloudwatch"

    def __init__(self, number: int, rng: random.Random) -> None:
        super().__init__(rng)
        self.number = number
        self.batches: list[MetricBatch] = []

    def next_request(self):
        rng = self.rng
        batch = MetricBatch(self.cycle, "PutMetricData", writer=self.number, number=len(self.batches))
        now = time.time()
        current_slot = int(now // SLOT_SECONDS) * SLOT_SECONDS
        dimensions = [{"Name": "Writer", "Value": f"m{self.number}"}, {"Name": "Batch", "Value": batch.dimension}]
        data, totals = [], defaultdict(lambda: [0, 0])
        for _ in range(rng.randint(1, 40)):
            slot = current_slot - SLOT_SECONDS * rng.randint(0, 3)
            # Whole numbers only, so every Sum is exact in a double.
            datum = {"MetricName": BATCH_METRIC, "Dimensions": dimensions, "Unit": "Count",
                     "Timestamp": utc(slot + rng.randint(0, SLOT_SECONDS - 1)),
                     "StorageResolution": rng.choice((1, 60))}
            form = rng.random()
            if form < 0.5:
                value = rng.randint(0, 1000)
                datum["Value"] = value
                count, total = 1, value
            elif form < 0.8:
                values = rng.sample(range(1000), rng.randint(1, 5))
                counts = [rng.randint(1, 3) for _ in values]
                datum["Values"], datum["Counts"] = values, counts
                count, total = sum(counts), sum(v * c for v, c in zip(values, counts))
            else:
                count, low = rng.randint(1, 10), rng.randint(0, 100)
                high = low if count == 1 else low + rng.randint(0, 100)
                total = low if count == 1 else low + high + (count - 2) * low
                datum["StatisticValues"] = {"SampleCount": count, "Sum": total, "Minimum": low, "Maximum": high}
            totals[slot][0] += count
            totals[slot][1] += total
            data.append(datum)
        batch.datums = len(data)
        batch.expected = {slot: (float(c), float(s)) for slot, (c, s) in totals.items()}
        data.append({"MetricName": TOTAL_METRIC, "Dimensions": [dimensions[0]], "Unit": "Count",
                     "Timestamp": utc(now), "Value": batch.datums})
        self.batches.append(batch)
        return batch, lambda: self.client.put_metric_data(Namespace=NAMESPACE, MetricData=data)


def slot_statistics(cloudwatch, metric: str, dimensions: list[dict], start: float, end: float,
                    period: int) -> dict[int, tuple[float, float]]:
    """{slot start: (SampleCount, Sum)} of a metric over [start, end)."""
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE, MetricName=metric, Dimensions=dimensions, StartTime=utc(start),
        EndTime=utc(end), Period=period, Statistics=["SampleCount", "Sum"])
    return {int(p["Timestamp"].timestamp()): (p["SampleCount"], p["Sum"]) for p in answer["Datapoints"]}


class MetricDataWorkload:
    def __init__(self, writers: int, rng: random.Random) -> None:
        self.writers = [MetricWriter(n, random.Random(rng.random())) for n in range(writers)]
        self.started = time.time()

    def setup(self, cloudwatch) -> None:
        self.started = time.time()

    @staticmethod
    def _visible(cloudwatch, batches: list[MetricBatch]) -> dict[str, dict[int, tuple[float, float]]]:
        """{batch dimension: {slot start: (SampleCount, Sum)}}, by GetMetricData: two queries
        per batch, at most 500 queries a call (aws-behaviour.md §7.4)."""
        visible: dict[str, dict[int, tuple[float, float]]] = {b.dimension: {} for b in batches}
        batches = sorted(batches, key=lambda b: min(b.expected))  # so each call spans few slots
        for first in range(0, len(batches), 250):
            chunk = batches[first:first + 250]
            queries = [
                {"Id": f"{query_id}{i}", "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": BATCH_METRIC, "Dimensions": [
                        {"Name": "Writer", "Value": f"m{b.writer}"}, {"Name": "Batch", "Value": b.dimension}]},
                    "Period": SLOT_SECONDS, "Stat": stat}}
                for i, b in enumerate(chunk) for query_id, stat in (("n", "SampleCount"), ("t", "Sum"))]
            counts, sums = defaultdict(dict), defaultdict(dict)
            for page in cloudwatch.get_paginator("get_metric_data").paginate(
                    MetricDataQueries=queries, StartTime=utc(min(min(b.expected) for b in chunk)),
                    EndTime=utc(max(max(b.expected) for b in chunk) + SLOT_SECONDS)):
                for result in page["MetricDataResults"]:
                    into = counts if result["Id"][0] == "n" else sums
                    for stamp, value in zip(result["Timestamps"], result["Values"]):
                        into[int(result["Id"][1:])][int(stamp.timestamp())] = value
            for i, b in enumerate(chunk):
                visible[b.dimension] = {slot: (count, sums[i].get(slot)) for slot, count in counts[i].items()}
        return visible

    def verify_cycle(self, cloudwatch, cycle: int, figures: Figures) -> None:
        batches = [b for w in self.writers for b in w.batches if b.cycle == cycle]
        visible = self._visible(cloudwatch, batches)
        for batch in batches:
            batch.seen = visible[batch.dimension]
            seen_samples = int(sum(c for c, _ in batch.seen.values()))
            if batch.seen == batch.expected:
                presence = Presence.WHOLE
            elif not batch.seen:
                presence = Presence.NONE
            else:
                presence = Presence.PART
            what = (f"PutMetricData {batch.dimension} of cycle {cycle} ({batch.datums} datums, "
                    f"{batch.samples} samples; per slot expected {batch.expected}, visible {batch.seen})")
            if batch.fate is Fate.ACKNOWLEDGED:
                figures.datums_acknowledged += batch.datums + 1  # and the total datum
                figures.samples_acknowledged += batch.samples
                if presence is not Presence.WHOLE:
                    figures.samples_lost += max(batch.samples - seen_samples, 0)
                    if seen_samples > batch.samples:
                        figures.problem("invented", what, seen_samples - batch.samples)
            settle(figures, batch, presence, what)
        self._verify_totals(cloudwatch, figures)

    def _verify_totals(self, cloudwatch, figures: Figures) -> None:
        """Each writer's total metric counts one sample per request that is there, valued at its
        number of batch datums. Its slots take many requests' rows and are compacted."""
        start = (int(self.started // SLOT_SECONDS) - 1) * SLOT_SECONDS
        end = time.time() + 2 * SLOT_SECONDS
        # At most 1,440 datapoints per call (aws-behaviour.md §7.3).
        period = SLOT_SECONDS * max(1, math.ceil((end - start) / SLOT_SECONDS / 1440))
        for writer in self.writers:
            there = [b for b in writer.batches if b.seen]
            visible = slot_statistics(cloudwatch, TOTAL_METRIC, [{"Name": "Writer", "Value": f"m{writer.number}"}],
                                      start, end, period)
            count = sum(c for c, _ in visible.values())
            total = sum(s for _, s in visible.values())
            if (count, total) != (len(there), sum(b.datums for b in there)):
                figures.problem("derived_mismatches",
                                f"writer m{writer.number}'s {TOTAL_METRIC}: SampleCount {count}, Sum {total}; "
                                f"the {len(there)} batches there make {len(there)}, {sum(b.datums for b in there)}")

    def verify_all(self, cloudwatch, figures: Figures) -> None:
        """Every batch shows exactly the slots it showed after its own cycle's restart."""
        batches = [b for w in self.writers for b in w.batches if b.seen is not None]
        visible = self._visible(cloudwatch, batches)
        for batch in batches:
            now = visible[batch.dimension]
            if now != batch.seen:
                before = sum(c for c, _ in batch.seen.values())
                after = sum(c for c, _ in now.values())
                counter = "samples_lost" if after < before else "invented"
                figures.problem(counter, f"PutMetricData {batch.dimension} of cycle {batch.cycle}: "
                                         f"{batch.seen} after its restart, {now} now",
                                int(abs(before - after)) or 1)
        self._verify_totals(cloudwatch, figures)


# -- resources: a model of what acknowledged requests made -----------------------------------------


@dataclass
class Change(Sent):
    """A request that changes one resource; ``apply`` makes the same change to a model."""

    resource: str = ""
    call: Callable[[], object] | None = None
    apply: Callable[[dict], None] | None = None
    events: int = 0  # log events it carries

    def describe(self) -> str:
        return f"{self.operation} on {self.resource!r} (cycle {self.cycle})"


class ResourceWriter(Writer):
    """Creates, changes and deletes resources in a few slots, one request at a time, keeping
    ``model`` = every acknowledged change applied in order. Deleted resources are not recreated
    under the same name (a slot's next resource gets the next generation's name), so nothing
    here depends on what a recreated resource inherits."""

    slots = 3

    def __init__(self, prefix: str, rng: random.Random) -> None:
        super().__init__(rng)
        self.prefix = prefix  # of the names of every resource this writer makes, and no other's
        self.model: dict = {"resources": {}, "generation": [0] * self.slots}
        self.changes: list[Change] = []
        self.arn_prefix = ""  # learned from the server in setup

    def choose(self, model: dict, slot: int) -> Change:
        """The next change to the resource in ``slot``, given what the acknowledged ones made."""
        raise NotImplementedError

    def observe(self, client) -> dict:
        """What the server shows of the resources this writer manages."""
        raise NotImplementedError

    def next_request(self):
        slot = self.rng.randrange(self.slots)
        change = self.choose(self.model, slot)
        change.cycle = self.cycle
        self.changes.append(change)
        return change, change.call

    def acknowledged(self, request: Change) -> None:
        request.apply(self.model)

    def op_id(self) -> str:
        return f"{self.cycle}.{len(self.changes)}"

    def verify_cycle(self, client, cycle: int, figures: Figures) -> None:
        """The server must show the model, or the model with the cycle's cut-off request (the
        one that got no answer) applied whole; the model follows what is there."""
        changes = [c for c in self.changes if c.cycle == cycle]
        acknowledged = [c for c in changes if c.fate is Fate.ACKNOWLEDGED]
        figures.requests_acknowledged += len(acknowledged)
        figures.events_acknowledged += sum(c.events for c in acknowledged)
        cut_off = next((c for c in changes if c.fate is not Fate.ACKNOWLEDGED), None)
        observed = self.observe(client)
        expected = self.model["resources"]
        with_cut_off = copy.deepcopy(self.model)
        if cut_off is not None:
            cut_off.apply(with_cut_off)
        if observed == expected:
            if cut_off is not None:
                settle(figures, cut_off, Presence.NONE, cut_off.describe())
            return
        if cut_off is not None and observed == with_cut_off["resources"]:
            settle(figures, cut_off, Presence.WHOLE, cut_off.describe())
            self.model = with_cut_off
            return
        # Neither: a partly applied cut-off request, if the difference is confined to its
        # resource; otherwise acknowledged changes are missing.
        differs = sorted(n for n in expected.keys() | observed.keys() if expected.get(n) != observed.get(n))
        diff = "; ".join(f"{n}: expected {expected.get(n)}, visible {observed.get(n)}" for n in differs)
        if cut_off is not None and differs == [cut_off.resource]:
            settle(figures, cut_off, Presence.PART, f"{cut_off.describe()} [{diff}]")
        else:
            lost = missing_messages(expected, observed)
            figures.events_lost += lost
            figures.problem("changes_lost", f"{type(self).__name__} after cycle {cycle}, last request "
                                            f"{cut_off.describe() if cut_off else 'acknowledged'}: {diff}")
            if cut_off is not None:
                settle(figures, cut_off, Presence.NONE, cut_off.describe())
        self.model["resources"] = copy.deepcopy(observed)  # go on from what is there


def missing_messages(expected: dict, observed: dict) -> int:
    """Log messages in the expected resources that are not visible."""
    def messages(resources):
        return Counter(m for r in resources.values() for s in r.get("streams", {}).values() for m in s)
    return sum((messages(expected) - messages(observed)).values())


class LogResourceWriter(ResourceWriter):
    """Log groups (created with a tag), their streams, small event batches, TagResource,
    DeleteLogStream and DeleteLogGroup. The model: {group: {tags, streams: {name: sorted
    messages}, storedBytes}}."""

    service = "logs"
    stream_slots = 3

    def group_name(self, slot: int, model: dict) -> str:
        return f"{self.prefix}g{slot}-v{model['generation'][slot]}"

    def choose(self, model: dict, slot: int) -> Change:
        rng, op, name = self.rng, self.op_id(), self.group_name(slot, model)
        group = model["resources"].get(name)
        logs = self.client
        if group is None:
            def create(m, name=name, op=op):
                m["resources"][name] = {"tags": {"created": op}, "streams": {}, "storedBytes": 0}
            return Change(0, "CreateLogGroup (with tags)", resource=name, apply=create,
                          call=lambda: logs.create_log_group(logGroupName=name, tags={"created": op}))
        streams = sorted(group["streams"])
        absent = [s for s in (f"s{i}" for i in range(self.stream_slots)) if s not in group["streams"]]
        choices = [("tag", 2), ("delete group", 0.3)]
        choices += [("create stream", 3)] if absent else []
        choices += [("put events", 4), ("delete stream", 1)] if streams else []
        kind = rng.choices([k for k, _ in choices], [w for _, w in choices])[0]
        if kind == "create stream":
            stream = rng.choice(absent)

            def create_stream(m, name=name, stream=stream):
                m["resources"][name]["streams"][stream] = []
            return Change(0, "CreateLogStream", resource=name, apply=create_stream,
                          call=lambda: logs.create_log_stream(logGroupName=name, logStreamName=stream))
        if kind == "put events":
            stream = rng.choice(streams)
            messages = [f"op {op} e{j}" for j in range(rng.randint(1, 5))]
            first = now_ms()

            def put(m, name=name, stream=stream, messages=messages):
                group = m["resources"][name]
                group["streams"][stream] = sorted(group["streams"][stream] + messages)
                group["storedBytes"] += sum(event_bytes(x) for x in messages)
            return Change(0, "PutLogEvents", resource=name, apply=put, events=len(messages),
                          call=lambda: logs.put_log_events(
                              logGroupName=name, logStreamName=stream,
                              logEvents=[{"timestamp": first + j, "message": x} for j, x in enumerate(messages)]))
        if kind == "delete stream":
            stream = rng.choice(streams)

            # DeleteLogStream "permanently deletes all the archived log events associated with
            # the log stream" (botocore:logs:DeleteLogStream); the group's bytes go with them.
            def delete_stream(m, name=name, stream=stream):
                group = m["resources"][name]
                group["storedBytes"] -= sum(event_bytes(x) for x in group["streams"].pop(stream))
            return Change(0, "DeleteLogStream", resource=name, apply=delete_stream,
                          call=lambda: logs.delete_log_stream(logGroupName=name, logStreamName=stream))
        if kind == "tag":
            key = f"k{rng.randrange(3)}"

            # A new key is added, an existing key's value replaced (botocore:logs:TagResource).
            def tag(m, name=name, key=key, op=op):
                m["resources"][name]["tags"][key] = op
            arn = self.arn_prefix + name
            return Change(0, "TagResource", resource=name, apply=tag,
                          call=lambda: logs.tag_resource(resourceArn=arn, tags={key: op}))

        def delete_group(m, name=name, slot=slot):
            del m["resources"][name]
            m["generation"][slot] += 1
        return Change(0, "DeleteLogGroup", resource=name, apply=delete_group,
                      call=lambda: logs.delete_log_group(logGroupName=name))

    def observe(self, logs) -> dict:
        observed = {}
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=self.prefix):
            for group in page["logGroups"]:
                name = group["logGroupName"]
                streams = {s["logStreamName"]: []
                           for streams_page in logs.get_paginator("describe_log_streams").paginate(logGroupName=name)
                           for s in streams_page["logStreams"]}
                events, _ = filter_all(logs, logGroupName=name)
                for event in events:  # an event of an unlisted stream shows as a stream of its own
                    streams.setdefault(event["logStreamName"], []).append(event["message"])
                observed[name] = {
                    "tags": logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"],
                    "streams": {s: sorted(messages) for s, messages in streams.items()},
                    "storedBytes": group["storedBytes"],
                }
        return observed


class AlarmWriter(ResourceWriter):
    """Metric alarms (created with a tag), their updates, TagResource and DeleteAlarms. The
    model: {alarm: {threshold, description, tags}}."""

    service = "cloudwatch"

    def alarm_name(self, slot: int, model: dict) -> str:
        return f"{self.prefix}{slot}-v{model['generation'][slot]}"

    def choose(self, model: dict, slot: int) -> Change:
        rng, op, name = self.rng, self.op_id(), self.alarm_name(slot, model)
        alarm = model["resources"].get(name)
        cloudwatch = self.client
        # The threshold and description name the request, so an update is seen whole or not.
        threshold, description = float(len(self.changes)), f"op {op}"
        definition = dict(
            AlarmName=name, Namespace=NAMESPACE, MetricName=TOTAL_METRIC, Statistic="Sum",
            Dimensions=[{"Name": "Writer", "Value": "m0"}], Period=60, EvaluationPeriods=1,
            Threshold=threshold, ComparisonOperator="GreaterThanThreshold",
            AlarmDescription=description, ActionsEnabled=False)
        if alarm is None:
            def create(m, name=name, op=op):
                m["resources"][name] = {"threshold": threshold, "description": description,
                                        "tags": {"created": op}}
            return Change(0, "PutMetricAlarm (new, with Tags)", resource=name, apply=create,
                          call=lambda: cloudwatch.put_metric_alarm(
                              **definition, Tags=[{"Key": "created", "Value": op}]))
        kind = rng.choices(["update", "tag", "delete"], [2, 2, 2])[0]
        if kind == "update":
            # An update overwrites the configuration; Tags would be ignored on an update
            # (botocore:cloudwatch:PutMetricAlarm, aws-behaviour.md §8.1), so none are sent.
            def update(m, name=name):
                m["resources"][name].update(threshold=threshold, description=description)
            return Change(0, "PutMetricAlarm (update)", resource=name, apply=update,
                          call=lambda: cloudwatch.put_metric_alarm(**definition))
        if kind == "tag":
            key = f"k{rng.randrange(3)}"

            # A new key is appended, an existing key's value replaced (botocore:cloudwatch:TagResource).
            def tag(m, name=name, key=key, op=op):
                m["resources"][name]["tags"][key] = op
            arn = self.arn_prefix + name
            return Change(0, "TagResource", resource=name, apply=tag,
                          call=lambda: cloudwatch.tag_resource(ResourceARN=arn, Tags=[{"Key": key, "Value": op}]))

        def delete(m, name=name, slot=slot):
            del m["resources"][name]
            m["generation"][slot] += 1
        return Change(0, "DeleteAlarms", resource=name, apply=delete,
                      call=lambda: cloudwatch.delete_alarms(AlarmNames=[name]))

    def observe(self, cloudwatch) -> dict:
        observed = {}
        for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmNamePrefix=self.prefix):
            for alarm in page["MetricAlarms"]:
                tags = cloudwatch.list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
                observed[alarm["AlarmName"]] = {
                    "threshold": alarm["Threshold"], "description": alarm.get("AlarmDescription"),
                    "tags": {t["Key"]: t["Value"] for t in tags}}
        return observed


# -- the soak --------------------------------------------------------------------------------------


@dataclass
class Settings:
    cycles: int = 200
    seconds_per_cycle: float = 0.5     # the kill comes at most this long after the writers start
    min_kill_delay: float = 0.0
    long_cycle_every: int = 10         # 0: never
    long_cycle_seconds: float = 12.0
    full_check_every: int = 25
    event_writers: int = 3
    metric_writers: int = 2
    log_resource_writers: int = 1
    alarm_writers: int = 2
    seed: int = 0


class Soak:
    """The writers, the server they write to, and the figures so far."""

    def __init__(self, data_dir: Path, settings: Settings, out: Callable[[str], None] = print) -> None:
        self.data_dir = Path(data_dir)
        self.settings = settings
        self.out = out
        rng = random.Random(settings.seed)
        self.kill_rng = random.Random(rng.random())
        self.events = LogEventsWorkload(settings.event_writers, rng)
        self.metrics = MetricDataWorkload(settings.metric_writers, rng)
        self.log_resources = [LogResourceWriter(f"{LOG_RESOURCE_PREFIX}{n}/", random.Random(rng.random()))
                              for n in range(settings.log_resource_writers)]
        self.alarms = [AlarmWriter(f"{ALARM_PREFIX}{n}-", random.Random(rng.random()))
                       for n in range(settings.alarm_writers)]
        self.writers: list[Writer] = [*self.events.writers, *self.metrics.writers, *self.log_resources,
                                      *self.alarms]
        self.totals = Figures()
        self.server: ServerProcess | None = None

    def checkers(self):
        return (make_client("logs", self.server.endpoint, **CHECKER_CLIENT),
                make_client("cloudwatch", self.server.endpoint, **CHECKER_CLIENT))

    def run(self) -> Figures:
        try:
            self.server = ServerProcess(self.data_dir)
            self.server.start()
            logs, cloudwatch = self.checkers()
            self.events.setup(logs)
            self.metrics.setup(cloudwatch)
            arn = logs.describe_log_groups(logGroupNamePrefix=EVENTS_GROUP)["logGroups"][0]["logGroupArn"]
            # arn:aws:logs:<region>:<account>:log-group:<name> and arn:aws:cloudwatch:<region>:
            # <account>:alarm:<name> (botocore:logs:TagResource; aws-behaviour.md §8.1).
            _, partition, _, region, account, _ = arn.split(":", 5)
            for writer in self.log_resources:
                writer.arn_prefix = arn[: -len(EVENTS_GROUP)]
            for writer in self.alarms:
                writer.arn_prefix = f"arn:{partition}:cloudwatch:{region}:{account}:alarm:"
            for cycle in range(1, self.settings.cycles + 1):
                self.cycle(cycle)
        finally:
            if self.server is not None:
                self.server.stop()
        return self.totals

    def kill_delay(self, cycle: int) -> float:
        s = self.settings
        if s.long_cycle_every and cycle % s.long_cycle_every == 0:
            return self.kill_rng.uniform(s.seconds_per_cycle, max(s.long_cycle_seconds, s.seconds_per_cycle))
        return self.kill_rng.uniform(s.min_kill_delay, max(s.seconds_per_cycle, s.min_kill_delay))

    def cycle(self, cycle: int) -> None:
        figures, began = Figures(cycles=1), time.monotonic()
        for writer in self.writers:
            writer.connect(self.server.endpoint, cycle)
        self.events.cycle_start_ms[cycle] = now_ms()
        threads = [threading.Thread(target=w.run, name=f"soak-{type(w).__name__}", daemon=True)
                   for w in self.writers]
        for thread in threads:
            thread.start()
        delay = self.kill_delay(cycle)
        time.sleep(delay)
        self.server.kill()
        for thread in threads:
            thread.join(60)
            if thread.is_alive():
                raise RuntimeError(f"{thread.name} still running a minute after the kill")
        for writer in self.writers:
            if writer.crash is not None:
                raise RuntimeError(f"{type(writer).__name__} crashed") from writer.crash

        started = time.monotonic()
        self.server = ServerProcess(self.data_dir)  # held first: stopped even if it never answers
        self.server.start()
        restart = time.monotonic() - started
        started = time.monotonic()
        logs, cloudwatch = self.checkers()
        self.events.verify_cycle(logs, cycle, figures)
        self.metrics.verify_cycle(cloudwatch, cycle, figures)
        for writer in self.log_resources:
            writer.verify_cycle(logs, cycle, figures)
        for writer in self.alarms:
            writer.verify_cycle(cloudwatch, cycle, figures)
        full = cycle == self.settings.cycles or (
            self.settings.full_check_every and cycle % self.settings.full_check_every == 0)
        if full:
            self.events.verify_all(logs, figures)
            self.metrics.verify_all(cloudwatch, figures)
        verify = time.monotonic() - started
        self.totals.add(figures)
        self.out(
            f"cycle {cycle:4d}: kill after {delay * 1000:5.0f} ms; acknowledged {figures.requests_acknowledged:4d} "
            f"requests ({figures.events_acknowledged:6d} events, {figures.datums_acknowledged:4d} datums); "
            f"in flight {figures.in_flight} (present {figures.in_flight_present}, absent "
            f"{figures.in_flight_absent}), never sent {figures.never_sent}; restart {restart:.2f} s, "
            f"check{' (full)' if full else ''} {verify:.2f} s; cycle {time.monotonic() - began:.1f} s"
            + ("" if not figures.failed() else f"; FAILED: {len(figures.problems)} problems"))
        for problem in figures.problems[:20]:
            self.out(f"    {problem}")


def summary(figures: Figures) -> str:
    lines = [
        f"cycles run:              {figures.cycles}",
        f"requests acknowledged:   {figures.requests_acknowledged}",
        f"events acknowledged:     {figures.events_acknowledged}",
        f"datums acknowledged:     {figures.datums_acknowledged} ({figures.samples_acknowledged} samples)",
        f"in flight at kills:      {figures.in_flight} (present {figures.in_flight_present}, "
        f"absent {figures.in_flight_absent})",
        f"never sent (refused):    {figures.never_sent}",
        "in flight, by operation: " + ", ".join(
            f"{key} {count}" for key, count in sorted(figures.in_flight_by_operation.items())),
        f"events lost:             {figures.events_lost}",
        f"samples lost:            {figures.samples_lost}",
        f"changes lost:            {figures.changes_lost}",
        f"half-there:              {figures.half_there}",
        f"invented or duplicated:  {figures.invented}",
        f"derived mismatches:      {figures.derived_mismatches}",
        f"error answers:           {figures.error_answers}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=defaults.cycles,
                        help=f"kill/restart cycles (default {defaults.cycles}: about 15 minutes on 2 cores)")
    parser.add_argument("--seconds-per-cycle", type=float, default=defaults.seconds_per_cycle,
                        help="the longest the writers run before the kill (default %(default)s)")
    parser.add_argument("--min-kill-delay", type=float, default=defaults.min_kill_delay,
                        help="the shortest (default %(default)s)")
    parser.add_argument("--long-cycle-every", type=int, default=defaults.long_cycle_every,
                        help="every Nth cycle the kill comes up to --long-cycle-seconds after the "
                             "writers start, during background duties (0: never; default %(default)s)")
    parser.add_argument("--long-cycle-seconds", type=float, default=defaults.long_cycle_seconds)
    parser.add_argument("--full-check-every", type=int, default=defaults.full_check_every,
                        help="read back everything every N cycles, and at the end (default %(default)s)")
    parser.add_argument("--event-writers", type=int, default=defaults.event_writers)
    parser.add_argument("--metric-writers", type=int, default=defaults.metric_writers)
    parser.add_argument("--log-resource-writers", type=int, default=defaults.log_resource_writers)
    parser.add_argument("--alarm-writers", type=int, default=defaults.alarm_writers)
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the server's data goes (default: a temporary directory, "
                             "removed after a clean run)")
    args = parser.parse_args(argv)
    # A plain SIGTERM would end the process without stopping the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    settings = Settings(
        cycles=args.cycles, seconds_per_cycle=args.seconds_per_cycle, min_kill_delay=args.min_kill_delay,
        long_cycle_every=args.long_cycle_every, long_cycle_seconds=args.long_cycle_seconds,
        full_check_every=args.full_check_every, event_writers=args.event_writers,
        metric_writers=args.metric_writers, log_resource_writers=args.log_resource_writers,
        alarm_writers=args.alarm_writers, seed=seed)
    workdir = args.data_dir or Path(tempfile.mkdtemp(prefix="sagewatch-soak-")) / "data"
    print(f"kill -9 soak: {settings}; data in {workdir}", flush=True)
    started = time.monotonic()
    soak = Soak(workdir, settings, out=lambda line: print(line, flush=True))
    try:
        figures = soak.run()
    except Exception:
        print(f"\nthe soak broke down; data kept in {workdir}, server log "
              f"{workdir.parent / (workdir.name + '-server.log')}", flush=True)
        raise
    print(f"\n{summary(figures)}\nwall time:               {time.monotonic() - started:.0f} s")
    if figures.failed():
        print(f"\nFAILED ({len(figures.problems)} problems, seed {seed}); data kept in {workdir}")
        for problem in figures.problems:
            print(f"  {problem}")
        return 1
    if args.data_dir is None:
        shutil.rmtree(workdir.parent, ignore_errors=True)
    print("OK: nothing acknowledged was lost, nothing in flight was half-written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
