"""CloudWatch statistics over one period of one metric.

Pure functions, no I/O. One period of one metric is an :class:`Aggregate`:
SampleCount, Sum, Minimum, Maximum and, when the samples were published as raw
values (``Value`` or ``Values``/``Counts``), the distribution of those samples
(distinct values sorted ascending plus how many samples had each value).

Statistics (AWS user guide, *CloudWatch statistics definitions*,
``Statistics-definitions.md``):

* ``SampleCount``, ``Sum``, ``Average`` (= Sum/SampleCount), ``Minimum``,
  ``Maximum`` -- always available.
* percentiles ``pNN`` / ``pNN.NN`` (p0 .. p100, up to two decimals),
* trimmed mean ``tmNN`` / ``TM(a:b)``, interquartile mean ``IQM``
  (= ``TM(25%:75%)``), winsorized mean ``wmNN`` / ``WM(a:b)``, trimmed count
  ``tcNN`` / ``TC(a:b)``, trimmed sum ``tsNN`` / ``TS(a:b)``, percentile rank
  ``PR(a:b)``.

The second group needs the raw distribution ("CloudWatch needs raw data points
to calculate ...") and is unavailable when any sample value is negative;
:meth:`Statistic.compute` returns ``None`` in both cases.

Definitions used here (the user guide gives the intent, not the arithmetic, so
the exact rounding rules below are this module's choice):

* **Percentile -- nearest rank.**  ``pX`` is the smallest sample value ``v``
  such that at least X% of the samples are ``<= v``: with N samples sorted
  ascending, the sample at rank ``ceil(X/100 * N)`` (rank 1 for p0).  This is
  what the user guide's *Percentiles versus trimmed mean* section describes:
  "p99 is the maximum value of the remaining 99%" after ignoring the 1% of
  data points with the highest values.  CloudWatch's real percentiles may be
  approximated from a compressed distribution (not publicly documented); this
  implementation is exact.
* **Percentage bounds** ``(a%:b%)`` (and the short forms ``tmX`` = ``TM(:X%)``)
  select samples by *rank*: with N samples sorted ascending, the samples at
  ranks ``r`` with ``floor(a/100*N) < r <= ceil(b/100*N)``.  So ``tm99``
  removes the ``floor(1% * N)`` highest samples and ``TM(2%:98%)`` removes the
  same number of samples at each end; the maximum of the ``tmX`` selection is
  always ``pX`` (as the guide's p99/tm99 comparison requires).
* **Absolute bounds** ``(lo:hi)``: samples with ``lo < v <= hi`` ("includes
  values equal to the higher boundary, but does not include values equal to
  the lower boundary").  A missing side is unbounded.
* **Winsorized mean**: samples below the selection are counted at the lowest
  selected value, samples above it at the highest selected value (percentage
  bounds; the upper replacement is therefore ``pX`` as the guide says for
  ``wm98``).  With absolute bounds samples are clamped to ``lo``/``hi``.
* ``TC`` = number of selected samples, ``TS`` = their sum (= TM * TC),
  ``PR(lo:hi)`` = percentage (0-100) of samples with ``lo < v <= hi``.
  ``TM``/``WM`` of an empty selection is ``None``; ``TC``/``TS`` are 0.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

__all__ = [
    "Aggregate",
    "Statistic",
    "StatisticError",
    "STANDARD_STATISTICS",
    "merge",
    "from_samples",
    "from_statistic_set",
    "parse_statistic",
]

STANDARD_STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")


class StatisticError(ValueError):
    """Raised by :func:`parse_statistic` for a name CloudWatch would reject."""

    def __init__(self, message: str, statistic: str = ""):
        super().__init__(message)
        self.message = message
        self.statistic = statistic


# --------------------------------------------------------------------------
# Aggregate
# --------------------------------------------------------------------------


@dataclass(slots=True)
class Aggregate:
    """One period of one metric.

    ``values`` are the distinct raw sample values sorted ascending (float64),
    ``counts`` how many samples had each value (float64, all > 0).  Both are
    ``None`` when part of the period was published as a statistic set without
    a usable distribution.
    """

    sample_count: float
    sum: float
    minimum: float
    maximum: float
    values: np.ndarray | None = None
    counts: np.ndarray | None = None

    @property
    def has_distribution(self) -> bool:
        return self.values is not None and self.counts is not None

    @property
    def average(self) -> float | None:
        return self.sum / self.sample_count if self.sample_count > 0 else None


def _distinct(values: np.ndarray, counts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Sort and collapse ``values`` (weights ``counts``, default 1) to distinct values."""
    if values.size == 0:
        return values.astype(np.float64), np.empty(0, np.float64)
    if counts is None:
        v = np.sort(values)
        starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
        c = np.diff(np.append(starts, v.size)).astype(np.float64)
        return v[starts], c
    order = np.argsort(values)
    v = values[order]
    c = counts[order]
    starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    if starts.size == v.size:
        return v, c
    return v[starts], np.add.reduceat(c, starts)


def from_samples(values: Sequence[float] | np.ndarray, counts: Sequence[float] | np.ndarray | None = None) -> Aggregate:
    """Aggregate raw samples (``Value`` or ``Values``/``Counts`` of a datum).

    ``counts`` defaults to 1 for every value; entries with a count of 0 are
    dropped.  Raises ``ValueError`` for mismatched lengths, negative or
    non-finite counts, non-finite values or an empty input.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    c: np.ndarray | None = None
    if counts is not None:
        c = np.asarray(counts, dtype=np.float64).ravel()
        if c.shape != v.shape:
            raise ValueError("values and counts must have the same length")
        if not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ValueError("counts must be finite and non-negative")
        keep = c > 0
        if not np.all(keep):
            v, c = v[keep], c[keep]
    if v.size == 0:
        raise ValueError("no samples")
    if not np.all(np.isfinite(v)):
        raise ValueError("sample values must be finite")
    dv, dc = _distinct(v, c)
    total = float(dc.sum())
    return Aggregate(
        sample_count=total,
        sum=float(np.dot(dv, dc)),
        minimum=float(dv[0]),
        maximum=float(dv[-1]),
        values=dv,
        counts=dc,
    )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0)


def from_statistic_set(sample_count: float, sum: float, minimum: float, maximum: float) -> Aggregate:  # noqa: A002
    """Aggregate a ``StatisticValues`` datum.

    The result keeps a (one-value) distribution exactly when the user guide
    says percentile-family statistics are available for a statistic set: "The
    SampleCount value of the statistic set is 1 and Min, Max, and Sum are all
    equal" or "The Min and Max are equal, and Sum is equal to Min multiplied
    by SampleCount" (Statistics-definitions.md).  Sum equality is tested with
    a relative tolerance of 1e-9.
    """
    agg = Aggregate(float(sample_count), float(sum), float(minimum), float(maximum))
    if sample_count > 0 and minimum == maximum:
        if (sample_count == 1 and _close(sum, minimum)) or _close(sum, minimum * sample_count):
            agg.values = np.array([float(minimum)], dtype=np.float64)
            agg.counts = np.array([float(sample_count)], dtype=np.float64)
    return agg


def merge(aggregates: Iterable[Aggregate]) -> Aggregate:
    """Combine aggregates (several datums, or several sub-periods) into one.

    Counts and sums add up, min/max combine; the distributions are merged
    when every part has one, otherwise the result has none.
    """
    parts = list(aggregates)
    if not parts:
        raise ValueError("merge() needs at least one aggregate")
    if len(parts) == 1:
        p = parts[0]
        return Aggregate(p.sample_count, p.sum, p.minimum, p.maximum, p.values, p.counts)
    sample_count = saturating_sum(p.sample_count for p in parts)
    total = saturating_sum(p.sum for p in parts)
    minimum = min(p.minimum for p in parts)
    maximum = max(p.maximum for p in parts)
    values = counts = None
    if all(p.values is not None and p.counts is not None for p in parts):
        values, counts = _distinct(
            np.concatenate([p.values for p in parts]),  # type: ignore[misc]
            np.concatenate([p.counts for p in parts]),  # type: ignore[misc]
        )
    return Aggregate(sample_count, total, minimum, maximum, values, counts)


#: The largest finite double. A slot's sample count and sum saturate here rather than overflow.
FINITE_MAX = sys.float_info.max


def saturating_sum(numbers: Iterable[float]) -> float:
    """The exact sum of ``numbers`` (``math.fsum``), held within +-FINITE_MAX.

    PutMetricData's value range (magnitudes up to 2^360 for values, counts and statistic sets)
    keeps a real slot's sample count and sum below ~1e222, so a sum of slots could only overflow
    after some 1e86 writes; the saturation is what guarantees the invariant anyway: whatever is
    stored or merged is finite, so every read of it can answer. (``math.fsum`` raises on an
    overflowing intermediate where ``sum`` would quietly give infinity, and infinity minus
    infinity is NaN further on: both broke every read and compaction of a slot.) NaN in, from a
    slot stored before this rule, stays NaN, which :meth:`Statistic.compute` reports as absent.
    """
    parts = list(numbers)
    try:
        total = math.fsum(parts)
    except OverflowError:  # finite parts whose exact sum is beyond the double range
        total = math.copysign(math.inf, math.fsum(x / FINITE_MAX for x in parts))
    except ValueError:  # +inf and -inf together
        return math.nan
    return min(max(total, -FINITE_MAX), FINITE_MAX) if not math.isnan(total) else total


# --------------------------------------------------------------------------
# Statistic names
# --------------------------------------------------------------------------

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
_SIGNED = r"-?" + _NUM
_PERCENTILE_RE = re.compile(r"p(\d{1,3}(?:\.\d{1,2})?)")
_SHORT_RE = re.compile(r"(tm|wm|tc|ts)(" + _NUM + r")")
_RANGE_RE = re.compile(
    r"(TM|WM|TC|TS|PR)\(\s*(?:(" + _SIGNED + r")\s*(%)?)?\s*:\s*(?:(" + _SIGNED + r")\s*(%)?)?\s*\)"
)
_MAX_BOUND_DECIMALS = 10


@dataclass(frozen=True, slots=True)
class Statistic:
    """A parsed statistic.  Build with :func:`parse_statistic`.

    ``kind`` is one of ``SampleCount Sum Average Minimum Maximum`` (standard),
    ``p`` (percentile, ``q`` = 0..100), or ``TM WM TC TS PR`` with bounds
    ``lower``/``upper`` (``None`` = unbounded) and ``percent`` telling whether
    they are percentages (rank bounds) or absolute values.
    """

    name: str
    kind: str
    q: float | None = None
    lower: float | None = None
    upper: float | None = None
    percent: bool = False

    @property
    def needs_distribution(self) -> bool:
        return self.kind not in STANDARD_STATISTICS

    @property
    def is_standard(self) -> bool:
        """True for the five statistics of ``Statistics``/``Statistic``."""
        return self.kind in STANDARD_STATISTICS

    @property
    def is_extended(self) -> bool:
        """True for what goes in ``ExtendedStatistics``/``ExtendedStatistic``."""
        return not self.is_standard

    # -- evaluation -----------------------------------------------------

    def compute(self, agg: Aggregate) -> float | None:
        """The statistic's value for one period, or ``None`` if unavailable.

        Never a NaN or an infinity: CloudWatch has no such datapoint values (its doubles do not
        support special values, botocore:cloudwatch:MetricDatum.Value), so an arithmetic result
        outside the double range (a trimmed sum of extreme values, say) is no datapoint.
        """
        value = self._compute(agg)
        return value if value is None or math.isfinite(value) else None

    def _compute(self, agg: Aggregate) -> float | None:
        kind = self.kind
        if kind == "SampleCount":
            return float(agg.sample_count)
        if agg.sample_count <= 0:
            return 0.0 if kind == "Sum" else None
        if kind == "Sum":
            return float(agg.sum)
        if kind == "Average":
            return float(agg.sum / agg.sample_count)
        if kind == "Minimum":
            return float(agg.minimum)
        if kind == "Maximum":
            return float(agg.maximum)

        values, counts = agg.values, agg.counts
        if values is None or counts is None or values.size == 0:
            return None
        if values[0] < 0:  # "not available ... when any of the metric values are negative"
            return None
        if kind == "p":
            return _percentile(values, counts, self.q)  # type: ignore[arg-type]
        if kind == "PR":
            total = float(counts.sum())
            mask = _abs_mask(values, self.lower, self.upper)
            return float(counts[mask].sum()) / total * 100.0
        if self.percent:
            weights = _rank_weights(values, counts, self.lower, self.upper)
        else:
            weights = np.where(_abs_mask(values, self.lower, self.upper), counts, 0.0)
        n = float(weights.sum())
        if kind == "TC":
            return n
        if kind == "TS":
            return float(np.dot(weights, values))
        if kind == "TM":
            return float(np.dot(weights, values)) / n if n > 0 else None
        if kind == "WM":
            return _winsorized(values, counts, weights, self)
        raise AssertionError(kind)  # pragma: no cover

    def __str__(self) -> str:
        return self.name


def _percentile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    cum = np.cumsum(counts)
    total = cum[-1]
    target = total * q / 100.0
    # Guard against 0.9 * 10 = 9.000000000000002 pushing the rank up by one.
    target -= abs(target) * 1e-12
    idx = int(np.searchsorted(cum, target, side="left"))
    return float(values[min(idx, values.size - 1)])


def _rank_bounds(total: float, lower: float | None, upper: float | None) -> tuple[float, float]:
    lo_pct = 0.0 if lower is None else lower
    hi_pct = 100.0 if upper is None else upper
    lo = total * lo_pct / 100.0
    hi = total * hi_pct / 100.0
    eps = 1e-9 * max(total, 1.0)
    return float(math.floor(lo + eps)), float(math.ceil(hi - eps))


def _rank_weights(values: np.ndarray, counts: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    """How many samples of each distinct value fall in ranks (L, U]."""
    cum = np.cumsum(counts)
    lo_rank, hi_rank = _rank_bounds(float(cum[-1]), lower, upper)
    top = np.clip(cum, lo_rank, hi_rank)
    bottom = np.clip(cum - counts, lo_rank, hi_rank)
    return top - bottom


def _abs_mask(values: np.ndarray, lower: float | None, upper: float | None) -> np.ndarray:
    mask = np.ones(values.shape, dtype=bool)
    if lower is not None:
        mask &= values > lower
    if upper is not None:
        mask &= values <= upper
    return mask


def _winsorized(values: np.ndarray, counts: np.ndarray, weights: np.ndarray, stat: Statistic) -> float | None:
    total = float(counts.sum())
    if not stat.percent:
        lo = -np.inf if stat.lower is None else stat.lower
        hi = np.inf if stat.upper is None else stat.upper
        clamped = np.clip(values, lo, hi)
        return float(np.dot(clamped, counts)) / total
    selected = np.flatnonzero(weights > 0)
    if selected.size == 0:
        return None
    low_value = float(values[selected[0]])
    high_value = float(values[selected[-1]])
    lo_rank, hi_rank = _rank_bounds(total, stat.lower, stat.upper)
    below = lo_rank  # samples at ranks <= L count as the lowest selected value
    above = total - hi_rank  # samples at ranks > U count as the highest selected value
    acc = float(np.dot(weights, values)) + below * low_value + above * high_value
    return acc / total


def _bound(text: str | None, pct: str | None, name: str) -> float | None:
    if text is None:
        if pct:
            raise StatisticError(_invalid(name), name)
        return None
    if "." in text and len(text.split(".", 1)[1]) > _MAX_BOUND_DECIMALS:
        raise StatisticError(_invalid(name), name)
    return float(text)


def _invalid(name: str) -> str:
    return f"The value {name} is not a valid statistic."


def parse_statistic(name: str) -> Statistic:
    """Parse a statistic name as accepted by ``MetricStat.Stat``,
    ``ExtendedStatistics`` or ``ExtendedStatistic``.

    Case rules (Statistics-definitions.md *Syntax*): the standard names are
    case-sensitive; the single-number forms are lower case only (``p90``,
    ``tm90``, ``wm90``, ``tc90``, ``ts90``); the parenthesised range forms are
    upper case only (``TM(10%:90%)``, ``PR(:300)``); ``IQM`` is upper case.

    Raises :class:`StatisticError` with the message
    ``"The value <name> is not a valid statistic."``; the caller prefixes the
    parameter path the way AWS does, e.g. ``"The value for parameter
    MetricDataQueries.member.1.MetricStat.Stat is not a valid statistic."``.
    """
    if not isinstance(name, str):
        raise StatisticError(_invalid(str(name)), str(name))
    s = name
    if s in STANDARD_STATISTICS:
        return Statistic(name=s, kind=s)
    if s == "IQM":
        return Statistic(name=s, kind="TM", lower=25.0, upper=75.0, percent=True)

    m = _PERCENTILE_RE.fullmatch(s)
    if m:
        q = float(m.group(1))
        if not 0.0 <= q <= 100.0:
            raise StatisticError(_invalid(s), s)
        return Statistic(name=s, kind="p", q=q)

    m = _SHORT_RE.fullmatch(s)
    if m:
        text = m.group(2)
        if "." in text and len(text.split(".", 1)[1]) > _MAX_BOUND_DECIMALS:
            raise StatisticError(_invalid(s), s)
        upper = float(text)
        if not 0.0 < upper <= 100.0:
            raise StatisticError(_invalid(s), s)
        return Statistic(name=s, kind=m.group(1).upper(), lower=None, upper=upper, percent=True)

    m = _RANGE_RE.fullmatch(s)
    if m:
        kind, lo_text, lo_pct, hi_text, hi_pct = m.groups()
        lower = _bound(lo_text, lo_pct, s)
        upper = _bound(hi_text, hi_pct, s)
        if lower is None and upper is None:
            raise StatisticError(_invalid(s), s)
        present_pct = [bool(p) for t, p in ((lo_text, lo_pct), (hi_text, hi_pct)) if t is not None]
        percent = present_pct[0]
        if any(p != percent for p in present_pct):
            # Mixing a percentage and an absolute bound is not a documented form.
            raise StatisticError(_invalid(s), s)
        if kind == "PR" and percent:
            raise StatisticError(_invalid(s), s)
        if percent:
            for b in (lower, upper):
                if b is not None and not 0.0 <= b <= 100.0:
                    raise StatisticError(_invalid(s), s)
        if lower is not None and upper is not None and lower >= upper:
            raise StatisticError(_invalid(s), s)
        return Statistic(name=s, kind=kind, lower=lower, upper=upper, percent=percent)

    raise StatisticError(_invalid(s), s)


# --------------------------------------------------------------------------
# Bounded storage
# --------------------------------------------------------------------------

#: Distinct values a stored distribution keeps exactly; beyond this it is binned.
MAX_DISTINCT_VALUES = 4096
# Relative accuracy of a binned distribution: every value is represented within 0.5 %.
_BIN_ACCURACY = 0.005
_GAMMA = (1 + _BIN_ACCURACY) / (1 - _BIN_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)


def bounded(agg: Aggregate, max_distinct: int = MAX_DISTINCT_VALUES) -> Aggregate:
    """The aggregate with a distribution small enough to store.

    Up to ``max_distinct`` distinct values are kept exactly. A busier period (a metric sampled
    thousands of times a minute with continuous values) is binned on a logarithmic scale, as
    percentile sketches do: each value is replaced by its bin's representative, within 0.5 %
    relative error, which bounds a period's size whatever the sample rate. Negative values make
    every percentile-family statistic unavailable (AWS), so such distributions are dropped.
    SampleCount, Sum, Minimum and Maximum are never approximated.
    """
    if not (abs(agg.sample_count) <= FINITE_MAX and abs(agg.sum) <= FINITE_MAX):
        agg = _saturated(agg)
    if agg.values is None or agg.counts is None or agg.values.size <= max_distinct:
        return agg
    if agg.minimum < 0:
        return Aggregate(agg.sample_count, agg.sum, agg.minimum, agg.maximum)
    values, counts = agg.values, agg.counts
    zero = values == 0
    positive = ~zero
    bins = np.ceil(np.log(values[positive]) / _LOG_GAMMA)
    unique_bins, inverse = np.unique(bins, return_inverse=True)
    binned_counts = np.bincount(inverse, weights=counts[positive])
    representatives = 2 * np.power(_GAMMA, unique_bins) / (_GAMMA + 1)
    if zero.any():
        representatives = np.concatenate(([0.0], representatives))
        binned_counts = np.concatenate(([counts[zero].sum()], binned_counts))
    # Keep the true extremes so Minimum/Maximum-like percentiles (p0, p100) stay exact.
    if not zero.any():
        representatives[0] = agg.minimum
    representatives[-1] = agg.maximum
    return Aggregate(agg.sample_count, agg.sum, agg.minimum, agg.maximum,
                     representatives.astype(np.float64), binned_counts.astype(np.float64))


def _saturated(agg: Aggregate) -> Aggregate:
    """The aggregate with its sample count, sum and counts held within +-FINITE_MAX (see
    :func:`saturating_sum`); NaN, which has no place to saturate to, counts as nothing."""
    def held(x: float) -> float:
        return 0.0 if math.isnan(x) else min(max(x, -FINITE_MAX), FINITE_MAX)

    counts = agg.counts
    if counts is not None and not np.isfinite(counts).all():
        counts = np.clip(np.nan_to_num(counts, nan=0.0), 0.0, FINITE_MAX)
    return Aggregate(held(agg.sample_count), held(agg.sum), agg.minimum, agg.maximum, agg.values, counts)


def to_blob(agg: Aggregate) -> bytes | None:
    """The distribution as stored: the values then the counts, float64 little-endian."""
    if agg.values is None or agg.counts is None:
        return None
    return np.concatenate((agg.values, agg.counts)).astype("<f8").tobytes()


def from_row(sample_count: float, total: float, minimum: float, maximum: float,
             blob: bytes | None) -> Aggregate:
    """An aggregate read back from storage (see :func:`to_blob`)."""
    if blob is None:
        return Aggregate(sample_count, total, minimum, maximum)
    both = np.frombuffer(blob, dtype="<f8")
    half = both.size // 2
    return Aggregate(sample_count, total, minimum, maximum, both[:half], both[half:])
