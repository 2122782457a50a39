"""Log events in blocks: how both store backends keep events, read them back in order, and
search them.

A *block* is what one PutLogEvents request wrote to one stream: up to 10,000 events, at most
1 MB of messages, spanning at most 24 hours (the API's own limits). It is stored as one row of
four arrays: timestamps (int64), event ids (int64), message end offsets (uint32) and the UTF-8
messages concatenated. Writing a batch is then one insert, whatever its size, and searching a
block for a term is one C-speed ``bytes.find`` pass over its messages rather than a call per
event.

Small blocks of a stream are later merged into larger ones (``merge_runs`` picks them,
``merge_blocks`` builds the result), no larger than one request's and spanning at most an hour,
so a job that ships a handful of lines every 100 ms does not leave its stream as thousands of
tiny blocks. A merged block keeps every event's id and timestamp, and carries a fifth array:
each event's ingestion time (a single-request block has one for all its events). A read that
listed blocks before a merge replaced them lists again from where it is (``merge_resuming``).

Order: every event has a key (timestamp, event id); ids are assigned at ingestion and increase
with it, so keys are unique and every listing is totally ordered. Events within a block are in key
order (a request's events are chronological; a merge sorts its events by key). Blocks of a stream may overlap in time (parallel
writers, late batches), so reading merges the blocks that overlap, opening each only when the
merge reaches its first timestamp.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

# No accepted batch spans more than 24 hours, so a block that holds events at or after time t
# starts no earlier than t - MAX_BLOCK_SPAN_MS. Reads use this to bound their index scans, and
# merging keeps every merged block within it too.
MAX_BLOCK_SPAN_MS = 24 * 3600 * 1000
# What one PutLogEvents request may carry (botocore:logs:PutLogEvents, aws-behaviour.md §6.2:
# 10,000 events, 1,048,576 bytes counting 26 bytes per event): a merged block is never larger
# than a block one request could have written, so no read pays more for one block than before.
MAX_BLOCK_EVENTS = 10_000
MAX_BLOCK_STORED_BYTES = 1_048_576
# Stored bytes are message bytes plus 26 per event, as AWS counts a batch's size (§6.2).
EVENT_OVERHEAD_BYTES = 26
# A merged block spans at most an hour (a request's block may span 24): retention deletes whole
# blocks once their newest event expires, so this bounds how long expired events linger in
# storedBytes (AWS itself deletes expired events lazily, "typically ... up to 72 hours", §6.1).
MAX_MERGED_SPAN_MS = 3600 * 1000

EventRow = tuple[int, int, int, int, str]  # (timestamp, id, stream id, ingestion time, message)


@dataclass(slots=True)
class BlockInfo:
    """A block's row without its arrays (what the index scans return)."""

    id: int
    stream_id: int
    ingestion_time: int
    min_timestamp: int
    max_timestamp: int


class Block:
    """A decoded block."""

    __slots__ = ("info", "timestamps", "ids", "ends", "messages", "ingestion_times", "size")

    def __init__(self, info: BlockInfo, timestamps: bytes, ids: bytes, ends: bytes, messages: bytes,
                 ingestion_times: bytes | None = None):
        self.info = info
        self.timestamps = np.frombuffer(timestamps, dtype="<i8")
        self.ids = np.frombuffer(ids, dtype="<i8")
        self.ends = np.frombuffer(ends, dtype="<u4")
        self.messages = messages
        # None: every event was ingested at info.ingestion_time (one request's block).
        self.ingestion_times = (np.frombuffer(ingestion_times, dtype="<i8")
                                if ingestion_times is not None else None)
        self.size = (len(timestamps) + len(ids) + len(ends) + len(messages)
                     + (len(ingestion_times) if ingestion_times is not None else 0))

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def message(self, index: int) -> str:
        start = int(self.ends[index - 1]) if index else 0
        return self.messages[start:int(self.ends[index])].decode("utf-8")

    def ingestion_time(self, index: int) -> int:
        times = self.ingestion_times
        return self.info.ingestion_time if times is None else int(times[index])

    def row(self, index: int) -> EventRow:
        return (int(self.timestamps[index]), int(self.ids[index]), self.info.stream_id,
                self.ingestion_time(index), self.message(index))

    def rows(self, indexes: np.ndarray) -> list[EventRow]:
        """Rows of many events at once (the common case: one block's run)."""
        stream_id = self.info.stream_id
        messages = self.messages
        ends = self.ends[indexes].tolist()
        starts = np.where(indexes > 0, self.ends[np.maximum(indexes - 1, 0)], 0).tolist()
        if self.ingestion_times is None:
            ingestion_times = itertools.repeat(self.info.ingestion_time)
        else:
            ingestion_times = self.ingestion_times[indexes].tolist()
        return [
            (timestamp, event_id, stream_id, ingestion_time, messages[start:end].decode("utf-8"))
            for timestamp, event_id, ingestion_time, start, end in zip(
                self.timestamps[indexes].tolist(), self.ids[indexes].tolist(), ingestion_times,
                starts, ends,
            )
        ]

    def index_at(self, key: tuple[int, int]) -> int:
        """The first index whose (timestamp, id) is >= key."""
        timestamp, event_id = key
        start = int(np.searchsorted(self.timestamps, timestamp, side="left"))
        stop = int(np.searchsorted(self.timestamps, timestamp, side="right"))
        # Ids ascend among events of one timestamp (key order), and a merged block of a busy
        # stream can hold thousands of them: a second search, not a walk.
        return start + int(np.searchsorted(self.ids[start:stop], event_id, side="left"))

    def positions(self, low: tuple[int, int], high: tuple[int, int], forward: bool,
                  candidates: np.ndarray | None) -> np.ndarray:
        """Indexes of events with low <= key < high (among candidates), in reading order."""
        start, stop = self.index_at(low), self.index_at(high)
        if candidates is None:
            chosen = np.arange(start, stop)
        else:
            chosen = candidates[(candidates >= start) & (candidates < stop)]
        return chosen if forward else chosen[::-1]


def encode(timestamps: list[int], first_id: int, messages: list[bytes]) -> tuple[bytes, bytes, bytes, bytes]:
    """(timestamps, ids, ends, messages) blobs of a new block."""
    count = len(messages)
    ends = np.cumsum(np.fromiter(map(len, messages), dtype=np.int64, count=count)).astype("<u4")
    return (
        np.asarray(timestamps, dtype="<i8").tobytes(),
        np.arange(first_id, first_id + count, dtype="<i8").tobytes(),
        ends.tobytes(),
        b"".join(messages),
    )


# -- searching ----------------------------------------------------------------------------------

# A needle found in more than this share of a block's events is not worth locating one by one:
# the block is handed over whole and the exact matcher decides.
_DENSE_SHARE = 0.5


def candidates(block: Block, prefilter: tuple | None) -> np.ndarray | None:
    """Sorted indexes of the events that may satisfy ``prefilter`` (None: all may)."""
    if prefilter is None:
        return None
    kind = prefilter[0]
    if kind == "substr":
        return _containing(block, prefilter[1].encode("utf-8"))
    parts = [candidates(block, sub) for sub in prefilter[1]]
    if kind == "and":
        known = [p for p in parts if p is not None]
        if not known:
            return None
        result = known[0]
        for part in known[1:]:
            result = np.intersect1d(result, part, assume_unique=True)
        return result
    if any(p is None for p in parts):
        return None
    return np.unique(np.concatenate(parts)) if parts else np.empty(0, np.int64)


def _containing(block: Block, needle: bytes) -> np.ndarray | None:
    find = block.messages.find
    limit = max(16, int(len(block) * _DENSE_SHARE))
    hits: list[int] = []
    position = find(needle)
    while position != -1:
        hits.append(position)
        if len(hits) > limit:
            return None
        position = find(needle, position + 1)
    if not hits:
        return np.empty(0, np.int64)
    # A hit may straddle two messages (they are stored back to back); the event where it starts
    # is a candidate either way, and the exact matcher rejects it.
    return np.unique(np.searchsorted(block.ends, np.asarray(hits), side="right"))


# -- merging ------------------------------------------------------------------------------------

# Runs are decoded this many events at a time, so a reader that stops early (a page limit) does
# not pay for the rest of the block.
_RUN_CHUNK = 1024


def merge(
    infos: Iterable[BlockInfo],
    load: Callable[[BlockInfo], Block],
    *,
    low: tuple[int, int],
    high: tuple[int, int],
    forward: bool,
    prefilter: tuple | None = None,
) -> Iterator[EventRow]:
    """Events with low <= key < high from the given blocks, in key order (descending when not
    ``forward``), restricted to the prefilter's candidates.

    ``infos`` must come ordered by min_timestamp ascending (forward) or max_timestamp descending
    (backward); blocks are loaded only when the merge reaches them (a block gone since it was
    listed is ``merge_resuming``'s to handle: ``load`` raises).
    """
    sign = 1 if forward else -1
    infos = iter(infos)
    pending = next(infos, None)
    heap: list[tuple[int, int, int, Block, np.ndarray, int]] = []  # (ts, id, seq, block, positions, p)
    seq = 0

    def reachable(info: BlockInfo) -> bool:
        """Whether the pending block may hold the next key (ties open it: ids decide)."""
        if not heap:
            return True
        top = heap[0][0] * sign
        return info.min_timestamp <= top if forward else info.max_timestamp >= top

    while True:
        while pending is not None and reachable(pending):
            block = load(pending)
            positions = block.positions(low, high, forward, candidates(block, prefilter))
            if positions.size:
                first = int(positions[0])
                heapq.heappush(heap, (sign * int(block.timestamps[first]), sign * int(block.ids[first]),
                                      seq, block, positions, 0))
                seq += 1
            pending = next(infos, None)
        if not heap:
            return
        _, _, order, block, positions, p = heap[0]
        if len(heap) == 1:
            # One block in play: emit its run up to where the next block could interleave.
            stop = positions.size
            if pending is not None:
                bound = pending.min_timestamp if forward else pending.max_timestamp
                times = block.timestamps[positions[p:]]
                inside = times < bound if forward else times > bound
                stop = p + int(np.argmin(inside)) if not inside.all() else positions.size
            for chunk in range(p, stop, _RUN_CHUNK):
                yield from block.rows(positions[chunk:min(chunk + _RUN_CHUNK, stop)])
            heapq.heappop(heap)
            if stop < positions.size:
                nxt = int(positions[stop])
                heapq.heappush(heap, (sign * int(block.timestamps[nxt]), sign * int(block.ids[nxt]),
                                      order, block, positions, stop))
            continue
        heapq.heappop(heap)
        yield block.row(int(positions[p]))
        if p + 1 < positions.size:
            nxt = int(positions[p + 1])
            heapq.heappush(heap, (sign * int(block.timestamps[nxt]), sign * int(block.ids[nxt]),
                                  order, block, positions, p + 1))


class BlockVanished(Exception):
    """A block listed by a read was gone when the read came to load it (merged or deleted)."""


def merge_resuming(
    list_blocks: Callable[[tuple[int, int], tuple[int, int]], Iterable[BlockInfo]],
    load: Callable[[BlockInfo], Block | None],
    *,
    low: tuple[int, int],
    high: tuple[int, int],
    forward: bool,
    prefilter: tuple | None = None,
) -> Iterator[EventRow]:
    """``merge`` over the blocks ``list_blocks(low, high)`` names, surviving block merges.

    A read lists its blocks, then loads each when the merge reaches it; a merge of small blocks
    that commits in between replaces listed blocks by one the listing does not name. Events are
    never lost that way: when a listed block is gone, the read lists again from just past the
    last event it returned (positions are keys, and a merge keeps every key), so it goes on with
    the merged block, and with none of a deleted one. No event is skipped or repeated.
    """
    def strict(info: BlockInfo) -> Block:
        block = load(info)
        if block is None:
            raise BlockVanished(info.id)
        return block

    while True:
        listing = list_blocks(low, high)
        try:
            for row in merge(listing, strict, low=low, high=high, forward=forward,
                             prefilter=prefilter):
                yield row
                if forward:
                    low = (row[0], row[1] + 1)
                else:
                    high = (row[0], row[1])
            return
        except BlockVanished:
            continue
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()  # a database listing holds a cursor (and its snapshot) until closed


# -- merging small blocks into larger ones ---------------------------------------------------------


@dataclass(slots=True)
class SmallBlock:
    """What the store knows of a merge candidate without loading it."""

    id: int
    stream_id: int
    min_timestamp: int
    max_timestamp: int
    event_count: int
    stored_bytes: int


def merge_runs(candidates: Iterable[SmallBlock]) -> list[list[SmallBlock]]:
    """Group candidates into runs to merge, each within one stream, within what one request
    could write (events, bytes) and within MAX_MERGED_SPAN_MS. ``candidates`` come in (stream id,
    first timestamp, id) order: neighbours in time, so a merged block rarely overlaps another.
    Every candidate is in exactly one run, in order; a run of one has nothing to merge with."""
    runs: list[list[SmallBlock]] = []
    run: list[SmallBlock] = []
    events = stored = 0
    first = last = 0
    for block in candidates:
        if run and (
            block.stream_id != run[0].stream_id
            or events + block.event_count > MAX_BLOCK_EVENTS
            or stored + block.stored_bytes > MAX_BLOCK_STORED_BYTES
            or max(last, block.max_timestamp) - min(first, block.min_timestamp) > MAX_MERGED_SPAN_MS
        ):
            runs.append(run)
            run = []
        if not run:
            events = stored = 0
            first, last = block.min_timestamp, block.max_timestamp
        run.append(block)
        events += block.event_count
        stored += block.stored_bytes
        first, last = min(first, block.min_timestamp), max(last, block.max_timestamp)
    if run:
        runs.append(run)
    return runs


@dataclass(slots=True)
class NewBlock:
    """A block made from stored ones (merged or trimmed): its events keep their ids,
    timestamps and ingestion times."""

    min_timestamp: int
    max_timestamp: int
    event_count: int
    last_event_id: int
    stored_bytes: int
    ingestion_time: int  # the newest of its events' (the block-level column)
    timestamps: bytes
    ids: bytes
    ends: bytes
    messages: bytes
    ingestion_times: bytes | None

    def row(self) -> tuple:
        """The columns after (group_id, stream_id), in log_blocks order."""
        return (self.ingestion_time, self.min_timestamp, self.max_timestamp, self.event_count,
                self.last_event_id, self.stored_bytes, self.timestamps, self.ids, self.ends,
                self.messages, self.ingestion_times)


def trimmed(block: Block, cutoff: int) -> NewBlock | None:
    """The block without its events older than ``cutoff`` (None: nothing is left)."""
    keep = int(np.searchsorted(block.timestamps, cutoff, side="left"))
    if keep >= len(block):
        return None
    start = int(block.ends[keep - 1]) if keep else 0
    messages = block.messages[start:]
    times = block.ingestion_times
    return NewBlock(
        min_timestamp=int(block.timestamps[keep]),
        max_timestamp=int(block.timestamps[-1]),
        event_count=len(block) - keep,
        last_event_id=int(block.ids[keep:].max()),
        stored_bytes=len(messages) + EVENT_OVERHEAD_BYTES * (len(block) - keep),
        ingestion_time=block.info.ingestion_time if times is None else int(times[keep:].max()),
        timestamps=block.timestamps[keep:].tobytes(),
        ids=block.ids[keep:].tobytes(),
        ends=(block.ends[keep:].astype(np.int64) - start).astype("<u4").tobytes(),
        messages=messages,
        ingestion_times=None if times is None else times[keep:].tobytes(),
    )


def merge_blocks(blocks: list[Block], stored_bytes: int) -> NewBlock:
    """One block holding every event of ``blocks``, in key order; ``stored_bytes`` is theirs
    summed (the group's storedBytes does not change)."""
    timestamps = np.concatenate([b.timestamps for b in blocks])
    ids = np.concatenate([b.ids for b in blocks])
    ingestion = np.concatenate([
        b.ingestion_times if b.ingestion_times is not None
        else np.full(len(b), b.info.ingestion_time, dtype="<i8")
        for b in blocks
    ])
    # Each message's bounds in the blocks' messages laid end to end.
    offsets = np.cumsum([0] + [len(b.messages) for b in blocks[:-1]])
    ends = np.concatenate([b.ends.astype(np.int64) + offset for b, offset in zip(blocks, offsets)])
    joined = b"".join(b.messages for b in blocks)
    order = np.lexsort((ids, timestamps))
    if np.array_equal(order, np.arange(order.size)):
        # The usual case: the blocks follow each other in time, and the concatenation is sorted.
        messages, new_ends = joined, ends
    else:
        # Overlapping blocks (two writers, a late batch): messages move with their events.
        starts = np.concatenate(([0], ends[:-1]))
        starts, ends = starts[order].tolist(), ends[order].tolist()
        messages = b"".join(joined[s:e] for s, e in zip(starts, ends))
        new_ends = np.cumsum(np.asarray(ends) - np.asarray(starts))
        timestamps, ids, ingestion = timestamps[order], ids[order], ingestion[order]
    return NewBlock(
        min_timestamp=int(timestamps[0]),
        max_timestamp=int(timestamps[-1]),
        event_count=int(timestamps.size),
        last_event_id=int(ids.max()),
        stored_bytes=stored_bytes,
        ingestion_time=int(ingestion.max()),
        timestamps=np.ascontiguousarray(timestamps, dtype="<i8").tobytes(),
        ids=np.ascontiguousarray(ids, dtype="<i8").tobytes(),
        ends=np.asarray(new_ends, dtype="<u4").tobytes(),
        messages=messages,
        ingestion_times=np.ascontiguousarray(ingestion, dtype="<i8").tobytes(),
    )
