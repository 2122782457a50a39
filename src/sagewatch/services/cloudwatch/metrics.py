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


from ...store.metrics import TIER_RETENTION_SECONDS, Metric, MetricKey, MetricStore, StoredAggregate
from . import statistics
from .statistics import Aggregate, Statistic

HIGH_RESOLUTION_SECONDS = 3 * 3600
FIFTEEN_DAYS = 15 * 86400
SIXTY_THREE_DAYS = 63 * 86400
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


def metric_key(namespace: str, name: str, dimensions: Iterable[dict] | None) -> MetricKey:
    """The identity of a metric: namespace, name and its dimensions in canonical order."""
    if not dimensions:
        return MetricKey(namespace, name, ())
    pairs = [(d["Name"], d["Value"]) for d in dimensions]
    pairs.sort()
    return MetricKey(namespace, name, tuple(pairs))


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
class Sample:
    """One datum of a PutMetricData request, checked."""

    key: MetricKey
    timestamp: float  # epoch seconds
    unit: str
    resolution: int  # StorageResolution: 1 or 60
    values: list[float]  # raw samples (Value, or Values)
    counts: list[float] | None = None  # weights of values (Counts); None: one each
    statistic_set: tuple[float, float, float, float] | None = None  # SampleCount, Sum, Min, Max


class _Pool:
    """The samples of one slot in one request, aggregated once."""

    __slots__ = ("values", "counts", "statistic_sets")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.counts: list[float] = []
        self.statistic_sets: list[tuple[float, float, float, float]] = []

    def add(self, sample: Sample) -> None:
        if sample.values:
            self.values += sample.values
            self.counts += sample.counts if sample.counts is not None else [1.0] * len(sample.values)
        if sample.statistic_set is not None:
            self.statistic_sets.append(sample.statistic_set)

    def aggregate(self) -> Aggregate:
        parts = [statistics.from_statistic_set(*s) for s in self.statistic_sets]
        if self.values and sum(self.counts) > 0:
            parts.append(statistics.from_samples(self.values, self.counts))
        return parts[0] if len(parts) == 1 else statistics.merge(parts)


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

    def put(self, samples: list[Sample]) -> dict[MetricKey, int]:
        """Store a request's samples.

        Samples that land in the same slot are pooled first and aggregated once, so a request
        writes one row per touched slot (a thousand single-value datums of one metric in one
        minute cost one aggregate, not a thousand); high-resolution samples also go to the
        1-second tier.
        """
        slots: dict[tuple[MetricKey, int, int, str], _Pool] = {}
        for sample in samples:
            second = int(sample.timestamp)
            slot = (sample.key, 60, second - second % 60, sample.unit)
            pool = slots.get(slot)
            if pool is None:
                pool = slots[slot] = _Pool()
            pool.add(sample)
            if sample.resolution == 1:
                slot = (sample.key, 1, second, sample.unit)
                pool = slots.get(slot)
                if pool is None:
                    pool = slots[slot] = _Pool()
                pool.add(sample)
        rows = [
            (key, tier, start, unit, to_stored(pool.aggregate()))
            for (key, tier, start, unit), pool in slots.items()
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


def from_epoch(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)
