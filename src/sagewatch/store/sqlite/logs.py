"""CloudWatch Logs tables: log groups, log streams, log events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from .. import Conflict
from ..logs import EventRow, LogGroup, LogStore, LogStream, Prefilter
from .database import Database
from .tags import SQLiteTagStore

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
        self._next_event_id = (
            database.execute("SELECT MAX(id) FROM log_events").fetchone()[0] or 0
        ) + 1

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
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
            if tags:
                SQLiteTagStore.set_tags_in(db, arn, tags)
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
            db.execute("DELETE FROM log_events WHERE group_id = ?", (group.id,))
            db.execute("DELETE FROM log_streams WHERE group_id = ?", (group.id,))
            db.execute("DELETE FROM log_groups WHERE id = ?", (group.id,))
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))

    def set_retention(self, group_id: int, days: int | None) -> None:
        with self.database.write() as db:
            db.execute("UPDATE log_groups SET retention_days = ? WHERE id = ?", (days, group_id))

    def expire_events(self, group_id: int, older_than: int) -> int:
        with self.database.write() as db:
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
            for r in self.database.execute(
                f"SELECT {_GROUP_COLUMNS} FROM log_groups WHERE retention_days IS NOT NULL"
            )
        ]

    # -- log streams ------------------------------------------------------------------------------

    def create_log_stream(self, group_id: int, name: str, creation_time: int) -> LogStream:
        with self.database.write() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO log_streams (group_id, name, creation_time) VALUES (?, ?, ?)",
                    (group_id, name, creation_time),
                )
            except sqlite3.IntegrityError:
                raise Conflict(name) from None
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
        with self.database.write() as db:
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
        return self.database.execute(
            "SELECT timestamp, id, stream_id, ingestion_time, message FROM log_events "
            "WHERE stream_id = ? AND (timestamp, id) >= (?, ?) AND (timestamp, id) < (?, ?) "
            f"ORDER BY timestamp {order}, id {order} LIMIT ?",
            (stream_id, start[0], start[1], end[0], end[1], limit),
        ).fetchall()

    def scan_group(
        self, group_id, *, stream_ids, low, high, descending, prefilter, batch
    ) -> Iterator[EventRow]:
        where = ["group_id = ?", "(timestamp, id) >= (?, ?)", "(timestamp, id) < (?, ?)"]
        args: list = [group_id, low[0], low[1], high[0], high[1]]
        if stream_ids is not None:
            where.append(f"stream_id IN ({', '.join('?' * len(stream_ids))})")
            args += stream_ids
        if prefilter is not None:
            condition, condition_args = _prefilter_sql(prefilter)
            where.append(condition)
            args += condition_args
        order = "DESC" if descending else "ASC"
        cursor = self.database.execute(
            "SELECT timestamp, id, stream_id, ingestion_time, message FROM log_events "
            f"WHERE {' AND '.join(where)} ORDER BY timestamp {order}, id {order}",
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


