"""The durable scheduler: fires ENABLED scheduled rules (``rate()``, ``cron()``) on time.

A scheduled rule's firing is the event

    {"version": "0", "id": <uuid>, "detail-type": "Scheduled Event", "source": "aws.events",
     "account": ..., "time": <the slot, YYYY-MM-DDTHH:MM:SSZ>, "region": ...,
     "resources": [<rule ARN>], "detail": {}}

(the shape of EventBridge's scheduled events, eb-run-lambda-schedule.md), delivered to the
rule's targets like a matched event (services/events/targets.py).

Guarantees
----------
* A slot fires once. Each rule's last fired slot is stored (store/event_schedules.py) in the
  same transaction as the deliveries the firing queues: after a crash either both are there
  (the deliveries go out, at least once) or neither (the slot is still due and fires at
  start). A restart never fires a slot twice.
* A slot missed while the server was down is fired once at start if it is less than a minute
  late; older missed slots are skipped (AWS fires "within that minute" of the schedule,
  eb-create-rule-schedule.md: a firing an hour late would be a surprise, a burst of them
  worse). While the server runs, a slot found late (a stalled machine, a clock moved forward)
  fires once, late: only the latest of the slots missed, never a burst.
* ``rate(n unit)`` counts from when the rule was created ("A rate expression starts when you
  create the scheduled event rule"), or enabled again, or given a new expression: the first
  slot is one period after that; ``cron()`` fires at its matching minutes, UTC.
* Precision: the ``events.scheduler`` duty looks every second, so a slot fires within about a
  second of its time (AWS: within its minute). Disabled and deleted rules never fire: a rule
  is fired only while it is ENABLED, and forgetting it lets its schedule start afresh when it
  is enabled again.

Time is the server's ``Clock``: on a FakeClock a test moves time and runs the duty
(``InProcessSagewatch.run_duty("events.scheduler")``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Protocol

from ...clock import SYSTEM_CLOCK, Clock
from ...lifecycle import Duty
from ...store.event_schedules import EventScheduleStore, ScheduleState
from .schedule import Rate, Schedule, next_fire, parse_schedule
from .targets import iso_time

log = logging.getLogger(__name__)

# A slot missed while the server was down fires at start if it is later than this; older ones
# are skipped.
MISSED_SLOT_GRACE_SECONDS = 60.0
# How far back a late or missed slot is looked for (a cron that fires every minute is walked
# minute by minute from the last fire): a clock moved further than this, or a server down for
# longer, only considers the slots of the last day.
LATE_SLOT_HORIZON_SECONDS = 86400.0
POLL_SECONDS = 1.0


class Rules(Protocol):
    """What the scheduler reads of the events store (contracts §4)."""

    def enabled_schedule_rules(self) -> list: ...

    def targets_of(self, rule_arn: str) -> list: ...


class Targets(Protocol):
    def deliveries(self, rule, targets: list, event: dict) -> list: ...


class EventScheduler:
    def __init__(self, store: EventScheduleStore, rules: Rules, targets: Targets, wake: Callable[[], None], *,
                 region: str, account_id: str, clock: Clock = SYSTEM_CLOCK,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        """``wake``: the delivery queue's ``wake`` (the deliveries are queued in the
        scheduler's own transaction)."""
        self.store = store
        self.rules = rules
        self.targets = targets
        self.wake = wake
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.new_id = new_id
        self._last_run: float | None = None  # None: not run since start

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._last_run = None

    def duties(self) -> list[Duty]:
        return [Duty("events.scheduler", POLL_SECONDS, self.run)]

    def stop(self) -> None:
        pass

    # -- firing ---------------------------------------------------------------------------------------

    def run(self) -> int:
        """Fire every slot that is due; how many fired."""
        now = self.clock.now()
        starting = self._last_run is None
        states = self.store.states()
        enabled = set()
        fired = 0
        for rule in self.rules.enabled_schedule_rules():
            if not rule.schedule_expression:
                continue
            enabled.add(rule.arn)
            try:
                schedule = parse_schedule(rule.schedule_expression)
            except ValueError:
                log.warning("rule %s has a schedule expression that is not valid: %r", rule.arn,
                            rule.schedule_expression)
                continue
            state = states.get(rule.arn)
            if state is None or state.expression != rule.schedule_expression:
                state = ScheduleState(rule.arn, rule.schedule_expression, self._anchor(rule, now), None)
                self.store.begin(state)
            try:
                fired += self._fire_due(rule, schedule, state, now, starting)
            except Exception:
                log.exception("firing the scheduled rule %s failed", rule.arn)
        self.store.forget(arn for arn in states if arn not in enabled)
        self._last_run = now
        return fired

    def _anchor(self, rule, now: float) -> float:
        """When a schedule newly seen starts counting: the rule's creation, or, for a rule
        enabled (or changed) since the last look, no earlier than that look."""
        created = rule.created if rule.created is not None else now
        if self._last_run is None:
            return min(created, now)
        return min(max(created, self._last_run), now)

    def _fire_due(self, rule, schedule: Schedule, state: ScheduleState, now: float, starting: bool) -> int:
        since = state.last_fire if state.last_fire is not None else state.anchor
        if starting:
            slot = _latest_slot(schedule, state.anchor, since, now, LATE_SLOT_HORIZON_SECONDS)
            if slot is None:
                return 0
            if slot < now - MISSED_SLOT_GRACE_SECONDS:
                # Missed while the server was down, too long ago: skipped, remembered as done.
                log.info("the scheduled rule %s missed %s while the server was down: skipped", rule.arn,
                         iso_time(slot))
                self.store.fire(rule.arn, slot, [], now)
                return 0
        else:
            slot = _latest_slot(schedule, state.anchor, since, now, LATE_SLOT_HORIZON_SECONDS)
            if slot is None:
                return 0
        event = {
            "version": "0", "id": self.new_id(), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": self.account_id, "time": iso_time(slot), "region": self.region,
            "resources": [rule.arn], "detail": {},
        }
        targets = self.rules.targets_of(rule.arn)
        deliveries = self.targets.deliveries(rule, targets, event) if targets else []
        if not self.store.fire(rule.arn, slot, deliveries, now):
            return 0
        if deliveries:
            self.wake()
        return 1


def _latest_slot(schedule: Schedule, anchor: float, since: float, now: float, horizon: float) -> float | None:
    """The last fire time in (since, now], looking back at most ``horizon`` seconds."""
    start = max(since, now - horizon)
    if isinstance(schedule, Rate):
        periods = int((now - anchor) // schedule.seconds)
        slot = anchor + periods * schedule.seconds
        return slot if periods >= 1 and slot > start else None
    slot = next_fire(schedule, start, anchor)
    if slot is None or slot > now:
        return None
    while True:
        following = next_fire(schedule, slot, anchor)
        if following is None or following > now:
            return slot
        slot = following
