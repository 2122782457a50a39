"""Log events in blocks: how both store backends keep events, read them back in order, and
search them.

A *block* is what one PutLogEvents request wrote to one stream: up to 10,000 events, at most
1 MB of messages, spanning at most 24 hours (the API's own limits). It is stored as one row of
four arrays: timestamps (int64), event ids (int64), message end offsets (uint32) and the UTF-8
messages concatenated. Writing a batch is then one insert, whatever its size, and searching a
block for a term is one C-speed ``bytes.find`` pass over its messages rather than a call per
event.

Order: every event has a key (timestamp, event id); ids are assigned at ingestion and increase
with it, so keys are unique and every listing is totally ordered. Events within a block are in key
order (a request's events are chronological). Blocks of a stream may overlap in time (parallel
writers, late batches), so reading merges the blocks that overlap, opening each only when the
merge reaches its first timestamp.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

# No accepted batch spans more than 24 hours, so a block that holds events at or after time t
# starts no earlier than t - MAX_BLOCK_SPAN_MS. Reads use this to bound their index scans.
MAX_BLOCK_SPAN_MS = 24 * 3600 * 1000

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

    __slots__ = ("info", "timestamps", "ids", "ends", "messages", "size")

    def __init__(self, info: BlockInfo, timestamps: bytes, ids: bytes, ends: bytes, messages: bytes):
        self.info = info
        self.timestamps = np.frombuffer(timestamps, dtype="<i8")
        self.ids = np.frombuffer(ids, dtype="<i8")
        self.ends = np.frombuffer(ends, dtype="<u4")
        self.messages = messages
        self.size = len(timestamps) + len(ids) + len(ends) + len(messages)

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def message(self, index: int) -> str:
        start = int(self.ends[index - 1]) if index else 0
        return self.messages[start:int(self.ends[index])].decode("utf-8")

    def row(self, index: int) -> EventRow:
        info = self.info
        return (int(self.timestamps[index]), int(self.ids[index]), info.stream_id,
                info.ingestion_time, self.message(index))

    def rows(self, indexes: np.ndarray) -> list[EventRow]:
        """Rows of many events at once (the common case: one block's run)."""
        stream_id, ingestion_time = self.info.stream_id, self.info.ingestion_time
        messages = self.messages
        ends = self.ends[indexes].tolist()
        starts = np.where(indexes > 0, self.ends[np.maximum(indexes - 1, 0)], 0).tolist()
        return [
            (timestamp, event_id, stream_id, ingestion_time, messages[start:end].decode("utf-8"))
            for timestamp, event_id, start, end in zip(
                self.timestamps[indexes].tolist(), self.ids[indexes].tolist(), starts, ends
            )
        ]

    def index_at(self, key: tuple[int, int]) -> int:
        """The first index whose (timestamp, id) is >= key."""
        timestamp, event_id = key
        index = int(np.searchsorted(self.timestamps, timestamp, side="left"))
        while index < len(self) and self.timestamps[index] == timestamp and self.ids[index] < event_id:
            index += 1
        return index

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
    load: Callable[[BlockInfo], Block | None],
    *,
    low: tuple[int, int],
    high: tuple[int, int],
    forward: bool,
    prefilter: tuple | None = None,
) -> Iterator[EventRow]:
    """Events with low <= key < high from the given blocks, in key order (descending when not
    ``forward``), restricted to the prefilter's candidates.

    ``infos`` must come ordered by min_timestamp ascending (forward) or max_timestamp descending
    (backward); blocks are loaded only when the merge reaches them. ``load`` answers None for a
    block deleted since it was listed, and the merge goes on without it.
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
            positions = (block.positions(low, high, forward, candidates(block, prefilter))
                         if block is not None else None)
            if positions is not None and positions.size:
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
