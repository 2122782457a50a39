"""The SNS store interface: topics, their subscriptions, and the deliveries a change causes.

A change that owes the outside world a message (Subscribe owes the endpoint its
SubscriptionConfirmation, Unsubscribe an UnsubscribeConfirmation) writes the change and queues
the message in one transaction: the store is given the outbox (store/outbox.py) and a function
that makes the deliveries from the subscription as stored, so neither is ever written without
the other, and a function that refuses (raises) rolls the change back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .outbox import NewDelivery


@dataclass(slots=True)
class Topic:
    arn: str
    name: str
    attributes: dict[str, str]  # the attributes set on it (DisplayName, Policy, DeliveryPolicy, ...)
    created: float  # epoch seconds
    subscriptions_deleted: int = 0  # SubscriptionsDeleted: how many were deleted over its life


@dataclass(slots=True)
class Subscription:
    arn: str
    topic_arn: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]  # RawMessageDelivery, FilterPolicy, FilterPolicyScope, DeliveryPolicy...
    confirmed: bool
    token: str | None  # the confirmation token (kept after confirming: ConfirmSubscription is idempotent)
    created: float
    token_issued: float | None = None  # when the token was last sent (it is valid for two days)
    confirmation_authenticated: bool = False  # ConfirmationWasAuthenticated
    authenticate_on_unsubscribe: bool = False  # only an authenticated Unsubscribe may delete it
    confirmed_at: float | None = field(default=None)


# Makes the deliveries a change owes, from the subscription as stored (it may raise to refuse).
DeliveriesOf = Callable[[Subscription], Sequence[NewDelivery]]


class SnsStore:
    # -- topics ------------------------------------------------------------------------------

    def put_topic(self, topic: Topic, tags: dict[str, str] | None) -> tuple[Topic, bool]:
        """Create ``topic`` with ``tags`` unless its ARN exists: (the topic stored, created?).
        An existing topic is returned as it is, nothing written."""
        raise NotImplementedError

    def get_topic(self, arn: str) -> Topic | None:
        raise NotImplementedError

    def list_topics(self, *, after: str | None, limit: int) -> list[Topic]:
        """Topics by ARN, those after ``after``."""
        raise NotImplementedError

    def set_topic_attributes(self, arn: str, attributes: dict[str, str]) -> bool:
        """Replace the topic's attributes; False when there is no such topic."""
        raise NotImplementedError

    def delete_topic(self, arn: str) -> list[str] | None:
        """Delete the topic, its subscriptions and tags; the ARNs of the subscriptions deleted
        (None: there was no such topic)."""
        raise NotImplementedError

    def subscription_counts(self, topic_arn: str) -> tuple[int, int]:
        """(confirmed, pending) subscriptions of a topic."""
        raise NotImplementedError

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(self, candidate: Subscription, deliveries: DeliveriesOf, now: float
                  ) -> tuple[Subscription, bool] | None:
        """Store ``candidate`` unless the topic already has a subscription of the same protocol
        and endpoint, and queue ``deliveries(stored)`` in the same transaction: (the
        subscription stored, created?); None when the topic does not exist (nothing written).
        An existing subscription still pending has its token's two days start again ``now``
        (its confirmation is being sent again)."""
        raise NotImplementedError

    def get_subscription(self, arn: str) -> Subscription | None:
        raise NotImplementedError

    def list_subscriptions(self, *, topic_arn: str | None, after: str | None, limit: int) -> list[Subscription]:
        """Subscriptions by ARN (of one topic, or all), those after ``after``."""
        raise NotImplementedError

    def subscriptions_of(self, topic_arn: str) -> list[Subscription]:
        raise NotImplementedError

    def confirm(self, topic_arn: str, token: str, *, issued_after: float, authenticated: bool,
                authenticate_on_unsubscribe: bool, now: float) -> Subscription | None:
        """Confirm the subscription of ``topic_arn`` whose token is ``token`` (issued after
        ``issued_after``), or restore the unsubscribed one whose UnsubscribeConfirmation carried
        it; None when the token names neither. Confirming a confirmed subscription changes
        nothing (ConfirmSubscription is idempotent)."""
        raise NotImplementedError

    def set_subscription_attributes(self, arn: str, attributes: dict[str, str]) -> bool:
        raise NotImplementedError

    def delete_subscription(self, arn: str, deliveries: DeliveriesOf, *, restore_token: str | None,
                            now: float) -> Subscription | None:
        """Delete a subscription (counted in its topic's SubscriptionsDeleted) and queue
        ``deliveries(deleted)``, in one transaction; with ``restore_token``, keep what is needed
        to restore it when that token is confirmed. None: no such subscription."""
        raise NotImplementedError

    def expire(self, *, unconfirmed_before: float, unsubscribed_before: float) -> list[str]:
        """Delete subscriptions still unconfirmed that were created before
        ``unconfirmed_before``, and forget restorable ones deleted before
        ``unsubscribed_before``; the ARNs of the subscriptions deleted."""
        raise NotImplementedError
