"""The metric store interface: what CloudWatch metrics need from a database.

A metric is a namespace, a name and a set of dimensions. Its data is kept as aggregates per
*bucket*: a time slot of one of four resolutions ("tiers"), as AWS keeps them:

    tier 1     1-second slots, high-resolution data only, kept 3 hours
    tier 60    1-minute slots, every datapoint, kept 15 days
    tier 300   5-minute slots, rolled up from tier 60 after 15 days, kept 63 days
    tier 3600  1-hour slots, rolled up from tier 300 after 63 days, kept 455 days

Writes append a row per touched bucket (cheap, durable on return); ``compact`` later merges the
rows of a bucket into one and rolls tiers up, so reads stay fast and storage stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

TIERS = (1, 60, 300, 3600)
TIER_RETENTION_SECONDS = {1: 3 * 3600, 60: 15 * 86400, 300: 63 * 86400, 3600: 455 * 86400}

Dimensions = tuple[tuple[str, str], ...]  # sorted by name


class MetricKey(NamedTuple):
    """A metric's identity. (A named tuple: built and hashed once per datum on the hot path.)"""

    namespace: str
    name: str
    dimensions: Dimensions


@dataclass(slots=True)
class Metric:
    id: int
    key: MetricKey
    last_seen: int  # epoch seconds of the newest PutMetricData for it


# An aggregate as stored: (sample count, sum, minimum, maximum, distribution blob or None).
# The store does not interpret the blob; the CloudWatch service encodes and merges them.
StoredAggregate = tuple[float, float, float, float, bytes | None]
Merge = Callable[[list[StoredAggregate]], StoredAggregate]

# One row to write: (metric, tier, slot start in epoch seconds, unit, aggregate).
BucketWrite = tuple[MetricKey, int, int, str, StoredAggregate]


class MetricStore:
    def put(self, rows: list[BucketWrite], seen_at: int) -> dict[MetricKey, int]:
        """Append rows, creating metrics as needed; returns each key's metric id. Durable on
        return."""
    def get_metric(self, key: MetricKey) -> Metric | None: ...
    def list_metrics(
        self, *, namespace: str | None, name: str | None, seen_since: int, after_id: int,
        limit: int,
    ) -> list[Metric]: ...
    def read(
        self, metric_id: int, *, tiers: tuple[int, ...], start: int, end: int, unit: str | None,
    ) -> list[tuple[int, str, StoredAggregate]]:
        """(slot start, unit, aggregate) of every row in [start, end), oldest first; a slot may
        have several rows until it is compacted."""
    def compact(self, merge: Merge, now: int) -> None:
        """Merge each slot's rows into one, roll aged tiers up into the next, drop expired rows."""
