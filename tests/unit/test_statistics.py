"""CloudWatch statistics (sagewatch.services.cloudwatch.statistics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sagewatch.services.cloudwatch.statistics import (
    Aggregate,
    StatisticError,
    from_samples,
    from_statistic_set,
    merge,
    parse_statistic,
)


def stat(name: str, agg: Aggregate):
    return parse_statistic(name).compute(agg)


ONE_TO_TEN = from_samples(range(1, 11))


# ---------------------------------------------------------------------------
# Aggregates
# ---------------------------------------------------------------------------


def test_aws_publishing_example_2_4_5():
    # publishingMetrics.md: values 2, 4, 5 in one minute.
    agg = from_samples([2, 4, 5])
    assert stat("SampleCount", agg) == 3.0
    assert stat("Average", agg) == 3.6666666666666665
    assert stat("Maximum", agg) == 5.0
    assert stat("Minimum", agg) == 2.0
    assert stat("Sum", agg) == 11.0


def test_values_and_counts():
    # localstack test_put_metric_data_values_list: Values [1, 10], Counts [2, 4].
    agg = from_samples([1.0, 10.0], [2, 4])
    assert (stat("SampleCount", agg), stat("Sum", agg), stat("Maximum", agg)) == (6.0, 42.0, 10.0)
    assert agg.values.tolist() == [1.0, 10.0]
    assert agg.counts.tolist() == [2.0, 4.0]


def test_from_samples_collapses_duplicates_and_sorts():
    agg = from_samples([5, 1, 5, 3, 1, 5])
    assert agg.values.tolist() == [1.0, 3.0, 5.0]
    assert agg.counts.tolist() == [2.0, 1.0, 3.0]
    assert agg.values.dtype == np.float64 and agg.counts.dtype == np.float64


def test_from_samples_weighted_duplicates():
    agg = from_samples([3, 1, 3], [1, 2, 5])
    assert agg.values.tolist() == [1.0, 3.0]
    assert agg.counts.tolist() == [2.0, 6.0]
    assert agg.sum == 20.0


def test_from_samples_drops_zero_counts():
    agg = from_samples([1, 2, 3], [1, 0, 1])
    assert agg.values.tolist() == [1.0, 3.0]
    assert agg.sample_count == 2.0


@pytest.mark.parametrize(
    "values,counts",
    [([], None), ([1, 2], [1]), ([1], [-1]), ([math.nan], None), ([1], [math.inf]), ([1, 2], [0, 0])],
)
def test_from_samples_rejects_bad_input(values, counts):
    with pytest.raises(ValueError):
        from_samples(values, counts)


@pytest.mark.parametrize(
    "sample_count,total,minimum,maximum,keeps",
    [
        (1, 5, 5, 5, True),  # SampleCount 1 and Min = Max = Sum
        (3, 15, 5, 5, True),  # Min = Max and Sum = Min * SampleCount
        (3, 0.30000000000000004, 0.1, 0.1, True),
        (3, 14, 5, 5, False),  # Sum does not match
        (1, 4, 5, 5, False),  # SampleCount 1 but Sum differs
        (2, 10, 4, 6, False),  # Min != Max
        (0, 0, 0, 0, False),
    ],
)
def test_statistic_set_keeps_distribution_only_when_aws_allows(sample_count, total, minimum, maximum, keeps):
    agg = from_statistic_set(sample_count, total, minimum, maximum)
    assert agg.has_distribution is keeps
    assert agg.sample_count == sample_count and agg.sum == total
    if keeps:
        assert agg.values.tolist() == [float(minimum)]
        assert agg.counts.tolist() == [float(sample_count)]
        assert stat("p50", agg) == minimum
    else:
        assert stat("p50", agg) is None


def test_statistic_set_basic_statistics():
    agg = from_statistic_set(10, 10, 0, 10)  # the moto/AWS-verified example datum
    assert stat("SampleCount", agg) == 10
    assert stat("Sum", agg) == 10
    assert stat("Average", agg) == 1
    assert stat("Minimum", agg) == 0
    assert stat("Maximum", agg) == 10
    for name in ("p90", "tm90", "IQM", "wm90", "tc90", "ts90", "PR(:5)"):
        assert stat(name, agg) is None


def test_merge_equals_aggregating_all_samples():
    merged = merge([from_samples([2]), from_samples([4, 5]), from_samples([4])])
    direct = from_samples([2, 4, 5, 4])
    assert merged.sample_count == direct.sample_count == 4
    assert merged.sum == direct.sum == 15
    assert (merged.minimum, merged.maximum) == (2, 5)
    assert merged.values.tolist() == direct.values.tolist() == [2.0, 4.0, 5.0]
    assert merged.counts.tolist() == direct.counts.tolist() == [1.0, 2.0, 1.0]


def test_merge_with_statistic_set_without_distribution_loses_distribution():
    merged = merge([from_samples([1, 2]), from_statistic_set(2, 10, 4, 6)])
    assert merged.sample_count == 4 and merged.sum == 13
    assert (merged.minimum, merged.maximum) == (1, 6)
    assert not merged.has_distribution
    assert stat("p50", merged) is None
    assert stat("Average", merged) == 3.25


def test_merge_with_usable_statistic_set_keeps_distribution():
    merged = merge([from_samples([1, 9]), from_statistic_set(3, 15, 5, 5)])
    assert merged.values.tolist() == [1.0, 5.0, 9.0]
    assert merged.counts.tolist() == [1.0, 3.0, 1.0]
    assert stat("p50", merged) == 5.0


def test_merge_single_and_empty():
    a = from_samples([1, 2])
    m = merge([a])
    assert m is not a and m.sum == 3
    with pytest.raises(ValueError):
        merge([])


def test_zero_sample_aggregate():
    agg = Aggregate(0, 0, 0, 0)
    assert stat("SampleCount", agg) == 0
    assert stat("Sum", agg) == 0
    assert stat("Average", agg) is None
    assert stat("Minimum", agg) is None


# ---------------------------------------------------------------------------
# Percentiles (nearest rank)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("p0", 1),
        ("p0.0", 1),
        ("p10", 1),
        ("p10.01", 2),
        ("p50", 5),
        ("p50.5", 6),
        ("p90", 9),
        ("p90.01", 10),
        ("p91", 10),
        ("p99", 10),
        ("p100", 10),
    ],
)
def test_percentile_nearest_rank_one_to_ten(name, expected):
    assert stat(name, ONE_TO_TEN) == expected


def test_percentile_one_to_hundred():
    agg = from_samples(range(1, 101))
    assert stat("p99", agg) == 99
    assert stat("p99.9", agg) == 100
    assert stat("p99.99", agg) == 100
    assert stat("p1", agg) == 1
    assert stat("p1.5", agg) == 2
    assert stat("p25", agg) == 25


def test_percentile_exact_rank_not_pushed_up_by_rounding():
    # 0.9 * 10 is 9.000000000000002 in floating point; p90 must still be rank 9.
    agg = from_samples([float(i) / 10 for i in range(1, 11)])
    assert stat("p90", agg) == 0.9
    agg = from_samples(range(1, 1001))
    assert stat("p99.9", agg) == 999
    assert stat("p0.1", agg) == 1


def test_percentile_with_counts():
    agg = from_samples([1.0, 10.0], [2, 4])  # 1, 1, 10, 10, 10, 10
    assert stat("p33", agg) == 1.0  # rank ceil(1.98) = 2
    assert stat("p34", agg) == 10.0  # rank ceil(2.04) = 3


def test_single_sample_percentiles():
    agg = from_samples([7])
    assert all(stat(f"p{q}", agg) == 7 for q in (0, 1, 50, 99.99, 100))


def test_negative_values_disable_distribution_statistics():
    agg = from_samples([-1, 2, 3])
    assert stat("Average", agg) == pytest.approx(4 / 3)
    assert stat("Minimum", agg) == -1
    for name in ("p50", "tm90", "IQM", "wm90", "tc90", "ts90", "PR(:5)", "TM(0:10)", "TC(:2)"):
        assert stat(name, agg) is None


def test_zero_is_not_negative():
    agg = from_samples([0, 0, 1])
    assert stat("p50", agg) == 0


# ---------------------------------------------------------------------------
# Trimmed / winsorized / counts / sums / percentile rank
# ---------------------------------------------------------------------------


def test_trimmed_mean_short_form():
    # tm90 removes the 10% highest: 1..9
    assert stat("tm90", ONE_TO_TEN) == 5.0
    assert stat("tc90", ONE_TO_TEN) == 9.0
    assert stat("ts90", ONE_TO_TEN) == 45.0
    # tm99 == TM(:99%)
    agg = from_samples(range(1, 201))
    assert stat("tm99", agg) == stat("TM(:99%)", agg) == pytest.approx(sum(range(1, 199)) / 198)


def test_trimmed_mean_percent_range():
    assert stat("TM(10%:90%)", ONE_TO_TEN) == 5.5  # ranks 2..9
    assert stat("TC(10%:90%)", ONE_TO_TEN) == 8.0
    assert stat("TS(10%:90%)", ONE_TO_TEN) == 44.0
    agg = from_samples(range(1, 21))
    assert stat("TM(5%:95%)", agg) == 10.5  # ranks 2..19
    assert stat("TM(2%:98%)", from_samples(range(1, 101))) == 50.5  # drops 2 low, 2 high


def test_trimmed_mean_fractional_ranks():
    # 95% of 10 samples is 9.5: no high sample is removed (ceil), consistent with p95 = 10.
    assert stat("TM(:95%)", ONE_TO_TEN) == 5.5
    assert stat("p95", ONE_TO_TEN) == 10
    # 5% of 10 is 0.5: no low sample removed (floor).
    assert stat("TM(5%:)", ONE_TO_TEN) == 5.5
    assert stat("TC(15%:)", ONE_TO_TEN) == 9.0  # floor(1.5) = 1 sample removed


def test_trimmed_mean_with_counts():
    agg = from_samples([1.0, 2.0, 100.0], [5, 4, 1])  # ten samples
    assert stat("tm90", agg) == pytest.approx((5 * 1 + 4 * 2) / 9)
    assert stat("tc90", agg) == 9.0
    assert stat("TM(20%:)", agg) == pytest.approx((3 * 1 + 4 * 2 + 100) / 8)


def test_iqm_is_tm_25_75():
    agg = from_samples(range(1, 9))
    assert stat("IQM", agg) == 4.5  # ranks 3..6
    assert stat("IQM", agg) == stat("TM(25%:75%)", agg)


def test_absolute_bounds_lower_exclusive_upper_inclusive():
    agg = from_samples([100, 150, 151, 500, 1000, 1001])
    assert stat("TM(150:1000)", agg) == pytest.approx((151 + 500 + 1000) / 3)
    assert stat("TC(150:1000)", agg) == 3
    assert stat("TS(150:1000)", agg) == 1651
    assert stat("TC(:150)", agg) == 2
    assert stat("TC(1000:)", agg) == 1


def test_trimmed_count_doc_examples():
    agg = from_samples([0.001, 0.005, 0.01, 0.03, 0.031, 0.5, 0.6])
    assert stat("TC(0.005:0.030)", agg) == 2  # 0.01 and 0.03
    assert stat("TC(:0.5)", agg) == 6
    assert stat("TC(80:500)", from_samples([80, 81, 500, 501])) == 2


def test_trimmed_sum_doc_example():
    # TS(80%:) removes the lowest 80% of the data points.
    assert stat("TS(80%:)", ONE_TO_TEN) == 19.0


def test_empty_selection():
    agg = from_samples([1, 2, 3])
    assert stat("TM(2000:3000)", agg) is None
    assert stat("WM(2000:3000)", agg) == 2000.0  # every sample clamped to the bound
    assert stat("TC(2000:3000)", agg) == 0
    assert stat("TS(2000:3000)", agg) == 0


def test_winsorized_mean():
    # wm90 on 1..10: the highest sample counts as the p90 value (9).
    assert stat("wm90", ONE_TO_TEN) == pytest.approx((45 + 9) / 10)
    # WM(10%:90%): 1 -> 2 and 10 -> 9.
    assert stat("WM(10%:90%)", ONE_TO_TEN) == pytest.approx((2 + 44 + 9) / 10)
    assert stat("wm98", ONE_TO_TEN) == 5.5  # ceil(9.8) = 10: nothing replaced
    # Absolute bounds clamp to the bound values.
    agg = from_samples([100, 150, 151, 500, 1000, 1001])
    assert stat("WM(150:1000)", agg) == pytest.approx((150 + 150 + 151 + 500 + 1000 + 1000) / 6)


def test_percentile_rank():
    agg = from_samples([100, 200, 300, 400])
    assert stat("PR(:300)", agg) == 75.0
    assert stat("PR(100:300)", agg) == 50.0
    assert stat("PR(300:)", agg) == 25.0
    assert stat("PR(100:2000)", agg) == 75.0
    assert stat("PR(:1)", agg) == 0.0
    assert stat("PR(:300)", from_samples([100, 400], [3, 1])) == 75.0


def _naive(values, q_lo, q_hi):
    """Reference implementation of the rank-bound definitions, sample by sample."""
    xs = sorted(values)
    n = len(xs)
    lo = math.floor((q_lo or 0) / 100 * n + 1e-9)
    hi = math.ceil((100 if q_hi is None else q_hi) / 100 * n - 1e-9)
    sel = xs[lo:hi]
    wins = [xs[lo]] * lo + sel + [xs[hi - 1]] * (n - hi)
    return sel, wins


@pytest.mark.parametrize("seed", range(20))
def test_rank_bound_statistics_match_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    samples = rng.integers(0, 20, n).astype(float).tolist()
    agg = from_samples(samples)
    lo = float(rng.integers(0, 50))
    hi = float(rng.integers(51, 101))
    sel, wins = _naive(samples, lo, hi)
    rng_txt = f"({lo:g}%:{hi:g}%)"
    assert stat("TC" + rng_txt, agg) == len(sel)
    assert stat("TS" + rng_txt, agg) == pytest.approx(sum(sel))
    assert stat("TM" + rng_txt, agg) == pytest.approx(sum(sel) / len(sel))
    assert stat("WM" + rng_txt, agg) == pytest.approx(sum(wins) / n)
    # Nearest-rank percentile: smallest value with at least q% of samples <= it.
    q = float(rng.integers(0, 101))
    xs = sorted(samples)
    expected = xs[max(math.ceil(q / 100 * n - 1e-9), 1) - 1]
    assert stat(f"p{q:g}", agg) == expected
    # The maximum of the tmX selection is pX (Statistics-definitions: p99 vs tm99).
    sel_hi, _ = _naive(samples, None, hi)
    assert max(sel_hi) == stat(f"p{hi:g}", agg)


def test_average_and_p90_over_one_million_samples():
    # Correctness at benchmark scale; the speed itself is measured in benchmarks/, not here.
    rng = np.random.default_rng(7)
    samples = rng.exponential(100.0, 1_000_000)
    avg, p90 = parse_statistic("Average"), parse_statistic("p90")
    agg = from_samples(samples)
    assert avg.compute(agg) == pytest.approx(samples.mean())
    assert p90.compute(agg) == np.quantile(samples, 0.9, method="inverted_cdf")


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kind,lower,upper,percent",
    [
        ("SampleCount", "SampleCount", None, None, False),
        ("Sum", "Sum", None, None, False),
        ("Average", "Average", None, None, False),
        ("Minimum", "Minimum", None, None, False),
        ("Maximum", "Maximum", None, None, False),
        ("tm90", "TM", None, 90.0, True),
        ("tm99.5", "TM", None, 99.5, True),
        ("wm98", "WM", None, 98.0, True),
        ("tc90", "TC", None, 90.0, True),
        ("ts90", "TS", None, 90.0, True),
        ("IQM", "TM", 25.0, 75.0, True),
        ("TM(10%:90%)", "TM", 10.0, 90.0, True),
        ("TM(2%:98%)", "TM", 2.0, 98.0, True),
        ("TM(150:1000)", "TM", 150.0, 1000.0, False),
        ("TM(:95%)", "TM", None, 95.0, True),
        ("TM(10%:)", "TM", 10.0, None, True),
        ("TM(5%:95%)", "TM", 5.0, 95.0, True),
        ("TM(100:200)", "TM", 100.0, 200.0, False),
        ("WM(10%:90%)", "WM", 10.0, 90.0, True),
        ("TC(0.005:0.030)", "TC", 0.005, 0.030, False),
        ("TC(:0.5)", "TC", None, 0.5, False),
        ("TC(80:500)", "TC", 80.0, 500.0, False),
        ("TS(80%:)", "TS", 80.0, None, True),
        ("PR(:300)", "PR", None, 300.0, False),
        ("PR(100:2000)", "PR", 100.0, 2000.0, False),
        ("TM(0.0000000001%:99.9999999999%)", "TM", 1e-10, 99.9999999999, True),
    ],
)
def test_parse_valid(name, kind, lower, upper, percent):
    s = parse_statistic(name)
    assert s.name == name
    assert s.kind == kind
    assert s.lower == lower and s.upper == upper
    assert s.percent is percent
    assert s.needs_distribution is (kind not in ("SampleCount", "Sum", "Average", "Minimum", "Maximum"))
    assert s.is_extended is s.needs_distribution
    assert str(s) == name


@pytest.mark.parametrize("name,q", [("p0", 0), ("p0.0", 0), ("p90", 90), ("p99.9", 99.9), ("p99.99", 99.99), ("p100", 100), ("p95.45", 95.45)])
def test_parse_percentiles(name, q):
    s = parse_statistic(name)
    assert (s.kind, s.q, s.name, s.needs_distribution) == ("p", q, name, True)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "average",
        "sum",
        "SAMPLECOUNT",
        "Avg",
        " Average",
        "P90",  # single-number forms are lower case only
        "TM90",
        "Tm90",
        "IQR",
        "iqm",
        "p",
        "pp90",
        "p-1",
        "p101",
        "p100.01",
        "p99.999",  # at most two decimals
        "p 90",
        "p90%",
        "tm0",
        "tm101",
        "tm(10%:90%)",  # range forms are upper case only
        "Tm(10%:90%)",
        "pr(:300)",
        "PR",
        "PR90",
        "TM()",
        "TM(:)",
        "TM(10%)",
        "TM(90%:10%)",
        "TM(50%:50%)",
        "TM(1000:150)",
        "TM(10%:500)",  # mixing percentage and absolute bounds
        "TM(10%:150%)",
        "PR(10%:90%)",  # percentile rank takes absolute bounds
        "TM(1.12345678901%:90%)",  # more than 10 decimals
        "TM(10%:90%",
        "XX(10%:90%)",
    ],
)
def test_parse_invalid(name):
    with pytest.raises(StatisticError) as exc:
        parse_statistic(name)
    assert exc.value.message == f"The value {name} is not a valid statistic."
    assert exc.value.statistic == name


def test_statistic_error_is_value_error():
    with pytest.raises(ValueError):
        parse_statistic("nope")
