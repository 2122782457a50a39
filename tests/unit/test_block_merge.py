"""Merging small log blocks changes nothing a reader can see.

A job's agent ships its output as many tiny PutLogEvents batches; the store merges a stream's
small blocks into larger ones (``SQLiteLogStore.merge_small_blocks``). The model-based test drives
the real Logs service over the real SQLite store, in process, with tiny batches, merges, deletes,
retention changes and reads (GetLogEvents and FilterLogEvents, with tokens saved before merges
and replayed after them, in both directions), and holds every answer to the naive reference model
of tests/model/logs.py. Writes run on a second thread, with its own connection, as the server's
duties and requests do; a group scan left open across a merge checks that a read which listed
blocks before the merge goes on exactly where it was.

After every step: the group's storedBytes is the sum over the events actually stored, and equals
the model's when no retention policy hides any; no event is stored twice; the block cache holds
no block that is gone.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test,
)

from sagewatch.services.logs.service import LogsService
from sagewatch.store.log_blocks import (
    MAX_BLOCK_EVENTS, MAX_BLOCK_STORED_BYTES, MAX_MERGED_SPAN_MS, Block, BlockInfo, SmallBlock,
    merge_blocks, merge_resuming, merge_runs,
)
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.logs import SQLiteLogStore
from sagewatch.store.sqlite.tags import SQLiteTagStore

from ..figures import record
from ..model.logs import DAY_MS, END, LogsModel, Position

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
GROUP = "/aws/sagemaker/TrainingJobs"
STREAMS = ("job/algo-1-1767225600", "job/algo-2-1767225600")
WORDS = ("alpha", "bravo", "charlie")


@dataclass(frozen=True)
class SavedToken:
    stream: str
    life: int
    direction: str
    position: Position
    text: str


@dataclass(frozen=True)
class SavedFilterToken:
    streams: tuple[str, ...] | None
    term: str | None
    position: Position
    text: str


class MergingAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="sagewatch-merge-"))
        self.database = Database(self.directory / "db")
        self.store = SQLiteLogStore(self.database)
        self.now = NOW
        self.logs = LogsService(self.store, SQLiteTagStore(self.database), region="us-east-1",
                                account_id="123456789012", clock=lambda: self.now)
        self.writer = ThreadPoolExecutor(1)
        self.model = LogsModel()
        self.ingested: dict[int, int] = {}  # model sequence -> ingestion time
        self.last_timestamp = {stream: NOW - 10 * DAY_MS for stream in STREAMS}
        self.tokens: list[SavedToken] = []
        self.filter_tokens: list[SavedFilterToken] = []
        self.counter = 0
        self.write(self.logs.create_log_group, logGroupName=GROUP)
        self.model.create_log_group(GROUP)
        for stream in STREAMS:
            self.create_stream(stream)

    def teardown(self) -> None:
        self.writer.shutdown()
        self.database.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def write(self, call, *args, **kwargs):
        return self.writer.submit(call, *args, **kwargs).result()

    def create_stream(self, stream: str) -> None:
        self.write(self.logs.create_log_stream, logGroupName=GROUP, logStreamName=stream)
        self.model.create_log_stream(GROUP, stream)

    def life(self, stream: str) -> int:
        return self.model.stream(GROUP, stream).life

    def expected_events(self, events) -> list[tuple]:
        return [(e.timestamp, e.message, self.ingested[e.sequence]) for e in events]

    # -- writes -----------------------------------------------------------------------------------

    @initialize(batches=st.integers(10, 80))
    def a_job_has_been_logging(self, batches):
        """Every sequence starts with a stream of tiny blocks to merge, as an agent leaves them."""
        for index in range(batches):
            stream = STREAMS[index % 2]
            self.now += 100
            t = self.last_timestamp[stream]
            batch = []
            for _ in range(index % 5 + 1):
                t += index % 3
                self.counter += 1
                batch.append((t, f"{WORDS[self.counter % 3]} line {self.counter}"))
            self.last_timestamp[stream] = t
            self.put(stream, batch)

    @rule(stream=st.sampled_from(STREAMS), advance=st.integers(1, 300), batches=st.lists(
        st.tuples(st.integers(1, 6), st.lists(st.integers(0, 3), min_size=6, max_size=6),
                  st.booleans(), st.booleans(), st.sampled_from((0, 1, 3, 5, 7, 11)),
                  st.integers(-40, 40)),
        min_size=1, max_size=12), merge_budget=st.none() | st.integers(1, 40))
    def put_tiny_batches(self, stream, advance, batches, merge_budget):
        """Batches of a few events each: most continue the stream (as an agent's do), one in four
        arrives late, up to 12 days late and most often near where a retention policy would cut,
        so merged blocks overlap, tie and straddle retention cutoffs."""
        for size, gaps, late_a, late_b, days_ago, minutes in batches:
            self.now += advance
            late = late_a and late_b
            t = self.now - days_ago * DAY_MS + minutes * 60_000 if late else self.last_timestamp[stream]
            batch = []
            for gap in gaps[:size]:
                t += gap
                self.counter += 1
                batch.append((t, f"{WORDS[self.counter % 3]} line {self.counter}"))
            if not late:
                self.last_timestamp[stream] = t
            self.put(stream, batch)
        if merge_budget is not None:
            self.merge(merge_budget)

    def put(self, stream: str, batch: list[tuple[int, str]]) -> None:
        before = {e.sequence for e in self.model.stream(GROUP, stream).events}
        rejected = self.model.put_log_events(GROUP, stream, batch, self.now)
        for event in self.model.stream(GROUP, stream).events:
            if event.sequence not in before:
                self.ingested[event.sequence] = self.now
        response = self.write(self.logs.put_log_events, logGroupName=GROUP, logStreamName=stream,
                              logEvents=[{"timestamp": t, "message": m} for t, m in batch])
        assert response.get("rejectedLogEventsInfo", {}) == rejected

    @rule(budget=st.integers(1, 40))
    def merge(self, budget):
        record("block merge model: blocks merged", self.write(self.store.merge_small_blocks, budget))

    @rule()
    def merge_everything(self):
        while merged := self.write(self.store.merge_small_blocks, 16):
            record("block merge model: blocks merged", merged)

    @rule(stream=st.sampled_from(STREAMS))
    def delete_and_recreate_stream(self, stream):
        self.write(self.logs.delete_log_stream, logGroupName=GROUP, logStreamName=stream)
        self.model.delete_log_stream(GROUP, stream)
        self.create_stream(stream)

    @rule(days=st.sampled_from((1, 3, 5, 7)))
    def put_retention(self, days):
        self.write(self.logs.put_retention_policy, logGroupName=GROUP, retentionInDays=days)
        self.model.put_retention_policy(GROUP, days, self.now)

    @rule()
    def delete_retention(self):
        """Events expired under the policy stay gone, even those inside a merged block that
        straddled the cutoff."""
        self.write(self.logs.delete_retention_policy, logGroupName=GROUP)
        self.model.delete_retention_policy(GROUP)

    # -- reads ------------------------------------------------------------------------------------

    @rule(stream=st.sampled_from(STREAMS), from_head=st.booleans(), limit=st.integers(1, 8),
          follow=st.integers(0, 3))
    def get_events(self, stream, from_head, limit, follow):
        token = None
        for _ in range(follow + 1):
            kwargs = {"logGroupName": GROUP, "logStreamName": stream, "limit": limit,
                      "startFromHead": from_head}
            if token is not None:
                kwargs.update(nextToken=token.text, startFromHead=token.direction == "f")
            self.check_page(stream, kwargs, token)
            page, expected = self.last_page
            forward = SavedToken(stream, self.life(stream), "f", expected.forward, page["nextForwardToken"])
            backward = SavedToken(stream, self.life(stream), "b", expected.backward,
                                  page["nextBackwardToken"])
            self.tokens += [forward, backward]
            token = forward if from_head else backward

    @precondition(lambda self: self.tokens)
    @rule(data=st.data(), limit=st.integers(1, 10))
    def replay_token(self, data, limit):
        """A GetLogEvents token saved before merges reads on from exactly where it pointed."""
        token = data.draw(st.sampled_from(self.tokens))
        if token.life != self.life(token.stream):
            return  # its stream was deleted since: test_logs_model covers tokens of old lives
        kwargs = {"logGroupName": GROUP, "logStreamName": token.stream, "limit": limit,
                  "nextToken": token.text, "startFromHead": token.direction == "f"}
        self.check_page(token.stream, kwargs, token)

    def check_page(self, stream, kwargs, token: SavedToken | None) -> None:
        expected = self.model.get_log_events(
            GROUP, stream, now=self.now, limit=kwargs["limit"], start_from_head=kwargs["startFromHead"],
            token=(token.direction, token.position) if token else None)
        page = self.logs.get_log_events(**kwargs)
        got = [(e["timestamp"], e["message"], e["ingestionTime"]) for e in page["events"]]
        assert got == self.expected_events(expected.events), (kwargs, token)
        if expected.echoes == "f":
            assert page["nextForwardToken"] == token.text
        elif expected.echoes == "b":
            assert page["nextBackwardToken"] == token.text
        self.last_page = (page, expected)

    @rule(streams=st.none() | st.lists(st.sampled_from(STREAMS), min_size=1, max_size=1),
          term=st.sampled_from((None,) + WORDS), limit=st.integers(1, 8), pages=st.integers(1, 3))
    def filter_events(self, streams, term, limit, pages):
        streams = tuple(streams) if streams else None
        position, text = (0, 0), None
        for _ in range(pages):
            page, expected = self.check_filter(streams, term, limit, position, text)
            if "nextToken" not in page:
                return
            position, text = expected.resume, page["nextToken"]
            self.filter_tokens.append(SavedFilterToken(streams, term, position, text))

    @precondition(lambda self: self.filter_tokens)
    @rule(data=st.data(), limit=st.integers(1, 10))
    def replay_filter_token(self, data, limit):
        token = data.draw(st.sampled_from(self.filter_tokens))
        self.check_filter(token.streams, token.term, limit, token.position, token.text)

    def check_filter(self, streams, term, limit, position, text):
        kwargs = {"logGroupName": GROUP, "limit": limit}
        if streams:
            kwargs["logStreamNames"] = list(streams)
        if term:
            kwargs["filterPattern"] = term
        if text:
            kwargs["nextToken"] = text
        expected = self.model.filter_log_events(GROUP, now=self.now, stream_names=list(streams) if streams else None,
                                                term=term, start=position, limit=limit)
        page = self.logs.filter_log_events(**kwargs)
        got = [(e["timestamp"], e["message"], e["ingestionTime"], e["logStreamName"]) for e in page["events"]]
        wanted = [(e.timestamp, e.message, self.ingested[e.sequence], e.stream) for e in expected.events]
        assert got == wanted, kwargs
        if expected.more:
            assert "nextToken" in page
        return page, expected

    @rule(descending=st.booleans(), first=st.integers(0, 12), budget=st.integers(1, 40))
    def scan_across_a_merge(self, descending, first, budget):
        """A group scan that listed its blocks, read some events, then met a merge that took
        blocks it had listed: it returns every event once, in order, as if nothing happened."""
        group = self.store.get_log_group(GROUP)
        low = (self.model.retention_cutoff(self.model.group(GROUP), self.now), 0)
        names = {s.id: s.name for s in self.store.list_log_streams(
            group.id, prefix=None, order_by_last_event=False, descending=False, after=None, limit=50)}
        scan = self.store.scan_group(group.id, stream_ids=None, low=low, high=END,
                                     descending=descending, prefilter=None, batch=100)
        rows = [row for _, row in zip(range(first), scan)]
        merged = self.write(self.store.merge_small_blocks, budget)
        record("block merge model: blocks merged", merged)
        record("block merge model: scans a merge cut across", int(bool(merged and rows)))
        rows += list(scan)
        got = [(r[0], r[4], r[3], names[r[2]]) for r in rows]
        expected = sorted((e for s in self.model.group(GROUP).streams.values() for e in s.events
                           if e.key >= low), key=lambda e: e.key, reverse=descending)
        assert got == [(e.timestamp, e.message, self.ingested[e.sequence], e.stream) for e in expected]

    # -- what must hold after every step ------------------------------------------------------------

    @invariant()
    def stored_bytes_are_true(self):
        group = self.store.get_log_group(GROUP)
        blocks = self.database.execute(
            "SELECT id, stream_id, ingestion_time, min_timestamp, max_timestamp, stored_bytes, "
            "timestamps, event_ids, ends, messages, ingestion_times FROM log_blocks WHERE group_id = ?",
            (group.id,)).fetchall()
        decoded = [(Block(BlockInfo(*row[:5]), *row[6:]), row[5]) for row in blocks]
        stored = [(block.row(i)[0], block.row(i)[4]) for block, _ in decoded for i in range(len(block))]
        assert group.stored_bytes == sum(b for _, b in decoded) == sum(len(m.encode()) + 26 for _, m in stored)
        ids = [int(i) for block, _ in decoded for i in block.ids]
        assert len(ids) == len(set(ids)), "an event is stored twice"
        for block, _ in decoded:
            keys = list(zip(block.timestamps.tolist(), block.ids.tolist()))
            assert keys == sorted(keys), "a block's events are out of key order"
            assert block.timestamps[-1] - block.timestamps[0] <= 24 * 3600 * 1000
        modelled = sorted((e.timestamp, e.message) for s in self.model.group(GROUP).streams.values()
                          for e in s.events)
        if self.model.group(GROUP).retention_days is None:
            assert sorted(stored) == modelled
        else:  # events past the cutoff may wait in a block that straddles it, unseen
            assert set(modelled) <= set(stored)

    @invariant()
    def the_cache_holds_no_block_that_is_gone(self):
        cached = list(self.store._cache)
        if cached:
            marks = ", ".join("?" * len(cached))
            present = {row[0] for row in self.database.execute(
                f"SELECT id FROM log_blocks WHERE id IN ({marks})", cached)}
            assert set(cached) <= present


def test_merging_matches_the_model():
    run_state_machine_as_test(MergingAgainstModel, settings=settings(
        max_examples=60, stateful_step_count=40, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))


# -- the pure parts -----------------------------------------------------------------------------------


def test_merge_runs_keep_within_what_one_request_could_write():
    small = [SmallBlock(i, 1, i * 1000, i * 1000 + 10, 900, 100_000) for i in range(1, 30)]
    runs = merge_runs(small)
    assert [b for run in runs for b in run] == small
    for run in runs:
        assert sum(b.event_count for b in run) <= MAX_BLOCK_EVENTS
        assert sum(b.stored_bytes for b in run) <= MAX_BLOCK_STORED_BYTES
    assert [len(run) for run in runs] == [10] * 2 + [9]  # 10 x 100,000 bytes fit in 1 MiB


def test_merge_runs_never_cross_streams_or_the_span():
    blocks = [SmallBlock(1, 1, 0, 5, 1, 30), SmallBlock(2, 1, 10, 20, 1, 30),
              SmallBlock(3, 2, 10, 20, 1, 30),
              SmallBlock(4, 2, 30 + MAX_MERGED_SPAN_MS, 40 + MAX_MERGED_SPAN_MS, 1, 30)]
    assert [[b.id for b in run] for run in merge_runs(blocks)] == [[1, 2], [3], [4]]


def _block(block_id, timestamps, first_id, messages, ingestion_time):
    ts = np.asarray(timestamps, dtype="<i8").tobytes()
    ids = np.arange(first_id, first_id + len(messages), dtype="<i8").tobytes()
    ends = np.cumsum([len(m) for m in messages]).astype("<u4").tobytes()
    return Block(BlockInfo(block_id, 1, ingestion_time, timestamps[0], timestamps[-1]), ts, ids, ends,
                 b"".join(messages))


def test_a_merged_block_keeps_each_events_key_message_and_ingestion_time():
    """Overlapping blocks (a late batch) interleave by (timestamp, id); each event keeps its own
    ingestion time, and a read over the merged block equals a read over the parts."""
    a = _block(1, [10, 20, 20, 30], 1, [b"a1", b"a2", "é3".encode(), b"a4"], 100)
    b = _block(2, [15, 20, 40], 5, [b"b1", b"b2", b"b3"], 200)
    merged = merge_blocks([a, b], stored_bytes=123)
    block = Block(BlockInfo(9, 1, merged.ingestion_time, merged.min_timestamp, merged.max_timestamp),
                  merged.timestamps, merged.ids, merged.ends, merged.messages, merged.ingestion_times)
    rows = [block.row(i) for i in range(len(block))]
    assert rows == sorted([a.row(i) for i in range(len(a))] + [b.row(i) for i in range(len(b))])
    assert [r[3] for r in rows] == [100, 200, 100, 100, 200, 100, 200]
    assert merged.stored_bytes == 123 and merged.ingestion_time == 200 and merged.last_event_id == 7
    assert block.rows(np.arange(len(block))) == rows
    assert block.index_at((20, 3)) == 3 and block.index_at((20, 6)) == 4 and block.index_at((20, 7)) == 5


def test_a_read_that_meets_a_vanished_block_lists_again_from_where_it_is():
    """Blocks 1 and 2 are listed, 1 is read, then both are merged into 3: the read goes on with
    block 3 from just past the last event it returned, in both directions."""
    one = _block(1, [1, 2, 3], 1, [b"a", b"b", b"c"], 0)
    two = _block(2, [4, 5, 6], 4, [b"d", b"e", b"f"], 0)
    merged = merge_blocks([one, two], stored_bytes=0)
    three = Block(BlockInfo(3, 1, 0, 1, 6), merged.timestamps, merged.ids, merged.ends, merged.messages,
                  merged.ingestion_times)
    for forward in (True, False):
        stored = {1: one, 2: two}
        listings = []

        def listing(low, high):
            listings.append((low, high))
            infos = [b.info for b in stored.values()]
            return sorted(infos, key=lambda i: (i.min_timestamp, i.id) if forward else (-i.max_timestamp, -i.id))

        reader = merge_resuming(listing, lambda info: stored.get(info.id), low=(0, 0), high=END,
                                forward=forward)
        got = [next(reader)[4] for _ in range(2)]
        stored.clear()
        stored[3] = three
        got += [row[4] for row in reader]
        assert got == (list("abcdef") if forward else list("fedcba"))
        assert len(listings) == 2


def test_events_expired_inside_a_merged_block_stay_gone_when_the_policy_changes(tmp_path):
    """A merged block straddles the 1-day cutoff; PutRetentionPolicy deletes whole blocks only,
    so its older events are merely hidden. Deleting the policy (or lengthening it) must not bring
    them back, and storedBytes counts only what is left."""
    database = Database(tmp_path / "db")
    store = SQLiteLogStore(database)
    logs = LogsService(store, SQLiteTagStore(database), region="us-east-1", account_id="123456789012",
                       clock=lambda: NOW)
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName=STREAMS[0])
    start = NOW - DAY_MS - 10 * 60_000  # ten minutes before the cutoff, one batch a minute
    for minute in range(20):
        logs.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[0], logEvents=[
            {"timestamp": start + minute * 60_000 + i, "message": f"m{minute}.{i}"} for i in range(3)])
    assert store.merge_small_blocks(100) == 20
    assert database.execute("SELECT COUNT(*) FROM log_blocks").fetchone() == (1,)

    for policy_change in ("delete", "lengthen"):
        logs.put_retention_policy(logGroupName=GROUP, retentionInDays=1)
        if policy_change == "delete":
            logs.delete_retention_policy(logGroupName=GROUP)
        else:
            logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
        events = logs.get_log_events(logGroupName=GROUP, logStreamName=STREAMS[0],
                                     startFromHead=True)["events"]
        assert [e["message"] for e in events] == [f"m{m}.{i}" for m in range(10, 20) for i in range(3)]
        described = logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"][0]
        assert described["storedBytes"] == sum(len(e["message"]) + 26 for e in events)
        stream = logs.describe_log_streams(logGroupName=GROUP)["logStreams"][0]
        assert stream["firstEventTimestamp"] == start + 10 * 60_000

    # An event older than the old cutoff, written once no policy hides it, is kept.
    logs.delete_retention_policy(logGroupName=GROUP)
    logs.put_log_events(logGroupName=GROUP, logStreamName=STREAMS[0],
                        logEvents=[{"timestamp": NOW - 3 * DAY_MS, "message": "late"}])
    logs.put_retention_policy(logGroupName=GROUP, retentionInDays=7)
    events = logs.get_log_events(logGroupName=GROUP, logStreamName=STREAMS[0], startFromHead=True)
    assert events["events"][0]["message"] == "late"
    database.close()


_MERGER = """
import sys
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.logs import SQLiteLogStore
store = SQLiteLogStore(Database(sys.argv[1]))
while True:
    print(store.merge_small_blocks(4), flush=True)
"""


def test_a_merger_killed_midway_loses_and_duplicates_nothing(tmp_path):
    """kill -9 of a process merging blocks, at whatever point it has reached: on reopening, every
    event is there once, with its id, and storedBytes is what the blocks hold."""
    path = tmp_path / "db"
    database = Database(path)
    store = SQLiteLogStore(database)
    group = store.create_log_group("g", 0, kms_key_id=None, log_group_class="STANDARD",
                                   deletion_protection=False, tags=None, arn="arn:g")
    stream = store.create_log_stream(group.id, "s", 0)
    for batch in range(2000):
        messages = [f"batch {batch} line {i}".encode() for i in range(3)]
        store.append_log_events(stream, [NOW + batch * 100 + i for i in range(3)], messages, NOW + batch,
                                sum(len(m) + 26 for m in messages))
    everything = store.read_stream(stream.id, start=(0, 0), end=END, forward=True, limit=10**6)
    stored = store.get_log_group("g").stored_bytes
    database.close()

    merger = subprocess.Popen([sys.executable, "-c", _MERGER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(5):  # a few merges committed, and then some
            assert int(merger.stdout.readline()) > 0
    finally:
        os.kill(merger.pid, signal.SIGKILL)
        merger.wait()
        merger.stdout.close()

    database = Database(path)
    store = SQLiteLogStore(database)
    killed_at = database.execute("SELECT COUNT(*) FROM log_blocks").fetchone()[0]
    for _ in range(2):
        assert store.read_stream(stream.id, start=(0, 0), end=END, forward=True, limit=10**6) == everything
        assert store.get_log_group("g").stored_bytes == stored == database.execute(
            "SELECT SUM(stored_bytes) FROM log_blocks").fetchone()[0]
        while store.merge_small_blocks(256):
            pass
    assert killed_at > database.execute("SELECT COUNT(*) FROM log_blocks").fetchone()[0]
    database.close()
