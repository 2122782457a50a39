"""The outbox table: durable deliveries (store/outbox.py), one row each."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import orjson

from ..outbox import Delivery, Failure, NewDelivery, OutboxStore
from .database import Database

_PENDING_COLUMNS = "id, kind, owner, payload, attempts, created, due"
_FAILURE_COLUMNS = "id, kind, owner, payload, attempts, created, finished, last_error"


def _delivery(row) -> Delivery:
    return Delivery(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5], row[6])


def _failure(row) -> Failure:
    return Failure(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5], row[6], row[7] or "")


class SQLiteOutboxStore(OutboxStore):
    def __init__(self, database: Database, *, now: Callable[[], float] = time.time) -> None:
        """``now``: the server's clock (``clock.now``), which stamps what ``enqueue`` queues."""
        self.database = database
        self.now = now

    def enqueue(self, items: Sequence[NewDelivery]) -> list[int]:
        with self.database.write() as db:
            return self.enqueue_in(db, items, self.now())

    @staticmethod
    def enqueue_in(db, items: Sequence[NewDelivery], now: float) -> list[int]:
        ids = []
        for item in items:
            cursor = db.execute(
                "INSERT INTO deliveries (kind, owner, payload, created, due) VALUES (?, ?, ?, ?, ?)",
                (item.kind, item.owner, orjson.dumps(item.payload), now,
                 now if item.due is None else item.due),
            )
            ids.append(cursor.lastrowid)
        return ids

    def claim_due(self, now: float, limit: int) -> list[Delivery]:
        if limit <= 0 or not self._any_due(now):
            return []  # the common case, answered without the write lock
        with self.database.write() as db:
            rows = db.execute(
                f"SELECT {_PENDING_COLUMNS} FROM deliveries "
                "WHERE state = 'pending' AND claimed = 0 AND due <= ? ORDER BY due, id LIMIT ?",
                (now, limit),
            ).fetchall()
            db.executemany("UPDATE deliveries SET claimed = 1 WHERE id = ?", [(r[0],) for r in rows])
        return [_delivery(r) for r in rows]

    def _any_due(self, now: float) -> bool:
        return self.database.execute(
            "SELECT 1 FROM deliveries WHERE state = 'pending' AND claimed = 0 AND due <= ? LIMIT 1",
            (now,),
        ).fetchone() is not None

    def release_claims(self) -> int:
        with self.database.write() as db:
            return db.execute(
                "UPDATE deliveries SET claimed = 0 WHERE state = 'pending' AND claimed = 1"
            ).rowcount

    def succeeded(self, delivery_id: int) -> None:
        with self.database.write() as db:
            db.execute("DELETE FROM deliveries WHERE id = ? AND state = 'pending'", (delivery_id,))

    def retry(self, delivery_id: int, due: float, error: str) -> None:
        with self.database.write() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, claimed = 0, due = ?, last_error = ? "
                "WHERE id = ? AND state = 'pending'",
                (due, error, delivery_id),
            )

    def failed(self, delivery_id: int, error: str, now: float) -> None:
        with self.database.write() as db:
            db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, claimed = 0, state = 'failed', "
                "last_error = ?, finished = ? WHERE id = ? AND state = 'pending'",
                (error, now, delivery_id),
            )

    def next_due(self) -> float | None:
        return self.database.execute(
            "SELECT MIN(due) FROM deliveries WHERE state = 'pending' AND claimed = 0"
        ).fetchone()[0]

    def pending(self, owner: str | None = None) -> int:
        if owner is None:
            sql, args = "SELECT COUNT(*) FROM deliveries WHERE state = 'pending'", ()
        else:
            sql, args = "SELECT COUNT(*) FROM deliveries WHERE owner = ? AND state = 'pending'", (owner,)
        return self.database.execute(sql, args).fetchone()[0]

    def failures(self, owner_prefix: str = "", limit: int = 100) -> list[Failure]:
        sql = f"SELECT {_FAILURE_COLUMNS} FROM deliveries WHERE state = 'failed'"
        args: list = []
        if owner_prefix:
            sql += " AND owner >= ? AND owner < ?"
            args += [owner_prefix, owner_prefix + "\U0010ffff"]
        sql += " ORDER BY finished DESC, id DESC LIMIT ?"
        args.append(limit)
        return [_failure(r) for r in self.database.execute(sql, args)]

    def purge(self, owner: str) -> int:
        with self.database.write() as db:
            return db.execute(
                "DELETE FROM deliveries WHERE owner = ? AND state = 'pending'", (owner,)
            ).rowcount

    def expire_failures(self, before: float) -> int:
        with self.database.write() as db:
            return db.execute(
                "DELETE FROM deliveries WHERE state = 'failed' AND finished < ?", (before,)
            ).rowcount
