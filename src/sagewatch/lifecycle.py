"""What runs: components that start, do background duties on a period, and stop.

In the spirit of Starlette's lifespan, one small interface for every part of sagewatch that
lives longer than a request (the database, the alarm engine, the SageMaker job controller...):

    class Component(Protocol):
        def start(self) -> None        # threads, files, re-adopting what a previous run left
        def duties(self) -> list[Duty] # periodic background work
        def stop(self) -> None         # let go of everything start() took

``Lifecycle(components)`` starts them in the order given, runs every duty on its period while
the server serves, and stops them in the reverse order, so a part can rely on everything listed
before it (the database first, stopped last). ``server.py`` lists the components; nothing else
starts a thread of its own accord.

Duties run off the event loop (a worker thread each time), one run of a duty at a time; a run
that fails is logged and the next one happens on schedule. A duty's ``name`` is unique in a
lifecycle: it is how the duty is run on demand (``run_now``) and, when several sagewatch nodes
share a store, it is the key one node claims the duty by (``claim``, called before every run;
a single server claims everything). Leases are not built yet; the hook is where they go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Duty:
    """Periodic background work: ``run()`` every ``every_seconds`` (measured from the end of
    one run to the start of the next, so a slow run is never piled upon)."""

    name: str  # unique in the lifecycle; the lease key once duties are shared between nodes
    every_seconds: float
    run: Callable[[], object]


class Component(Protocol):
    def start(self) -> None: ...

    def duties(self) -> list[Duty]: ...

    def stop(self) -> None: ...


@dataclass(slots=True)
class Part:
    """A component made of plain callables, for parts whose own class has no lifecycle of its
    own (a store's periodic maintenance, a resource that only needs closing)."""

    name: str
    on_start: Callable[[], object] | None = None
    on_stop: Callable[[], object] | None = None
    periodic: Sequence[Duty] = field(default_factory=tuple)

    def start(self) -> None:
        if self.on_start is not None:
            self.on_start()

    def duties(self) -> list[Duty]:
        return list(self.periodic)

    def stop(self) -> None:
        if self.on_stop is not None:
            self.on_stop()


def claim_everything(duty: Duty) -> bool:
    """The claim of a server that is alone: every duty is its own."""
    return True


class Lifecycle:
    def __init__(self, components: Sequence[Component],
                 claim: Callable[[Duty], bool] = claim_everything) -> None:
        self.components = list(components)
        self.claim = claim
        self._started: list[Component] = []
        self._duties: dict[str, Duty] = {}
        self._locks: dict[str, threading.Lock] = {}

    # -- starting and stopping ----------------------------------------------------------------------

    def start(self) -> None:
        """Start every component in order. If one fails, those already started are stopped
        (in reverse) and the failure is raised: a half-started server does not serve."""
        duties: dict[str, Duty] = {}
        for component in self.components:
            try:
                component.start()
            except BaseException:
                self.stop()
                raise
            self._started.append(component)
            for duty in component.duties():
                if duty.name in duties:
                    self.stop()
                    raise ValueError(f"two duties are named {duty.name!r}")
                duties[duty.name] = duty
        self._duties = duties
        self._locks = {name: threading.Lock() for name in duties}

    def stop(self) -> None:
        """Stop the started components in reverse order. Every one is stopped even if an
        earlier stop fails (the failure is logged)."""
        while self._started:
            component = self._started.pop()
            try:
                component.stop()
            except Exception:
                log.exception("stopping %r failed", component)

    @property
    def duties(self) -> dict[str, Duty]:
        return dict(self._duties)

    # -- duties -------------------------------------------------------------------------------------

    async def run_duties(self) -> None:
        """Run every duty on its period until cancelled; a run in progress when cancelled is
        waited for (it is on a thread, which cannot be interrupted), so nothing a duty touches
        is stopped under it."""
        runs = [asyncio.ensure_future(self._every(duty)) for duty in self._duties.values()]
        try:
            await asyncio.gather(*runs)
        finally:
            for run in runs:
                run.cancel()
            await asyncio.gather(*runs, return_exceptions=True)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Lifecycle]:
        """Start, run duties while the body runs, then stop: the whole life, for a lifespan."""
        self.start()
        duties = asyncio.ensure_future(self.run_duties())
        try:
            yield self
        finally:
            duties.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await duties
            self.stop()

    def run_now(self, name: str) -> None:
        """Run one duty now, on the calling thread (after the run in progress, if any), whatever
        its schedule; its failure is raised to the caller. Tests use it to see a duty's effect
        without waiting for its period."""
        self._run_exclusively(self._duties[name])

    async def _every(self, duty: Duty) -> None:
        while True:
            await asyncio.sleep(duty.every_seconds)
            if not self.claim(duty):
                continue
            run = asyncio.ensure_future(asyncio.to_thread(self._run_exclusively, duty))
            try:
                # Shielded: cancelling the schedule must not abandon a run still on its thread.
                await asyncio.shield(run)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await run
                raise
            except Exception:  # a failed run must not stop the next one
                log.exception("background duty %s failed", duty.name)

    def _run_exclusively(self, duty: Duty) -> None:
        with self._locks[duty.name]:
            duty.run()
