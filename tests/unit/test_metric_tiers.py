"""Metric data ages through the tiers AWS keeps (1 s for 3 h, 60 s for 15 d, 5 min for 63 d,
1 h for 455 d) on a real SQLite store; the clock is the only thing moved by hand, since weeks
cannot pass in a test."""

from __future__ import annotations

import numpy as np
import pytest

from sagewatch.clock import FakeClock
from sagewatch.services.cloudwatch.metrics import MetricData, Sample, Samples, metric_key
from sagewatch.services.cloudwatch.statistics import parse_statistic
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.metrics import SQLiteMetricStore

DAY = 86400
T0 = 1_700_000_000 - 1_700_000_000 % 3600  # an hour boundary
KEY = metric_key("Tiers", "loss", [{"Name": "Host", "Value": "algo-1"}])


@pytest.fixture
def data(tmp_path):
    database = Database(tmp_path / "db.sqlite")
    clock = FakeClock(T0 + 7200)
    yield MetricData(SQLiteMetricStore(database), clock=clock), clock
    database.close()


def put(data: MetricData, timestamp: float, values: list[float], resolution: int = 60) -> None:
    data.put(Samples.of([Sample(KEY, timestamp, "None", resolution, values)]))


def series(data: MetricData, stat: str, start: int, end: int, period: int):
    return data.statistic_series(KEY, parse_statistic(stat), start=start, end=end, period=period, unit=None)


def rows_by_tier(data: MetricData) -> dict[int, int]:
    counts = data.store.database.execute(
        "SELECT tier, COUNT(*) FROM metric_data GROUP BY tier").fetchall()
    return dict(counts)


def test_a_slot_written_many_times_is_compacted_into_one_row_with_the_same_statistics(data):
    metrics, clock = data
    rng = np.random.default_rng(1)
    values = rng.integers(1, 50, size=600).astype(float)
    for chunk in np.split(values, 60):
        put(metrics, T0 + 30, chunk.tolist())
    before = {s: series(metrics, s, T0, T0 + 60, 60) for s in ("Average", "p90", "SampleCount")}
    assert rows_by_tier(metrics)[60] == 60
    clock.set(T0 + 3600)  # the slot's window is long over
    metrics.compact()
    assert rows_by_tier(metrics)[60] == 1
    after = {s: series(metrics, s, T0, T0 + 60, 60) for s in before}
    assert after == before
    assert before["SampleCount"][1] == [600.0]
    assert before["p90"][1] == [float(np.sort(values)[int(np.ceil(0.9 * 600)) - 1])]


def test_high_resolution_seconds_are_kept_three_hours_then_only_minutes_remain(data):
    metrics, clock = data
    for second in range(10):
        put(metrics, T0 + second, [float(second)], resolution=1)
    assert series(metrics, "Sum", T0, T0 + 10, 1)[1] == [float(s) for s in range(10)]
    clock.set(T0 + 3 * 3600 + 120)
    metrics.compact()
    assert series(metrics, "Sum", T0, T0 + 10, 1) == ([], [], [])
    assert series(metrics, "Sum", T0, T0 + 60, 60)[1] == [45.0]


def test_minutes_roll_into_five_minutes_after_15_days_and_hours_after_63(data):
    metrics, clock = data
    for minute in range(120):
        put(metrics, T0 + minute * 60, [float(minute)])
    expected_hours = [float(sum(range(60))), float(sum(range(60, 120)))]
    assert series(metrics, "Sum", T0, T0 + 7200, 3600)[1] == expected_hours

    clock.set(T0 + 16 * DAY)
    metrics.compact()
    assert set(rows_by_tier(metrics)) == {300}
    assert rows_by_tier(metrics)[300] == 24
    # One-minute periods are gone; five-minute and hourly ones still add up.
    assert series(metrics, "Sum", T0, T0 + 7200, 60) == ([], [], [])
    five = series(metrics, "Sum", T0, T0 + 600, 300)
    assert five[1] == [float(sum(range(5))), float(sum(range(5, 10)))]
    assert series(metrics, "Sum", T0, T0 + 7200, 3600)[1] == expected_hours
    assert series(metrics, "Maximum", T0, T0 + 7200, 3600)[1] == [59.0, 119.0]

    clock.set(T0 + 64 * DAY)
    metrics.compact()
    assert rows_by_tier(metrics) == {3600: 2}
    assert series(metrics, "Sum", T0, T0 + 7200, 3600)[1] == expected_hours
    assert series(metrics, "SampleCount", T0, T0 + 7200, 3600)[1] == [60.0, 60.0]

    clock.set(T0 + 456 * DAY)
    metrics.compact()
    assert rows_by_tier(metrics) == {}
