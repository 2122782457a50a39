"""The anomaly detection model behind ANOMALY_DETECTION_BAND (AWS's own model is proprietary).

sagewatch's model, documented so its bands can be predicted: for each period t of a metric's
statistic, the band is the mean of that statistic over the *training window* (the up to 1,440
periods before t, never more than the 14 days AWS trains on) plus and minus ``stddevs`` standard
deviations of it. Periods inside a detector's ExcludedTimeRanges are left out of training. A band
needs at least 5 training points (before that the model is "still training" and the band is
empty, as with a new AWS detector); a flat history gets a minimum width of 1 % of the mean (or
0.01), so that a constant metric does not alarm on noise-free data.
"""

from __future__ import annotations

import numpy as np

from .metric_math import Series
from .metrics import MetricData, metric_key
from .statistics import parse_statistic

TRAINING_PERIODS = 1440
TRAINING_SECONDS_MAX = 14 * 86400
MIN_TRAINING_POINTS = 5


def band(
    training_timestamps: np.ndarray, training_values: np.ndarray, at: np.ndarray, period: int,
    stddevs: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(timestamps, lower, upper) for each timestamp in ``at`` that has enough training data."""
    window = min(TRAINING_PERIODS * period, TRAINING_SECONDS_MAX)
    # Computed on values scaled into [-1, 1] and scaled back: the squares of accepted metric
    # values (magnitudes up to 2^360, their sums far beyond) would overflow to infinity and make
    # the band NaN.
    scale = float(np.max(np.abs(training_values))) if training_values.size else 0.0
    if not 0.0 < scale < np.inf:
        scale = 1.0
    scaled = training_values / scale
    sums = np.concatenate(([0.0], np.cumsum(scaled)))
    squares = np.concatenate(([0.0], np.cumsum(scaled**2)))
    first = np.searchsorted(training_timestamps, at - window, side="left")
    last = np.searchsorted(training_timestamps, at, side="left")  # t itself is not training
    count = last - first
    enough = count >= MIN_TRAINING_POINTS
    count_safe = np.where(enough, count, 1)
    mean = (sums[last] - sums[first]) / count_safe
    variance = np.maximum((squares[last] - squares[first]) / count_safe - mean**2, 0.0)
    mean = mean * scale
    deviation = np.sqrt(variance) * scale
    with np.errstate(over="ignore"):
        width = np.maximum(deviation, np.maximum(np.abs(mean) * 0.01, 0.01)) * stddevs
        lower, upper = mean - width, mean + width
    # A band edge beyond the double range (a huge stddevs argument) is no datapoint.
    keep = enough & np.isfinite(lower) & np.isfinite(upper)
    return at[keep], lower[keep], upper[keep]


class BandProvider:
    """Serves ANOMALY_DETECTION_BAND(m, k) for the MetricStat series of one request."""

    def __init__(self, data: MetricData, excluded_ranges=None) -> None:
        self.data = data
        self.excluded_ranges = excluded_ranges or (lambda key, stat: [])
        # id(series) -> (the series, its MetricStat). The series is kept with its entry: an id
        # names an object only while it lives, and a series freed mid-request would hand its id,
        # and so its MetricStat, to whatever object Python allocates there next.
        self._metric_stats: dict[int, tuple[Series, dict]] = {}

    def track(self, series: Series, metric_stat: dict) -> None:
        self._metric_stats[id(series)] = (series, metric_stat)

    def __call__(self, series: Series, stddevs: float) -> tuple[Series, Series]:
        tracked = self._metric_stats.get(id(series))
        metric_stat = tracked[1] if tracked is not None and tracked[0] is series else None
        period = series.period or 60
        if metric_stat is None:
            # A band of an expression: train on the series itself.
            history_ts, history_values = series.timestamps, series.values
        else:
            history_ts, history_values = self._history(metric_stat, series)
        timestamps, lower, upper = band(history_ts, history_values, series.timestamps, period, stddevs)
        label = series.label or "m"
        return (Series(timestamps, lower, f"{label} Lower", period),
                Series(timestamps, upper, f"{label} Upper", period))

    def _history(self, metric_stat: dict, series: Series) -> tuple[np.ndarray, np.ndarray]:
        metric = metric_stat["Metric"]
        key = metric_key(metric.get("Namespace", ""), metric.get("MetricName", ""), metric.get("Dimensions"))
        period = metric_stat["Period"]
        window = min(TRAINING_PERIODS * period, TRAINING_SECONDS_MAX)
        if len(series) == 0:
            return series.timestamps, series.values
        start = int(series.timestamps[0]) - window
        end = int(series.timestamps[-1]) + period
        timestamps, values, _ = self.data.statistic_series(
            key, parse_statistic(metric_stat["Stat"]), start=start, end=end, period=period,
            unit=metric_stat.get("Unit"),
        )
        ts, vals = np.asarray(timestamps, np.int64), np.asarray(values, np.float64)
        for excluded_start, excluded_end in self.excluded_ranges(key, metric_stat["Stat"]):
            keep = (ts < excluded_start) | (ts >= excluded_end)
            ts, vals = ts[keep], vals[keep]
        return ts, vals
