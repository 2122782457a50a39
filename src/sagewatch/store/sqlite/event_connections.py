"""EventBridge connections and API destinations: one row each, the record as JSON (migration 0009)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import asdict

import orjson

from .. import Conflict, Gone
from ..event_connections import ApiDestination, Connection, ConnectionStore
from .database import Database


def _json(record) -> str:
    return orjson.dumps(asdict(record)).decode()


class SQLiteConnectionStore(ConnectionStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    # -- connections -----------------------------------------------------------------------------

    def create_connection(self, connection: Connection) -> None:
        with self.database.write() as db:
            try:
                db.execute("INSERT INTO event_connections (name, arn, record) VALUES (?, ?, ?)",
                           (connection.name, connection.arn, _json(connection)))
            except sqlite3.IntegrityError:
                raise Conflict(connection.name) from None

    def connection(self, name: str) -> Connection | None:
        return self._connection_in(self.database, "name", name)

    def connection_by_arn(self, arn: str) -> Connection | None:
        return self._connection_in(self.database, "arn", arn)

    def connections(self) -> list[Connection]:
        rows = self.database.execute("SELECT record FROM event_connections ORDER BY name")
        return [Connection(**orjson.loads(record)) for (record,) in rows]

    def update_connection(self, name: str, change: Callable[[Connection], None]) -> Connection:
        with self.database.write() as db:
            connection = self._connection_in(db, "name", name)
            if connection is None:
                raise Gone(name)
            change(connection)
            db.execute("UPDATE event_connections SET record = ? WHERE name = ?", (_json(connection), name))
            return connection

    def delete_connection(self, name: str) -> Connection | None:
        with self.database.write() as db:
            connection = self._connection_in(db, "name", name)
            if connection is not None:
                db.execute("DELETE FROM event_connections WHERE name = ?", (name,))
            return connection

    @staticmethod
    def _connection_in(db, column: str, value: str) -> Connection | None:
        row = db.execute(f"SELECT record FROM event_connections WHERE {column} = ?", (value,)).fetchone()
        return Connection(**orjson.loads(row[0])) if row else None

    # -- API destinations ------------------------------------------------------------------------

    def create_api_destination(self, destination: ApiDestination) -> None:
        with self.database.write() as db:
            if self._connection_in(db, "arn", destination.connection_arn) is None:
                raise Gone(destination.connection_arn)
            try:
                db.execute(
                    "INSERT INTO event_api_destinations (name, arn, record) VALUES (?, ?, ?)",
                    (destination.name, destination.arn, _json(destination)))
            except sqlite3.IntegrityError:
                raise Conflict(destination.name) from None

    def api_destination(self, name: str) -> ApiDestination | None:
        return self._destination_in(self.database, "name", name)

    def api_destination_by_arn(self, arn: str) -> ApiDestination | None:
        return self._destination_in(self.database, "arn", arn)

    def api_destinations(self) -> list[ApiDestination]:
        rows = self.database.execute("SELECT record FROM event_api_destinations ORDER BY name")
        return [ApiDestination(**orjson.loads(record)) for (record,) in rows]

    def update_api_destination(self, name: str, change: Callable[[ApiDestination], None]) -> ApiDestination:
        with self.database.write() as db:
            destination = self._destination_in(db, "name", name)
            if destination is None:
                raise Gone(name)
            change(destination)
            if self._connection_in(db, "arn", destination.connection_arn) is None:
                raise Gone(destination.connection_arn)  # rolls the change back
            db.execute("UPDATE event_api_destinations SET record = ? WHERE name = ?",
                       (_json(destination), name))
            return destination

    def delete_api_destination(self, name: str) -> bool:
        with self.database.write() as db:
            return db.execute("DELETE FROM event_api_destinations WHERE name = ?", (name,)).rowcount > 0

    @staticmethod
    def _destination_in(db, column: str, value: str) -> ApiDestination | None:
        row = db.execute(f"SELECT record FROM event_api_destinations WHERE {column} = ?", (value,)).fetchone()
        return ApiDestination(**orjson.loads(row[0])) if row else None
