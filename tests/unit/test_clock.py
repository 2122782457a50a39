"""The clock: one unit (epoch seconds), and a fake one whose moves wake the threads sleeping on it."""

from __future__ import annotations

import threading
import time

import pytest

from sagewatch.clock import SYSTEM_CLOCK, FakeClock


def test_the_system_clock_is_the_machines_in_seconds_and_milliseconds():
    before = time.time()
    now, now_ms = SYSTEM_CLOCK.now(), SYSTEM_CLOCK.now_ms()
    after = time.time()
    assert before <= now <= after
    assert int(before * 1000) <= now_ms <= int(after * 1000)


def test_the_system_clock_waits_until_a_deadline():
    condition = threading.Condition()
    with condition:
        SYSTEM_CLOCK.wait_until(condition, time.time() - 1)  # already past: returns at once


def test_a_fake_clock_moves_only_when_told():
    clock = FakeClock(1000.5)
    assert clock.now() == 1000.5 and clock.now_ms() == 1_000_500
    assert clock.advance(10) == 1010.5
    clock.set(5.0)
    assert clock.now() == 5.0
    with pytest.raises(ValueError):
        clock.advance(-1)


class Sleeper:
    """A thread that sleeps on a condition until the clock reaches a deadline, as the alarm
    engine does between evaluations."""

    def __init__(self, clock: FakeClock, deadline: float) -> None:
        self.clock, self.deadline = clock, deadline
        self.condition = threading.Condition()
        self.waiting = threading.Event()
        self.woke_at: float | None = None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        with self.condition:
            while self.clock.now() < self.deadline:
                self.waiting.set()
                self.clock.wait_until(self.condition, self.deadline)
            self.woke_at = self.clock.now()


def test_moving_a_fake_clock_wakes_a_sleeper_once_its_deadline_is_reached():
    clock = FakeClock(0.0)
    sleeper = Sleeper(clock, deadline=60.0)
    assert sleeper.waiting.wait(10)
    clock.advance(30)  # not yet: it wakes, sees 30 and sleeps again
    sleeper.thread.join(0.2)
    assert sleeper.thread.is_alive() and sleeper.woke_at is None
    clock.advance(30)
    sleeper.thread.join(10)
    assert sleeper.woke_at == 60.0


def test_no_move_is_lost_between_reading_the_time_and_sleeping():
    """Many sleepers, each reaching its deadline by a move made while it may be between its
    last look at the time and its wait: every one of them wakes."""
    clock = FakeClock(0.0)
    sleepers = [Sleeper(clock, deadline=float(k + 1)) for k in range(50)]
    for _ in range(50):
        clock.advance(1)
    for sleeper in sleepers:
        sleeper.thread.join(10)
        assert sleeper.woke_at is not None and sleeper.woke_at >= sleeper.deadline
