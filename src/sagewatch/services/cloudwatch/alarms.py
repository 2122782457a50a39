"""The alarm engine: evaluates alarms continuously and carries out what their state changes call
for (history, actions, parent composite alarms, events).

When it evaluates:
  * as soon as data arrives for a metric an alarm watches (PutMetricData notifies the engine), so
    a breaching datapoint moves its alarm within milliseconds, not at the next minute;
  * on a timer at every evaluation tick of the alarm (each minute for periods of a minute or
    more, every 10 seconds for 10 and 30 second periods, as AWS does), which is how missing
    data is noticed;
  * right after the alarm is created or updated.

What "now" covers: the periods evaluated end at the next tick, so the newest period is the one
in progress. If that period has no data yet it is left out (it is not missing, just not over),
and the range ends at the last complete period instead.

Actions go through ``AlarmActions``, the seam where later steps plug in delivery (SNS topics,
stopping SageMaker jobs, scaling endpoints). Until a handler is registered for an action's kind
of ARN, its execution is recorded in the alarm history as failed, with the reason. A transition
only queues its actions: a worker thread of ``AlarmActions`` carries them out, in the order the
transitions happened, outside the engine's lock, so a slow action (stopping a job, an SMTP send)
never holds up PutMetricData, SetAlarmState or the evaluation of other alarms. Each action's
``Action`` history item is written when it has run (AWS, too, runs actions asynchronously: the
item says whether it succeeded, which is only known afterwards).

Listeners hear of every change (``add_listener`` for state changes, ``add_configuration_listener``
for alarms created, updated and deleted): server.py puts them on the event bus as CloudWatch's
EventBridge events (alarm_events.py). They are told on a thread of their own (``Announcer``), in
the order the changes happened (a created alarm's configuration change before its first state
change), outside the engine's lock and apart from the actions, so neither a slow action nor a
slow listener holds up the other or the evaluations.

The engine is a lifecycle component (``sagewatch.lifecycle``): ``start`` starts the evaluation
thread, the action worker and the announcer, ``stop`` stops them, and ``duties`` expires old
history.
"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson

from ... import arns
from ...clock import SYSTEM_CLOCK, Clock
from ...lifecycle import Duty
from ...store.alarms import Alarm, AlarmStore, HistoryItem
from ...store.metrics import MetricKey
from . import alarm_evaluation as evaluation
from . import alarm_rule, queries
from .alarm_evaluation import AlarmConfig, Datapoint
from .metrics import MetricData, metric_key
from .statistics import parse_statistic

log = logging.getLogger(__name__)

METRIC_ALARM = "MetricAlarm"
COMPOSITE_ALARM = "CompositeAlarm"
INITIAL_REASON = "Unchecked: Initial alarm creation"
HISTORY_RETENTION_SECONDS = 14 * 86400
ACTION_LISTS = {"OK": "OKActions", "ALARM": "AlarmActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


@dataclass(slots=True)
class StateChange:
    """A transition, as handed to action handlers and event listeners."""

    alarm: Alarm
    old_state: str
    old_reason: str
    new_state: str
    reason: str
    reason_data: str | None
    timestamp: float
    arn: str
    # The state left, as it was last set: its reason data and when (StateUpdatedTimestamp).
    # The alarm state change event's previousState carries them (reference §5.3).
    old_reason_data: str | None = None
    old_timestamp: float | None = None


@dataclass(slots=True)
class ConfigurationChange:
    """An alarm created, updated or deleted (PutMetricAlarm, PutCompositeAlarm, DeleteAlarms),
    as handed to configuration listeners."""

    operation: str  # "create" | "update" | "delete" (the event's detail.operation, reference §5.3)
    alarm: Alarm  # the alarm as the change left it (for a delete: as it was)
    previous: Alarm | None  # an update's alarm before it
    timestamp: float
    arn: str


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What executing one action came to."""

    arn: str
    succeeded: bool
    published: str | None  # the message a handler published (SNS), for the history item
    error: str | None


class AlarmActions:
    """Carries out alarm actions by the kind of their ARN; handlers are registered by later
    steps (SNS delivery, SageMaker job stop, Application Auto Scaling policies).

    Work is queued (``submit``) and executed by one worker thread, first in first out, so the
    actions of an alarm's successive transitions run in the order of the transitions, and the
    thread that queued them (holding the alarm engine's lock) never waits for a handler."""

    def __init__(self) -> None:
        self._handlers: list[tuple[Callable[[str], bool], Callable[[str, StateChange], str | None]]] = []
        self._queue: deque[tuple[list[str], StateChange, Callable[[list[ActionResult]], None]]] = deque()
        self._changed = threading.Condition()
        self._busy = False  # the worker is executing a batch taken off the queue
        self._stopping = False
        self._thread: threading.Thread | None = None

    def register(self, accepts: Callable[[str], bool], handler: Callable[[str, StateChange], str | None]) -> None:
        """``handler(arn, change)`` returns an optional published message and raises on failure.
        It runs on the actions worker, never under the alarm engine's lock. A handler registered
        later is asked first, so one for particular ARNs can stand in for a broader one (a test's
        handler for one topic, before the SNS action that takes every topic)."""
        self._handlers.insert(0, (accepts, handler))

    def handles(self, arn: str) -> bool:
        """Whether a handler accepts this ARN (without one, the action fails at once)."""
        return any(accepts(arn) for accepts, _ in self._handlers)

    def run(self, arn: str, change: StateChange) -> ActionResult:
        """Execute one action now, on the calling thread."""
        for accepts, handler in self._handlers:
            if accepts(arn):
                try:
                    return ActionResult(arn, True, handler(arn, change), None)
                except Exception as error:  # the failure is the alarm's history, not ours
                    return ActionResult(arn, False, None, str(error))
        return ActionResult(arn, False, None, "sagewatch has no target for this kind of action yet")

    def submit(self, arns: list[str], change: StateChange, done: Callable[[list[ActionResult]], None]) -> None:
        """Queue the actions of one transition; the worker runs them in order, then calls
        ``done(results)`` (which records them)."""
        with self._changed:
            self._queue.append((list(arns), change, done))
            self._changed.notify_all()

    def start(self) -> None:
        with self._changed:
            self._stopping = False
        self._thread = threading.Thread(target=self._work, name="alarm-actions", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Run what is already queued (for up to ``timeout`` seconds), then stop the worker.
        Actions still queued after that are dropped, as held composite actions are on restart."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def idle(self) -> bool:
        """Nothing queued and nothing running."""
        with self._changed:
            return not self._queue and not self._busy

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False if ``timeout`` seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._stopping)
                if not self._queue:
                    return  # stopping, and everything queued has run
                arns, change, done = self._queue.popleft()
                self._busy = True
            try:
                done([self.run(arn, change) for arn in arns])
            except Exception:
                log.exception("recording the actions of alarm %s failed", change.alarm.name)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


class Announcer:
    """Tells listeners of alarm changes on one thread of its own, first in first out.

    ``post(call)`` queues a call; the thread makes the calls in the order they were posted. The
    engine posts under its lock, so the order is that of the changes; the calls themselves run
    outside it (a listener that writes to the event bus waits for the disk). A call that raises
    is logged and the next one runs. ``stop`` makes the calls already posted (for up to its
    timeout) before the thread ends."""

    def __init__(self) -> None:
        self._queue: deque[Callable[[], None]] = deque()
        self._changed = threading.Condition()
        self._busy = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    def post(self, call: Callable[[], None]) -> None:
        with self._changed:
            self._queue.append(call)
            self._changed.notify_all()

    def start(self) -> None:
        with self._changed:
            self._stopping = False
        self._thread = threading.Thread(target=self._work, name="alarm-announcer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False if ``timeout`` seconds pass first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._queue or self._stopping)
                if not self._queue:
                    return  # stopping, and everything posted has been told
                call = self._queue.popleft()
                self._busy = True
            try:
                call()
            except Exception:
                log.exception("an alarm change listener failed")
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()


class AlarmEngine:
    def __init__(
        self, store: AlarmStore, data: MetricData, actions: AlarmActions, *, region: str,
        account_id: str, clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.store = store
        self.data = data
        self.actions = actions
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.announcer = Announcer()
        self._state_listeners: list[Callable[[StateChange], None]] = []
        self._configuration_listeners: list[Callable[[ConfigurationChange], None]] = []
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)  # the evaluation thread sleeps on it
        self._settled = threading.Condition(self._lock)  # notified when an evaluation round ends
        self._evaluating = False
        self._due: list[tuple[float, str]] = []  # heap of (when, alarm name)
        self._next_due: dict[str, float] = {}
        self._watchers: dict[MetricKey, set[str]] = {}
        self._parents: dict[str, set[str]] = {}
        # suppressor alarm name -> composites whose ActionsSuppressor it is
        self._suppresses: dict[str, set[str]] = {}
        # composite name -> the transition whose actions are held back by its ActionsSuppressor
        # (in memory, and rebuilt from the store on start: a composite whose actions are
        # suppressed is stored with ActionsSuppressedBy, its transition with its history)
        self._held: dict[str, StateChange] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False
        with self._lock:
            for alarm in store.list_alarms():
                self._index(alarm)
                if alarm.actions_suppressed_by is not None:
                    self._held[alarm.name] = self._held_change(alarm)
                self._schedule(alarm.name, self.clock.now())

    # -- names ------------------------------------------------------------------------------------

    def arn(self, name: str) -> str:
        return arns.build("cloudwatch", f"alarm:{name}", self.region, self.account_id)

    def changing(self) -> threading.RLock:
        """The lock every change to an alarm is made under, the engine's evaluations included.

        An evaluation reads an alarm, decides and writes the alarm back whole; a PutMetricAlarm,
        DeleteAlarms, SetAlarmState or tag change landing in between would be overwritten by the
        stale copy (an update lost, or a deleted alarm brought back, or, when the name is reused, a
        new alarm given its predecessor's definition). Holding this lock, the service's change and
        the engine's evaluation happen one after the other. It is re-entrant: the engine's own
        methods take it again inside."""
        return self._lock

    # -- listeners ----------------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[StateChange], None]) -> None:
        """``listener(change)`` for every state change (transition), in the order of the
        transitions, on the announcer's thread. The change's alarm is a copy taken at the
        transition (a later transition does not alter what the listener reads)."""
        self._state_listeners.append(listener)

    def add_configuration_listener(self, listener: Callable[[ConfigurationChange], None]) -> None:
        """``listener(change)`` for every alarm created, updated or deleted, on the announcer's
        thread, in order with the state changes."""
        self._configuration_listeners.append(listener)

    def configuration_changed(self, change: ConfigurationChange) -> None:
        """The service saved or deleted an alarm (under ``changing()``, before it lets the engine
        evaluate it): the configuration listeners are told, after what was posted before."""
        listeners = list(self._configuration_listeners)
        if listeners:
            self.announcer.post(lambda: _tell(listeners, change))

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        self.announcer.start()
        self.actions.start()
        with self._lock:
            self._stopping = False
        self._thread = threading.Thread(target=self._run, name="alarm-engine", daemon=True)
        self._thread.start()

    def duties(self) -> list[Duty]:
        # AWS keeps alarm history for two weeks (aws-behaviour.md §8.3); hourly is fine enough.
        return [Duty("alarms.expire-history", 3600, self.expire_history)]

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.actions.stop()  # after the evaluations: the actions they queued still run
        self.announcer.stop()  # and the changes they made are still told

    def settle(self, timeout: float = 10.0, *, actions: bool = True) -> bool:
        """Wait until the engine has nothing left to do at the clock's present time: no alarm
        due, no evaluation running and (with ``actions``) no action queued or running. False if
        ``timeout`` (real) seconds pass first. Tests that move a fake clock call it to know the
        engine has caught up."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._evaluating or any(when <= self.clock.now() for when in self._next_due.values()):
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._settled.wait(timeout=left)
        if not actions:
            return True
        return (self.actions.wait_idle(timeout=max(0.0, deadline - time.monotonic()))
                and self.announcer.wait_idle(timeout=max(0.0, deadline - time.monotonic())))

    def next_due(self) -> float | None:
        """When the engine next has an alarm to evaluate (None: no alarm at all)."""
        with self._lock:
            return min(self._next_due.values(), default=None)

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._stopping:
                    now = self.clock.now()
                    if self._due and self._due[0][0] <= now:
                        break
                    # Nothing due: sleep until the first alarm is (a minute at most, on a real
                    # clock), or until something is scheduled or the clock moves.
                    deadline = min(self._due[0][0], now + 60.0) if self._due else now + 60.0
                    self.clock.wait_until(self._wake, deadline)
                if self._stopping:
                    return
                due = []
                now = self.clock.now()
                while self._due and self._due[0][0] <= now:
                    when, name = heapq.heappop(self._due)
                    if self._next_due.get(name) == when:
                        del self._next_due[name]
                        due.append(name)
                self._evaluating = True
            try:
                for name in due:
                    try:
                        self.evaluate(name)
                    except Exception:
                        log.exception("evaluating alarm %s failed", name)
                        with self._lock:
                            self._schedule(name, self.clock.now() + 10)
            finally:
                with self._lock:
                    self._evaluating = False
                    self._settled.notify_all()

    # -- what the service tells the engine -------------------------------------------------------

    def alarm_saved(self, alarm: Alarm) -> None:
        """An alarm was created or updated: index it and evaluate it now."""
        with self._lock:
            self._unindex(alarm.name)
            self._index(alarm)
            self._schedule(alarm.name, self.clock.now())

    def alarms_deleted(self, names: Iterable[str]) -> None:
        with self._lock:
            for name in names:
                self._unindex(name)
                self._next_due.pop(name, None)
                self._held.pop(name, None)

    def metrics_updated(self, keys: Iterable[MetricKey]) -> None:
        """New data arrived: evaluate every alarm watching these metrics right away."""
        with self._lock:
            now = self.clock.now()
            for key in keys:
                for name in self._watchers.get(key, ()):
                    self._schedule(name, now)

    def _index(self, alarm: Alarm) -> None:
        for namespace, name, dimensions in alarm.metric_keys:
            key = MetricKey(namespace, name, tuple(tuple(d) for d in dimensions))
            self._watchers.setdefault(key, set()).add(alarm.name)
        if alarm.alarm_type == COMPOSITE_ALARM:
            for child in alarm_rule.parse_alarm_rule(alarm.definition["AlarmRule"]).alarm_names():
                self._parents.setdefault(child, set()).add(alarm.name)
            suppressor = alarm.definition.get("ActionsSuppressor")
            if suppressor:
                self._suppresses.setdefault(alarm_rule.alarm_name_of(suppressor), set()).add(alarm.name)

    def _unindex(self, name: str) -> None:
        for watchers in self._watchers.values():
            watchers.discard(name)
        for parents in self._parents.values():
            parents.discard(name)
        for composites in self._suppresses.values():
            composites.discard(name)

    def _schedule(self, name: str, when: float) -> None:
        current = self._next_due.get(name)
        if current is not None and current <= when:
            return
        self._next_due[name] = when
        heapq.heappush(self._due, (when, name))
        self._wake.notify()

    def parents_of(self, name: str) -> set[str]:
        with self._lock:
            return set(self._parents.get(name, ()))

    # -- evaluation ---------------------------------------------------------------------------------

    def evaluate(self, name: str) -> None:
        with self._lock:
            alarm = self.store.get_alarm(name)
            if alarm is None:
                return
            now = self.clock.now()
            if alarm.alarm_type == COMPOSITE_ALARM:
                self._evaluate_composite(alarm, now, trigger=None)
                alarm = self.store.get_alarm(name)
                if alarm is not None:
                    self._recheck_suppression(alarm, now)
                return
            tick = _tick(_period_of(alarm))
            self._schedule(name, (math.floor(now / tick) + 1) * tick + 0.05)
            self._evaluate_metric_alarm(alarm, now)

    def _evaluate_metric_alarm(self, alarm: Alarm, now: float) -> None:
        definition = alarm.definition
        period = _period_of(alarm)
        n = definition["EvaluationPeriods"]
        config = AlarmConfig(
            period=period,
            evaluation_periods=n,
            datapoints_to_alarm=definition.get("DatapointsToAlarm") or n,
            threshold=definition.get("Threshold"),
            comparison_operator=definition["ComparisonOperator"],
            treat_missing_data=definition.get("TreatMissingData") or "missing",
            statistic_name=definition.get("Statistic") or definition.get("ExtendedStatistic"),
            unit=definition.get("Unit"),
            evaluate_low_sample_count_percentile=definition.get("EvaluateLowSampleCountPercentile"),
            datapoints_to_alarm_explicit="DatapointsToAlarm" in definition,
        )
        points = self._datapoints(alarm, period, evaluation.evaluation_range(n), now)
        result = evaluation.evaluate(config, points, alarm.state_value, utc(now))
        if result.retained or result.state == alarm.state_value:
            return
        self.transition(alarm, result.state, result.reason,
                        evaluation.reason_data_json(result.reason_data), now)

    def _datapoints(self, alarm: Alarm, period: int, count: int, now: float) -> list[Datapoint]:
        """The evaluation range, oldest first, one entry per period (value None when missing)."""
        tick = _tick(period)
        end = math.ceil(now / tick) * tick
        start = end - (count + 1) * period  # one extra: the newest may be still in progress
        values = self._period_values(alarm, start, end, period)
        slots = [start + i * period for i in range(count + 1)]
        if slots[-1] + period > now and slots[-1] not in values:
            slots = slots[:-1]  # the period in progress has no data yet: it is not over
        else:
            slots = slots[1:]
        return [
            Datapoint(utc(s), *(values[s] if s in values else (None, 0.0, None, None)))
            for s in slots
        ]

    def _period_values(self, alarm: Alarm, start: int, end: int, period: int) -> dict[int, tuple]:
        """period start → (value, sample count, band lower, band upper)."""
        definition = alarm.definition
        if "Metrics" not in definition:
            key = metric_key(definition["Namespace"], definition["MetricName"], definition.get("Dimensions"))
            statistic = parse_statistic(definition.get("Statistic") or definition["ExtendedStatistic"])
            timestamps, values, counts = self.data.statistic_series(
                key, statistic, start=start, end=end, period=period, unit=definition.get("Unit"),
            )
            return {t: (v, c, None, None) for t, v, c in zip(timestamps, values, counts)}
        plan = queries.plan(definition["Metrics"], parameter="Metrics")
        results = queries.run(plan, self.data, start=start, end=end)
        band_id = definition.get("ThresholdMetricId")
        value_id = next(
            q["Id"] for q in definition["Metrics"] if q.get("ReturnData", True) and q["Id"] != band_id
        )
        main = results[value_id][0]
        out = {int(t): (float(v), 1.0, None, None) for t, v in zip(main.timestamps, main.values)}
        if band_id is not None:
            bounds: dict[int, list[float]] = {}
            for series in results.get(band_id, []):
                for t, v in zip(series.timestamps.tolist(), series.values.tolist()):
                    bounds.setdefault(t, []).append(v)
            for t, (value, count, _, _) in list(out.items()):
                edges = bounds.get(t)
                if edges and len(edges) >= 2:
                    out[t] = (value, count, min(edges), max(edges))
        return out

    def _evaluate_composite(self, alarm: Alarm, now: float, trigger: tuple[str, str, float] | None) -> None:
        rule = alarm_rule.parse_alarm_rule(alarm.definition["AlarmRule"])
        states: dict[str, Alarm | None] = {name: self.store.get_alarm(name) for name in rule.alarm_names()}

        def state_of(name: str) -> str:
            child = states.get(name)
            return child.state_value if child is not None else "INSUFFICIENT_DATA"

        new_state = rule.state(state_of)
        if new_state == alarm.state_value:
            return
        deciding = rule.explain(state_of)
        triggering = [
            alarm_rule.TriggeringAlarm(self.arn(name), state_of(name), utc(states[name].state_transitioned))
            for name in deciding if states.get(name) is not None
        ]
        if trigger is not None:
            child, child_state, at = trigger
            reason = alarm_rule.child_transition_reason(self.arn(child), child_state, utc(at))
        elif alarm.state_reason == INITIAL_REASON:
            reason = alarm_rule.created_reason(self.arn(alarm.name), new_state)
        else:
            reason = alarm_rule.updated_reason(self.arn(alarm.name), new_state)
        data = orjson.dumps(alarm_rule.triggering_alarms_data(triggering)).decode()
        self.transition(alarm, new_state, reason, data, now)

    # -- transitions --------------------------------------------------------------------------------

    def set_state(self, alarm: Alarm, state: str, reason: str, reason_data: str | None) -> None:
        """SetAlarmState: a transition like any other (history, actions, parents)."""
        with self._lock:
            if state == alarm.state_value:
                alarm.state_reason = reason
                alarm.state_reason_data = reason_data
                alarm.state_updated = self.clock.now()
                self.store.save_alarm(alarm)
                return
            self.transition(alarm, state, reason, reason_data, self.clock.now())

    def transition(self, alarm: Alarm, state: str, reason: str, reason_data: str | None, now: float) -> None:
        with self._lock:
            change = StateChange(alarm, alarm.state_value, alarm.state_reason, state, reason,
                                 reason_data, now, self.arn(alarm.name),
                                 old_reason_data=alarm.state_reason_data, old_timestamp=alarm.state_updated)
            old_state, old_reason, old_data = alarm.state_value, alarm.state_reason, alarm.state_reason_data
            alarm.state_value, alarm.state_reason, alarm.state_reason_data = state, reason, reason_data
            alarm.state_updated = alarm.state_transitioned = now
            history = [self._state_update_item(alarm, old_state, old_reason, old_data, now)]
            suppressed = self._suppression(alarm, now) if alarm.alarm_type == COMPOSITE_ALARM else None
            by, reason_text, until = suppressed or (None, None, None)
            alarm.actions_suppressed_by, alarm.actions_suppressed_reason = by, reason_text
            self.store.save_alarm(alarm, history)
            self._held.pop(alarm.name, None)
            if suppressed is not None:
                # Held, not dropped: the actions run when the wait or extension period ends
                # without the suppressor in ALARM.
                self._held[alarm.name] = change
                if until is not None:
                    self._schedule(alarm.name, until)
            elif alarm.actions_enabled:
                self._run_actions(alarm, change)
            listeners = list(self._state_listeners)
            if listeners:
                # The alarm as this transition left it, suppression included: the object itself
                # goes on changing under later transitions before the announcer reaches it.
                told = dataclasses.replace(change, alarm=copy.copy(alarm))
                self.announcer.post(lambda: _tell(listeners, told))
            for parent in list(self._parents.get(alarm.name, ())):
                composite = self.store.get_alarm(parent)
                if composite is not None:
                    self._evaluate_composite(composite, now, trigger=(alarm.name, state, now))
            # A suppressor entering or leaving ALARM changes what the composites it suppresses
            # may do with their held actions.
            for name in list(self._suppresses.get(alarm.name, ())):
                composite = self.store.get_alarm(name)
                if composite is not None:
                    self._recheck_suppression(composite, now)

    def _state_update_item(self, alarm: Alarm, old_state, old_reason, old_data, now) -> HistoryItem:
        old = {"stateValue": old_state, "stateReason": old_reason}
        if old_data:
            old["stateReasonData"] = _json_or_text(old_data)
        new = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
        if alarm.state_reason_data:
            new["stateReasonData"] = _json_or_text(alarm.state_reason_data)
        data = {"version": "1.0", "oldState": old, "newState": new}
        return HistoryItem(alarm.name, alarm.alarm_type, now, "StateUpdate",
                           f"Alarm updated from {old_state} to {alarm.state_value}",
                           orjson.dumps(data).decode())

    def _run_actions(self, alarm: Alarm, change: StateChange) -> None:
        """Queue the actions of the new state's list; they run, and are recorded in the
        history, after the transition and outside the engine's lock."""
        arns = list(alarm.definition.get(ACTION_LISTS[change.new_state]) or ())
        if not arns:
            return
        if self.actions.idle() and not any(self.actions.handles(arn) for arn in arns):
            # Nothing to carry out (no handler for any of them: each fails without calling
            # anything), and no earlier transition's actions queued for it to overtake: the
            # failures are recorded now, so a client reading the history right after the
            # transition finds them. Only the engine queues actions, under this lock, so the
            # queue stays empty meanwhile.
            self._record_actions(alarm, change, [self.actions.run(arn, change) for arn in arns])
        else:
            self.actions.submit(arns, change, lambda results: self._record_actions(alarm, change, results))

    def _record_actions(self, alarm: Alarm, change: StateChange, results: list[ActionResult]) -> None:
        """One ``Action`` history item per executed action, stamped when it ran. Written to the
        history store only: it never touches the alarm itself, so it needs no engine lock."""
        items = []
        for result in results:
            data = {
                "actionState": "Succeeded" if result.succeeded else "Failed",
                "stateUpdateTimestamp": int(change.timestamp * 1000),
                "notificationResource": result.arn,
            }
            if result.published is not None:
                data["publishedMessage"] = result.published
            if result.error is not None:
                data["error"] = result.error
            summary = (f"Successfully executed action {result.arn}" if result.succeeded
                       else f"Failed to execute action {result.arn}")
            items.append(HistoryItem(alarm.name, alarm.alarm_type, self.clock.now(), "Action", summary[:255],
                                     orjson.dumps(data).decode()))
        self.store.add_history(items)

    def _suppression(self, alarm: Alarm, now: float) -> tuple[str, str, float | None] | None:
        """Whether a composite entering a state now must hold its actions back, as
        (ActionsSuppressedBy, ActionsSuppressedReason, when the hold ends or None).

        The API reference (CompositeAlarm.ActionsSuppressedBy): ``Alarm`` -- the suppressor is in
        ALARM; ``WaitPeriod`` -- the composite "is waiting for the suppressor alarm to go into
        the ALARM state ... After this time, the composite alarm performs its actions";
        ``ExtensionPeriod`` -- it "is waiting after the suppressor alarm went out of the ALARM
        state ... After this time, the composite alarm performs its actions". The reason texts
        are sagewatch's (AWS's are not published)."""
        suppressor = self._suppressor_of(alarm)
        if suppressor is None:
            return None
        if suppressor.state_value == "ALARM":
            return "Alarm", f"Alarm {suppressor.name} is in ALARM state", None
        extension = alarm.definition.get("ActionsSuppressorExtensionPeriod") or 0
        left_at = suppressor.state_transitioned
        if extension and now < left_at + extension and self._left_alarm(suppressor):
            return ("ExtensionPeriod", f"Extension period of {suppressor.name} has not ended",
                    left_at + extension)
        wait = alarm.definition.get("ActionsSuppressorWaitPeriod") or 0
        if wait:
            return ("WaitPeriod", f"Waiting for {suppressor.name} to go into ALARM state", now + wait)
        return None

    def _suppressor_of(self, alarm: Alarm) -> Alarm | None:
        reference = alarm.definition.get("ActionsSuppressor")
        return self.store.get_alarm(alarm_rule.alarm_name_of(reference)) if reference else None

    def _left_alarm(self, alarm: Alarm) -> bool:
        """Whether the alarm's last transition was out of ALARM.

        History is kept by alarm name and outlives the alarm (AWS, aws-behaviour.md §8.3), so an
        alarm deleted and created again under the same name finds its predecessor's transitions
        there. Only a transition of this alarm counts: one stamped at its own last transition
        time (a new alarm's is its creation, before any StateUpdate of its own)."""
        items = self.store.history(name=alarm.name, types=[alarm.alarm_type], item_type="StateUpdate",
                                   start=alarm.state_transitioned, end=None, after_id=None, ascending=False,
                                   limit=1)
        if not items:
            return False
        try:
            return orjson.loads(items[0].data)["oldState"]["stateValue"] == "ALARM"
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return False

    def _held_change(self, alarm: Alarm) -> StateChange:
        """The transition whose actions a suppressed composite holds, as a restarted engine
        finds it: the alarm's stored state, and the state it left from its last StateUpdate
        history item (a held transition is always the alarm's latest)."""
        old_state, old_reason = alarm.state_value, alarm.state_reason
        items = self.store.history(name=alarm.name, types=[alarm.alarm_type], item_type="StateUpdate",
                                   start=None, end=None, after_id=None, ascending=False, limit=1)
        if items:
            try:
                left = orjson.loads(items[0].data)["oldState"]
                old_state, old_reason = left["stateValue"], left.get("stateReason", "")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                pass
        return StateChange(alarm, old_state, old_reason, alarm.state_value, alarm.state_reason,
                           alarm.state_reason_data, alarm.state_transitioned, self.arn(alarm.name))

    def _recheck_suppression(self, alarm: Alarm, now: float) -> None:
        """A composite holding actions back: hold on, or release them when nothing suppresses
        them any more."""
        if alarm.actions_suppressed_by is None:
            return
        change = self._held.get(alarm.name)
        suppressor = self._suppressor_of(alarm)
        status: tuple[str, str, float | None] | None = None
        if suppressor is not None:
            extension = alarm.definition.get("ActionsSuppressorExtensionPeriod") or 0
            wait = alarm.definition.get("ActionsSuppressorWaitPeriod") or 0
            if suppressor.state_value == "ALARM":
                status = ("Alarm", f"Alarm {suppressor.name} is in ALARM state", None)
            elif alarm.actions_suppressed_by in ("Alarm", "ExtensionPeriod"):
                # The suppressor has left ALARM: the extension period runs from then.
                until = suppressor.state_transitioned + extension
                if now < until:
                    status = ("ExtensionPeriod", f"Extension period of {suppressor.name} has not ended", until)
            elif alarm.actions_suppressed_by == "WaitPeriod":
                until = alarm.state_transitioned + wait
                if now < until:
                    status = (alarm.actions_suppressed_by, alarm.actions_suppressed_reason, until)
        if status is not None:
            by, reason, until = status
            if (by, reason) != (alarm.actions_suppressed_by, alarm.actions_suppressed_reason):
                alarm.actions_suppressed_by, alarm.actions_suppressed_reason = by, reason
                self.store.save_alarm(alarm)
            if until is not None:
                self._schedule(alarm.name, until)
            return
        alarm.actions_suppressed_by = alarm.actions_suppressed_reason = None
        self.store.save_alarm(alarm)
        self._held.pop(alarm.name, None)
        if change is not None and change.new_state == alarm.state_value and alarm.actions_enabled:
            self._run_actions(alarm, change)

    def expire_history(self) -> None:
        self.store.expire_history(self.clock.now() - HISTORY_RETENTION_SECONDS)


def _tell(listeners: list[Callable], change) -> None:
    for listener in listeners:
        try:
            listener(change)
        except Exception:  # one listener's failure is not the others'
            log.exception("alarm change listener %r failed", listener)


def _tick(period: int) -> int:
    """How often an alarm is evaluated: every 10 s for 10/30 s periods, else every minute (AWS)."""
    return 10 if period < 60 else 60


def _period_of(alarm: Alarm) -> int:
    definition = alarm.definition
    if "Period" in definition:
        return definition["Period"]
    periods = [q["MetricStat"]["Period"] for q in definition.get("Metrics", ()) if "MetricStat" in q]
    periods += [q["Period"] for q in definition.get("Metrics", ()) if "Period" in q]
    return min(periods) if periods else 60


def _json_or_text(text: str):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
