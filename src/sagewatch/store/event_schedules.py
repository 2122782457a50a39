"""The EventBridge scheduler's memory (services/events/scheduler.py): per scheduled rule, when
its schedule started counting and when it last fired.

Kept in the store, and written in the same transaction as the deliveries a firing queues, so a
restart neither fires a slot twice nor forgets that one was fired: a slot is fired exactly when
its ``last_fire`` moves forward, and the deliveries it owes are committed with that move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .outbox import NewDelivery


@dataclass(frozen=True, slots=True)
class ScheduleState:
    rule_arn: str
    expression: str  # the ScheduleExpression the anchor belongs to (a new one starts again)
    anchor: float  # epoch seconds: when a rate() starts counting (the rule created or enabled)
    last_fire: float | None  # the last slot fired (or skipped); None: none yet


class EventScheduleStore:
    def states(self) -> dict[str, ScheduleState]:
        """Every rule's state, by rule ARN."""
        raise NotImplementedError

    def begin(self, state: ScheduleState) -> None:
        """Record a rule's schedule (new, enabled again, or with a new expression), replacing
        what was recorded for it."""
        raise NotImplementedError

    def fire(self, rule_arn: str, slot: float, deliveries: Sequence[NewDelivery], now: float) -> bool:
        """Record ``slot`` as the rule's last fire and queue ``deliveries`` (the outbox), in one
        transaction; only if ``slot`` is later than the recorded last fire (False: it was
        already fired, nothing is queued). An empty ``deliveries`` skips the slot."""
        raise NotImplementedError

    def forget(self, rule_arns: Iterable[str]) -> None:
        """The rules are disabled or deleted: their schedules start again if they come back."""
        raise NotImplementedError
