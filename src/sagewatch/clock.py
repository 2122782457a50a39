"""The clock: what time it is for sagewatch, in one unit (epoch seconds, a float).

Everything that decides by the time of day (when an alarm is due, which periods it evaluates,
what a history item is stamped with, how old a log event is) asks a ``Clock`` instead of calling
``time.time()`` itself, so one object decides what "now" is. The server runs on
``SYSTEM_CLOCK``; tests run the real application on a ``FakeClock`` they move by hand, so an
alarm's next minute arrives when the test says so rather than after sixty seconds of sleeping.

A thread that sleeps until a moment of the clock's time (the alarm engine waiting for its next
evaluation) sleeps through ``Clock.wait_until(condition, deadline)``: on the system clock that
is a timed wait; on a fake clock it is a wait that moving the clock ends.

Durations measured for their own sake (timeouts, benchmarks, "has this request taken too long")
are not the time of day and keep using ``time.monotonic()``.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""

    def now_ms(self) -> int:
        """Milliseconds since the epoch (the unit of CloudWatch Logs timestamps)."""

    def wait_until(self, condition: threading.Condition, deadline: float) -> None:
        """Wait on ``condition`` (whose lock the caller holds) until it is notified or this
        clock reaches ``deadline``, whichever comes first. Like ``Condition.wait`` it may also
        return early; callers re-check what they wait for."""


class SystemClock:
    """The machine's clock."""

    def now(self) -> float:
        return time.time()

    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def wait_until(self, condition: threading.Condition, deadline: float) -> None:
        condition.wait(timeout=max(0.0, deadline - time.time()))

    def __repr__(self) -> str:
        return "SYSTEM_CLOCK"


SYSTEM_CLOCK = SystemClock()


class FakeClock:
    """A clock that only moves when told to (``advance``, ``set``).

    Threads sleeping in ``wait_until`` are woken whenever the time moves, and re-check their
    deadline against the new time; a sleeper never wakes by itself, because no fake time passes
    while nobody moves the clock.
    """

    def __init__(self, start: float) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        # Conditions that have ever slept on this clock. Kept for the clock's life (weakly), not
        # just during a wait: a sleeper registers before it reads the time one last time, so a
        # move in between is never missed (see wait_until).
        self._sleepers: weakref.WeakSet[threading.Condition] = weakref.WeakSet()

    def now(self) -> float:
        with self._lock:
            return self._now

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds``; returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards; use set() to jump")
        with self._lock:
            self._now += seconds
            now = self._now
        self._wake_sleepers()
        return now

    def set(self, moment: float) -> None:
        """Put the clock at ``moment`` (backwards too: a test may replay a clock step)."""
        with self._lock:
            self._now = float(moment)
        self._wake_sleepers()

    def wait_until(self, condition: threading.Condition, deadline: float) -> None:
        # Register first, then compare: a move that lands after the comparison finds this
        # condition registered, and its notify waits for the lock that ``wait`` releases, so
        # the wake-up cannot fall between the comparison and the wait.
        with self._lock:
            self._sleepers.add(condition)
        if self.now() >= deadline:
            return
        condition.wait()

    def _wake_sleepers(self) -> None:
        with self._lock:
            sleepers = list(self._sleepers)
        for condition in sleepers:
            with condition:
                condition.notify_all()

    def __repr__(self) -> str:
        return f"FakeClock({self.now()!r})"
