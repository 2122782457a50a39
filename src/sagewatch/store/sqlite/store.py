"""The embedded store: one SQLite database file in WAL mode.

Durability: ``synchronous=FULL`` makes every commit fsync the write-ahead log, and every write
method commits before it returns, so a request acknowledged to a client survives a crash (a
kill -9 or a power cut); a transaction that was not committed is rolled back on the next open.

Concurrency: readers each use their own connection (one per thread), which WAL lets run beside
the writer; writes go through one lock, since SQLite allows one writer at a time anyway and
waiting on a lock is cheaper than retrying on SQLITE_BUSY.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..base import Conflict, EventRow, LogGroup, LogStream, Prefilter, Store
from ..migrations import migration_files, split_statements

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


class SQLiteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._migrate()
        self._next_event_id = (self._db.execute("SELECT MAX(id) FROM log_events").fetchone()[0] or 0) + 1

    # -- connections ----------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.execute("PRAGMA cache_size=-32000")  # 32 MB per connection
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def close(self) -> None:
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def _write(self):
        """A transaction on this thread's connection, holding the write lock."""
        return _WriteTransaction(self._db, self._write_lock)

    def _migrate(self) -> None:
        db = self._db
        with self._write():
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            for version, sql in migration_files(__package__):
                if version > current:
                    for statement in split_statements(sql):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    # -- tags -----------------------------------------------------------------------------------

    def get_tags(self, arn: str) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM tags WHERE arn = ?", (arn,)))

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        with self._write() as db:
            self._set_tags(db, arn, tags)

    @staticmethod
    def _set_tags(db, arn: str, tags: dict[str, str]) -> None:
        db.executemany(
            "INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
            [(arn, k, v) for k, v in tags.items()],
        )

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        with self._write() as db:
            db.executemany("DELETE FROM tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])

    # -- log groups -------------------------------------------------------------------------------

    def create_log_group(
        self, name, creation_time, *, kms_key_id, log_group_class, deletion_protection, tags, arn
    ) -> LogGroup:
        with self._write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_groups (name, creation_time, kms_key_id, log_group_class, "
                    "deletion_protection) VALUES (?, ?, ?, ?, ?)",
                    (name, creation_time, kms_key_id, log_group_class, int(deletion_protection)),
                )
            except sqlite3.IntegrityError:
                raise Conflict(name) from None
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
            if tags:
                self._set_tags(db, arn, tags)
            group_id = cursor.lastrowid
        return LogGroup(group_id, name, creation_time, None, kms_key_id, log_group_class,
                        deletion_protection, 0)

    def get_log_group(self, name: str) -> LogGroup | None:
        row = self._db.execute(
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
        return [_group(r) for r in self._db.execute(sql, (*args, limit))]

    def delete_log_group(self, group: LogGroup, arn: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM log_events WHERE group_id = ?", (group.id,))
            db.execute("DELETE FROM log_streams WHERE group_id = ?", (group.id,))
            db.execute("DELETE FROM log_groups WHERE id = ?", (group.id,))
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))

    def set_retention(self, group_id: int, days: int | None) -> None:
        with self._write() as db:
            db.execute("UPDATE log_groups SET retention_days = ? WHERE id = ?", (days, group_id))

    def expire_events(self, group_id: int, older_than: int) -> int:
        with self._write() as db:
            stored = db.execute(
                "SELECT COALESCE(SUM(length(CAST(message AS BLOB)) + 26), 0) FROM log_events "
                "WHERE group_id = ? AND timestamp < ?",
                (group_id, older_than),
            ).fetchone()[0]
            deleted = db.execute(
                "DELETE FROM log_events WHERE group_id = ? AND timestamp < ?", (group_id, older_than)
            ).rowcount
            if deleted:
                db.execute(
                    "UPDATE log_groups SET stored_bytes = MAX(stored_bytes - ?, 0) WHERE id = ?",
                    (stored, group_id),
                )
                # The first event of a stream may be gone now.
                db.execute(
                    "UPDATE log_streams SET first_event_timestamp = (SELECT MIN(timestamp) FROM "
                    "log_events WHERE stream_id = log_streams.id) WHERE group_id = ? AND "
                    "first_event_timestamp < ?",
                    (group_id, older_than),
                )
        return deleted

    def log_groups_with_retention(self) -> list[LogGroup]:
        return [
            _group(r)
            for r in self._db.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE retention_days IS NOT NULL"
            )
        ]

    # -- log streams ------------------------------------------------------------------------------

    def create_log_stream(self, group_id: int, name: str, creation_time: int) -> LogStream:
        with self._write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)",
                    (group_id, name, creation_time),
                )
            except sqlite3.IntegrityError:
                raise Conflict(name) from None
            return LogStream(cursor.lastrowid, group_id, name, creation_time, None, None, None)

    def get_log_stream(self, group_id: int, name: str) -> LogStream | None:
        row = self._db.execute(
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
        return [_stream(r) for r in self._db.execute(sql, (*args, limit))]

    def delete_log_stream(self, stream: LogStream) -> None:
        with self._write() as db:
            stored = db.execute(
                "SELECT COALESCE(SUM(length(CAST(message AS BLOB)) + 26), 0) FROM log_events "
                "WHERE stream_id = ?",
                (stream.id,),
            ).fetchone()[0]
            db.execute("DELETE FROM log_events WHERE stream_id = ?", (stream.id,))
            db.execute("DELETE FROM log_streams WHERE id = ?", (stream.id,))
            db.execute(
                "UPDATE log_groups SET stored_bytes = MAX(stored_bytes - ?, 0) WHERE id = ?",
                (stored, stream.group_id),
            )

    # -- log events -------------------------------------------------------------------------------

    def append_log_events(
        self, stream: LogStream, events: Sequence[tuple[int, str]], ingestion_time: int,
        stored_bytes: int,
    ) -> None:
        group_id, stream_id = stream.group_id, stream.id
        with self._write() as db:
            first_id = self._next_event_id
            self._next_event_id += len(events)
            db.executemany(
                "INSERT INTO log_events (group_id, timestamp, id, stream_id, ingestion_time, message) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (group_id, timestamp, event_id, stream_id, ingestion_time, message)
                    for event_id, (timestamp, message) in enumerate(events, first_id)
                ],
            )
            # Events within one request are in timestamp order (the service checks that).
            first, last = events[0][0], events[-1][0]
            db.execute(
                "UPDATE log_streams SET "
                "first_event_timestamp = MIN(COALESCE(first_event_timestamp, ?), ?), "
                "last_event_timestamp = MAX(COALESCE(last_event_timestamp, ?), ?), "
                "last_ingestion_time = ? WHERE id = ?",
                (first, first, last, last, ingestion_time, stream_id),
            )
            db.execute(
                "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?",
                (stored_bytes, group_id),
            )

    def read_stream(self, stream_id, *, start, end, forward, limit) -> list[EventRow]:
        order = "ASC" if forward else "DESC"
        return self._db.execute(
            "SELECT timestamp, id, stream_id, ingestion_time, message FROM log_events "
            "WHERE stream_id = ? AND (timestamp, id) >= (?, ?) AND (timestamp, id) < (?, ?) "
            f"ORDER BY timestamp {order}, id {order} LIMIT ?",
            (stream_id, start[0], start[1], end[0], end[1], limit),
        ).fetchall()

    def scan_group(
        self, group_id, *, stream_ids, start, end_time, prefilter, batch
    ) -> Iterator[EventRow]:
        where = ["group_id = ?", "(timestamp, id) >= (?, ?)", "timestamp < ?"]
        args: list = [group_id, start[0], start[1], end_time]
        if stream_ids is not None:
            where.append(f"stream_id IN ({', '.join('?' * len(stream_ids))})")
            args += stream_ids
        if prefilter is not None:
            condition, condition_args = _prefilter_sql(prefilter)
            where.append(condition)
            args += condition_args
        cursor = self._db.execute(
            "SELECT timestamp, id, stream_id, ingestion_time, message FROM log_events "
            f"WHERE {' AND '.join(where)} ORDER BY timestamp, id",
            args,
        )
        try:
            while rows := cursor.fetchmany(batch):
                yield from rows
        finally:
            cursor.close()


def _prefilter_sql(condition: Prefilter) -> tuple[str, list]:
    kind = condition[0]
    if kind == "substr":
        return "instr(message, ?) > 0", [condition[1]]
    parts, args = [], []
    for sub in condition[1]:
        sql, sub_args = _prefilter_sql(sub)
        parts.append(sql)
        args += sub_args
    joiner = " AND " if kind == "and" else " OR "
    return "(" + joiner.join(parts) + ")", args


class _WriteTransaction:
    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        try:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")
        finally:
            self.lock.release()
