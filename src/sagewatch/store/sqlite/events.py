"""EventBridge tables: event buses, rules, rule targets (store/events.py)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from .. import Conflict, Gone
from ..events import EventBus, EventStore, Rule, Target, TooManyTargets
from .database import Database
from .tags import SQLiteTagStore

_BUS_COLUMNS = "name, arn, description, attributes, created, last_modified"
_RULE_COLUMNS = ("arn, name, bus_name, event_pattern, schedule_expression, state, description, "
                 "role_arn, managed_by, created")


def _bus(row) -> EventBus:
    return EventBus(row[0], row[1], row[2], row[4], row[5], orjson.loads(row[3]))


def _rule(row) -> Rule:
    return Rule(*row)


def _prefix_clause(column: str, prefix: str | None, where: list[str], args: list) -> None:
    if prefix:
        where.append(f"{column} >= ? AND {column} < ?")
        args += [prefix, prefix + "\U0010ffff"]


class SQLiteEventStore(EventStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- buses ---------------------------------------------------------------------------------

    def ensure_bus(self, bus: EventBus) -> None:
        with self.database.write() as db:
            db.execute(f"INSERT OR IGNORE INTO event_buses ({_BUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                       self._bus_values(bus))

    def create_bus(self, bus: EventBus, tags=None) -> None:
        with self.database.write() as db:
            if db.execute("SELECT 1 FROM event_buses WHERE name = ?", (bus.name,)).fetchone():
                raise Conflict(bus.name)
            db.execute(f"INSERT INTO event_buses ({_BUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                       self._bus_values(bus))
            SQLiteTagStore.replace_tags_in(db, bus.arn, tags)

    @staticmethod
    def _bus_values(bus: EventBus) -> tuple:
        return (bus.name, bus.arn, bus.description, orjson.dumps(bus.attributes).decode(),
                bus.created, bus.last_modified)

    def get_bus(self, name: str) -> EventBus | None:
        row = self.database.execute(
            f"SELECT {_BUS_COLUMNS} FROM event_buses WHERE name = ?", (name,)).fetchone()
        return _bus(row) if row else None

    def list_buses(self, *, prefix=None, after=None, limit=None) -> list[EventBus]:
        where, args = ["1"], []
        _prefix_clause("name", prefix, where, args)
        if after is not None:
            where.append("name > ?")
            args.append(after)
        sql = f"SELECT {_BUS_COLUMNS} FROM event_buses WHERE {' AND '.join(where)} ORDER BY name"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_bus(r) for r in self.database.execute(sql, args)]

    def delete_bus(self, name: str) -> bool:
        with self.database.write() as db:
            if db.execute("SELECT 1 FROM event_rules WHERE bus_name = ? LIMIT 1", (name,)).fetchone():
                return False
            row = db.execute("SELECT arn FROM event_buses WHERE name = ?", (name,)).fetchone()
            if row:
                db.execute("DELETE FROM event_buses WHERE name = ?", (name,))
                db.execute("DELETE FROM tags WHERE arn = ?", (row[0],))
        return True

    # -- rules ---------------------------------------------------------------------------------

    def put_rule(self, rule: Rule, tags=None) -> Rule:
        with self.database.write() as db:
            if not db.execute("SELECT 1 FROM event_buses WHERE name = ?", (rule.bus_name,)).fetchone():
                raise Gone(rule.bus_name)
            row = db.execute("SELECT created FROM event_rules WHERE arn = ?", (rule.arn,)).fetchone()
            if row is None:
                db.execute(f"INSERT INTO event_rules ({_RULE_COLUMNS}) VALUES ({', '.join('?' * 10)})",
                           (rule.arn, rule.name, rule.bus_name, rule.event_pattern,
                            rule.schedule_expression, rule.state, rule.description, rule.role_arn,
                            rule.managed_by, rule.created))
                SQLiteTagStore.replace_tags_in(db, rule.arn, tags)
                return rule
            db.execute(
                "UPDATE event_rules SET event_pattern = ?, schedule_expression = ?, state = ?, "
                "description = ?, role_arn = ?, managed_by = ? WHERE arn = ?",
                (rule.event_pattern, rule.schedule_expression, rule.state, rule.description,
                 rule.role_arn, rule.managed_by, rule.arn))
        return Rule(rule.arn, rule.name, rule.bus_name, rule.event_pattern, rule.schedule_expression,
                    rule.state, rule.description, rule.role_arn, rule.managed_by, row[0])

    def get_rule(self, arn: str) -> Rule | None:
        row = self.database.execute(f"SELECT {_RULE_COLUMNS} FROM event_rules WHERE arn = ?",
                                    (arn,)).fetchone()
        return _rule(row) if row else None

    def list_rules(self, bus_name, *, prefix=None, after=None, limit=None) -> list[Rule]:
        where, args = ["bus_name = ?"], [bus_name]
        _prefix_clause("name", prefix, where, args)
        if after is not None:
            where.append("name > ?")
            args.append(after)
        sql = f"SELECT {_RULE_COLUMNS} FROM event_rules WHERE {' AND '.join(where)} ORDER BY name"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_rule(r) for r in self.database.execute(sql, args)]

    def set_rule_state(self, arn: str, state: str) -> bool:
        with self.database.write() as db:
            return db.execute("UPDATE event_rules SET state = ? WHERE arn = ?", (state, arn)).rowcount > 0

    def delete_rule(self, arn: str) -> bool:
        with self.database.write() as db:
            if db.execute("SELECT 1 FROM event_targets WHERE rule_arn = ? LIMIT 1", (arn,)).fetchone():
                return False
            db.execute("DELETE FROM event_rules WHERE arn = ?", (arn,))
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
        return True

    def enabled_schedule_rules(self) -> list[Rule]:
        rows = self.database.execute(
            f"SELECT {_RULE_COLUMNS} FROM event_rules WHERE schedule_expression IS NOT NULL "
            "AND state != 'DISABLED' ORDER BY arn")
        return [_rule(r) for r in rows]

    # -- targets -------------------------------------------------------------------------------

    def targets_of(self, rule_arn: str) -> list[Target]:
        rows = self.database.execute(
            "SELECT members FROM event_targets WHERE rule_arn = ? ORDER BY position", (rule_arn,))
        return [Target.from_api(rule_arn, orjson.loads(members)) for (members,) in rows]

    def put_targets(self, rule_arn: str, targets: Sequence[Target], *, limit: int) -> None:
        with self.database.write() as db:
            if not db.execute("SELECT 1 FROM event_rules WHERE arn = ?", (rule_arn,)).fetchone():
                raise Gone(rule_arn)
            held = dict(db.execute("SELECT id, position FROM event_targets WHERE rule_arn = ?",
                                   (rule_arn,)).fetchall())
            if len(held.keys() | {t.id for t in targets}) > limit:
                raise TooManyTargets(rule_arn)
            position = max(held.values(), default=-1)
            for target in targets:
                if target.id in held:
                    at = held[target.id]
                else:
                    position += 1
                    at = held[target.id] = position
                db.execute(
                    "INSERT OR REPLACE INTO event_targets (rule_arn, id, position, arn, members) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (rule_arn, target.id, at, target.arn, orjson.dumps(target.to_api()).decode()))

    def remove_targets(self, rule_arn: str, ids: Sequence[str]) -> None:
        with self.database.write() as db:
            db.executemany("DELETE FROM event_targets WHERE rule_arn = ? AND id = ?",
                           [(rule_arn, i) for i in ids])

    def rule_names_by_target(self, bus_name, target_arn, *, after=None, limit=None) -> list[str]:
        sql = ("SELECT DISTINCT r.name FROM event_rules r JOIN event_targets t ON t.rule_arn = r.arn "
               "WHERE r.bus_name = ? AND t.arn = ?")
        args: list = [bus_name, target_arn]
        if after is not None:
            sql += " AND r.name > ?"
            args.append(after)
        sql += " ORDER BY r.name"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [name for (name,) in self.database.execute(sql, args)]

    def rules_with_targets(self, bus_name: str) -> list[tuple[Rule, list[Target]]]:
        rules = self.list_rules(bus_name)
        targets: dict[str, list[Target]] = {rule.arn: [] for rule in rules}
        rows = self.database.execute(
            "SELECT t.rule_arn, t.members FROM event_targets t JOIN event_rules r ON r.arn = t.rule_arn "
            "WHERE r.bus_name = ? ORDER BY t.rule_arn, t.position", (bus_name,))
        for rule_arn, members in rows:
            if rule_arn in targets:  # a rule created between the two reads is left to the next load
                targets[rule_arn].append(Target.from_api(rule_arn, orjson.loads(members)))
        return [(rule, targets[rule.arn]) for rule in rules]
