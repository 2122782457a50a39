"""Metric data: turning PutMetricData datums into stored aggregates, and stored aggregates back
into per-period statistics for GetMetricStatistics, GetMetricData and alarms.

Time is handled in epoch seconds throughout. A query's periods start at its (rounded) start time
and are ``period`` seconds long; a stored slot belongs to the period its start falls in, which is
exact because query periods are always multiples of the tier the slots come from.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...store.metrics import TIER_RETENTION_SECONDS, Metric, MetricKey, MetricStore, StoredAggregate
from . import statistics
from .statistics import Aggregate, Statistic

HIGH_RESOLUTION_SECONDS = 3 * 3600
FIFTEEN_DAYS = 15 * 86400
SIXTY_THREE_DAYS = 63 * 86400
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


def metric_key(namespace: str, name: str, dimensions: Iterable[dict] | None) -> MetricKey:
    """The identity of a metric: namespace, name and its dimensions in canonical order."""
    pairs = tuple(sorted((d["Name"], d["Value"]) for d in dimensions or ()))
    return MetricKey(namespace, name, pairs)


def dimensions_list(key: MetricKey) -> list[dict]:
    return [{"Name": n, "Value": v} for n, v in key.dimensions]


def to_stored(agg: Aggregate) -> StoredAggregate:
    agg = statistics.bounded(agg)
    return (agg.sample_count, agg.sum, agg.minimum, agg.maximum, statistics.to_blob(agg))


def from_stored(row: StoredAggregate) -> Aggregate:
    return statistics.from_row(*row)


def merge_stored(rows: list[StoredAggregate]) -> StoredAggregate:
    """How the store compacts a slot: decode, merge, bound, encode."""
    return to_stored(statistics.merge(from_stored(r) for r in rows))


@dataclass(slots=True)
class PeriodValue:
    """One period of a queried series."""

    start: int  # epoch seconds
    unit: str | None
    aggregate: Aggregate


def tiers_for(period: int) -> tuple[int, ...]:
    """Which stored tiers can answer a period.

    Sub-minute periods read the 1-second tier (high-resolution data, last 3 hours). Longer ones
    read every minute-or-coarser tier that divides the period: data rolls from 60 to 300 to 3600
    seconds as it ages, and a slot is in exactly one of those tiers.
    """
    if period < 60:
        return (1,)
    return tuple(t for t in (60, 300, 3600) if period % t == 0)


def align_start(start: int, period: int, now: int) -> int:
    """Round a query's start time down as AWS does (GetMetricStatistics StartTime rules)."""
    if period in HIGH_RESOLUTION_PERIODS:
        return start - start % period
    age = now - start
    if age > SIXTY_THREE_DAYS:
        step = 3600
    elif age > FIFTEEN_DAYS:
        step = 300
    else:
        step = 60
    return start - start % step


class MetricData:
    """Reads and writes metric data through the metric store."""

    def __init__(self, store: MetricStore, clock=time.time) -> None:
        self.store = store
        self.clock = clock
        self._metric_ids: dict[MetricKey, int] = {}

    # -- writing ----------------------------------------------------------------------------------

    def put(self, samples: list[tuple[MetricKey, float, str, int, Aggregate]]) -> dict[MetricKey, int]:
        """Store (key, timestamp, unit, storage resolution, aggregate) samples.

        Samples that land in the same slot are merged first, so a request writes one row per
        touched slot; high-resolution samples also go to the 1-second tier.
        """
        slots: dict[tuple[MetricKey, int, int, str], list[Aggregate]] = {}
        for key, timestamp, unit, resolution, agg in samples:
            second = int(timestamp)
            slots.setdefault((key, 60, second - second % 60, unit), []).append(agg)
            if resolution == 1:
                slots.setdefault((key, 1, second, unit), []).append(agg)
        rows = [
            (key, tier, start, unit, to_stored(statistics.merge(parts)))
            for (key, tier, start, unit), parts in slots.items()
        ]
        ids = self.store.put(rows, int(self.clock()))
        self._metric_ids.update(ids)
        return ids

    def compact(self) -> None:
        self.store.compact(merge_stored, int(self.clock()))

    # -- reading ----------------------------------------------------------------------------------

    def metric_id(self, key: MetricKey) -> int | None:
        metric_id = self._metric_ids.get(key)
        if metric_id is None:
            metric = self.store.get_metric(key)
            if metric is None:
                return None
            metric_id = self._metric_ids[key] = metric.id
        return metric_id

    def periods(
        self, key: MetricKey, *, start: int, end: int, period: int, unit: str | None,
        by_unit: bool = False,
    ) -> list[PeriodValue]:
        """The metric's data merged per period over [start, end), oldest first; periods with no
        data are absent. With ``by_unit`` each unit gets its own period values (as
        GetMetricStatistics reports them), otherwise all units are merged."""
        metric_id = self.metric_id(key)
        if metric_id is None:
            return []
        rows = self.store.read(metric_id, tiers=tiers_for(period), start=start, end=end, unit=unit)
        if period < 60:
            # The 1-second tier only holds the last three hours.
            horizon = int(self.clock()) - TIER_RETENTION_SECONDS[1]
            rows = [r for r in rows if r[0] >= horizon]
        groups: dict[tuple[int, str | None], list[StoredAggregate]] = {}
        for slot_start, row_unit, aggregate in rows:
            period_start = start + (slot_start - start) // period * period
            groups.setdefault((period_start, row_unit if by_unit else None), []).append(aggregate)
        out = []
        for (period_start, row_unit), parts in sorted(groups.items(), key=lambda item: item[0][0]):
            agg = from_stored(parts[0]) if len(parts) == 1 else statistics.merge(
                from_stored(p) for p in parts
            )
            out.append(PeriodValue(period_start, row_unit if by_unit else unit, agg))
        return out

    def statistic_series(
        self, key: MetricKey, stat: Statistic, *, start: int, end: int, period: int,
        unit: str | None,
    ) -> tuple[list[int], list[float], list[float]]:
        """(period starts, values, sample counts) of one statistic, oldest first; periods where
        the statistic is unavailable are left out."""
        timestamps, values, counts = [], [], []
        for p in self.periods(key, start=start, end=end, period=period, unit=unit):
            value = stat.compute(p.aggregate)
            if value is None or math.isnan(value):
                continue
            timestamps.append(p.start)
            values.append(value)
            counts.append(p.aggregate.sample_count)
        return timestamps, values, counts

    def list_metrics(
        self, *, namespace: str | None, name: str | None, seen_since: int, after_id: int,
        limit: int,
    ) -> list[Metric]:
        return self.store.list_metrics(
            namespace=namespace, name=name, seen_since=seen_since, after_id=after_id, limit=limit
        )


def epoch(value: _dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.timestamp()


def from_epoch(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)


def series_arrays(timestamps: list[int], values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(timestamps, dtype=np.int64), np.asarray(values, dtype=np.float64)
