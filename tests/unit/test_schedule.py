"""EventBridge schedule expressions (services/events/schedule.py): what AWS accepts and refuses,
and when each expression fires.

The valid and invalid expressions are the ones AWS answered in localstack's AWS-validated tests
(tests/aws/services/events/test_events_schedule.py: every refused one got ValidationException
"Parameter ScheduleExpression is not valid.") and the user guide's examples
(eb-create-rule-schedule.md)."""

from datetime import datetime, timezone

import pytest

from sagewatch.services.events.schedule import Cron, Rate, next_fire, parse_schedule

AWS_VALID_RATES = ["rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(1 day)", "rate(12 hours)"]
AWS_INVALID_RATES = [
    "rate(10 seconds)", "rate(10 years)", "rate(1 minutes)", "rate(1 hours)", "rate(1 days)",
    "rate(10 minute)", "rate(10 hour)", "rate(10 day)", "rate()", "rate(10)", "rate(10 minutess)",
    "rate(foo minutes)", "rate(0 minutes)", "rate(-10 minutes)", "rate(10 MINUTES)",
    "rate( 10 minutes )", " rate(10 minutes)",
]
AWS_VALID_CRONS = [
    "cron(0 2 ? * SAT *)", "cron(0 12 * * ? *)", "cron(5,35 14 * * ? *)", "cron(15 10 ? * 6L 2002-2005)",
    "cron(0 2 ? * SAT#3 *)", "cron(* * ? * SAT#3 *)", "cron(0/5 5 ? JAN 1-5 2022)", "cron(0 10 * * ? *)",
    "cron(15 12 * * ? *)", "cron(0 18 ? * MON-FRI *)", "cron(0 8 1 * ? *)", "cron(0/15 * * * ? *)",
    "cron(0/10 * ? * MON-FRI *)", "cron(0/5 8-17 ? * MON-FRI *)", "cron(0/30 20-23 ? * MON-FRI *)",
    "cron(0/30 0-2 ? * MON-FRI *)",
    # the user guide's
    "cron(0/30 20-2 ? * MON-FRI *)", "cron(15 10 ? * 6L 2019-2022)", "cron(0 9 3W * ? *)",
    "cron(0 9 L * ? *)", "cron(0 9 LW * ? *)",
]
AWS_INVALID_CRONS = [
    "cron(0 1 * * * *)",  # Day-of-month and Day-of-week both given
    "cron(7 20 * * NOT *)", "cron(INVALID)", "cron(0 dummy ? * MON-FRI *)", "cron(71 8 1 * ? *)",
    # the user guide's limitations
    "cron(0 1 ? * 3#1,6#3 *)",  # '#' only alone
    "cron(0 1 ? * ? *)",  # one of them must be a value
    "cron(0 1 * * ?)",  # five fields
    "cron(0 1 * * ? * *)",  # seven
    "cron(0 24 * * ? *)", "cron(0 1 32 * ? *)", "cron(0 1 * 13 ? *)", "cron(0 1 ? * 8 *)",
    "cron(0 1 * * ? 1969)", "cron(0 1 * * ? 2200)", "cron(0 1 ? * 2#6 *)", "cron(0/0 1 * * ? *)",
    "cron(0 1 * * ? *) ", "", "at(2024-01-01T00:00:00)",
]


@pytest.mark.parametrize("text", AWS_VALID_RATES + AWS_VALID_CRONS)
def test_aws_accepts(text):
    schedule = parse_schedule(text)
    assert schedule.text == text


@pytest.mark.parametrize("text", AWS_INVALID_RATES + AWS_INVALID_CRONS)
def test_aws_refuses(text):
    with pytest.raises(ValueError):
        parse_schedule(text)


def at(*fields) -> float:
    return datetime(*fields, tzinfo=timezone.utc).timestamp()


def fires(text: str, after: float, count: int, anchor: float | None = None) -> list[datetime]:
    schedule, moments = parse_schedule(text), []
    for _ in range(count):
        after = next_fire(schedule, after, anchor)
        moments.append(datetime.fromtimestamp(after, tz=timezone.utc).replace(tzinfo=None))
    return moments


def test_a_rate_counts_from_its_anchor():
    created = at(2024, 3, 1, 10, 0, 17)
    schedule = parse_schedule("rate(5 minutes)")
    assert schedule == Rate(300, "rate(5 minutes)")
    assert next_fire(schedule, created, anchor=created) == created + 300
    assert next_fire(schedule, created + 299, anchor=created) == created + 300
    assert next_fire(schedule, created + 300, anchor=created) == created + 600  # strictly after
    assert next_fire(schedule, created + 3601, anchor=created) == created + 3900


def test_cron_every_day_at_noon():
    assert fires("cron(0 12 * * ? *)", at(2024, 3, 1, 12, 0), 2) == [
        datetime(2024, 3, 2, 12, 0), datetime(2024, 3, 3, 12, 0)]
    assert fires("cron(0 12 * * ? *)", at(2024, 3, 1, 11, 59, 59), 1) == [datetime(2024, 3, 1, 12, 0)]


def test_cron_lists_and_steps():
    assert fires("cron(5,35 14 * * ? *)", at(2024, 3, 1), 3) == [
        datetime(2024, 3, 1, 14, 5), datetime(2024, 3, 1, 14, 35), datetime(2024, 3, 2, 14, 5)]
    assert fires("cron(1/20 * * * ? *)", at(2024, 3, 1), 4) == [
        datetime(2024, 3, 1, 0, 1), datetime(2024, 3, 1, 0, 21), datetime(2024, 3, 1, 0, 41),
        datetime(2024, 3, 1, 1, 1)]


def test_cron_ranges_wrap_past_midnight():
    # "Run every 30 minutes Monday through Friday between 10:00 pm on the starting day to 2:00 am
    # on the following day" (user guide); 2024-03-01 is a Friday.
    moments = fires("cron(0/30 20-2 ? * MON-FRI *)", at(2024, 3, 1, 19), 14)
    assert moments[0] == datetime(2024, 3, 1, 0 + 20, 0)
    assert datetime(2024, 3, 1, 23, 30) in moments
    # The day-of-week applies to each calendar day (as in Quartz): Saturday's and Sunday's early
    # hours do not fire, Monday's do.
    assert datetime(2024, 3, 2, 0, 0) not in moments
    assert moments[8:] == [datetime(2024, 3, 4, h, m) for h in (0, 1, 2) for m in (0, 30)]


def test_cron_weekdays_and_their_special_forms():
    # SAT#3: the third Saturday (March 2024: the 16th); 6L: the last Friday (the 29th).
    assert fires("cron(0 2 ? * SAT#3 *)", at(2024, 3, 1), 2) == [
        datetime(2024, 3, 16, 2, 0), datetime(2024, 4, 20, 2, 0)]
    assert fires("cron(15 10 ? * 6L 2019-2024)", at(2024, 3, 1), 1) == [datetime(2024, 3, 29, 10, 15)]
    assert fires("cron(0 8 ? * L *)", at(2024, 3, 1), 1) == [datetime(2024, 3, 2, 8, 0)]  # Saturday


def test_cron_month_days_special_forms():
    assert fires("cron(0 9 L * ? *)", at(2024, 2, 1), 2) == [datetime(2024, 2, 29, 9), datetime(2024, 3, 31, 9)]
    # June 2024 ends on a Sunday: its last weekday is Friday the 28th.
    assert fires("cron(0 9 LW * ? *)", at(2024, 6, 1), 1) == [datetime(2024, 6, 28, 9)]
    # 2024-06-01 is a Saturday: the nearest weekday without leaving the month is Monday the 3rd;
    # 2024-06-15 (Saturday) -> Friday the 14th; 2024-06-16 (Sunday) -> Monday the 17th.
    assert fires("cron(0 9 1W * ? *)", at(2024, 6, 1), 1) == [datetime(2024, 6, 3, 9)]
    assert fires("cron(0 9 15W * ? *)", at(2024, 6, 1), 1) == [datetime(2024, 6, 14, 9)]
    assert fires("cron(0 9 16W * ? *)", at(2024, 6, 1), 1) == [datetime(2024, 6, 17, 9)]
    # 31 in a 30-day month does not exist: April is skipped.
    assert fires("cron(0 0 31 * ? *)", at(2024, 3, 31, 1), 1) == [datetime(2024, 5, 31)]


def test_cron_months_and_years():
    assert fires("cron(0/5 5 ? JAN 1-5 2022)", at(2021, 12, 31), 1) == [datetime(2022, 1, 2, 5, 0)]  # a Sunday
    assert fires("cron(0 0 29 FEB ? *)", at(2024, 3, 1), 1) == [datetime(2028, 2, 29)]
    assert next_fire(parse_schedule("cron(15 10 ? * 6L 2002-2005)"), at(2024, 1, 1)) is None
    schedule = parse_schedule("cron(0 12 ? jan,Dec sun *)")
    assert isinstance(schedule, Cron) and schedule.months == {1, 12} and schedule.day_of_week.values == {1}
