"""One evaluation of one CloudWatch metric alarm: datapoints in, state and reason out.

Pure: no I/O, no clock (the caller passes ``now``), no storage. The caller fetches
``evaluation_range(N)`` period datapoints ending at the newest complete period and calls
:func:`evaluate`; the result is the state the alarm should be in, the ``StateReason`` text and the
``StateReasonData`` document, written the way AWS writes them.

Map of the module
-----------------
* :func:`evaluation_range` -- how many periods to fetch.
* :func:`evaluate` -- the whole evaluation:
    1. ``_slots``          the range newest first, each slot real (breaching or not) or missing;
    2. ``_low_sample_retains``  ``EvaluateLowSampleCountPercentile=ignore``;
    3. ``_decide``         the evaluation-range and ``TreatMissingData`` rules -> a ``_Decision``;
    4. ``_reason`` / ``_reason_data``  the ``StateReason`` text and ``StateReasonData`` dict.
* :func:`reason_data_json` -- ``StateReasonData`` as the compact JSON string AWS stores.

The rules (AWS user guide, "Using Amazon CloudWatch alarms", sections *Evaluating an alarm*,
*How alarm state is evaluated when data is missing*, *Avoiding premature transitions to alarm
state*, *Percentile-based alarms and low data samples*; aws-behaviour.md section 8.2):

* M out of N: ``DatapointsToAlarm`` (M) breaching datapoints among the last ``EvaluationPeriods``
  (N) make ALARM, fewer make OK.
* Evaluation range: more than N periods are fetched. (a) none missing -> the newest N; (b) some
  missing but at least N real -> the newest N *real* points, ``TreatMissingData`` unused;
  (c) fewer than N real -> every real point in the range plus as few filled-in points as needed to
  make N, filled as ``TreatMissingData`` says.
* ``missing``: missing points are not counted. A range with no data at all is INSUFFICIENT_DATA;
  so (Choice, after the guide's 2019 table) is one whose few real points all breach, too recently
  for the premature-alarm rule. ``ignore``: like ``missing``, except that wherever ``missing`` goes
  to INSUFFICIENT_DATA or alarms by the premature rule, the current state is kept.
* Premature alarm: with ``missing``, a range whose real points all breach but are fewer than M goes
  to ALARM once the oldest of them is at least M periods old.

Everything AWS does not publish and this module had to choose is marked "Choice:" below.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

STATE_OK = "OK"
STATE_ALARM = "ALARM"
STATE_INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

TREAT_BREACHING = "breaching"
TREAT_NOT_BREACHING = "notBreaching"
TREAT_IGNORE = "ignore"
TREAT_MISSING = "missing"

# Static-threshold operators and the words AWS's reason uses for them ("was greater than the
# threshold", "was not greater than or equal to the threshold").
_THRESHOLD_PHRASES = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_THRESHOLD_TESTS = {
    "GreaterThanThreshold": lambda v, t: v > t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}

# Anomaly-detection operators compare each point against that period's band.
BAND_LOWER_OR_UPPER = "LessThanLowerOrGreaterThanUpperThreshold"
BAND_LOWER = "LessThanLowerThreshold"
BAND_UPPER = "GreaterThanUpperThreshold"
BAND_OPERATORS = frozenset({BAND_LOWER_OR_UPPER, BAND_LOWER, BAND_UPPER})

# Choice: AWS lists at most five datapoints in a reason. The one published long example (an anomaly
# alarm, 7 of 10 breaching) lists the five most recent; every shorter example lists them all.
_MAX_LISTED = 5


@dataclass(slots=True)
class AlarmConfig:
    """What the evaluator needs from ``PutMetricAlarm``."""

    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float | None  # None for the anomaly-band operators (ThresholdMetricId alarms)
    comparison_operator: str
    treat_missing_data: str = TREAT_MISSING  # breaching | notBreaching | ignore | missing
    # "Average", "p90", ...; None for metric-math / anomaly alarms, whose StateReasonData has no
    # statistic key (EventBridge user-guide examples).
    statistic_name: str | None = "Average"
    unit: str | None = None
    evaluate_low_sample_count_percentile: str | None = None  # evaluate | ignore | None
    # Whether PutMetricAlarm carried DatapointsToAlarm. Choice: AWS writes two reason styles --
    # "3 datapoints [...] were greater than the threshold (1.0)." and "3 out of the last 3
    # datapoints [...] were greater than the threshold (1.0) (minimum 3 datapoints for OK -> ALARM
    # transition)." Alarms created without DatapointsToAlarm (boto3 in localstack's AWS-recorded
    # snapshots, Auto Scaling target tracking) show the first; console-made alarms, which always
    # send it, show the second. That correlation is the best evidence found, not a documented rule.
    datapoints_to_alarm_explicit: bool = False


@dataclass(slots=True)
class Datapoint:
    timestamp: datetime  # period start, UTC
    value: float | None  # None = missing
    sample_count: float = 0.0
    lower: float | None = None  # band, for the anomaly operators
    upper: float | None = None


@dataclass(slots=True)
class Evaluation:
    state: str
    reason: str
    reason_data: dict  # serialise with reason_data_json() for StateReasonData
    # True when the rules say "keep the current state" (TreatMissingData=ignore, low-sample
    # percentiles): state is the current state and reason / reason_data are empty -- the caller
    # keeps the alarm's existing ones and records no transition.
    retained: bool = False


def evaluation_range(evaluation_periods: int) -> int:
    """How many periods to fetch for an alarm with ``evaluation_periods`` = N.

    AWS retrieves "a higher number of data points than specified by Evaluation Periods", the exact
    number depending on the period and the metric's resolution; the only published figure is N=3
    -> 5. Choice: N + 2, the smallest rule that reproduces it.
    """
    return max(1, evaluation_periods) + 2


def evaluate(
    config: AlarmConfig,
    datapoints: list[Datapoint],
    current_state: str,
    now: datetime,
) -> Evaluation:
    """Evaluate one alarm.

    ``datapoints`` runs oldest -> newest and should hold ``evaluation_range(N)`` periods ending at
    the newest complete period, one per period, ``value=None`` for a period without data (a
    period left out inside the range counts as missing too; the newest entry fixes where the range
    ends). ``now`` becomes ``queryDate``.

    The result is the state the data calls for, whether or not it differs from ``current_state``:
    deciding that a transition happened (history, actions) is the caller's business.
    """
    n = max(1, config.evaluation_periods)
    m = min(max(1, config.datapoints_to_alarm), n)
    _check_operator(config)
    slots = _slots(config, datapoints, n, now)

    if _low_sample_retains(config, slots, n):
        return _retain(current_state)
    decision = _decide(slots, n, m, config.treat_missing_data or TREAT_MISSING)
    if decision.state is None:
        return _retain(current_state)
    return Evaluation(
        state=decision.state,
        reason=_reason(config, decision, n, m),
        reason_data=_reason_data(config, decision, n, m, now),
    )


def reason_data_json(reason_data: dict) -> str:
    """``StateReasonData`` as AWS stores it: compact JSON, keys in AWS's order."""
    return json.dumps(reason_data, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# 1. The range as slots


@dataclass(slots=True, frozen=True)
class _Slot:
    age: int  # 0 = newest period of the range
    timestamp: datetime
    point: Datapoint | None  # None = missing
    breaching: bool = False

    @property
    def real(self) -> bool:
        return self.point is not None


def _check_operator(config: AlarmConfig) -> None:
    op = config.comparison_operator
    if op in BAND_OPERATORS:
        return
    if op not in _THRESHOLD_TESTS:
        raise ValueError(f"unknown ComparisonOperator {op!r}")
    if config.threshold is None:
        raise ValueError(f"{op} needs a Threshold")


def _slots(config: AlarmConfig, datapoints: list[Datapoint], n: int, now: datetime) -> list[_Slot]:
    """The range newest first, one slot per period.

    A point's age comes from its timestamp, not its position, so a caller that leaves out
    missing periods inside the range still gets them counted as missing. Slots are synthesised
    up to N so that filled-in and unknown points have timestamps to show."""
    period = timedelta(seconds=config.period)
    by_age: dict[int, Datapoint] = {}
    newest = max((p.timestamp for p in datapoints), default=None)
    if newest is None:
        newest = _newest_complete_period(now, config.period)
    for point in datapoints:
        by_age.setdefault(round((newest - point.timestamp) / period), point)
    span = max(n, max(by_age, default=-1) + 1)
    return [
        _slot(config, age, by_age[age])
        if age in by_age
        else _missing_slot(age, newest - age * period)
        for age in range(span)
    ]


def _missing_slot(age: int, timestamp: datetime) -> _Slot:
    return _Slot(age, timestamp, None)


def _newest_complete_period(now: datetime, period: int) -> datetime:
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period - period, tz=timezone.utc)


def _slot(config: AlarmConfig, age: int, point: Datapoint) -> _Slot:
    if point.value is None or math.isnan(point.value):
        return _missing_slot(age, point.timestamp)
    if _is_band(config):
        # Choice: a value without a band yet (the model is still training) cannot be judged, so it
        # counts as missing.
        if point.lower is None or point.upper is None:
            return _missing_slot(age, point.timestamp)
        return _Slot(age, point.timestamp, point, _breaches_band(config.comparison_operator, point))
    test = _THRESHOLD_TESTS[config.comparison_operator]
    return _Slot(age, point.timestamp, point, test(point.value, config.threshold))


def _breaches_band(operator: str, point: Datapoint) -> bool:
    below = point.value < point.lower
    above = point.value > point.upper
    if operator == BAND_LOWER:
        return below
    if operator == BAND_UPPER:
        return above
    return below or above


# --------------------------------------------------------------------------------------------
# 2. Low-sample percentiles

_PERCENTILE = re.compile(r"^p(\d+(?:\.\d+)?)$", re.IGNORECASE)


def _low_sample_retains(config: AlarmConfig, slots: list[_Slot], n: int) -> bool:
    """``EvaluateLowSampleCountPercentile=ignore`` keeps the state while a percentile rests on too
    few samples: fewer than 10/(1-p) for p in [0.5, 1), fewer than 10/p for p in (0, 0.5).

    Choice: the guide counts "data points during the evaluation period"; this checks each
    evaluated period's own SampleCount, since each period's percentile is judged on its own.
    """
    if (config.evaluate_low_sample_count_percentile or "").lower() != "ignore":
        return False
    needed = _samples_needed(config.statistic_name)
    if needed is None:
        return False
    evaluated = [s for s in slots if s.real][:n]
    return any(s.point.sample_count < needed for s in evaluated)


def _samples_needed(statistic_name: str | None) -> float | None:
    match = _PERCENTILE.match(statistic_name or "")
    if not match:
        return None
    # Decimal, so that p90 needs exactly 100 samples rather than 100.00000000000001.
    p = Decimal(match.group(1)) / 100
    if p <= 0 or p >= 1:
        return None  # p0 / p100 are the minimum / maximum: no sample is too few
    return float(10 / (1 - p) if p >= Decimal("0.5") else 10 / p)


# --------------------------------------------------------------------------------------------
# 3. The decision

_THRESHOLD = "threshold"  # decided on real points
_FILLED = "filled"  # decided with missing points filled in as breaching / notBreaching
_INSUFFICIENT = "insufficient"


@dataclass(slots=True)
class _Decision:
    state: str | None  # None = keep the current state
    kind: str = _THRESHOLD
    evaluated: list[_Slot] = field(default_factory=list)  # real slots used, newest first
    filled: list[_Slot] = field(default_factory=list)  # missing slots filled in, newest first
    fill_breaching: bool = False
    unknown: list[_Slot] = field(default_factory=list)  # for INSUFFICIENT_DATA, newest first


def _decide(slots: list[_Slot], n: int, m: int, treat: str) -> _Decision:
    real = [s for s in slots if s.real]
    if len(real) >= n:
        # Rules (a) and (b): the newest N real points decide; TreatMissingData is not needed.
        return _by_count(real[:n], m)
    if treat in (TREAT_BREACHING, TREAT_NOT_BREACHING):
        return _fill(slots, real, n, m, breaching=treat == TREAT_BREACHING)
    if not real:
        return _all_missing(slots, n, treat)
    return _sparse(slots, real, n, m, treat)


def _by_count(evaluated: list[_Slot], m: int) -> _Decision:
    breaching = sum(s.breaching for s in evaluated)
    return _Decision(STATE_ALARM if breaching >= m else STATE_OK, _THRESHOLD, evaluated)


def _fill(slots: list[_Slot], real: list[_Slot], n: int, m: int, breaching: bool) -> _Decision:
    """Rule (c) with breaching / notBreaching: every real point plus N - real filled-in points.

    Choice: the filled-in points are the newest missing slots (only their count matters to the
    state; their timestamps show in StateReasonData)."""
    filled = [s for s in slots if not s.real][: n - len(real)]
    count = sum(s.breaching for s in real) + (len(filled) if breaching else 0)
    state = STATE_ALARM if count >= m else STATE_OK
    return _Decision(state, _FILLED, real, filled, fill_breaching=breaching)


def _all_missing(slots: list[_Slot], n: int, treat: str) -> _Decision:
    # missing: "If all data points in the alarm evaluation range are missing, the alarm
    # transitions to INSUFFICIENT_DATA". ignore: "The current alarm state is maintained".
    if treat == TREAT_IGNORE:
        return _Decision(None)
    return _Decision(STATE_INSUFFICIENT_DATA, _INSUFFICIENT, unknown=slots[:n])


def _sparse(slots: list[_Slot], real: list[_Slot], n: int, m: int, treat: str) -> _Decision:
    """Rule (c) with missing / ignore: only the real points count.

    Enough breaching points alarm; any non-breaching real point means OK (table rows "0 - - - -",
    "0 - X - -", "- - - - 0"). That leaves ranges whose few real points all breach: the premature
    rule alarms once the oldest is M periods old ("- - X - -" M=3, "- - - X -" M=2); otherwise the
    data decides nothing yet.
    """
    breaching = sum(s.breaching for s in real)
    if breaching >= m or breaching < len(real):
        return _by_count(real, m)
    if treat == TREAT_IGNORE:
        return _Decision(None)  # the tables' "Retain current state", premature rule or not
    if _premature_alarm(real, m):
        return _Decision(STATE_ALARM, _THRESHOLD, real)
    # Choice: INSUFFICIENT_DATA, as the 2019 revision of the guide's table gave for "- - - - X"
    # (M=N=3, missing); the current revision only says such a range does not alarm.
    unknown = [s for s in slots if not s.real][: n - len(real)]
    return _Decision(STATE_INSUFFICIENT_DATA, _INSUFFICIENT, real, unknown=unknown)


def _premature_alarm(real: list[_Slot], m: int) -> bool:
    """The guide: "alarms are designed to always go into ALARM state when the oldest available
    breaching datapoint ... is at least as old as the value of Datapoints to Alarm, and all other
    more recent data points are breaching or missing". Ages count periods, the newest being 1 old."""
    oldest = real[-1]
    return all(s.breaching for s in real) and oldest.age + 1 >= m


# --------------------------------------------------------------------------------------------
# 4a. StateReason
#
# Every reason names the points that agree with the new state (breaching ones for ALARM, the
# others for OK), newest first, as "value (DD/MM/YY HH:MM:SS)", then what they did relative to
# the threshold or band. AWS-recorded examples for each form are quoted in the tests.


def _reason(config: AlarmConfig, d: _Decision, n: int, m: int) -> str:
    if d.kind == _INSUFFICIENT:
        count = len(d.unknown)
        return f"Insufficient Data: {_count(count, 'datapoint')} {_was(count)} unknown."
    if d.kind == _FILLED:
        return _filled_reason(config, d, n)
    return _threshold_reason(config, d.state, d.evaluated, n, m)


def _threshold_reason(
    config: AlarmConfig, state: str, evaluated: list[_Slot], n: int, m: int
) -> str:
    """Short style: "Threshold Crossed: 2 datapoints [0.0 (...), 1.0 (...)] were not greater than
    the threshold (42.0)." Long style: "Threshold Crossed: 2 out of the last 2 datapoints [...]
    were not greater than the threshold (40.0) (minimum 1 datapoint for ALARM -> OK transition)."
    """
    support = _supporting(state, evaluated)
    count, listed = len(support), support[:_MAX_LISTED]
    if config.datapoints_to_alarm_explicit:
        head = f"{count} out of the last {n} datapoints"
        tail = f" ({_minimum_clause(state, n, m)})"
    else:
        head, tail = _count(count, "datapoint"), ""
    if _is_band(config) and count > _MAX_LISTED:
        return _band_reason_summarised(config, state, head, listed, tail)
    crossed = _crossed(config, state, listed)
    return f"{_prefix(config)}: {head} {_listing(listed)} {_was(count)} {crossed}{tail}."


def _band_reason_summarised(
    config: AlarmConfig, state: str, head: str, listed: list[_Slot], tail: str
) -> str:
    """AWS's band form when more points agree than it lists (EventBridge example, 7 of 10):
    "... 10 datapoints were less than the lower thresholds or greater than the upper thresholds.
    Recent datapoints [...] crossed the lower thresholds [...] or upper thresholds [...] (minimum
    ...)". Choice: the OK direction ("did not cross") and the one-sided operators are extrapolated.
    """
    lower = f"the lower thresholds {_java_list(s.point.lower for s in listed)}"
    upper = f"the upper thresholds {_java_list(s.point.upper for s in listed)}"
    summary, bounds = {
        BAND_LOWER: ("less than the lower thresholds", lower),
        BAND_UPPER: ("greater than the upper thresholds", upper),
        BAND_LOWER_OR_UPPER: (
            "less than the lower thresholds or greater than the upper thresholds",
            f"{lower} or {upper.replace('the ', '', 1)}",
        ),
    }[config.comparison_operator]
    verb = "crossed"
    if state == STATE_OK:
        summary, verb = "not " + summary.replace(" or ", " or not "), "did not cross"
    recent = f"Recent datapoints {_listing(listed)} {verb} {bounds}"
    return f"Thresholds Crossed: {head} were {summary}. {recent}{tail}."


def _filled_reason(config: AlarmConfig, d: _Decision, n: int) -> str:
    """When missing points were filled in. AWS-recorded: "1 datapoint [2.0 (19/08/26 09:36:00)] was
    not less than or equal to the threshold (0.0) and 7 missing datapoints were treated as
    [Breaching]."; with no real point agreeing, "no datapoints were received for 2 periods and 2
    missing datapoints were treated as [Breaching]." / "1 datapoint was received for 3 periods and
    2 missing datapoints ...". Choice: no long-style example with filled points was found, so both
    styles use these forms."""
    filled = len(d.filled)
    label = "Breaching" if d.fill_breaching else "NonBreaching"
    missing = f"{_count(filled, 'missing datapoint')} {_was(filled)} treated as [{label}]"
    support = _supporting(d.state, d.evaluated)
    if not support:
        received = len(d.evaluated)
        who = f"{_count(received, 'datapoint')} {_was(received)}" if received else "no datapoints were"
        return f"{_prefix(config)}: {who} received for {_count(n, 'period')} and {missing}."
    count, listed = len(support), support[:_MAX_LISTED]
    crossed = _crossed(config, d.state, listed)
    points = f"{_count(count, 'datapoint')} {_listing(listed)} {_was(count)}"
    return f"{_prefix(config)}: {points} {crossed} and {missing}."


def _supporting(state: str, evaluated: list[_Slot]) -> list[_Slot]:
    """The evaluated real points that agree with the new state."""
    return [s for s in evaluated if s.breaching == (state == STATE_ALARM)]


def _prefix(config: AlarmConfig) -> str:
    return "Thresholds Crossed" if _is_band(config) else "Threshold Crossed"


def _crossed(config: AlarmConfig, state: str, listed: list[_Slot]) -> str:
    """ "greater than the threshold (2.0)" / "not greater than ..." for static thresholds; for bands
    "less than the lower thresholds [...] or greater than the upper thresholds [...]" (for OK "not
    less than ... or not greater than ..."), band values in the order of the listed points.
    Choice: the one-sided band operators use their half of the band sentence."""
    negation = "not " if state == STATE_OK else ""
    if not _is_band(config):
        words = _THRESHOLD_PHRASES[config.comparison_operator]
        return f"{negation}{words} the threshold ({_java_double(config.threshold)})"
    lower = _java_list(s.point.lower for s in listed)
    upper = _java_list(s.point.upper for s in listed)
    lower = f"{negation}less than the lower thresholds {lower}"
    upper = f"{negation}greater than the upper thresholds {upper}"
    if config.comparison_operator == BAND_LOWER:
        return lower
    if config.comparison_operator == BAND_UPPER:
        return upper
    return f"{lower} or {upper}"


def _minimum_clause(state: str, n: int, m: int) -> str:
    """M breaching points are needed to alarm; N - M + 1 good ones make ALARM impossible: AWS's
    "(minimum 3 datapoints for ALARM -> OK transition)" on a 3 out of 5 alarm. The clause names
    OK -> ALARM even when the alarm comes from INSUFFICIENT_DATA, as AWS's does."""
    if state == STATE_ALARM:
        return f"minimum {_count(m, 'datapoint')} for OK -> ALARM transition"
    return f"minimum {_count(n - m + 1, 'datapoint')} for ALARM -> OK transition"


def _listing(slots: list[_Slot]) -> str:
    """ "[21.5 (26/10/23 16:42:00), ...]" """
    items = (f"{_java_double(s.point.value)} ({_reason_time(s.timestamp)})" for s in slots)
    return "[" + ", ".join(items) + "]"


def _is_band(config: AlarmConfig) -> bool:
    return config.comparison_operator in BAND_OPERATORS


def _count(count: int, noun: str) -> str:
    """ "1 datapoint", "2 datapoints", "1 missing datapoint" """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _was(count: int) -> str:
    return "was" if count == 1 else "were"


# --------------------------------------------------------------------------------------------
# 4b. StateReasonData


def _reason_data(config: AlarmConfig, d: _Decision, n: int, m: int, now: datetime) -> dict:
    """Keys in AWS's order: version, queryDate, startDate, unit, statistic|extendedStatistic,
    period, recentDatapoints, threshold (or recentLowerThresholds / recentUpperThresholds for band
    alarms), evaluatedDatapoints.

    * ``startDate`` -- the oldest evaluated real period; absent when no real point was evaluated.
    * ``unit`` / ``statistic`` -- absent when the alarm has none (metric math, anomaly).
    * ``recentDatapoints`` -- the evaluated real values, oldest first.
    * ``evaluatedDatapoints`` -- newest first, the fewest points that justify the new state: M
      breaching for ALARM, N - M + 1 non-breaching for OK (real ones with ``sampleCount`` and
      ``value``, filled-in or unknown ones with only a ``timestamp``). Every AWS-recorded example
      fits that rule (e.g. two good points, N=M=2 -> one listed); it is inferred, not documented.
    """
    oldest_first = list(reversed(d.evaluated))
    data: dict = {"version": "1.0", "queryDate": data_time(now)}
    if oldest_first:
        data["startDate"] = data_time(oldest_first[0].timestamp)
    if config.unit:
        data["unit"] = config.unit
    if config.statistic_name:
        key = "extendedStatistic" if _is_extended(config.statistic_name) else "statistic"
        data[key] = config.statistic_name
    data["period"] = config.period
    data["recentDatapoints"] = [float(s.point.value) for s in oldest_first]
    if _is_band(config):
        data["recentLowerThresholds"] = [float(s.point.lower) for s in oldest_first]
        data["recentUpperThresholds"] = [float(s.point.upper) for s in oldest_first]
    else:
        data["threshold"] = float(config.threshold)
    data["evaluatedDatapoints"] = [_evaluated_entry(s) for s in _justifying(d, n, m)]
    return data


def _justifying(d: _Decision, n: int, m: int) -> list[_Slot]:
    if d.kind == _INSUFFICIENT:
        return d.unknown
    support = _supporting(d.state, d.evaluated)
    if d.kind == _FILLED and d.fill_breaching == (d.state == STATE_ALARM):
        support = support + d.filled  # filled-in points that agree with the state count too
    support.sort(key=lambda s: s.age)
    needed = m if d.state == STATE_ALARM else n - m + 1
    return support[:needed]


def _evaluated_entry(slot: _Slot) -> dict:
    entry: dict = {"timestamp": data_time(slot.timestamp)}
    if slot.real:
        entry["sampleCount"] = float(slot.point.sample_count)
        entry["value"] = float(slot.point.value)
    return entry


def _is_extended(statistic_name: str) -> bool:
    return statistic_name not in {"SampleCount", "Average", "Sum", "Minimum", "Maximum"}


# --------------------------------------------------------------------------------------------
# Formatting


def _retain(current_state: str) -> Evaluation:
    return Evaluation(state=current_state, reason="", reason_data={}, retained=True)


def utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=timezone.utc) if ts.tzinfo is None else ts.astimezone(timezone.utc)


def _reason_time(ts: datetime) -> str:
    """ "26/10/23 16:42:00" -- day first, as in every AWS reason (AWS-recorded 26-10-2023)."""
    return utc(ts).strftime("%d/%m/%y %H:%M:%S")


def data_time(ts: datetime) -> str:
    """Timestamps inside StateReasonData and HistoryData: "2019-10-02T17:04:40.985+0000" --
    milliseconds and a +0000 offset."""
    ts = utc(ts)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}+0000"


def _java_double(value: float) -> str:
    """A double as Java's Double.toString writes it, which is what AWS's reasons show: "2.0",
    "0.01758096118768056", "1.0E7", "1.5E-4" (plain between 10^-3 and 10^7, else scientific)."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's shortest repr matches Java in this range ("5.0", "0.001")
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    mantissa = str(digits[0]) + "." + ("".join(map(str, digits[1:])) or "0")
    return ("-" if sign else "") + f"{mantissa}E{len(digits) - 1 + exponent}"


def _java_list(values) -> str:
    return "[" + ", ".join(_java_double(v) for v in values) + "]"
