"""The lifecycle: components start in order and stop in reverse, duties run on their periods
off the event loop, a failing duty or stop does not stop the rest, a claim decides who runs a
duty, and stopping waits for a duty run in progress."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from sagewatch.lifecycle import Duty, Lifecycle, Part


class Recorder:
    """A component that writes what happens to it into a shared journal."""

    def __init__(self, name: str, journal: list[str], duties: list[Duty] = (), fail_start: bool = False,
                 fail_stop: bool = False) -> None:
        self.name, self.journal, self._duties = name, journal, list(duties)
        self.fail_start, self.fail_stop = fail_start, fail_stop

    def start(self) -> None:
        if self.fail_start:
            raise RuntimeError(f"{self.name} cannot start")
        self.journal.append(f"start {self.name}")

    def duties(self) -> list[Duty]:
        return self._duties

    def stop(self) -> None:
        self.journal.append(f"stop {self.name}")
        if self.fail_stop:
            raise RuntimeError(f"{self.name} cannot stop")


def test_components_start_in_order_and_stop_in_reverse():
    journal: list[str] = []
    lifecycle = Lifecycle([Recorder(n, journal) for n in "abc"])
    lifecycle.start()
    lifecycle.stop()
    assert journal == ["start a", "start b", "start c", "stop c", "stop b", "stop a"]
    lifecycle.stop()  # stopping twice stops nothing twice
    assert len(journal) == 6


def test_a_failed_start_stops_what_started_and_raises():
    journal: list[str] = []
    lifecycle = Lifecycle([Recorder("a", journal), Recorder("b", journal, fail_start=True), Recorder("c", journal)])
    with pytest.raises(RuntimeError, match="b cannot start"):
        lifecycle.start()
    assert journal == ["start a", "stop a"]


def test_a_failed_stop_does_not_keep_the_others_running(caplog):
    journal: list[str] = []
    lifecycle = Lifecycle([Recorder("a", journal), Recorder("b", journal, fail_stop=True), Recorder("c", journal)])
    lifecycle.start()
    with caplog.at_level(logging.ERROR, logger="sagewatch.lifecycle"):
        lifecycle.stop()
    assert journal[3:] == ["stop c", "stop b", "stop a"]
    assert "b cannot stop" in caplog.text


def test_duty_names_are_unique():
    noop = Duty("same", 1, lambda: None)
    lifecycle = Lifecycle([Part("a", periodic=[noop]), Part("b", periodic=[noop])])
    with pytest.raises(ValueError, match="same"):
        lifecycle.start()


def test_a_part_calls_what_it_was_given():
    journal: list[str] = []
    part = Part("db", on_start=lambda: journal.append("open"), on_stop=lambda: journal.append("close"),
                periodic=[Duty("db.checkpoint", 5, lambda: None)])
    lifecycle = Lifecycle([part])
    lifecycle.start()
    assert list(lifecycle.duties) == ["db.checkpoint"]
    lifecycle.stop()
    assert journal == ["open", "close"]


def run_for(lifecycle: Lifecycle, until: threading.Event) -> None:
    """Serve (start, duties, stop) until ``until`` is set, as a lifespan would."""

    async def serve():
        async with lifecycle.running():
            while not until.is_set():
                await asyncio.sleep(0.001)

    asyncio.run(asyncio.wait_for(serve(), timeout=30))


def test_duties_run_on_their_period_off_the_event_loop_and_survive_failures(caplog):
    runs: list[str] = []
    threads: set[str] = set()
    enough = threading.Event()

    def flaky():
        threads.add(threading.current_thread().name)
        runs.append("flaky")
        if len(runs) == 1:
            raise RuntimeError("first run fails")
        if len(runs) >= 3:
            enough.set()

    lifecycle = Lifecycle([Part("p", periodic=[Duty("p.flaky", 0.001, flaky)])])
    with caplog.at_level(logging.ERROR, logger="sagewatch.lifecycle"):
        run_for(lifecycle, enough)
    assert len(runs) >= 3  # runs went on after the failure
    assert "background duty p.flaky failed" in caplog.text
    assert threading.main_thread().name not in threads  # not on the event loop's thread


def test_a_duty_not_claimed_is_not_run():
    ran: list[str] = []
    claimed: list[str] = []
    enough = threading.Event()

    def claim(duty: Duty) -> bool:
        claimed.append(duty.name)
        if claimed.count("mine") >= 3:
            enough.set()
        return duty.name == "mine"

    lifecycle = Lifecycle([Part("p", periodic=[Duty("mine", 0.001, lambda: ran.append("mine")),
                                               Duty("theirs", 0.001, lambda: ran.append("theirs"))])],
                          claim=claim)
    run_for(lifecycle, enough)
    assert "theirs" in claimed and "theirs" not in ran
    assert "mine" in ran


def test_stopping_waits_for_the_run_in_progress_before_stopping_components():
    journal: list[str] = []
    started = threading.Event()
    release = threading.Event()

    def slow():
        started.set()
        release.wait(10)
        journal.append("duty done")

    lifecycle = Lifecycle([Recorder("db", journal, duties=[Duty("db.slow", 0.001, slow)])])

    async def serve():
        async with lifecycle.running():
            await asyncio.to_thread(started.wait, 10)
            # Leave the lifespan while the duty runs; release it only once stopping has begun.
            threading.Timer(0.05, release.set).start()

    asyncio.run(asyncio.wait_for(serve(), timeout=30))
    assert journal == ["start db", "duty done", "stop db"]


def test_run_now_runs_a_duty_and_raises_its_failure():
    ran: list[int] = []

    def failing():
        raise RuntimeError("nope")

    lifecycle = Lifecycle([Part("p", periodic=[Duty("p.count", 3600, lambda: ran.append(1)),
                                               Duty("p.fail", 3600, failing)])])
    lifecycle.start()
    lifecycle.run_now("p.count")
    assert ran == [1]
    with pytest.raises(RuntimeError, match="nope"):
        lifecycle.run_now("p.fail")
    lifecycle.stop()
