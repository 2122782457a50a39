"""Assembles sagewatch: the store, the services over it, the gateway in front of them, and the
background duties (retention), into one ASGI application that uvicorn serves.

Read this file to see every part and how they connect; nothing is registered anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from .aws.gateway import Gateway
from .config import Settings
from .services.logs.service import LogsService
from .store.sqlite.database import Database
from .store.sqlite.logs import SQLiteLogStore
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
        self.gateway = Gateway([self.logs], region=settings.region)

    async def run_background(self) -> None:
        """Periodic duties; cancelled when the server stops."""
        while True:
            await asyncio.sleep(self.settings.retention_sweep_seconds)
            try:
                await asyncio.to_thread(self.logs.enforce_retention)
            except Exception:  # a failed sweep must not stop the next one
                log.exception("retention sweep failed")

    def close(self) -> None:
        self.database.close()


def create_app(settings: Settings) -> Starlette:
    system = Sagewatch(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app):
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
