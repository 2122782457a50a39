"""The outbox: log events waiting for delivery, in order, in memory up to a bound, then on disk.

The reader puts runs of events (one timestamp, several messages) in; the delivery thread takes
PutLogEvents-sized batches out. While the server keeps up, events stay in memory. When more
than ``memory_limit`` bytes of messages wait (the server is down, or slower than the command),
every further run is appended to segment files under the spool directory instead, and keeps
going there until the disk is empty again, so the order never changes: memory holds the oldest
events, the segments the newer ones, oldest file first. When memory runs dry the oldest segment
is read back into it and its file deleted. Nothing is ever dropped; the disk is the only bound.

A segment line is one run, ``[timestamp_ms, [messages], [sizes]]`` in JSON (orjson).

The spool lives as long as the agent: a batch taken out is the delivery thread's until the
server acknowledges it, and a new agent starts with an empty spool.
"""

from __future__ import annotations

import collections
import itertools
import os
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from .capture import EVENT_OVERHEAD_BYTES

MEMORY_LIMIT_BYTES = 16 * 1024 * 1024
# A full PutLogEvents request (aws-behaviour.md §6.2): 10,000 events, 1,048,576 bytes counting
# 26 bytes an event. The delivery thread is woken when the outbox stops being empty and when a
# full request's worth waits; between, it sleeps until its linger time is up.
MAX_BATCH_EVENTS = 10_000
MAX_BATCH_BYTES = 1_048_576
SEGMENT_BYTES = 4 * 1024 * 1024


@dataclass
class Batch:
    """Events for one PutLogEvents request: runs of (timestamp_ms, messages), in order."""
    runs: list[tuple[int, list[str]]] = field(default_factory=list)
    events: int = 0
    size: int = 0    # message bytes + 26 per event, as PutLogEvents counts (aws-behaviour.md §6.2)

    @property
    def first_ms(self) -> int:
        return self.runs[0][0]


class Outbox:
    def __init__(self, spool_dir: Path, wake: threading.Event | None = None,
                 memory_limit: int = MEMORY_LIMIT_BYTES, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.spool_dir = Path(spool_dir)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.spool_dir.glob("*.seg"):  # a previous agent's, never ours
            stale.unlink()
        self.wake = wake or threading.Event()
        self.memory_limit = memory_limit
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        # In memory: [timestamp_ms, messages, sizes, offset, put_at]: offset = the first message
        # not yet taken, put_at = when it was put (monotonic; 0 for runs read back from disk).
        self._runs: collections.deque[list] = collections.deque()
        self._memory_bytes = 0
        self._segments: collections.deque[Path] = collections.deque()
        self._writing = None        # the open file of the newest segment
        self._writing_bytes = 0
        self._next_segment = 0
        self.pending_events = 0     # in memory and on disk
        self.pending_bytes = 0
        self.oldest_put = None      # monotonic time of the oldest event waiting (None: none)
        self.closed = False
        self.spilled_runs = 0       # runs that went through the disk (the agent's report)

    # -- the reader's side ----------------------------------------------------------------

    def put(self, ms: int, messages: list[str], sizes: list[int]) -> None:
        size = sum(sizes) + EVENT_OVERHEAD_BYTES * len(messages)
        now = time.monotonic()
        with self._lock:
            if self._segments or self._memory_bytes + size > self.memory_limit:
                self._spill(ms, messages, sizes, size)
            else:
                self._runs.append([ms, messages, sizes, 0, now])
                self._memory_bytes += size
            was_empty = self.pending_events == 0
            if was_empty:
                self.oldest_put = now
            self.pending_events += len(messages)
            self.pending_bytes += size
            full = self.full
        if was_empty or full:
            self.wake.set()

    @property
    def full(self) -> bool:
        """A full PutLogEvents request's worth is waiting."""
        return self.pending_events >= MAX_BATCH_EVENTS or self.pending_bytes >= MAX_BATCH_BYTES

    def close(self) -> None:
        """No more events will come."""
        with self._lock:
            self.closed = True
        self.wake.set()

    # -- the delivery side ----------------------------------------------------------------

    def take(self, max_events: int, max_bytes: int, max_span_ms: int) -> Batch | None:
        """Remove and return the oldest events that fit one request: at most ``max_events``,
        ``max_bytes`` (message bytes + 26 each) and a span of ``max_span_ms``."""
        batch = Batch()
        with self._lock:
            while batch.events < max_events:
                if not self._runs and not self._load_segment():
                    break
                run = self._runs[0]
                ms, messages, sizes, offset, _ = run
                if batch.runs and ms - batch.first_ms > max_span_ms:
                    break
                count = min(len(messages) - offset, max_events - batch.events)
                room = max_bytes - batch.size
                wanted = sum(sizes[offset:offset + count]) + EVENT_OVERHEAD_BYTES * count
                if wanted > room:
                    totals = list(itertools.accumulate(
                        s + EVENT_OVERHEAD_BYTES for s in sizes[offset:offset + count]))
                    count = bisect_right(totals, room)
                    wanted = totals[count - 1] if count else 0
                if count == 0:
                    break
                batch.runs.append((ms, messages[offset:offset + count] if offset or count < len(messages) else messages))
                batch.events += count
                batch.size += wanted
                self._memory_bytes -= wanted
                if offset + count == len(messages):
                    self._runs.popleft()
                else:
                    run[3] = offset + count
            self.pending_events -= batch.events
            self.pending_bytes -= batch.size
            if not self.pending_events:
                self.oldest_put = None
            else:  # what is left waited since its run was put (read back from disk: long enough)
                self.oldest_put = self._runs[0][4] if self._runs else 0.0
        return batch if batch.events else None

    # -- the disk -------------------------------------------------------------------------

    def _spill(self, ms: int, messages: list[str], sizes: list[int], size: int) -> None:
        if self._writing is None or self._writing_bytes >= self.segment_bytes:
            self._close_writing()
            path = self.spool_dir / f"{self._next_segment:012d}.seg"
            self._next_segment += 1
            self._writing = open(path, "ab")
            self._writing_bytes = 0
            self._segments.append(path)
        line = orjson.dumps([ms, messages, sizes]) + b"\n"
        self._writing.write(line)
        self._writing_bytes += len(line)
        self.spilled_runs += 1

    def _close_writing(self) -> None:
        if self._writing is not None:
            self._writing.close()
            self._writing = None

    def _load_segment(self) -> bool:
        """Read the oldest segment back into memory (memory is empty); False if there is none."""
        if not self._segments:
            return False
        path = self._segments.popleft()
        if self._writing is not None and self._writing.name == str(path):
            self._close_writing()
        with open(path, "rb") as segment:
            for line in segment:
                ms, messages, sizes = orjson.loads(line)
                self._runs.append([ms, messages, sizes, 0, 0.0])
                self._memory_bytes += sum(sizes) + EVENT_OVERHEAD_BYTES * len(messages)
        os.unlink(path)
        return True
