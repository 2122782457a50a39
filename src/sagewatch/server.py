"""Assembles sagewatch: the store, the services over it, the gateway in front of them, and the
background duties (retention, compaction, checkpoints), into one ASGI application that uvicorn
serves.

Read this file to see every part and how they connect; nothing is registered anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .aws.gateway import Gateway
from .config import Settings
from .services.cloudwatch.alarms import AlarmActions, AlarmEngine
from .services.cloudwatch.metrics import MetricData
from .services.cloudwatch.service import CloudWatchService
from .services.logs.service import LogsService
from .store.sqlite.alarms import SQLiteAlarmStore
from .store.sqlite.database import Database
from .store.sqlite.logs import SQLiteLogStore
from .store.sqlite.metrics import SQLiteMetricStore
from .store.sqlite.tags import SQLiteTagStore

log = logging.getLogger("sagewatch")


class Sagewatch:
    """The running system: one database, the stores over it, the services, the gateway."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.database = Database(settings.database_path)
        tags = SQLiteTagStore(self.database)
        self.logs = LogsService(
            SQLiteLogStore(self.database), tags,
            region=settings.region, account_id=settings.account_id,
        )
        self.metric_data = MetricData(SQLiteMetricStore(self.database))
        alarm_store = SQLiteAlarmStore(self.database)
        # Alarm actions are delivered by handlers registered here as services arrive (SNS, ...).
        self.alarm_actions = AlarmActions()
        self.alarm_engine = AlarmEngine(
            alarm_store, self.metric_data, self.alarm_actions,
            region=settings.region, account_id=settings.account_id,
        )
        self.cloudwatch = CloudWatchService(
            self.metric_data, alarm_store, self.alarm_engine, tags,
            region=settings.region, account_id=settings.account_id,
        )
        # Writes are acknowledged once they are on disk: the gateway waits on the database's
        # group commit.
        self.gateway = Gateway([self.logs, self.cloudwatch], durability=self.database.wal_sync)

    def start(self) -> None:
        self.alarm_engine.start()

    async def run_background(self) -> None:
        """Periodic duties; cancelled when the server stops."""
        await asyncio.gather(
            self._every(self.settings.retention_sweep_seconds, self.logs.enforce_retention),
            self._every(self.settings.compaction_seconds, self.metric_data.compact),
            self._every(self.settings.compaction_seconds, self.database.checkpoint),
            self._every(3600, self.alarm_engine.expire_history),
        )

    @staticmethod
    async def _every(seconds: float, duty) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await asyncio.to_thread(duty)
            except Exception:  # a failed run must not stop the next one
                log.exception("background duty %s failed", duty.__qualname__)

    def close(self) -> None:
        self.alarm_engine.stop()
        self.database.close()


def create_app(settings: Settings) -> Starlette:
    system = Sagewatch(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Requests allocate thousands of short-lived dicts (a 1,000-datum PutMetricData makes
        # ~8,000); the default thresholds run a collection every few hundred of them, which
        # measured as a fifth of the request time. Long-lived start-up objects are frozen out of
        # the collector's way, and young objects are collected less often.
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        system.start()
        background = asyncio.create_task(system.run_background())
        try:
            yield
        finally:
            background.cancel()
            system.close()

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app = Starlette(
        routes=[
            Route("/_sagewatch/health", health, methods=["GET"]),
            Mount("/", app=system.gateway),
        ],
        lifespan=lifespan,
    )
    app.state.system = system
    return app
