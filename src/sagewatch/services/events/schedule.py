"""EventBridge schedule expressions: ``rate(value unit)`` and ``cron(six fields)``.

    parse_schedule(text) -> Rate | Cron        (raises ValueError: not a valid expression)
    next_fire(schedule, after, anchor=None)    (the first fire time strictly after ``after``,
                                                epoch seconds, UTC; None: it never fires again)

What is valid comes from the user guide (eb-create-rule-schedule.md, awsdocs/amazon-eventbridge-
user-guide) and from the expressions AWS itself accepted or refused in localstack's AWS-validated
tests (tests/aws/services/events/test_events_schedule.py, ``@markers.aws.validated``):

* ``rate(value unit)``: value a positive integer, unit ``minute|minutes|hour|hours|day|days``,
  singular exactly when the value is 1 (``rate(1 minutes)`` and ``rate(10 minute)`` are
  refused). Nothing else: no spaces inside the parentheses or around the expression, no other
  units, lower case only (``rate( 10 minutes )``, `` rate(10 minutes)``, ``rate(10 MINUTES)``,
  ``rate(10 seconds)``, ``rate(0 minutes)`` are all refused).
  "A rate expression starts when you create the scheduled event rule": the fire times are
  ``anchor + k * period`` (k >= 1), the anchor being when the rule was created or enabled (the
  scheduler passes it).
* ``cron(Minutes Hours Day-of-month Month Day-of-week Year)``, in UTC:

      Minutes 0-59 , - * /        Month 1-12 or JAN-DEC , - * /
      Hours 0-23 , - * /          Day-of-week 1-7 or SUN-SAT , - * ? L #
      Day-of-month 1-31 , - * ? / L W                          Year 1970-2199 , - * /

  ``a-b`` ranges may wrap (``20-2`` hours: "from 10:00 pm ... to 2:00 am on the following
  day"); ``a/n`` and ``*/n`` and ``a-b/n`` step; ``L`` is the last day of the month (``LW`` its
  last weekday), ``nW`` the weekday nearest day n (never leaving the month); in Day-of-week
  ``nL`` is the month's last n-day and ``n#k`` its k-th n-day (alone: "3#1,6#3 is not valid").
  Exactly one of Day-of-month and Day-of-week is ``?`` (``cron(0 1 * * * *)`` is refused).
  Month and day names are accepted in any case (sagewatch's choice; the guide writes them upper
  case and gives no example of another).

Fire times have minute precision ("the minimum precision for a schedule is one minute").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timezone

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}

_MONTHS = {name: i for i, name in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], 1)}
MIN_YEAR, MAX_YEAR = 1970, 2199


@dataclass(frozen=True, slots=True)
class Rate:
    seconds: int
    text: str


@dataclass(frozen=True, slots=True)
class DayOfMonth:
    """``values`` (a set of days), or one of the special forms."""

    any: bool = False  # "?"
    values: frozenset[int] = frozenset()
    last: bool = False  # "L"
    last_weekday: bool = False  # "LW"
    nearest_weekday: int | None = None  # "nW"


@dataclass(frozen=True, slots=True)
class DayOfWeek:
    any: bool = False  # "?"
    values: frozenset[int] = frozenset()  # 1 = Sunday ... 7 = Saturday
    last_of: int | None = None  # "nL": the last n-day of the month
    nth: tuple[int, int] | None = None  # "n#k": (n, k)


@dataclass(frozen=True, slots=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: DayOfMonth
    months: frozenset[int]
    day_of_week: DayOfWeek
    years: frozenset[int]
    text: str


Schedule = Rate | Cron


def parse_schedule(text: str) -> Schedule:
    """The schedule an expression describes; ValueError when EventBridge would refuse it."""
    if not isinstance(text, str):
        raise ValueError("not a schedule expression")
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value <= 0 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"invalid rate expression {text!r}")
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")], text)
    cron = _CRON.fullmatch(text)
    if cron:
        return _parse_cron(cron.group(1), text)
    raise ValueError(f"not a rate() or cron() expression: {text!r}")


def _parse_cron(body: str, text: str) -> Cron:
    fields = body.split()
    if len(fields) != 6 or body != body.strip():
        raise ValueError("a cron expression has six fields")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ValueError("exactly one of Day-of-month and Day-of-week must be ?")
    return Cron(
        minutes=_values(minute, 0, 59),
        hours=_values(hour, 0, 23),
        day_of_month=_day_of_month(dom),
        months=_values(month, 1, 12, _MONTHS),
        day_of_week=_day_of_week(dow),
        years=_values(year, MIN_YEAR, MAX_YEAR),
        text=text,
    )


def _number(token: str, low: int, high: int, names: dict[str, int] | None = None) -> int:
    if names and token.upper() in names:
        return names[token.upper()]
    if not token.isdigit():
        raise ValueError(f"{token!r} is not a value")
    value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{value} is out of {low}-{high}")
    return value


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """A field of ``,``-separated items: ``*``, ``n``, ``a-b`` (wrapping), each optionally
    ``/step``."""
    result: set[int] = set()
    for item in field.split(","):
        if not item:
            raise ValueError("an empty item")
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            step = _number(step_text, 1, high)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _number(first, low, high, names), _number(last, low, high, names)
        else:
            start = _number(base, low, high, names)
            end = high if slash else start  # "1/10": from 1, every 10th, to the field's end
        size = high - low + 1
        span = (end - start) % size  # a range may wrap: hours 20-2 are 20, 21, 22, 23, 0, 1, 2
        for offset in range(0, span + 1, step):
            result.add(low + (start - low + offset) % size)
    return frozenset(result)


def _day_of_month(field: str) -> DayOfMonth:
    if field == "?":
        return DayOfMonth(any=True)
    if field == "L":
        return DayOfMonth(last=True)
    if field == "LW":
        return DayOfMonth(last_weekday=True)
    if field.endswith("W"):
        return DayOfMonth(nearest_weekday=_number(field[:-1], 1, 31))
    return DayOfMonth(values=_values(field, 1, 31))


def _day_of_week(field: str) -> DayOfWeek:
    if field == "?":
        return DayOfWeek(any=True)
    if field == "L":
        return DayOfWeek(values=frozenset({7}))  # the last day of the week: Saturday
    if "#" in field:
        day, _, nth = field.partition("#")
        return DayOfWeek(nth=(_number(day, 1, 7, _DAYS), _number(nth, 1, 5)))
    if field.endswith("L"):
        return DayOfWeek(last_of=_number(field[:-1], 1, 7, _DAYS))
    return DayOfWeek(values=_values(field, 1, 7, _DAYS))


# -- fire times --------------------------------------------------------------------------------------


def next_fire(schedule: Schedule, after: float, anchor: float | None = None) -> float | None:
    """The first fire time strictly after ``after`` (epoch seconds); None if there is none.

    A rate fires at ``anchor + k * period`` (k >= 1); without an anchor, one period after
    ``after``. A cron fires at the start of each matching minute."""
    if isinstance(schedule, Rate):
        if anchor is None:
            return after + schedule.seconds
        if after < anchor + schedule.seconds:
            return anchor + schedule.seconds
        periods = int((after - anchor) // schedule.seconds) + 1
        return anchor + periods * schedule.seconds
    return _next_cron(schedule, after)


def _aws_weekday(year: int, month: int, day: int) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (calendar.weekday(year, month, day) + 1) % 7 + 1


def _days(cron: Cron, year: int, month: int) -> list[int]:
    """The days of ``month`` on which ``cron`` fires, in order."""
    length = calendar.monthrange(year, month)[1]
    dom, dow = cron.day_of_month, cron.day_of_week
    if not dom.any:
        if dom.last:
            return [length]
        if dom.last_weekday:
            day = length
            while _aws_weekday(year, month, day) in (1, 7):
                day -= 1
            return [day]
        if dom.nearest_weekday is not None:
            wanted = dom.nearest_weekday
            if wanted > length:
                return []
            weekday = _aws_weekday(year, month, wanted)
            if weekday == 7:  # Saturday: the Friday before, or Monday when that leaves the month
                return [wanted - 1] if wanted > 1 else [wanted + 2]
            if weekday == 1:  # Sunday: the Monday after, or the Friday before at the month's end
                return [wanted + 1] if wanted < length else [wanted - 2]
            return [wanted]
        return sorted(d for d in dom.values if d <= length)
    if dow.nth is not None:
        weekday, nth = dow.nth
        matching = [d for d in range(1, length + 1) if _aws_weekday(year, month, d) == weekday]
        return [matching[nth - 1]] if nth <= len(matching) else []
    if dow.last_of is not None:
        return [max(d for d in range(1, length + 1) if _aws_weekday(year, month, d) == dow.last_of)]
    return [d for d in range(1, length + 1) if _aws_weekday(year, month, d) in dow.values]


def _next_cron(cron: Cron, after: float) -> float | None:
    # The first whole minute strictly after ``after``.
    start = datetime.fromtimestamp((int(after // 60) + 1) * 60, tz=timezone.utc)
    for year in sorted(y for y in cron.years if y >= start.year):
        for month in sorted(cron.months):
            if (year, month) < (start.year, start.month):
                continue
            for day in _days(cron, year, month):
                if (year, month, day) < (start.year, start.month, start.day):
                    continue
                same_day = (year, month, day) == (start.year, start.month, start.day)
                for hour in sorted(cron.hours):
                    if same_day and hour < start.hour:
                        continue
                    same_hour = same_day and hour == start.hour
                    for minute in sorted(cron.minutes):
                        if same_hour and minute < start.minute:
                            continue
                        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc).timestamp()
    return None
