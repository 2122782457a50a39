"""Regressions of CloudWatch's metric storage and alarm stores, on the real stores over SQLite.

* Extreme values. ``{"Values": [1], "Counts": [1e308]}`` written twice into one minute used to
  overflow the slot's sample count to infinity: from then on every read, compaction and
  evaluation of the metric failed. Whatever PutMetricData accepts (its range is |x| <= 2^360 for
  values, counts and statistic sets, 0 included) must stay readable through every step data
  takes: put, compaction, the roll-ups into 5-minute and hourly slots, every statistic, metric
  math and alarms. The search feeds the edges of that range, written twice, through all of it.
* Ids never reused (migration 3 makes every integer key AUTOINCREMENT): alarm history ids, which
  DescribeAlarmHistory tokens resume after, survive the expiry of every item, and a database from
  before keeps its CloudWatch ids through the upgrade.

Only the clock is moved by hand, since weeks cannot pass in a test.
"""

from __future__ import annotations

import math
import sqlite3
import tempfile
from pathlib import Path

import botocore.session
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from sagewatch.aws.typed_json import RecordConverter
from sagewatch.clock import FakeClock
from sagewatch.services.cloudwatch.alarms import AlarmActions, AlarmEngine
from sagewatch.services.cloudwatch.metrics import MetricData
from sagewatch.services.cloudwatch.service import CloudWatchService
from sagewatch.services.errors import AWSError
from sagewatch.store.alarms import HistoryItem
from sagewatch.store.migrations import migration_files, split_statements
from sagewatch.store.sqlite.alarms import SQLiteAlarmStore
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.metrics import SQLiteMetricStore
from sagewatch.store.sqlite.tags import SQLiteTagStore

DAY = 86400
T0 = 1_700_000_000 - 1_700_000_000 % 3600 + 1800  # the middle of an hour
NS = "Regressions/Extreme"
EDGE = 2.0**360  # the largest magnitude PutMetricData accepts
TINY = 2.0**-360  # the smallest non-zero one
STATISTICS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
EXTENDED = ["p0", "p50", "p99.9", "p100", "tm90", "TM(1%:99%)", "wm90", "tc90", "ts99", "TS(:1)", "PR(0:1)", "IQM"]
EXPRESSIONS = ["m1 * m1", "m1 / m2", "SUM(METRICS())", "RUNNING_SUM(m1)", "DIFF(m1)", "m1 ^ 3",
               "ANOMALY_DETECTION_BAND(m1, 2)", "ANOMALY_DETECTION_BAND(m1, 1e300)", "m1 / STDDEV(m1)"]


_PUT = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricData").input_shape
_CONVERTER = RecordConverter()


class CloudWatch:
    """The CloudWatch service over its real stores, as ``server.py`` assembles it; the alarm
    engine is not started: tests evaluate alarms themselves, at the clock's time."""

    def __init__(self, folder: Path) -> None:
        self.clock = FakeClock(T0)
        self.database = Database(folder / "db.sqlite")
        self.data = MetricData(SQLiteMetricStore(self.database), clock=self.clock)
        alarms = SQLiteAlarmStore(self.database)
        self.engine = AlarmEngine(alarms, self.data, AlarmActions(), region="us-east-1",
                                  account_id="000000000000", clock=self.clock)
        self.service = CloudWatchService(self.data, alarms, self.engine, SQLiteTagStore(self.database),
                                         region="us-east-1", account_id="000000000000", clock=self.clock.now)

    def put(self, datums: list[dict]) -> None:
        records = _CONVERTER.to_records(_PUT, {"Namespace": NS, "MetricData": datums})["MetricData"]
        self.service.put_metric_data(Namespace=NS, MetricData=records)

    def stored_numbers(self) -> list[float]:
        return [x for row in self.database.execute("SELECT sample_count, sum, minimum, maximum FROM metric_data")
                for x in row]


# -- the search ---------------------------------------------------------------------------------

# Numbers at the edges of the accepted range and anywhere inside it, with now and then one just
# past an edge: what PutMetricData refuses must be refused whole (InvalidParameterValue), what it
# accepts must stay readable. Counts reach 1e308, the count of the original report.
BEYOND = [math.nextafter(EDGE, math.inf), math.nextafter(TINY, 0.0), 1e308, 1e-300]
magnitudes = st.sampled_from([EDGE, TINY, 2.0**359, 1.0]) | st.floats(min_value=TINY, max_value=EDGE)
values = st.just(0.0) | st.builds(lambda m, negative: -m if negative else m, magnitudes, st.booleans())
counts = st.sampled_from([1e308, EDGE]) | st.sampled_from([2.0**359, 1.0, 0.0, BEYOND[0]]) | magnitudes


@st.composite
def datums(draw) -> dict:
    datum: dict = {"MetricName": draw(st.sampled_from(["a", "b"]))}
    kind = draw(st.sampled_from(["values", "value", "values", "statistic set"]))
    if kind == "value":
        datum["Value"] = draw(values | st.sampled_from(BEYOND))
    elif kind == "values":
        datum["Values"] = draw(st.lists(values, min_size=1, max_size=4))
        if draw(st.integers(0, 3)):
            datum["Counts"] = draw(st.lists(counts, min_size=len(datum["Values"]), max_size=len(datum["Values"])))
    else:
        low, high = sorted([draw(values), draw(values)])
        datum["StatisticValues"] = {"SampleCount": draw(counts.filter(lambda c: c > 0)), "Sum": draw(values),
                                    "Minimum": low, "Maximum": high}
    if draw(st.booleans()):
        datum["StorageResolution"] = 1
    return datum


def finite_answers(response: dict) -> list[float]:
    """Every number of a GetMetricStatistics or GetMetricData answer; all must be finite."""
    numbers = []
    for point in response.get("Datapoints", ()):
        numbers += [point[s] for s in STATISTICS if s in point]
        numbers += list(point.get("ExtendedStatistics", {}).values())
    for result in response.get("MetricDataResults", ()):
        numbers += result["Values"]
    assert all(math.isfinite(x) for x in numbers), numbers
    return numbers


def read_everything(cw: CloudWatch, start: float, end: float, period: int) -> None:
    for name in ("a", "b"):
        common = dict(Namespace=NS, MetricName=name, StartTime=start, EndTime=end, Period=period)
        finite_answers(cw.service.get_metric_statistics(Statistics=STATISTICS, **common))
        finite_answers(cw.service.get_metric_statistics(ExtendedStatistics=EXTENDED[:10], **common))
        finite_answers(cw.service.get_metric_statistics(ExtendedStatistics=EXTENDED[10:], **common))
    stats = [{"Id": f"m{i}", "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": NS, "MetricName": name}, "Period": period, "Stat": stat}}
        for i, (name, stat) in enumerate([("a", "Sum"), ("b", "Average"), ("a", "ts99"), ("b", "p50")], 1)]
    expressions = [{"Id": f"e{i}", "Expression": e} for i, e in enumerate(EXPRESSIONS, 1)]
    finite_answers(cw.service.get_metric_data(MetricDataQueries=stats + expressions, StartTime=start, EndTime=end))


def alarms_evaluate(cw: CloudWatch) -> None:
    """Alarms on the metric evaluate (no exception) and end up in a state."""
    for name, stat in (("a", {"Statistic": "Sum"}), ("b", {"Statistic": "Average"}),
                       ("a", {"ExtendedStatistic": "p99"}), ("b", {"ExtendedStatistic": "ts99"})):
        alarm = f"{name}-{next(iter(stat.values()))}"
        cw.service.put_metric_alarm(AlarmName=alarm, Namespace=NS, MetricName=name, Period=60, EvaluationPeriods=5,
                                    Threshold=EDGE, ComparisonOperator="GreaterThanThreshold", **stat)
        cw.engine.evaluate(alarm)
    cw.service.put_metric_alarm(
        AlarmName="band", EvaluationPeriods=5, ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
        ThresholdMetricId="ad", Metrics=[
            {"Id": "m", "ReturnData": True,
             "MetricStat": {"Metric": {"Namespace": NS, "MetricName": "a"}, "Period": 60, "Stat": "Sum"}},
            {"Id": "ad", "ReturnData": True, "Expression": "ANOMALY_DETECTION_BAND(m, 2)"}])
    cw.engine.evaluate("band")
    found = cw.service.describe_alarms()["MetricAlarms"]
    assert len(found) == 5 and {a["StateValue"] for a in found} <= {"OK", "ALARM", "INSUFFICIENT_DATA"}


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(request=st.lists(datums(), min_size=1, max_size=3))
@example(request=[{"MetricName": "a", "Values": [1.0], "Counts": [1e308]}])  # the report
@example(request=[{"MetricName": "a", "Values": [EDGE, -EDGE, TINY], "Counts": [EDGE, EDGE, EDGE]},
                  {"MetricName": "a", "StatisticValues": {"SampleCount": EDGE, "Sum": EDGE, "Minimum": -EDGE,
                                                          "Maximum": EDGE}, "StorageResolution": 1}])
def test_accepted_extremes_stay_readable_through_every_tier(request):
    with tempfile.TemporaryDirectory() as folder:
        cw = CloudWatch(Path(folder))
        try:
            # The same request in six minutes, twice each (the first bug needed two writes to one slot).
            batch = [dict(d, Timestamp=T0 - 60 * minute - 30) for minute in range(1, 7) for d in request]
            try:
                cw.put(batch)
            except AWSError as rejected:  # out of range: refused whole, as AWS does
                assert rejected.code == "InvalidParameterValue", rejected
                assert cw.stored_numbers() == []
                event("refused")
                return
            event("accepted, a count of 1e308" if any(1e308 in d.get("Counts", ()) for d in request) else "accepted")
            cw.put(batch)
            read_everything(cw, T0 - 600, T0, 60)
            read_everything(cw, T0 - 600, T0, 10)  # the second slots of high-resolution datums
            alarms_evaluate(cw)
            cw.clock.set(T0 + 600)  # the minutes are over: their rows merge
            cw.data.compact()
            read_everything(cw, T0 - 600, T0, 60)
            alarms_evaluate(cw)
            cw.clock.set(T0 + 16 * DAY)  # minutes roll into five-minute slots
            cw.data.compact()
            read_everything(cw, T0 - 3600, T0, 300)
            cw.clock.set(T0 + 64 * DAY)  # and those into hours
            cw.data.compact()
            read_everything(cw, T0 - 7200, T0 + 3600, 3600)
            assert all(math.isfinite(x) for x in cw.stored_numbers())
        finally:
            cw.database.close()


def test_counts_beyond_the_value_range_are_refused_and_nothing_is_written(tmp_path):
    # The original report: two such writes into one minute broke the metric for good.
    cw = CloudWatch(tmp_path)
    for count in (1e308, 2.0**361, math.inf):
        try:
            cw.put([{"MetricName": "a", "Values": [1.0], "Counts": [count], "Timestamp": T0 - 30}])
        except AWSError as rejected:
            assert rejected.code == "InvalidParameterValue"
        else:
            raise AssertionError(f"a count of {count} was accepted")
    assert cw.stored_numbers() == []
    cw.database.close()


# -- ids ----------------------------------------------------------------------------------------


def _item(timestamp: float) -> HistoryItem:
    return HistoryItem("a", "MetricAlarm", timestamp, "StateUpdate", "s", "{}")


def test_alarm_history_ids_are_not_reused_after_every_item_expires(tmp_path):
    database = Database(tmp_path / "db.sqlite")
    store = SQLiteAlarmStore(database)
    store.add_history([_item(100.0) for _ in range(3)])
    last = store.history(name="a", types=["MetricAlarm"], item_type=None, start=None, end=None, after_id=None,
                         ascending=False, limit=1)[0].id
    store.expire_history(older_than=200.0)  # two quiet weeks: the whole history goes
    store.add_history([_item(300.0)])
    (new,) = store.history(name="a", types=["MetricAlarm"], item_type=None, start=None, end=None, after_id=None,
                           ascending=False, limit=10)
    assert new.id > last
    # A token saved before the expiry (resume after `last`, ascending) still finds the new item.
    assert [i.id for i in store.history(name="a", types=["MetricAlarm"], item_type=None, start=None, end=None,
                                        after_id=last, ascending=True, limit=10)] == [new.id]
    database.close()


def test_an_older_database_keeps_its_ids_and_continues_above_them(tmp_path):
    path = tmp_path / "db.sqlite"
    old = sqlite3.connect(path)  # a database as migration 2 left it
    old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, sql in migration_files("sagewatch.store.sqlite"):
        if version <= 2:
            for statement in split_statements(sql):
                old.execute(statement)
            old.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    old.executemany("INSERT INTO alarm_history (id, alarm_name, alarm_type, timestamp, item_type, summary, data) "
                    "VALUES (?, 'a', 'MetricAlarm', ?, 'StateUpdate', 's', '{}')", [(7, 100.0), (9, 101.0)])
    old.execute("INSERT INTO metrics (id, namespace, name, dimensions, last_seen) VALUES (5, 'n', 'm', '[]', 0)")
    old.commit()
    old.close()
    database = Database(path)
    store = SQLiteAlarmStore(database)
    assert [i.id for i in store.history(name="a", types=["MetricAlarm"], item_type=None, start=None, end=None,
                                        after_id=None, ascending=True, limit=10)] == [7, 9]
    store.expire_history(older_than=200.0)
    store.add_history([_item(300.0)])
    (new,) = store.history(name="a", types=["MetricAlarm"], item_type=None, start=None, end=None, after_id=None,
                           ascending=True, limit=10)
    assert new.id == 10
    assert database.execute("SELECT id FROM metrics WHERE name = 'm'").fetchone() == (5,)
    database.close()
