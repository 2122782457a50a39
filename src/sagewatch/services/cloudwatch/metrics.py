"""Metric data: turning PutMetricData datums into stored aggregates, and stored aggregates back
into per-period statistics for GetMetricStatistics, GetMetricData and alarms.

Time is handled in epoch seconds throughout. A query's periods start at its (rounded) start time
and are ``period`` seconds long; a stored slot belongs to the period its start falls in, which is
exact because query periods are always multiples of the tier the slots come from.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np


from ...clock import SYSTEM_CLOCK, Clock
from ...store.metrics import TIER_RETENTION_SECONDS, Metric, MetricKey, MetricStore, StoredAggregate
from . import statistics
from .statistics import Aggregate, Statistic

HIGH_RESOLUTION_SECONDS = 3 * 3600
FIFTEEN_DAYS = 15 * 86400
SIXTY_THREE_DAYS = 63 * 86400
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
# The values a datapoint may hold: 0 and magnitudes from 2^-360 to 2^360; NaN and the infinities
# are outside (botocore:cloudwatch MetricDatum.Value; aws-behaviour.md §7.1).
MAX_VALUE = 2.0**360
MIN_VALUE = 2.0**-360


def storable(value: float) -> bool:
    """Whether CloudWatch can hold ``value`` as a datapoint (NaN fails the first comparison)."""
    magnitude = abs(value)
    return magnitude <= MAX_VALUE and not 0 < magnitude < MIN_VALUE


def metric_key(namespace: str, name: str, dimensions: Iterable[dict] | None) -> MetricKey:
    """The identity of a metric: namespace, name and its dimensions in canonical order."""
    if not dimensions:
        return MetricKey(namespace, name, ())
    return key_of_pairs(namespace, name, [(d["Name"], d["Value"]) for d in dimensions])


def key_of_pairs(namespace: str, name: str, pairs: Iterable[tuple[str, str]]) -> MetricKey:
    """The same identity from (name, value) dimension pairs: sorted, so order does not matter."""
    return MetricKey(namespace, name, tuple(sorted(pairs)))


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


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One value a sagewatch component publishes in-process (CloudWatchService.put_metric_values):
    what a plain single-Value PutMetricData datum carries, without the request around it."""

    name: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value) pairs, in any order
    timestamp: float  # epoch seconds
    value: float
    unit: str = "None"
    storage_resolution: int = 60  # 1 (high resolution) or 60, as StorageResolution


@dataclass(slots=True)
class Samples:
    """A request's samples in columns, one row per raw value, ready to aggregate in bulk.

    A series is one metric with one unit; ``series`` lists them and ``series_id`` says which
    each row belongs to. Statistic sets (StatisticValues) carry no raw values and come apart.
    """

    series: list[tuple[MetricKey, str]]
    series_id: np.ndarray  # int64, per row
    seconds: np.ndarray  # int64, per row: the timestamp's whole second
    high_resolution: np.ndarray  # bool, per row: StorageResolution 1
    values: np.ndarray  # float64, per row
    counts: np.ndarray | None = None  # float64, per row; None: one each
    # (series id, whole second, high resolution, (SampleCount, Sum, Minimum, Maximum))
    statistic_sets: list[tuple[int, int, bool, tuple[float, float, float, float]]] = field(
        default_factory=list
    )

    @classmethod
    def of_values(cls, namespace: str, metric_values: list[MetricValue]) -> "Samples":
        """Columns from in-process values (each one sample of one series)."""
        index: dict[tuple[MetricKey, str], int] = {}
        series_id = [
            index.setdefault((key_of_pairs(namespace, v.name, v.dimensions), v.unit), len(index))
            for v in metric_values
        ]
        return cls(
            list(index), np.array(series_id, dtype=np.int64),
            np.array([int(v.timestamp) for v in metric_values], dtype=np.int64),
            np.array([v.storage_resolution == 1 for v in metric_values], dtype=bool),
            np.array([v.value for v in metric_values], dtype=np.float64),
        )

    @classmethod
    def of(cls, samples: list[Sample]) -> "Samples":
        """Columns from checked datums of any kind (Value, Values/Counts, StatisticValues)."""
        index: dict[tuple[MetricKey, str], int] = {}
        series_id, seconds, high, values, counts, sets = [], [], [], [], [], []
        for sample in samples:
            sid = index.setdefault((sample.key, sample.unit), len(index))
            second = int(sample.timestamp)
            if sample.values:
                n = len(sample.values)
                series_id += [sid] * n
                seconds += [second] * n
                high += [sample.resolution == 1] * n
                values += sample.values
                counts += sample.counts if sample.counts is not None else [1.0] * n
            if sample.statistic_set is not None:
                sets.append((sid, second, sample.resolution == 1, sample.statistic_set))
        return cls(
            list(index), np.array(series_id, dtype=np.int64), np.array(seconds, dtype=np.int64),
            np.array(high, dtype=bool), np.array(values, dtype=np.float64),
            np.array(counts, dtype=np.float64), sets,
        )


def aggregate_slots(samples: Samples) -> list[tuple[MetricKey, int, int, str, Aggregate]]:
    """(metric, tier, slot start, unit, aggregate) for every slot the samples touch.

    Every sample goes to its minute slot, and high-resolution ones also to their second slot.
    The pooling is one sort of all rows by (series, tier, slot, value), so a request costs a
    handful of numpy calls plus one small step per touched slot, however many datums it has.
    """
    aggregates = _pool_values(samples)
    for set_sid, second, high_resolution, statistic_set in samples.statistic_sets:
        part = statistics.from_statistic_set(*statistic_set)
        for slot_key in [(set_sid, 60, second - second % 60)] + ([(set_sid, 1, second)] if high_resolution else []):
            held = aggregates.get(slot_key)
            aggregates[slot_key] = part if held is None else statistics.merge((held, part))
    return [
        (samples.series[s][0], t, start, samples.series[s][1], aggregate)
        for (s, t, start), aggregate in aggregates.items()
    ]


def _pool_values(samples: Samples) -> dict[tuple[int, int, int], Aggregate]:
    """(series id, tier, slot start) -> aggregate of the raw values (Value, Values/Counts)."""
    sid, seconds, values = samples.series_id, samples.seconds, samples.values
    counts = samples.counts if samples.counts is not None else np.ones(values.size)
    high = samples.high_resolution
    keep = counts > 0  # a value counted zero times is no sample
    if not keep.all():
        sid, seconds, values, counts, high = sid[keep], seconds[keep], values[keep], counts[keep], high[keep]
    if not values.size:  # statistic sets only
        return {}
    # Minute rows for every sample, then second rows for the high-resolution ones.
    tier = np.full(sid.size, 60, np.int64)
    slot = seconds - seconds % 60
    if high.any():
        tier = np.concatenate((tier, np.ones(int(high.sum()), np.int64)))
        slot = np.concatenate((slot, seconds[high]))
        sid = np.concatenate((sid, sid[high]))
        values = np.concatenate((values, values[high]))
        counts = np.concatenate((counts, counts[high]))
    # One integer names a row's (series, tier, slot), so sorting by it and then by value lines
    # up each slot's samples, smallest first.
    base = int(slot.min())
    slot_key = ((sid * 2 + (tier == 1)) << 41) + (slot - base)
    order = np.lexsort((values, slot_key))
    slot_key, values, counts = slot_key[order], values[order], counts[order]

    new_slot = np.ones(slot_key.size, bool)
    new_slot[1:] = slot_key[1:] != slot_key[:-1]
    new_value = new_slot.copy()
    new_value[1:] |= values[1:] != values[:-1]
    starts = np.flatnonzero(new_value)
    distinct_values = values[starts]
    distinct_counts = np.add.reduceat(counts, starts)
    # Where each slot's run of distinct values starts and ends.
    slot_first = np.flatnonzero(new_slot[starts])
    slot_end = np.append(slot_first[1:], starts.size)
    sample_counts = np.add.reduceat(distinct_counts, slot_first)
    sums = np.add.reduceat(distinct_values * distinct_counts, slot_first)

    aggregates: dict[tuple[int, int, int], Aggregate] = {}
    rows = order[np.flatnonzero(new_slot)]  # a row of each slot, to read its series, tier and slot
    for row_sid, row_tier, row_slot, first, end, count, total in zip(
        sid[rows].tolist(), tier[rows].tolist(), slot[rows].tolist(), slot_first.tolist(),
        slot_end.tolist(), sample_counts.tolist(), sums.tolist(),
    ):
        aggregates[(row_sid, row_tier, row_slot)] = Aggregate(
            count, total, float(distinct_values[first]), float(distinct_values[end - 1]),
            distinct_values[first:end], distinct_counts[first:end],
        )
    return aggregates


@dataclass(slots=True)
class PeriodValue:
    """One period of a queried series."""

    start: int  # epoch seconds
    unit: str | None
    aggregate: Aggregate


def tiers_for(period: int) -> tuple[int, ...]:
    """Which stored tiers can answer a period of a minute or more: every minute-or-coarser tier
    that divides the period (data rolls from 60 to 300 to 3600 seconds as it ages, and a slot is in
    exactly one of those tiers). Sub-minute periods are answered by ``MetricData.periods`` from
    the 1-second and the 1-minute tiers together.
    """
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

    def __init__(self, store: MetricStore, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.clock = clock
        self._metric_ids: dict[MetricKey, int] = {}

    # -- writing ----------------------------------------------------------------------------------

    def put(self, samples: Samples) -> dict[MetricKey, int]:
        """Store a request's samples: one row per touched slot (a thousand single-value datums
        of one metric in one minute cost one aggregate, not a thousand), with high-resolution
        samples also in the 1-second tier."""
        rows = [
            (key, tier, start, unit, to_stored(aggregate))
            for key, tier, start, unit, aggregate in aggregate_slots(samples)
        ]
        ids = self.store.put(rows, int(self.clock.now()))
        self._metric_ids.update(ids)
        return ids

    def compact(self) -> None:
        self.store.compact(merge_stored, int(self.clock.now()))

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
        if period < 60:
            rows = self._sub_minute_rows(metric_id, start=start, end=end, unit=unit)
        else:
            rows = self.store.read(metric_id, tiers=tiers_for(period), start=start, end=end, unit=unit)
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

    def _sub_minute_rows(
        self, metric_id: int, *, start: int, end: int, unit: str | None,
    ) -> list[tuple[int, str, StoredAggregate]]:
        """The rows a sub-minute period reads, oldest first: each minute's second slots where the
        metric was published at high resolution, and otherwise the minute slot itself, at the
        minute's start.

        A period shorter than the data's resolution gets the data at the resolution it was stored:
        for standard-resolution data, one datapoint per minute, stamped with the minute, and the
        sub-minute periods in between are empty. (PutMetricAlarm's Period, botocore model: with 10,
        20 or 30 seconds on a metric without sub-minute resolution the alarm "does not receive
        data for the attempts that do not correspond to a one-minute data resolution"; AWS-recorded
        in localstack test_put_metric_alarm: two standard-resolution values, a Period 30 alarm, "1
        datapoint [21.5 (26/10/23 16:42:00)]", the minute's Average at the minute.) A minute with
        both kinds of data is answered from its second slots alone: its minute slot pools both kinds
        and cannot be split, so its standard-resolution samples are left out of sub-minute periods
        (a metric published at two resolutions at once is not a case AWS documents).

        Sub-minute periods only cover the last three hours, the 1-second tier's retention (§7.2:
        "Data points with a period of less than 60 seconds are available for 3 hours").
        """
        horizon = int(self.clock.now()) - TIER_RETENTION_SECONDS[1]
        start = max(start, horizon)
        if start >= end:
            return []
        # Whole minutes of second slots, to know every minute published at high resolution even
        # where the range starts or ends inside it.
        around = self.store.read(metric_id, tiers=(1,), start=start - start % 60, end=end + -end % 60, unit=unit)
        high_resolution = {(slot - slot % 60, row_unit) for slot, row_unit, _ in around}
        seconds = [row for row in around if start <= row[0] < end]
        minutes = self.store.read(metric_id, tiers=(60,), start=start, end=end, unit=unit)
        standard = [row for row in minutes if (row[0], row[1]) not in high_resolution]
        return sorted(seconds + standard, key=lambda row: row[0])

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
