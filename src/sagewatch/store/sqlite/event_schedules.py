"""The event_schedules table (store/event_schedules.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..event_schedules import EventScheduleStore, ScheduleState
from ..outbox import NewDelivery
from .database import Database
from .outbox import SQLiteOutboxStore


class SQLiteEventScheduleStore(EventScheduleStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    def states(self) -> dict[str, ScheduleState]:
        rows = self.database.execute(
            "SELECT rule_arn, expression, anchor, last_fire FROM event_schedules").fetchall()
        return {row[0]: ScheduleState(*row) for row in rows}

    def begin(self, state: ScheduleState) -> None:
        with self.database.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO event_schedules (rule_arn, expression, anchor, last_fire) "
                "VALUES (?, ?, ?, ?)",
                (state.rule_arn, state.expression, state.anchor, state.last_fire),
            )

    def fire(self, rule_arn: str, slot: float, deliveries: Sequence[NewDelivery], now: float) -> bool:
        with self.database.write() as db:
            moved = db.execute(
                "UPDATE event_schedules SET last_fire = ? "
                "WHERE rule_arn = ? AND (last_fire IS NULL OR last_fire < ?)",
                (slot, rule_arn, slot),
            ).rowcount
            if moved:
                SQLiteOutboxStore.enqueue_in(db, deliveries, now)
            return bool(moved)

    def forget(self, rule_arns: Iterable[str]) -> None:
        arns = [(arn,) for arn in rule_arns]
        if arns:
            with self.database.write() as db:
                db.executemany("DELETE FROM event_schedules WHERE rule_arn = ?", arns)
