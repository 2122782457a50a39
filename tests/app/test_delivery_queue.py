"""The delivery queue as server.py wires it: one queue on the application's database and clock,
started with the other components (releasing a previous run's claims), and moved through its
retry times by InProcessSagewatch.advance as real time would."""

from __future__ import annotations

from sagewatch.clock import FakeClock
from sagewatch.services.delivery import Delivered, Retry
from sagewatch.store.outbox import NewDelivery

from ..inprocess import InProcessSagewatch

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC


def test_the_queue_runs_with_the_application(tmp_path):
    app = InProcessSagewatch(tmp_path / "data")
    queue = app.system.delivery_queue
    with app:
        assert queue._thread is not None and queue._thread.is_alive()
        assert "delivery.expire-failures" in app.system.lifecycle.duties
        app.run_duty("delivery.expire-failures")
        thread = queue._thread
    assert not thread.is_alive()


def test_a_claim_left_by_a_crashed_server_is_delivered_after_the_restart(tmp_path):
    clock = FakeClock(START)
    app = InProcessSagewatch(tmp_path / "data", clock)
    store = app.system.delivery_queue.store
    [queued] = store.enqueue([NewDelivery("test", "arn:topic", {"message": "hello"})])
    assert [d.id for d in store.claim_due(START, 10)] == [queued]  # the server died holding it
    seen = []
    app.system.delivery_queue.register("test", lambda d: seen.append((d.id, d.payload)) or Delivered())
    with app:
        app.settle()
        assert seen == [(queued, {"message": "hello"})]
        assert store.pending() == 0


def test_advance_stops_at_every_retry_of_a_delivery(tmp_path):
    clock = FakeClock(START)
    app = InProcessSagewatch(tmp_path / "data", clock)
    tries = []

    def refuses_three_times(delivery):
        tries.append(clock.now() - START)
        return Retry("HTTP 500", after_seconds=20) if delivery.attempts < 3 else Delivered()

    app.system.delivery_queue.register("test", refuses_three_times)
    with app:
        app.system.delivery_queue.enqueue([NewDelivery("test", "arn:topic", {})])
        app.advance(300)
        assert tries == [0, 20, 40, 60]
        assert app.system.delivery_queue.store.pending() == 0
