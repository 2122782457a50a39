"""The delivery queue: carries out the deliveries in the outbox (store/outbox.py), durably.

Whatever sagewatch owes the outside world (an SNS notification to a webhook or a mailbox, an
event to a rule's target) is queued in the store first, then carried out here:

    queue.register("sns.http", handler)   # handler(delivery) -> Delivered | Retry | Failed
    queue.enqueue([NewDelivery("sns.http", subscription_arn, payload)])

Semantics:

* Durable: ``enqueue`` returns once the deliveries are committed (a caller that changes a
  resource and queues what the change causes in one transaction uses
  ``OutboxStore.enqueue_in`` and then ``wake``). A request that queued is acknowledged by the
  gateway after the group commit's fsync, like any write.
* At-least-once: a delivery is removed only after its handler returned ``Delivered``. A crash
  between the handler's send and that removal sends it again after the restart: the claims a
  dead server held are released at start.
* Retries belong to the handler: it reads ``delivery.attempts`` (tries failed so far) and the
  policy its owner put in ``delivery.payload``, and answers ``Retry(error, after_seconds)``
  (due again then) or ``Failed(error)`` (given up: kept as a failure record for 14 days). A
  handler that raises has failed, with the exception's text; a kind with no handler fails
  ("no handler for <kind>").
* Prompt: ``enqueue`` and ``wake`` wake the dispatcher at once; otherwise it sleeps until the
  earliest due time, by the server's clock (on a ``FakeClock``, until the test moves it).
* Concurrent: handlers run on a pool of ``workers`` threads and may block (HTTP, SMTP); the
  dispatcher claims as many due deliveries, earliest due first, as there are free workers, so a
  topic's fan-out to a hundred webhooks goes out side by side, not one slow endpoint at a time.

``DeliveryQueue`` is a lifecycle component: ``start`` releases stale claims and starts the
dispatcher, its duty expires old failure records, ``stop`` lets running handlers finish (for a
while; a delivery whose handler is still running is retried after the restart).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..clock import SYSTEM_CLOCK, Clock
from ..lifecycle import Duty
from ..store.outbox import Delivery, NewDelivery, OutboxStore

log = logging.getLogger(__name__)

# Failure records are kept as long as CloudWatch keeps alarm history (aws-behaviour.md §8.3):
# sagewatch's own choice, long enough to look at a failed night's deliveries in the morning.
FAILURE_RETENTION_SECONDS = 14 * 86400
# How long the dispatcher sleeps at most with nothing due: a backstop only (every enqueue wakes
# it), for a caller that queued with enqueue_in and forgot wake().
IDLE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Delivered:
    detail: str | None = None  # e.g. the endpoint's status code, for the logs


@dataclass(frozen=True, slots=True)
class Retry:
    error: str
    after_seconds: float


@dataclass(frozen=True, slots=True)
class Failed:
    error: str


Outcome = Delivered | Retry | Failed
Handler = Callable[[Delivery], Outcome]


class DeliveryQueue:
    def __init__(self, store: OutboxStore, *, clock: Clock = SYSTEM_CLOCK, workers: int = 32) -> None:
        self.store = store
        self.clock = clock
        self.workers = workers
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # the dispatcher sleeps on it
        self._changed = threading.Condition(self._lock)  # settle() waits on it
        self._woken = False  # something may have become due since the dispatcher last looked
        self._claiming = False  # the dispatcher is between claiming and handing out
        self._running = 0  # deliveries handed to workers and not yet finished
        self._applying = 0  # outcomes being written to the store (stop waits for them)
        self._changes = 0  # counts claims and finished deliveries, for settle()
        self._stopping = False
        self._stopped = True  # outcomes are applied only while started (the database is open)
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def register(self, kind: str, handler: Handler) -> None:
        """``handler(delivery)`` carries out deliveries of ``kind`` on a worker thread."""
        if kind in self._handlers:
            raise ValueError(f"a handler for {kind!r} is already registered")
        self._handlers[kind] = handler

    # -- queueing ---------------------------------------------------------------------------------

    def enqueue(self, items: Sequence[NewDelivery]) -> list[int]:
        """Queue deliveries durably (committed when this returns) and wake the dispatcher."""
        if not items:
            return []
        ids = self.store.enqueue(items)
        self.wake()
        return ids

    def wake(self) -> None:
        """Look for due deliveries now (after queueing with ``OutboxStore.enqueue_in``)."""
        with self._lock:
            self._woken = True
            self._wake.notify_all()

    def next_due(self) -> float | None:
        """When the earliest delivery waiting is due (None: none is waiting)."""
        return self.store.next_due()

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        released = self.store.release_claims()
        if released:
            log.info("%d deliveries a previous run was carrying out are queued again", released)
        with self._lock:
            self._stopping = False
            self._stopped = False
            self._woken = True
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="delivery")
        self._thread = threading.Thread(target=self._dispatch, name="delivery-dispatcher", daemon=True)
        self._thread.start()

    def duties(self) -> list[Duty]:
        return [Duty("delivery.expire-failures", 3600, self.expire_failures)]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let running handlers finish for up to ``timeout`` seconds. A delivery
        still running after that keeps its claim, released (and so retried) at the next start."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._running and time.monotonic() < deadline:
                self._changed.wait(timeout=deadline - time.monotonic())
            self._stopped = True
            # An outcome already being written is a short store write: the store closes after.
            self._changed.wait_for(lambda: not self._applying)
        if self._pool is not None:
            self._pool.shutdown(wait=False)  # nothing waits in it: only free workers get work
            self._pool = None

    def expire_failures(self) -> int:
        return self.store.expire_failures(self.clock.now() - FAILURE_RETENTION_SECONDS)

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is due at the clock's present time and no handler is running;
        False if ``timeout`` (real) seconds pass first. Tests that move a fake clock call it to
        know the queue has caught up."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                busy = self._running or self._claiming
                changes = self._changes
            if not busy:
                due = self.store.next_due()
                if due is None or due > self.clock.now():
                    with self._lock:
                        if self._changes == changes:  # nothing claimed or finished meanwhile
                            return True
                    continue
            with self._lock:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                if self._changes == changes:
                    # Short waits: a due delivery is claimed once the dispatcher sees it, and
                    # the dispatcher, not this thread, is what a clock move wakes.
                    self._changed.wait(timeout=min(left, 0.05))

    # -- the dispatcher and the workers -------------------------------------------------------------

    def _dispatch(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                free = self.workers - self._running
                self._woken = False
                self._claiming = free > 0
            claimed: list[Delivery] = []
            failed = False
            try:
                if free > 0:
                    claimed = self.store.claim_due(self.clock.now(), free)
            except Exception:
                log.exception("claiming due deliveries failed")
                failed = True
            finally:
                with self._lock:
                    self._running += len(claimed)
                    self._claiming = False
                    self._changes += 1
                    self._changed.notify_all()
            for delivery in claimed:
                assert self._pool is not None
                self._pool.submit(self._carry_out, delivery)
            if failed:
                with self._lock:
                    self._wake.wait(timeout=1.0)  # in real time: the store, not the clock, failed
                continue
            if claimed and len(claimed) == free:
                continue  # every worker got one; more may be due
            try:
                due = self.store.next_due()
            except Exception:
                log.exception("reading the next due delivery failed")
                due = None
            with self._lock:
                if self._stopping:
                    return
                if self._woken:
                    continue
                now = self.clock.now()
                if self._running >= self.workers or due is None:
                    deadline = now + IDLE_SECONDS  # a finishing worker wakes us
                elif due <= now:
                    continue
                else:
                    deadline = min(due, now + IDLE_SECONDS)
                self.clock.wait_until(self._wake, deadline)

    def _carry_out(self, delivery: Delivery) -> None:
        try:
            outcome = self._run_handler(delivery)
            with self._lock:
                if self._stopped:
                    return  # the store may be closed; the claim is released at the next start
                self._applying += 1
            try:
                self._apply(delivery, outcome)
            finally:
                with self._lock:
                    self._applying -= 1
        except Exception:
            log.exception("recording the outcome of delivery %d (%s) failed", delivery.id, delivery.kind)
        finally:
            with self._lock:
                self._running -= 1
                self._changes += 1
                self._woken = True  # a worker is free, and a retry may be due before we slept
                self._wake.notify_all()
                self._changed.notify_all()

    def _run_handler(self, delivery: Delivery) -> Outcome:
        handler = self._handlers.get(delivery.kind)
        if handler is None:
            return Failed(f"no handler for {delivery.kind}")
        try:
            outcome = handler(delivery)
        except Exception as error:
            log.exception("delivery %d (%s for %s) raised", delivery.id, delivery.kind, delivery.owner)
            return Failed(str(error) or type(error).__name__)
        if not isinstance(outcome, (Delivered, Retry, Failed)):
            return Failed(f"the {delivery.kind} handler answered {outcome!r}")
        return outcome

    def _apply(self, delivery: Delivery, outcome: Outcome) -> None:
        if isinstance(outcome, Delivered):
            self.store.succeeded(delivery.id)
        elif isinstance(outcome, Retry):
            log.info("delivery %d (%s for %s) is tried again in %s s: %s", delivery.id, delivery.kind,
                     delivery.owner, outcome.after_seconds, outcome.error)
            self.store.retry(delivery.id, self.clock.now() + max(0.0, outcome.after_seconds), outcome.error)
        else:
            log.warning("delivery %d (%s for %s) failed after %d tries: %s", delivery.id, delivery.kind,
                        delivery.owner, delivery.attempts + 1, outcome.error)
            self.store.failed(delivery.id, outcome.error, self.clock.now())
