"""SageMaker job table: one row per job, the record as JSON (migration 0004)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import asdict

import orjson

from .. import Conflict, Gone
from ..jobs import UNFINISHED_STATUSES, JobRecord, JobStore
from .database import Database
from .tags import SQLiteTagStore


def _record(text: str) -> JobRecord:
    values = orjson.loads(text)
    values["final_metrics"] = {k: tuple(v) for k, v in values["final_metrics"].items()}
    return JobRecord(**values)


def _json(job: JobRecord) -> str:
    return orjson.dumps(asdict(job)).decode()


class SQLiteJobStore(JobStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    def create(self, job: JobRecord, tags: dict[str, str]) -> None:
        with self.database.write() as db:
            try:
                db.execute(
                    "INSERT INTO jobs (kind, name, name_key, status, creation_time, last_modified_time, record)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (job.kind, job.name, job.name.lower(), job.status, job.creation_time,
                     job.last_modified_time, _json(job)),
                )
            except sqlite3.IntegrityError:
                raise Conflict(job.name) from None
            # Jobs are never deleted, but the ARN is the job's identity: start it clean.
            SQLiteTagStore.replace_tags_in(db, job.arn, tags)

    def get(self, kind: str, name: str) -> JobRecord | None:
        return self._read_in(self.database, kind, name)

    def update(self, kind: str, name: str, change: Callable[[JobRecord], None]) -> JobRecord:
        with self.database.write() as db:
            job = self._read_in(db, kind, name)
            if job is None:
                raise Gone(name)
            change(job)
            self._write_in(db, job)
            return job

    def list(self, kind: str) -> list[JobRecord]:
        rows = self.database.execute("SELECT record FROM jobs WHERE kind = ? ORDER BY id", (kind,))
        return [_record(row[0]) for row in rows]

    def unfinished(self) -> list[JobRecord]:
        marks = ", ".join("?" * len(UNFINISHED_STATUSES))
        rows = self.database.execute(
            f"SELECT record FROM jobs WHERE status IN ({marks}) ORDER BY id", UNFINISHED_STATUSES)
        return [_record(row[0]) for row in rows]

    def record_final_metrics(self, kind: str, name: str, values: dict[str, tuple[float, float]]) -> None:
        with self.database.write() as db:
            job = self._read_in(db, kind, name)
            if job is None:
                return
            changed = False
            for metric, (value, timestamp) in values.items():
                held = job.final_metrics.get(metric)
                if held is None or timestamp >= held[1]:
                    job.final_metrics[metric] = (value, timestamp)
                    changed = True
            if changed:
                self._write_in(db, job)

    @staticmethod
    def _read_in(db, kind: str, name: str) -> JobRecord | None:
        """The job, read through ``db``: a write transaction's connection, or the database."""
        row = db.execute(
            "SELECT record FROM jobs WHERE kind = ? AND name_key = ?", (kind, name.lower())
        ).fetchone()
        return _record(row[0]) if row else None

    @staticmethod
    def _write_in(db, job: JobRecord) -> None:
        db.execute(
            "UPDATE jobs SET status = ?, last_modified_time = ?, record = ? WHERE kind = ? AND name_key = ?",
            (job.status, job.last_modified_time, _json(job), job.kind, job.name.lower()),
        )
