"""CloudWatch metric tables: the metric registry and the tiered aggregates."""

from __future__ import annotations

import threading

import orjson

from ..metrics import (
    TIER_RETENTION_SECONDS,
    BucketWrite,
    Merge,
    Metric,
    MetricKey,
    MetricStore,
    StoredAggregate,
)
from .database import Database

# A metric's last_seen is refreshed at most this often; ListMetrics only needs it to the hour.
_SEEN_REFRESH_SECONDS = 60
_ROLLUP_INTERVAL_SECONDS = 3600
# Data for a slot may still arrive a little after its window ends (clock skew, batching agents).
_CLOSE_SLACK_SECONDS = 30
_MAX_PENDING_ROWS = 32
# Slots merged per transaction: few fsyncs, yet writers never wait long for the lock.
_SLOTS_PER_TRANSACTION = 200


def _dimensions_json(key: MetricKey) -> str:
    return orjson.dumps([list(d) for d in key.dimensions]).decode()


def _metric(row) -> Metric:
    metric_id, namespace, name, dimensions, last_seen = row
    key = MetricKey(namespace, name, tuple(tuple(d) for d in orjson.loads(dimensions)))
    return Metric(metric_id, key, last_seen)


class SQLiteMetricStore(MetricStore):
    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._ids: dict[MetricKey, int] = {}
        self._seen: dict[int, int] = {}
        # Slots written since they were last compacted. Lost on restart, so the first compaction
        # after an open scans the whole table instead.
        self._dirty: dict[tuple[int, int, int, str], int] = {}  # slot -> rows appended since
        self._scan_all = True
        self._last_rollup = 0
        self._next_seq = (database.execute("SELECT MAX(seq) FROM metric_data").fetchone()[0] or 0) + 1

    # -- writes -----------------------------------------------------------------------------------

    def put(self, rows: list[BucketWrite], seen_at: int) -> dict[MetricKey, int]:
        with self.database.write() as db:
            ids = self._ensure_metrics(db, {row[0] for row in rows}, seen_at)
            first = self._next_seq
            self._next_seq += len(rows)
            db.executemany(
                "INSERT INTO metric_data (metric_id, tier, start, unit, seq, sample_count, sum, "
                "minimum, maximum, distribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ids[key], tier, start, unit, seq, *aggregate)
                    for seq, (key, tier, start, unit, aggregate) in enumerate(rows, first)
                ],
            )
        with self._lock:
            for key, tier, start, unit, _ in rows:
                slot = (ids[key], tier, start, unit)
                self._dirty[slot] = self._dirty.get(slot, 0) + 1
        return ids

    def _ensure_metrics(self, db, keys: set[MetricKey], seen_at: int) -> dict[MetricKey, int]:
        ids = {}
        for key in keys:
            metric_id = self._ids.get(key)
            if metric_id is None:
                dimensions = _dimensions_json(key)
                db.execute(
                    "INSERT INTO metrics (namespace, name, dimensions, last_seen) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (namespace, name, dimensions) DO NOTHING",
                    (key.namespace, key.name, dimensions, seen_at),
                )
                metric_id = db.execute(
                    "SELECT id FROM metrics WHERE namespace = ? AND name = ? AND dimensions = ?",
                    (key.namespace, key.name, dimensions),
                ).fetchone()[0]
                self._ids[key] = metric_id
            if seen_at - self._seen.get(metric_id, 0) >= _SEEN_REFRESH_SECONDS:
                db.execute(
                    "UPDATE metrics SET last_seen = MAX(last_seen, ?) WHERE id = ?", (seen_at, metric_id)
                )
                self._seen[metric_id] = seen_at
            ids[key] = metric_id
        return ids

    # -- reads ------------------------------------------------------------------------------------

    def get_metric(self, key: MetricKey) -> Metric | None:
        row = self.database.execute(
            "SELECT id, namespace, name, dimensions, last_seen FROM metrics "
            "WHERE namespace = ? AND name = ? AND dimensions = ?",
            (key.namespace, key.name, _dimensions_json(key)),
        ).fetchone()
        return _metric(row) if row else None

    def list_metrics(self, *, namespace, name, seen_since, after_id, limit) -> list[Metric]:
        where, args = ["last_seen >= ?", "id > ?"], [seen_since, after_id]
        if namespace is not None:
            where.append("namespace = ?")
            args.append(namespace)
        if name is not None:
            where.append("name = ?")
            args.append(name)
        rows = self.database.execute(
            "SELECT id, namespace, name, dimensions, last_seen FROM metrics "
            f"WHERE {' AND '.join(where)} ORDER BY id LIMIT ?",
            (*args, limit),
        )
        return [_metric(r) for r in rows]

    def read(self, metric_id, *, tiers, start, end, unit) -> list[tuple[int, str, StoredAggregate]]:
        where = [
            "metric_id = ?", f"tier IN ({', '.join('?' * len(tiers))})", "start >= ?", "start < ?",
        ]
        args: list = [metric_id, *tiers, start, end]
        if unit is not None:
            where.append("unit = ?")
            args.append(unit)
        rows = self.database.execute(
            "SELECT start, unit, sample_count, sum, minimum, maximum, distribution FROM metric_data "
            f"WHERE {' AND '.join(where)} ORDER BY start",
            args,
        ).fetchall()
        return [(r[0], r[1], r[2:]) for r in rows]

    # -- compaction -------------------------------------------------------------------------------

    def compact(self, merge: Merge, now: int) -> None:
        with self._lock:
            # A slot still receiving data (its window not over) would be merged again at the next
            # run; it waits until it closes, unless its rows pile up (reads merge them all).
            dirty = {
                slot for slot, rows in self._dirty.items()
                if rows >= _MAX_PENDING_ROWS or slot[2] + slot[1] + _CLOSE_SLACK_SECONDS < now
            }
            for slot in dirty:
                del self._dirty[slot]
            scan_all, self._scan_all = self._scan_all, False
        if scan_all:
            dirty |= {
                tuple(r) for r in self.database.execute(
                    "SELECT metric_id, tier, start, unit FROM metric_data "
                    "GROUP BY metric_id, tier, start, unit HAVING COUNT(*) > 1"
                )
            }
        due = sorted(dirty)
        for first in range(0, len(due), _SLOTS_PER_TRANSACTION):
            self._merge_slots(due[first:first + _SLOTS_PER_TRANSACTION], merge)
        if now - self._last_rollup >= _ROLLUP_INTERVAL_SECONDS or scan_all:
            self._roll_up(merge, now)
            self._last_rollup = now

    def _merge_slots(self, slots: list[tuple[int, int, int, str]], merge: Merge) -> None:
        """Merge each slot's rows into one.

        The merging (decode, merge, encode: the slow part) happens outside the write lock, so
        writers never wait on it; the transaction then only swaps the rows that were merged
        (those up to the highest seq read: rows appended since have higher seqs and wait for
        the next round) for the merged row. One transaction (one fsync) for the lot.
        """
        merged_slots = []
        for slot in slots:
            rows = self.database.execute(
                "SELECT seq, sample_count, sum, minimum, maximum, distribution FROM metric_data "
                "WHERE metric_id = ? AND tier = ? AND start = ? AND unit = ?",
                slot,
            ).fetchall()
            if len(rows) >= 2:
                merged_slots.append((slot, max(r[0] for r in rows), merge([r[1:] for r in rows])))
        if not merged_slots:
            return
        with self.database.write() as db:
            for (metric_id, tier, start, unit), last_seq, merged in merged_slots:
                db.execute(
                    "DELETE FROM metric_data WHERE metric_id = ? AND tier = ? AND start = ? AND unit = ? "
                    "AND seq <= ?",
                    (metric_id, tier, start, unit, last_seq),
                )
                db.execute(
                    "INSERT INTO metric_data (metric_id, tier, start, unit, seq, sample_count, sum, "
                    "minimum, maximum, distribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (metric_id, tier, start, unit, last_seq, *merged),
                )

    def _roll_up(self, merge: Merge, now: int) -> None:
        """Move each tier's rows past its retention into the next tier; drop what ages out."""
        with self.database.write() as db:
            db.execute("DELETE FROM metric_data WHERE tier = 1 AND start < ?",
                       (now - TIER_RETENTION_SECONDS[1],))
            for tier, coarser in ((60, 300), (300, 3600)):
                cutoff = now - TIER_RETENTION_SECONDS[tier]
                rows = db.execute(
                    "SELECT metric_id, start, unit, sample_count, sum, minimum, maximum, distribution "
                    "FROM metric_data WHERE tier = ? AND start < ?",
                    (tier, cutoff),
                ).fetchall()
                groups: dict[tuple, list[StoredAggregate]] = {}
                for metric_id, start, unit, *aggregate in rows:
                    groups.setdefault((metric_id, start - start % coarser, unit), []).append(tuple(aggregate))
                for (metric_id, start, unit), parts in groups.items():
                    seq = self._next_seq
                    self._next_seq += 1
                    db.execute(
                        "INSERT INTO metric_data (metric_id, tier, start, unit, seq, sample_count, "
                        "sum, minimum, maximum, distribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (metric_id, coarser, start, unit, seq, *merge(parts)),
                    )
                    with self._lock:
                        slot = (metric_id, coarser, start, unit)
                        self._dirty[slot] = self._dirty.get(slot, 0) + 1
                db.execute("DELETE FROM metric_data WHERE tier = ? AND start < ?", (tier, cutoff))
            db.execute("DELETE FROM metric_data WHERE tier = 3600 AND start < ?",
                       (now - TIER_RETENTION_SECONDS[3600],))
