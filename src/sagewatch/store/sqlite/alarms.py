"""CloudWatch alarm tables: alarms, alarm history, anomaly detectors."""

from __future__ import annotations

import orjson

from ..alarms import Alarm, AlarmStore, HistoryItem
from .database import Database
from .tags import SQLiteTagStore

_COLUMNS = (
    "name, alarm_type, definition, metric_keys, state_value, state_reason, state_reason_data, "
    "state_updated, state_transitioned, configuration_updated, actions_enabled, "
    "actions_suppressed_by, actions_suppressed_reason"
)


def _alarm(row) -> Alarm:
    return Alarm(
        row[0], row[1], orjson.loads(row[2]), orjson.loads(row[3]), row[4], row[5], row[6],
        row[7], row[8], row[9], bool(row[10]), row[11], row[12],
    )


def _values(alarm: Alarm) -> tuple:
    return (
        alarm.name, alarm.alarm_type, orjson.dumps(alarm.definition).decode(),
        orjson.dumps(alarm.metric_keys).decode(), alarm.state_value, alarm.state_reason,
        alarm.state_reason_data, alarm.state_updated, alarm.state_transitioned,
        alarm.configuration_updated, int(alarm.actions_enabled), alarm.actions_suppressed_by,
        alarm.actions_suppressed_reason,
    )


class SQLiteAlarmStore(AlarmStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    def save_alarm(self, alarm: Alarm, history=(), *, tags=None) -> None:
        with self.database.write() as db:
            db.execute(
                f"INSERT OR REPLACE INTO alarms ({_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                _values(alarm),
            )
            self._insert_history(db, history)
            if tags is not None:
                SQLiteTagStore.replace_tags_in(db, *tags)

    def get_alarm(self, name: str) -> Alarm | None:
        row = self.database.execute(f"SELECT {_COLUMNS} FROM alarms WHERE name = ?", (name,)).fetchone()
        return _alarm(row) if row else None

    def list_alarms(self, *, names=None, prefix=None, types=None, state=None, after=None, limit=None):
        where, args = [], []
        if names is not None:
            if not names:
                return []
            where.append(f"name IN ({', '.join('?' * len(names))})")
            args += list(names)
        if prefix is not None:
            where.append("name >= ? AND name < ?")
            args += [prefix, prefix + "\U0010ffff"]
        if types is not None:
            where.append(f"alarm_type IN ({', '.join('?' * len(types))})")
            args += list(types)
        if state is not None:
            where.append("state_value = ?")
            args.append(state)
        if after is not None:
            where.append("name > ?")
            args.append(after)
        sql = f"SELECT {_COLUMNS} FROM alarms"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_alarm(r) for r in self.database.execute(sql, args)]

    def delete_alarms(self, names, history=(), arns=()) -> None:
        with self.database.write() as db:
            db.executemany("DELETE FROM alarms WHERE name = ?", [(n,) for n in names])
            db.executemany("DELETE FROM tags WHERE arn = ?", [(a,) for a in arns])
            self._insert_history(db, history)

    def add_history(self, items) -> None:
        with self.database.write() as db:
            self._insert_history(db, items)

    @staticmethod
    def _insert_history(db, items) -> None:
        db.executemany(
            "INSERT INTO alarm_history (alarm_name, alarm_type, timestamp, item_type, summary, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(i.alarm_name, i.alarm_type, i.timestamp, i.item_type, i.summary, i.data) for i in items],
        )

    def history(self, *, name, types, item_type, start, end, after_id, ascending, limit):
        where = [f"alarm_type IN ({', '.join('?' * len(types))})"]
        args: list = list(types)
        if name is not None:
            where.append("alarm_name = ?")
            args.append(name)
        if item_type is not None:
            where.append("item_type = ?")
            args.append(item_type)
        if start is not None:
            where.append("timestamp >= ?")
            args.append(start)
        if end is not None:
            where.append("timestamp <= ?")
            args.append(end)
        if after_id is not None:
            where.append("id > ?" if ascending else "id < ?")
            args.append(after_id)
        order = "ASC" if ascending else "DESC"
        rows = self.database.execute(
            "SELECT alarm_name, alarm_type, timestamp, item_type, summary, data, id FROM alarm_history "
            f"WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",  # ids follow time
            (*args, limit),
        )
        return [HistoryItem(*r) for r in rows]

    def expire_history(self, older_than: float) -> None:
        with self.database.write() as db:
            db.execute("DELETE FROM alarm_history WHERE timestamp < ?", (older_than,))

    def save_anomaly_detector(self, detector_id: str, definition: dict) -> None:
        with self.database.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO anomaly_detectors (id, definition) VALUES (?, ?)",
                (detector_id, orjson.dumps(definition).decode()),
            )

    def anomaly_detectors(self) -> list[tuple[str, dict]]:
        return [
            (r[0], orjson.loads(r[1]))
            for r in self.database.execute("SELECT id, definition FROM anomaly_detectors ORDER BY id")
        ]

    def delete_anomaly_detector(self, detector_id: str) -> bool:
        with self.database.write() as db:
            return db.execute("DELETE FROM anomaly_detectors WHERE id = ?", (detector_id,)).rowcount > 0
