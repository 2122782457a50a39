"""CloudWatch Logs tables: log groups, log streams, log events."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

from .. import Conflict, Gone
from ..log_blocks import (
    MAX_BLOCK_SPAN_MS, Block, BlockInfo, EventRow, SmallBlock, encode, merge_blocks, merge_resuming,
    merge_runs, trimmed,
)
from ..logs import LogGroup, LogStore, LogStream
from .database import Database
from .tags import SQLiteTagStore

_BLOCK_INFO = "id, stream_id, ingestion_time, min_timestamp, max_timestamp"
# Decoded blocks kept for paging readers (a tail or a paginated filter reads a block many times).
_BLOCK_CACHE_BYTES = 48 * 1024 * 1024
# A block worth merging with its neighbours: under a tenth of the events and an eighth of the
# bytes one request may write. A merged block usually ends up past this, and then it is left
# alone, so an event is rewritten a few times at most however long its stream grows. The
# partial index log_blocks_small (migration 5) has exactly this condition; SQLite uses it only
# for queries whose WHERE says the same.
_SMALL_BLOCK = "event_count < 1000 AND stored_bytes < 131072"
# A block rewritten from stored ones (merged or trimmed): group_id, stream_id, then NewBlock.row().
_INSERT_NEW_BLOCK = (
    "INSERT INTO log_blocks (group_id, stream_id, ingestion_time, min_timestamp, max_timestamp, "
    "event_count, last_event_id, stored_bytes, timestamps, event_ids, ends, messages, "
    "ingestion_times) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

_GROUP_COLUMNS = (
    "id, name, creation_time, retention_days, kms_key_id, log_group_class, "
    "deletion_protection, stored_bytes"
)
_STREAM_COLUMNS = (
    "id, group_id, name, creation_time, first_event_timestamp, last_event_timestamp, "
    "last_ingestion_time"
)


def _group(row) -> LogGroup:
    return LogGroup(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7])


def _stream(row) -> LogStream:
    return LogStream(*row)


class SQLiteLogStore(LogStore):
    def __init__(self, database: Database) -> None:
        self.database = database
        # Ids below the high-water mark may have been handed out and deleted since: never again.
        self._next_event_id = database.execute(
            "SELECT value FROM counters WHERE name = 'log_event_id'"
        ).fetchone()[0] + 1
        # Keyed by block id, which is never reused (AUTOINCREMENT, migration 3), so an entry can
        # only ever name the block it was loaded from; deletes drop their entries to free memory.
        self._cache: OrderedDict[int, Block] = OrderedDict()
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        # Counts _forget calls: a block read from the database while one ran may be one it just
        # dropped, and is then returned to its reader but not cached.
        self._cache_epoch = 0
        # Where the merge of small blocks goes on: the (stream id, first timestamp, block id) of
        # the last candidate examined; None: from the start.
        self._merge_cursor: tuple[int, int, int] | None = None
        self._merge_lock = threading.Lock()

    # -- log groups -------------------------------------------------------------------------------

    def create_log_group(
        self, name, creation_time, *, kms_key_id, log_group_class, deletion_protection, tags, arn
    ) -> LogGroup:
        with self.database.write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_groups (name, creation_time, kms_key_id, log_group_class, "
                    "deletion_protection) VALUES (?, ?, ?, ?, ?)",
                    (name, creation_time, kms_key_id, log_group_class, int(deletion_protection)),
                )
            except sqlite3.IntegrityError:
                raise Conflict(name) from None
            SQLiteTagStore.replace_tags_in(db, arn, tags)
            group_id = cursor.lastrowid
        return LogGroup(group_id, name, creation_time, None, kms_key_id, log_group_class,
                        deletion_protection, 0)

    def get_log_group(self, name: str) -> LogGroup | None:
        row = self.database.execute(
            f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE name = ?", (name,)
        ).fetchone()
        return _group(row) if row else None

    def list_log_groups(self, *, prefix, contains, log_group_class, after, limit) -> list[LogGroup]:
        where, args = [], []
        if prefix:
            # A range on the name index rather than LIKE, which is case-insensitive in SQLite.
            where.append("name >= ? AND name < ?")
            args += [prefix, prefix + "\U0010ffff"]
        if contains:
            where.append("instr(name, ?) > 0")
            args.append(contains)
        if log_group_class:
            where.append("log_group_class = ?")
            args.append(log_group_class)
        if after is not None:
            where.append("name > ?")
            args.append(after)
        sql = f"SELECT {_GROUP_COLUMNS} FROM log_groups"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name LIMIT ?"
        return [_group(r) for r in self.database.execute(sql, (*args, limit))]

    def delete_log_group(self, group: LogGroup, arn: str) -> None:
        with self.database.write() as db:
            deleted = _ids(db.execute("DELETE FROM log_blocks WHERE group_id = ? RETURNING id",
                                      (group.id,)))
            db.execute("DELETE FROM log_streams WHERE group_id = ?", (group.id,))
            db.execute("DELETE FROM log_groups WHERE id = ?", (group.id,))
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
        self._forget(deleted)

    def set_retention(self, group_id: int, days: int | None) -> None:
        """Events expired under the old policy stay gone under the new one, even those still
        inside a block that straddled the cutoff (readers only hid them, bounding their reads
        by the policy in force): such blocks are cut at the cutoff first."""
        with self.database.write() as db:
            deleted = self._trim_expired(db, group_id)
            # The mark is spent: events older than it may be written again under the new policy
            # (up to 14 days old with none), and must not be cut by the next change.
            db.execute("UPDATE log_groups SET retention_days = ?, expired_before = NULL WHERE id = ?",
                       (days, group_id))
        self._forget(deleted)

    def _trim_expired(self, db: sqlite3.Connection, group_id: int) -> list[int]:
        """Rewrite each block of the group holding events older than the last cutoff applied
        without them (a new block: ids name contents, see _forget), and free their bytes.
        Straddling blocks are few (one or two a stream), and policies change rarely."""
        row = db.execute("SELECT expired_before FROM log_groups WHERE id = ?", (group_id,)).fetchone()
        cutoff = row[0] if row else None
        if cutoff is None:
            return []
        rows = db.execute(
            f"SELECT {_BLOCK_INFO}, stored_bytes, timestamps, event_ids, ends, messages, "
            "ingestion_times FROM log_blocks WHERE group_id = ? AND min_timestamp < ?",
            (group_id, cutoff),
        ).fetchall()
        if not rows:
            return []
        freed = 0
        for row in rows:
            block = Block(BlockInfo(*row[:5]), *row[6:])
            kept = trimmed(block, cutoff)
            freed += row[5] - (kept.stored_bytes if kept is not None else 0)
            if kept is not None:
                db.execute(_INSERT_NEW_BLOCK, (group_id, block.info.stream_id, *kept.row()))
        deleted = _ids(db.execute(
            "DELETE FROM log_blocks WHERE group_id = ? AND min_timestamp < ? RETURNING id",
            (group_id, cutoff)))
        _events_removed(db, group_id, freed, cutoff)
        return deleted

    def expire_events(self, group_id: int, older_than: int) -> int:
        """Delete the blocks whose every event is older than ``older_than``; readers never see
        the older events of a block that straddles it (they bound their reads by retention,
        and ``set_retention`` cuts such blocks before the bound moves back)."""
        with self.database.write() as db:
            db.execute("UPDATE log_groups SET expired_before = MAX(COALESCE(expired_before, ?), ?) "
                       "WHERE id = ?", (older_than, older_than, group_id))
            rows = db.execute(
                "DELETE FROM log_blocks WHERE group_id = ? AND max_timestamp < ? "
                "RETURNING id, stored_bytes, event_count",
                (group_id, older_than),
            ).fetchall()
            if not rows:
                return 0
            _events_removed(db, group_id, sum(row[1] for row in rows), older_than)
        self._forget([row[0] for row in rows])
        return sum(row[2] for row in rows)

    def log_groups_with_retention(self) -> list[LogGroup]:
        return [
            _group(r)
            for r in self.database.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE retention_days IS NOT NULL"
            )
        ]

    # -- log streams ------------------------------------------------------------------------------

    def create_log_stream(self, group_id: int, name: str, creation_time: int) -> LogStream:
        with self.database.write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) SELECT ?, ?, ? "
                    "WHERE EXISTS (SELECT 1 FROM log_groups WHERE id = ?)",
                    (group_id, name, creation_time, group_id),
                )
            except sqlite3.IntegrityError:
                raise Conflict(name) from None
            if not cursor.rowcount:
                raise Gone(group_id)
            return LogStream(cursor.lastrowid, group_id, name, creation_time, None, None, None)

    def get_log_stream(self, group_id: int, name: str) -> LogStream | None:
        row = self.database.execute(
            f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE group_id = ? AND name = ?",
            (group_id, name),
        ).fetchone()
        return _stream(row) if row else None

    def list_log_streams(
        self, group_id, *, prefix, order_by_last_event, descending, after, limit
    ) -> list[LogStream]:
        where, args = ["group_id = ?"], [group_id]
        if prefix:
            where.append("name >= ? AND name < ?")
            args += [prefix, prefix + "\U0010ffff"]
        direction = "DESC" if descending else "ASC"
        if order_by_last_event:
            # Streams with no events sort as if their last event were at time 0.
            key = "(COALESCE(last_event_timestamp, 0), id)"
            order = f"COALESCE(last_event_timestamp, 0) {direction}, id {direction}"
        else:
            key = "name"
            order = f"name {direction}"
        if after is not None:
            where.append(f"{key} {'<' if descending else '>'} {'(?, ?)' if order_by_last_event else '?'}")
            args += list(after) if order_by_last_event else [after]
        sql = (
            f"SELECT {_STREAM_COLUMNS} FROM log_streams WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT ?"
        )
        return [_stream(r) for r in self.database.execute(sql, (*args, limit))]

    def delete_log_stream(self, stream: LogStream) -> None:
        with self.database.write() as db:
            rows = db.execute("DELETE FROM log_blocks WHERE stream_id = ? RETURNING id, stored_bytes",
                              (stream.id,)).fetchall()
            db.execute("DELETE FROM log_streams WHERE id = ?", (stream.id,))
            db.execute(
                "UPDATE log_groups SET stored_bytes = MAX(stored_bytes - ?, 0) WHERE id = ?",
                (sum(row[1] for row in rows), stream.group_id),
            )
        self._forget([row[0] for row in rows])

    # -- log events -------------------------------------------------------------------------------


    def append_log_events(
        self, stream: LogStream, timestamps: Sequence[int], messages: Sequence[bytes],
        ingestion_time: int, stored_bytes: int,
    ) -> None:
        """One block for the batch (events in chronological order, as the service checked)."""
        group_id, stream_id = stream.group_id, stream.id
        first, last = timestamps[0], timestamps[-1]
        with self.database.write() as db:
            # The stream first: if it was deleted since the caller looked it up, nothing is
            # written (a block of a deleted stream would be stored bytes nobody can read or free).
            if not db.execute(
                "UPDATE log_streams SET "
                "first_event_timestamp = MIN(COALESCE(first_event_timestamp, ?), ?), "
                "last_event_timestamp = MAX(COALESCE(last_event_timestamp, ?), ?), "
                "last_ingestion_time = ? WHERE id = ?",
                (first, first, last, last, ingestion_time, stream_id),
            ).rowcount:
                raise Gone(stream_id)
            first_id = self._next_event_id
            db.execute("UPDATE counters SET value = ? WHERE name = 'log_event_id'",
                       (first_id + len(messages) - 1,))
            db.execute(
                "INSERT INTO log_blocks (group_id, stream_id, ingestion_time, min_timestamp, "
                "max_timestamp, event_count, last_event_id, stored_bytes, timestamps, event_ids, "
                "ends, messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (group_id, stream_id, ingestion_time, first, last, len(messages),
                 first_id + len(messages) - 1, stored_bytes,
                 *encode(timestamps, first_id, messages)),
            )
            db.execute(
                "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?",
                (stored_bytes, group_id),
            )
            self._next_event_id = first_id + len(messages)

    def read_stream(self, stream_id, *, start, end, forward, limit) -> list[EventRow]:
        rows = []
        if limit <= 0:
            return rows

        def listing(low, high):
            return self._blocks("stream_id", stream_id, None, low, high, forward)

        for row in merge_resuming(listing, self._load, low=start, high=end, forward=forward):
            rows.append(row)
            if len(rows) >= limit:
                break
        return rows

    def scan_group(
        self, group_id, *, stream_ids, low, high, descending, prefilter, batch
    ) -> Iterator[EventRow]:
        def listing(low, high):
            return self._blocks("group_id", group_id, stream_ids, low, high, not descending)

        return merge_resuming(listing, self._load, low=low, high=high, forward=not descending,
                              prefilter=prefilter)

    # -- merging small blocks ---------------------------------------------------------------------

    def merge_small_blocks(self, budget: int = 4096) -> int:
        """Merge runs of a stream's small blocks, examining at most ``budget`` of them, and
        return how many blocks were merged into others (0: nothing left to do here; the next
        call goes on where this one stopped, and starts over after the last stream).

        Each run is merged in one transaction: the merged block is inserted and its sources
        deleted together, so a crash leaves either the sources or the merged block, never both
        or neither. Readers are unaffected: a merged block keeps every event's key (timestamp,
        id), which is all a token or a read position holds, and its message bytes, so the
        group's storedBytes is unchanged (the merged block's stored_bytes is its sources' sum).
        A read that listed a source before the merge lists again (``merge_resuming``).
        """
        with self._merge_lock:
            where, args = _SMALL_BLOCK, []
            if self._merge_cursor is not None:
                where += " AND (stream_id, min_timestamp, id) > (?, ?, ?)"
                args += self._merge_cursor
            rows = self.database.execute(
                "SELECT id, stream_id, min_timestamp, max_timestamp, event_count, stored_bytes "
                f"FROM log_blocks INDEXED BY log_blocks_small WHERE {where} "
                "ORDER BY stream_id, min_timestamp, id LIMIT ?",
                (*args, budget),
            ).fetchall()
            runs = merge_runs(SmallBlock(*row) for row in rows)
            if len(rows) < budget:
                self._merge_cursor = None
            elif len(runs) > 1:
                # The budget may have cut the last run short: it is examined whole next time.
                first = runs.pop()[0]
                self._merge_cursor = (first.stream_id, first.min_timestamp, first.id - 1)
            else:
                last = rows[-1]
                self._merge_cursor = (last[1], last[2], last[0])
            return sum(len(run) for run in runs if len(run) > 1 and self._merge_run(run))

    def _merge_run(self, run: list[SmallBlock]) -> bool:
        """Replace the run's blocks by one; False if one of them went meanwhile (a delete or a
        retention sweep got there first: nothing is written)."""
        ids = [block.id for block in run]
        marks = ", ".join("?" * len(ids))
        with self.database.write() as db:
            rows = db.execute(
                f"SELECT {_BLOCK_INFO}, group_id, stored_bytes, timestamps, event_ids, ends, "
                f"messages, ingestion_times FROM log_blocks WHERE id IN ({marks}) "
                "ORDER BY min_timestamp, id",
                ids,
            ).fetchall()
            if len(rows) != len(ids):
                return False
            merged = merge_blocks([Block(BlockInfo(*row[:5]), *row[7:]) for row in rows],
                                  stored_bytes=sum(row[6] for row in rows))
            db.execute(_INSERT_NEW_BLOCK, (rows[0][5], rows[0][1], *merged.row()))
            db.execute(f"DELETE FROM log_blocks WHERE id IN ({marks})", ids)
        self._forget(ids)
        return True

    def _blocks(self, owner: str, owner_id: int, stream_ids, low, high, forward) -> Iterator[BlockInfo]:
        """The blocks of a stream or group that may hold keys in [low, high), in merge order."""
        where = [f"{owner} = ?", "max_timestamp >= ?", "min_timestamp <= ?"]
        args: list = [owner_id, low[0], high[0]]
        if forward:
            # Bounding min_timestamp from below lets the index range start near `low`.
            where.append("min_timestamp >= ?")
            args.append(low[0] - MAX_BLOCK_SPAN_MS)
            order = "min_timestamp, id"
        else:
            order = "max_timestamp DESC, id DESC"
        if stream_ids is not None:
            where.append(f"stream_id IN ({', '.join('?' * len(stream_ids))})")
            args += stream_ids
        cursor = self.database.execute(
            f"SELECT {_BLOCK_INFO} FROM log_blocks WHERE {' AND '.join(where)} ORDER BY {order}", args
        )
        try:
            while rows := cursor.fetchmany(256):
                for row in rows:
                    yield BlockInfo(*row)
        finally:
            cursor.close()

    def _load(self, info: BlockInfo) -> Block | None:
        """The decoded block, or None if it was deleted or merged away since the index scan
        listed it (the read then lists again from where it is: ``merge_resuming``)."""
        with self._cache_lock:
            block = self._cache.get(info.id)
            if block is not None:
                self._cache.move_to_end(info.id)
                return block
            epoch = self._cache_epoch
        row = self.database.execute(
            "SELECT timestamps, event_ids, ends, messages, ingestion_times FROM log_blocks "
            "WHERE id = ?", (info.id,)
        ).fetchone()
        if row is None:
            return None
        block = Block(info, *row)
        with self._cache_lock:
            # A _forget since the read above may have dropped this very block: not cached then,
            # so the cache never keeps a block that is gone.
            if self._cache_epoch == epoch and info.id not in self._cache:
                self._cache[info.id] = block
                self._cache_bytes += block.size
                while self._cache_bytes > _BLOCK_CACHE_BYTES and len(self._cache) > 1:
                    _, evicted = self._cache.popitem(last=False)
                    self._cache_bytes -= evicted.size
        return block

    def _forget(self, ids: list[int]) -> None:
        """Drop the cache entries of deleted or merged-away blocks, once their deletion is
        committed (ids are never reused, so this frees memory; it is not what keeps a read
        correct: an entry could only ever be served to a read whose listing named that very
        block, which gets that block's events)."""
        with self._cache_lock:
            self._cache_epoch += 1
            for block_id in ids:
                evicted = self._cache.pop(block_id, None)
                if evicted is not None:
                    self._cache_bytes -= evicted.size


def _events_removed(db: sqlite3.Connection, group_id: int, freed: int, older_than: int) -> None:
    """After blocks of the group lost their events older than ``older_than``: the group's
    storedBytes drops by ``freed``, and a stream's first event may be gone."""
    db.execute("UPDATE log_groups SET stored_bytes = MAX(stored_bytes - ?, 0) WHERE id = ?",
               (freed, group_id))
    db.execute(
        "UPDATE log_streams SET first_event_timestamp = (SELECT MIN(min_timestamp) FROM "
        "log_blocks WHERE stream_id = log_streams.id) WHERE group_id = ? AND "
        "first_event_timestamp < ?",
        (group_id, older_than),
    )


def _ids(cursor: sqlite3.Cursor) -> list[int]:
    """The ids a ``DELETE ... RETURNING id`` deleted."""
    return [row[0] for row in cursor]
