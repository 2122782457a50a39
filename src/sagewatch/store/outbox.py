"""The outbox store interface: deliveries sagewatch owes to the outside world, kept durably.

A delivery is one message to carry out (an SNS notification to one subscriber, an event to one
rule target), queued by the resource that owes it (its ``owner``: a subscription ARN, a rule
ARN) with everything its handler needs in ``payload``. It stays in the store until its handler
reports it delivered; a try that failed is retried at a later ``due`` time, and a delivery given
up on is kept as a ``Failure`` record (for the console, delivery-status reports and tests) until
it expires. ``services/delivery.py`` is the queue that runs them.

Claims: a delivery being carried out is marked claimed so it is not handed out twice. A server
that crashes holds claims no one will finish; ``release_claims`` at start-up puts them back, so
the delivery is tried again (at-least-once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NewDelivery:
    kind: str  # which handler carries it out: "sns.http", "sns.email", "events.target", ...
    owner: str  # the resource it belongs to (a subscription ARN, a rule ARN): listing and purge
    payload: dict  # JSON-serializable, made by the owner: all the handler needs, retry policy too
    due: float | None = None  # epoch seconds; None: now


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    kind: str
    owner: str
    payload: dict
    attempts: int  # tries that failed so far
    created: float  # epoch seconds when queued
    due: float


@dataclass(frozen=True, slots=True)
class Failure:
    """A delivery given up on: its last error, and when."""

    id: int
    kind: str
    owner: str
    payload: dict
    attempts: int  # every try, the last one included
    created: float
    finished: float  # epoch seconds when it was given up on
    error: str


class OutboxStore:
    def enqueue(self, items: Sequence[NewDelivery]) -> list[int]:
        """Queue deliveries in one transaction, committed before it returns; their ids."""
        raise NotImplementedError

    @staticmethod
    def enqueue_in(db, items: Sequence[NewDelivery], now: float) -> list[int]:
        """Queue deliveries inside a caller's write transaction (``with database.write() as
        db``), so a resource change and the deliveries it causes commit together."""
        raise NotImplementedError

    def claim_due(self, now: float, limit: int) -> list[Delivery]:
        """Up to ``limit`` unclaimed deliveries due at ``now``, earliest due first, marked
        claimed."""
        raise NotImplementedError

    def release_claims(self) -> int:
        """At start-up: the claims a previous (crashed) server held go back; how many."""
        raise NotImplementedError

    def succeeded(self, delivery_id: int) -> None:
        """Delivered: the delivery is removed."""
        raise NotImplementedError

    def retry(self, delivery_id: int, due: float, error: str) -> None:
        """A try failed: one more attempt counted, unclaimed, due again at ``due``."""
        raise NotImplementedError

    def failed(self, delivery_id: int, error: str, now: float) -> None:
        """Given up on: kept as a failure record (the last try counted in its attempts)."""
        raise NotImplementedError

    def next_due(self) -> float | None:
        """When the earliest unclaimed delivery is due (None: there is none)."""
        raise NotImplementedError

    def pending(self, owner: str | None = None) -> int:
        """How many deliveries (of ``owner``) are still to be delivered, claimed ones included."""
        raise NotImplementedError

    def failures(self, owner_prefix: str = "", limit: int = 100) -> list[Failure]:
        """Failure records of owners starting with ``owner_prefix``, newest first."""
        raise NotImplementedError

    def purge(self, owner: str) -> int:
        """Drop the pending deliveries of a deleted resource; how many (failure records stay
        until they expire)."""
        raise NotImplementedError

    def expire_failures(self, before: float) -> int:
        """Delete failure records finished before ``before``; how many."""
        raise NotImplementedError
