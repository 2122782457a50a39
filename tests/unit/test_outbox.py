"""The outbox (store/sqlite/outbox.py) and the delivery queue (services/delivery.py) over a real
SQLite file, with time in the test's hands (FakeClock): what is delivered, when it is tried again,
what is kept when it fails, and how many handlers run at once."""

from __future__ import annotations

import contextlib
import threading

import pytest

from sagewatch.clock import FakeClock
from sagewatch.services.delivery import Delivered, DeliveryQueue, Failed, Retry
from sagewatch.store.outbox import NewDelivery
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.outbox import SQLiteOutboxStore

START = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
DAY = 86400.0


@pytest.fixture
def clock():
    return FakeClock(START)


@pytest.fixture
def database(tmp_path):
    database = Database(tmp_path / "sagewatch.db")
    yield database
    database.close()


@pytest.fixture
def store(database, clock):
    return SQLiteOutboxStore(database, now=clock.now)


@contextlib.contextmanager
def running(queue: DeliveryQueue):
    queue.start()
    try:
        yield queue
    finally:
        queue.stop()


def settled(queue: DeliveryQueue) -> None:
    assert queue.settle(timeout=30), "the delivery queue did not settle"


def item(owner="arn:owner", n=0, kind="test", due=None) -> NewDelivery:
    return NewDelivery(kind, owner, {"n": n, "text": "é", "nested": [1, {"a": None}]}, due)


# -- the store ------------------------------------------------------------------------------------

def test_claims_go_earliest_due_first_and_only_once(store):
    store.enqueue([item(n=0, due=START + 5), item(n=1, due=START - 5), item(n=2), item(n=3, due=START + 99)])
    first = store.claim_due(START + 10, limit=2)
    assert [d.payload["n"] for d in first] == [1, 2]
    assert first[0].payload == {"n": 1, "text": "é", "nested": [1, {"a": None}]}
    assert (first[1].created, first[1].due, first[1].attempts) == (START, START, 0)
    assert [d.payload["n"] for d in store.claim_due(START + 10, limit=10)] == [0]
    assert store.claim_due(START + 10, limit=10) == []  # all claimed, or not due
    assert store.next_due() == START + 99  # claimed deliveries are not waiting
    assert store.pending() == 4 and store.pending("arn:owner") == 4 and store.pending("other") == 0


def test_released_claims_are_claimed_again(store):
    [one] = store.enqueue([item()])
    assert [d.id for d in store.claim_due(START, 10)] == [one]
    assert store.release_claims() == 1
    assert [d.id for d in store.claim_due(START, 10)] == [one]


def test_succeeded_removes_retry_counts_and_reschedules(store):
    done, again = store.enqueue([item(n=0), item(n=1)])
    store.claim_due(START, 10)
    store.succeeded(done)
    store.retry(again, START + 20, "HTTP 503")
    assert store.pending() == 1 and store.next_due() == START + 20
    assert store.claim_due(START + 19, 10) == []
    [delivery] = store.claim_due(START + 20, 10)
    assert (delivery.id, delivery.attempts, delivery.due) == (again, 1, START + 20)


def test_failures_are_kept_newest_first_until_they_expire(store):
    a, b, c = store.enqueue([item("arn:sns:t:1", 0), item("arn:sns:t:2", 1), item("arn:events:r", 2)])
    store.claim_due(START, 10)
    store.retry(a, START, "first")
    store.claim_due(START, 10)
    store.failed(a, "gave up", START + 10)
    store.failed(b, "refused", START + 20)
    store.failed(c, "gone", START + 30)
    assert store.pending() == 0 and store.next_due() is None
    assert [(f.id, f.error, f.finished) for f in store.failures()] == [
        (c, "gone", START + 30), (b, "refused", START + 20), (a, "gave up", START + 10)]
    sns = store.failures("arn:sns:")
    assert [f.id for f in sns] == [b, a]
    assert (sns[1].attempts, sns[1].owner, sns[1].kind, sns[1].payload["n"]) == (2, "arn:sns:t:1", "test", 0)
    assert [f.id for f in store.failures(limit=1)] == [c]
    assert store.expire_failures(START + 20) == 1
    assert [f.id for f in store.failures()] == [c, b]


def test_purge_drops_the_pending_deliveries_of_one_owner(store):
    kept, purged, failed = store.enqueue([item("arn:keep"), item("arn:gone"), item("arn:gone")])
    store.claim_due(START, 10)
    store.failed(failed, "x", START)
    assert store.purge("arn:gone") == 1
    assert store.pending() == 1 and store.pending("arn:gone") == 0
    assert [f.id for f in store.failures()] == [failed]  # the record of what failed stays
    store.succeeded(purged)  # a handler finishing a purged delivery changes nothing
    store.retry(purged, START, "late")
    assert store.pending() == 1


def test_enqueue_in_commits_or_rolls_back_with_the_callers_transaction(database, store):
    with pytest.raises(RuntimeError):
        with database.write() as db:
            SQLiteOutboxStore.enqueue_in(db, [item(n=0)], START)
            raise RuntimeError("the resource change failed")
    assert store.pending() == 0
    with database.write() as db:
        ids = SQLiteOutboxStore.enqueue_in(db, [item(n=1), item(n=2, due=START + 5)], START - 1)
    assert len(ids) == 2 and store.pending() == 2
    assert [(d.id, d.created, d.due) for d in store.claim_due(START + 5, 10)] == [
        (ids[0], START - 1, START - 1), (ids[1], START - 1, START + 5)]


# -- the queue ------------------------------------------------------------------------------------

def test_a_delivered_delivery_is_removed(store, clock):
    seen = []
    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", lambda d: seen.append(d.payload["n"]) or Delivered("200"))
    with running(queue):
        queue.enqueue([item(n=7)])  # the clock does not move: enqueue itself wakes the dispatcher
        settled(queue)
        assert seen == [7] and store.pending() == 0 and store.failures() == []


def test_a_retry_is_tried_again_when_its_time_comes(store, clock):
    attempts = []

    def flaky(delivery):
        attempts.append((delivery.attempts, clock.now()))
        if delivery.attempts < 2:
            return Retry(f"try {delivery.attempts} refused", after_seconds=30)
        return Delivered()

    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", flaky)
    with running(queue):
        queue.enqueue([item()])
        settled(queue)
        assert attempts == [(0, START)]
        assert store.next_due() == START + 30
        clock.advance(29)
        settled(queue)
        assert len(attempts) == 1  # not before its time
        clock.advance(1)
        settled(queue)
        clock.advance(30)
        settled(queue)
    assert attempts == [(0, START), (1, START + 30), (2, START + 60)]
    assert store.pending() == 0 and store.failures() == []


def test_failures_are_recorded_with_their_reason(store, clock):
    def boom(delivery):
        raise ConnectionRefusedError("connection refused")

    queue = DeliveryQueue(store, clock=clock)
    queue.register("gives-up", lambda d: Failed("HTTP 404"))
    queue.register("raises", boom)
    with running(queue):
        queue.enqueue([NewDelivery("gives-up", "a", {}), NewDelivery("raises", "b", {}),
                       NewDelivery("unknown", "c", {})])
        settled(queue)
    assert {f.owner: (f.error, f.attempts) for f in store.failures()} == {
        "a": ("HTTP 404", 1), "b": ("connection refused", 1), "c": ("no handler for unknown", 1)}
    assert store.pending() == 0


def test_a_hundred_blocking_handlers_run_at_once(store, clock):
    """SNS fan-out: every subscriber's POST is under way before any has answered."""
    everyone = threading.Barrier(100, timeout=60)
    queue = DeliveryQueue(store, clock=clock, workers=100)
    queue.register("test", lambda d: Delivered(str(everyone.wait())))
    with running(queue):
        queue.enqueue([item(n=n) for n in range(100)])
        settled(queue)
    assert not everyone.broken
    assert store.pending() == 0 and store.failures() == []


def test_no_more_handlers_run_than_there_are_workers(store, clock):
    lock = threading.Lock()
    now_running, most = 0, 0
    in_fours = threading.Barrier(4, timeout=60)  # they do run four at a time

    def handler(delivery):
        nonlocal now_running, most
        with lock:
            now_running += 1
            most = max(most, now_running)
        in_fours.wait()
        with lock:
            now_running -= 1
        return Delivered()

    queue = DeliveryQueue(store, clock=clock, workers=4)
    queue.register("test", handler)
    with running(queue):
        queue.enqueue([item(n=n) for n in range(12)])
        settled(queue)
    assert most == 4 and store.pending() == 0 and store.failures() == []


def test_one_worker_takes_deliveries_in_due_order(store, clock):
    order = []
    store.enqueue([item(n=n, due=START - 100 + due) for n, due in enumerate([30, 10, 20, 0, 40])])
    queue = DeliveryQueue(store, clock=clock, workers=1)
    queue.register("test", lambda d: order.append(d.payload["n"]) or Delivered())
    with running(queue):
        settled(queue)
    assert order == [3, 1, 2, 0, 4]


def test_a_delivery_due_later_waits_for_the_clock(store, clock):
    seen = []
    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", lambda d: seen.append(clock.now()) or Delivered())
    with running(queue):
        queue.enqueue([item(due=START + 60)])
        settled(queue)
        assert seen == [] and queue.next_due() == START + 60
        clock.advance(90)
        settled(queue)
    assert seen == [START + 90]


def test_start_releases_the_claims_of_a_crashed_run(store, clock):
    store.enqueue([item(n=1)])
    [claimed] = store.claim_due(START, 10)  # the crashed server was carrying it out
    seen = []
    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", lambda d: seen.append((d.id, d.attempts)) or Delivered())
    with running(queue):
        settled(queue)
    assert seen == [(claimed.id, 0)] and store.pending() == 0


def test_stop_leaves_an_unfinished_delivery_to_the_next_start(store, clock):
    release = threading.Event()
    started = threading.Event()

    def stuck(delivery):
        started.set()
        release.wait(60)
        return Delivered()

    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", stuck)
    queue.start()
    try:
        queue.enqueue([item()])
        assert started.wait(60)
    finally:
        queue.stop(timeout=0.1)
    release.set()
    assert store.pending() == 1  # its outcome came after stop: not applied, the claim stands
    assert store.release_claims() == 1


def test_the_expiry_duty_drops_failure_records_after_two_weeks(store, clock):
    queue = DeliveryQueue(store, clock=clock)
    queue.register("test", lambda d: Failed("no"))
    with running(queue):
        queue.enqueue([item()])
        settled(queue)
        [duty] = queue.duties()
        clock.advance(14 * DAY)
        duty.run()
        assert len(store.failures()) == 1
        clock.advance(1)
        duty.run()
        assert store.failures() == []
