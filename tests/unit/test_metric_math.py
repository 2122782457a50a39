"""CloudWatch metric math (sagewatch.services.cloudwatch.metric_math).

Most cases are the examples of the AWS user guide *Using metric math*.
"""

from __future__ import annotations

import calendar
import math

import numpy as np
import pytest

from sagewatch.services.cloudwatch.metric_math import (
    ArrayLit,
    Binary,
    Call,
    Keyword,
    MathError,
    Number,
    Ref,
    Series,
    String,
    Unary,
    dependency_order,
    evaluate,
    finalize_labels,
    parse,
)

P = 60
T0 = 1_700_000_040  # a multiple of 60


def ts(*vals, label="", start=T0, period=P):
    """A series on consecutive periods; None marks a missing data point."""
    pts = [(start + i * period, v) for i, v in enumerate(vals) if v is not None]
    return Series([t for t, _ in pts], [v for _, v in pts], label, period)


def vals(series: Series, n: int, start=T0, period=P):
    """Values on n consecutive periods, None where the series has no point."""
    d = dict(series.points())
    return [d.get(start + i * period) for i in range(n)]


def run(expr, data, n=5, metric_ids=None, **kw):
    metric_ids = list(data) if metric_ids is None else metric_ids
    kw.setdefault("period", P)
    kw.setdefault("start", T0)
    kw.setdefault("end", T0 + n * P)
    return evaluate(parse(expr, valid_ids=data), data, all_metric_ids=metric_ids, **kw)


M1 = ts(1, 2, 3, 4, label="M1")
M2 = ts(10, None, 30, 40, label="M2")
M3 = ts(2, 2, 2, 2, label="M3")
DATA = {"m1": M1, "m2": M2, "m3": M3}


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------


def test_parse_tree_and_precedence():
    e = parse("m1 + 2 * m2 ^ 2")
    assert e == Binary(0, "+", Ref(0, "m1"), Binary(0, "*", Number(0, 2.0), Binary(0, "^", Ref(0, "m2"), Number(0, 2.0))))
    assert parse("-2^2") == Unary(0, "-", Binary(0, "^", Number(0, 2.0), Number(0, 2.0)))
    assert parse("a OR b AND NOT c > 1") == Binary(
        0, "OR", Ref(0, "a"), Binary(0, "AND", Ref(0, "b"), Unary(0, "NOT", Binary(0, ">", Ref(0, "c"), Number(0, 1.0))))
    )
    assert parse("SORT(METRICS(), AVG, DESC, 10)") == Call(
        0, "SORT", (Call(0, "METRICS", ()), Keyword(0, "AVG"), Keyword(0, "DESC"), Number(0, 10.0))
    )
    assert parse('METRICS("errors")') == Call(0, "METRICS", (String(0, "errors"),))
    assert parse("SUM([m1, m2])") == Call(0, "SUM", (ArrayLit(0, (Ref(0, "m1"), Ref(0, "m2"))),))
    assert parse("SUM(METRICS)") == Call(0, "SUM", (Call(0, "METRICS", ()),))


def test_parse_scalars_and_operators():
    for text, expected in [
        ("2^3^2", 512.0),
        ("2^-1", 0.5),
        ("10 - 4 - 3", 3.0),
        ("12 / 3 / 2", 2.0),
        ("-(2 + 3) * 2", -10.0),
        ("1.5e2 + .5", 150.5),
        ("3 > 2 && 2 >= 2", 1.0),
        ("1 == 2 || 0", 0.0),
        ("1 != 2 AND NOT 0", 1.0),
        ("!1", 0.0),
        ("+4", 4.0),
        ("2 < 1 OR 2 <= 1", 0.0),
    ]:
        assert evaluate(parse(text), {}, period=P, start=T0, end=T0 + P, all_metric_ids=[]) == expected, text


def test_references_and_functions():
    e = parse("IF((DAY(m1)<6 AND (HOUR(m1)>=9 AND HOUR(m1)<17)),m1) + e2")
    assert e.references() == {"m1", "e2"}
    assert e.functions() == {"IF", "DAY", "HOUR"}
    assert not e.uses_metrics()
    assert parse("SUM(METRICS())").uses_metrics()
    e.check_references(["m1", "e2"])
    with pytest.raises(MathError, match="m1"):
        e.check_references(["e2"])


@pytest.mark.parametrize(
    "text,pos",
    [
        ("m1 +", 4),
        ("(m1", 3),
        ("m1 m2", 3),
        ("5 +* 3", 3),
        ("m1 = 2", 3),
        ("m1 @ 2", 3),
        ("SUM(m1,)", 7),
        ("[m1, m2", 7),
        ("m1)", 2),
        ("AND m1", 0),
        ("ABS", 3),
    ],
)
def test_syntax_errors(text, pos):
    with pytest.raises(MathError) as exc:
        parse(text)
    assert exc.value.message.startswith(f"Syntax error at position {pos}: unexpected ")
    assert exc.value.position == pos


def test_empty_expression():
    for text in ("", "   "):
        with pytest.raises(MathError, match="empty"):
            parse(text)


@pytest.mark.parametrize("text,name", [("FOO(m1)", "FOO"), ("sum(m1)", "sum"), ("Avg(m1)", "Avg"), ("m1 + BAR", "BAR")])
def test_unknown_function(text, name):
    with pytest.raises(MathError) as exc:
        parse(text)
    assert exc.value.message == f"Unknown function {name}"


@pytest.mark.parametrize("name", ["SEARCH", "SERVICE_QUOTA", "INSIGHT_RULE_METRIC", "LAMBDA"])
def test_recognised_but_unsupported_functions(name):
    with pytest.raises(MathError) as exc:
        parse(f"{name}('x', 'Average', 300)")
    assert exc.value.message == f"The function {name} is not supported"


@pytest.mark.parametrize(
    "text,message",
    [
        ("ABS(m1, m2)", "ABS expects 1 argument, got 2"),
        ("SORT(METRICS(), AVG)", "SORT expects 3 to 4 arguments, got 2"),
        ("IF(m1)", "IF expects 2 to 3 arguments, got 1"),
        ("METRICS(\"a\", \"b\")", "METRICS expects 0 to 1 arguments, got 2"),
        ("TIME_SERIES()", "TIME_SERIES expects 1 argument, got 0"),
    ],
)
def test_arity_errors(text, message):
    with pytest.raises(MathError) as exc:
        parse(text)
    assert exc.value.message == message


def test_unknown_ids():
    with pytest.raises(MathError) as exc:
        parse("m1 + m9", valid_ids=["m1"])
    assert exc.value.message == "Unknown metric or expression id m9"
    assert exc.value.position == 5
    with pytest.raises(MathError, match="m9"):
        evaluate(parse("m9 * 2"), {"m1": M1}, period=P, start=T0, end=T0 + P, all_metric_ids=["m1"])


def test_curly_and_single_quoted_strings():
    assert parse("METRICS(\u201c4xx\u201d)") == Call(0, "METRICS", (String(0, "4xx"),))
    assert parse("METRICS('5xx')") == Call(0, "METRICS", (String(0, "5xx"),))


# ---------------------------------------------------------------------------
# Arithmetic and alignment
# ---------------------------------------------------------------------------


def test_scalar_times_series_doc_examples():
    assert vals(run("5 * m1", DATA), 4) == [5, 10, 15, 20]
    assert vals(run("-5*m1", DATA), 4) == [-5, -10, -15, -20]
    assert vals(run("-m1", DATA), 4) == [-1, -2, -3, -4]
    assert vals(run("m1 ^ 2", DATA), 4) == [1, 4, 9, 16]
    # 100*m2 has no point at the 2nd period; divided by m1 it counts as 0.
    assert vals(run("100*m2/m1", DATA), 4) == [1000, 0, 1000, 1000]


def test_series_with_series_missing_values_are_zero():
    # "Missing values in a time series are treated as 0."
    assert vals(run("m1 - m2", DATA), 4) == [-9, 2, -27, -36]
    assert vals(run("m1 + m2", DATA), 4) == [11, 2, 33, 44]
    assert vals(run("m2 * m1", DATA), 4) == [10, 0, 90, 160]


def test_division_by_zero_drops_the_point():
    assert vals(run("m1 / m2", DATA), 4) == [0.1, None, 0.1, 0.1]
    assert vals(run("m1 / 0", DATA), 4) == [None] * 4
    z = {"a": ts(0, 1, 0), "b": ts(0, 0, 5)}
    assert vals(run("a / b", z), 3) == [None, None, 0]


def test_union_of_timestamps():
    data = {"a": ts(1, None, 3), "b": ts(None, None, 4, 5)}
    r = run("a + b", data)
    assert vals(r, 4) == [1, None, 7, 5]


def test_period_doc_example():
    assert run("PERIOD(m1)/60", DATA) == 1.0
    assert vals(run("m1/PERIOD(m1)", DATA), 4) == [1 / 60, 2 / 60, 3 / 60, 4 / 60]
    five = {"m1": ts(1, 2, period=300)}
    assert run("PERIOD(m1)", five, n=2, period=60) == 300.0


def test_period_needs_a_metric():
    with pytest.raises(MathError, match="PERIOD"):
        run("PERIOD(e1)", {"m1": M1, "e1": M1}, metric_ids=["m1"])
    with pytest.raises(MathError, match="PERIOD"):
        run("PERIOD(m1 * 2)", DATA)


def test_array_arithmetic_doc_examples():
    data = {"m1": ts(1, 2), "m2": ts(3, 4), "m3": ts(2, 2)}
    assert vals(run("SUM(100/[m1, m2])", data, n=2), 2) == [100 / 1 + 100 / 3, 100 / 2 + 100 / 4]
    assert vals(run("AVG([m1,m2]/m3)", data, n=2), 2) == [1.0, 1.5]
    r = run("METRICS()*100", data, n=2)
    assert [vals(s, 2) for s in r] == [[100, 200], [300, 400], [200, 200]]
    assert [s.label for s in r] == ["", "", ""]
    assert vals(run("SUM(-[m1, m2])", data, n=2), 2) == [-4, -6]
    assert vals(run("METRICS() - m3", data, n=2)[0], 2) == [-1, 0]
    with pytest.raises(MathError, match="two arrays"):
        run("[m1, m2] + [m1, m3]", data, n=2)


def test_array_labels_follow_elements():
    r = run("METRICS() / 100", DATA)
    assert [s.label for s in r] == ["M1", "M2", "M3"]


# ---------------------------------------------------------------------------
# Comparison and logical operators (doc table)
# ---------------------------------------------------------------------------

METRIC1 = ts(30, 20, 0, 0)
METRIC2 = ts(20, None, 20, None)
CMP = {"metric1": METRIC1, "metric2": METRIC2}


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("(metric1 < metric2)", [0, 0, 1, 0]),
        ("(metric1 >= 30)", [1, 0, 0, 0]),
        ("(metric1 > 15 AND metric2 > 15)", [1, 0, 0, 0]),
        ("(metric1 > 15 && metric2 > 15)", [1, 0, 0, 0]),
        ("(metric1 > 15 OR metric2 > 15)", [1, 1, 1, 0]),
        ("(metric1 > 15 || metric2 > 15)", [1, 1, 1, 0]),
        ("metric1 == 0", [0, 0, 1, 1]),
        ("metric1 != 0", [1, 1, 0, 0]),
        ("metric1 <= 20", [0, 1, 1, 1]),
        ("NOT metric1", [0, 0, 1, 1]),
    ],
)
def test_comparison_doc_table(expr, expected):
    assert vals(run(expr, CMP, n=4), 4) == expected


def test_scalar_comparison_returns_scalar():
    assert run("3 > 2", CMP) == 1.0
    assert run("3 < 2", CMP) == 0.0


# ---------------------------------------------------------------------------
# IF (doc tables)
# ---------------------------------------------------------------------------

IF_DATA = {
    "metric1": ts(1, 1, 0, 0, None),
    "metric2": ts(30, None, 0, 0, 30),
    "metric3": ts(0, 0, 20, None, 20),
}


def test_if_ts_ts_ts():
    assert vals(run("IF(metric1, metric2, metric3)", IF_DATA), 5) == [30, 0, 20, None, None]


def test_if_ts_scalar_ts():
    assert vals(run("IF(metric1, 5, metric3)", IF_DATA), 5) == [5, 5, 20, None, None]


def test_if_ts_ts_scalar():
    assert vals(run("IF(metric1, metric2, 5)", IF_DATA), 5) == [30, 0, 5, 5, None]


def test_if_without_false_value_drops_false_points():
    assert vals(run("IF(metric1, metric2)", IF_DATA), 5) == [30, 0, None, None, None]


def test_if_scalar_condition():
    assert vals(run("IF(1, metric2, metric3)", IF_DATA), 5) == [30, None, 0, 0, 30]
    assert vals(run("IF(0, metric2, metric3)", IF_DATA), 5) == [0, 0, 20, None, 20]
    assert len(run("IF(0, metric2)", IF_DATA)) == 0
    assert run("IF(2 > 1, 7, 8)", IF_DATA) == 7.0


def test_if_use_cases():
    data = {"metric1": ts(100, 500, 399, 400), "latency": ts(5, 15, 10), "threshold": ts(10, 10, 10)}
    assert vals(run("IF(metric1<400, metric1)", data), 4) == [100, None, 399, None]
    assert vals(run("IF(metric1<400, 10, 2)", data), 4) == [10, 2, 10, 2]
    assert vals(run("IF(latency>threshold, 1, 0)", data), 3) == [0, 1, 0]


def test_if_negative_condition_is_true():
    assert vals(run("IF(c, 1, 2)", {"c": ts(-1, 0, 3)}), 3) == [1, 2, 1]


def test_if_over_array_condition():
    r = run("IF(METRICS() > 2, 1, 0)", DATA)
    assert [vals(s, 4) for s in r] == [[0, 0, 1, 1], [1, None, 1, 1], [0, 0, 0, 0]]


def test_if_rejects_arrays_as_values():
    with pytest.raises(MathError, match="IF"):
        run("IF(m1, METRICS())", DATA)


def test_business_hours_blog_example():
    # 2024-04-01 00:00 UTC is a Monday. One data point per hour for a week.
    monday = calendar.timegm((2024, 4, 1, 0, 0, 0))
    hours = np.arange(7 * 24)
    m1 = Series(monday + hours * 3600, hours + 1.0, "RequestCount", 3600)
    r = evaluate(
        parse("IF((DAY(m1)<6 AND (HOUR(m1)>=9 AND HOUR(m1)<17)),m1)"),
        {"m1": m1},
        period=3600,
        start=monday,
        end=monday + 7 * 86400,
        all_metric_ids=["m1"],
    )
    expected = [(monday + h * 3600, h + 1.0) for h in hours.tolist() if h // 24 < 5 and 9 <= h % 24 < 17]
    assert r.points() == expected
    assert len(r) == 5 * 8


def test_if_time_function_with_sparse_metric_fills_zero():
    # IF(TS, TS): "has the value of 0, if the corresponding data point of metric1
    # is TRUE and the corresponding data point does not exist in metric2" -- the
    # time functions are non-sparse, so missing weekday points become 0.
    monday = calendar.timegm((2024, 4, 1, 0, 0, 0))
    m1 = Series([monday + 3600, monday + 5 * 86400], [5.0, 6.0], "", 3600)
    r = evaluate(parse("IF(DAY(m1)<6,m1)"), {"m1": m1}, period=3600, start=monday, end=monday + 6 * 86400, all_metric_ids=["m1"])
    assert len(r) == 5 * 24
    assert r.points()[:3] == [(monday, 0.0), (monday + 3600, 5.0), (monday + 7200, 0.0)]


# ---------------------------------------------------------------------------
# Functions (doc function table)
# ---------------------------------------------------------------------------


def test_abs():
    assert vals(run("ABS(m1-m2)", DATA), 4) == [9, 2, 27, 36]
    assert vals(run("MIN(ABS([m1, m2]))", DATA), 4) == [1, 0, 3, 4]
    r = run("ABS(METRICS())", {"a": ts(-1, 2), "b": ts(3, -4)}, n=2)
    assert [vals(s, 2) for s in r] == [[1, 2], [3, 4]]


def test_ceil_floor():
    data = {"m1": ts(1.2, -1.2, 2.0), "m2": ts(0.5, 1.5, None)}
    assert vals(run("CEIL(m1)", data), 3) == [2, -1, 2]
    assert vals(run("FLOOR(m1)", data), 3) == [1, -2, 2]
    assert [vals(s, 3) for s in run("CEIL(METRICS())", data)] == [[2, -1, 2], [1, 2, None]]
    assert [vals(s, 3) for s in run("FLOOR(METRICS())", data)] == [[1, -2, 2], [0, 1, None]]
    assert vals(run("SUM(CEIL(METRICS()))", data), 3) == [3, 1, 2]


def test_log_and_log10_drop_non_finite():
    data = {"m1": ts(100, 0, -5, 1)}
    assert vals(run("LOG10(m1)", data), 4) == [2, None, None, 0]
    r = run("LOG(METRICS())", data)
    assert vals(r[0], 4) == [pytest.approx(math.log(100)), None, None, 0]


def test_aggregations_of_one_series_are_scalars():
    assert run("AVG(m1)", DATA) == 2.5
    assert run("SUM(m1)", DATA) == 10.0
    assert run("MIN(m1)", DATA) == 1.0
    assert run("MAX(m1)", DATA) == 4.0
    assert run("STDDEV(m1)", DATA) == pytest.approx(np.std([1, 2, 3, 4]))
    assert run("DATAPOINT_COUNT(m2)", DATA) == 3.0
    assert run("METRIC_COUNT(METRICS())", DATA) == 3.0


def test_aggregation_doc_examples():
    assert vals(run("SUM([m1,m2])/AVG(m2)", DATA), 4) == [
        pytest.approx(v / (80 / 3)) for v in (11, 2, 33, 44)
    ]
    assert vals(run("m1-MIN(m1)", DATA), 4) == [0, 1, 2, 3]
    assert vals(run("MAX(m1)/m1", DATA), 4) == [4, 2, pytest.approx(4 / 3), 1]
    assert vals(run("m1/STDDEV(m1)", DATA), 4) == [pytest.approx(v / np.std([1, 2, 3, 4])) for v in (1, 2, 3, 4)]
    assert run("SUM(m1) / DATAPOINT_COUNT(m1)", DATA) == 2.5
    assert vals(run("m1/METRIC_COUNT(METRICS())", DATA), 4) == [1 / 3, 2 / 3, 1, 4 / 3]
    assert vals(run("SUM(METRICS())/SUM(m1)", DATA), 4) == [1.3, 0.4, 3.5, 4.6]


def test_aggregations_of_arrays_treat_missing_as_zero():
    assert vals(run("SUM(METRICS())", DATA), 4) == [13, 4, 35, 46]
    assert vals(run("AVG(METRICS())", DATA), 4) == [13 / 3, 4 / 3, 35 / 3, 46 / 3]
    assert vals(run("MIN(METRICS())", DATA), 4) == [1, 0, 2, 2]
    assert vals(run("MAX(METRICS())", DATA), 4) == [10, 2, 30, 40]
    assert vals(run("STDDEV(METRICS())", DATA), 4)[1] == pytest.approx(np.std([2, 0, 2]))
    assert vals(run("DATAPOINT_COUNT(METRICS())", DATA), 4) == [3, 2, 3, 3]
    assert vals(run("SUM([m1,m2])", DATA), 4) == [11, 2, 33, 44]


def test_metrics_filter_by_id_substring():
    data = {
        "errors_a": ts(1, 2),
        "errors_b": ts(3, 4),
        "requests_a": ts(10, 20),
        "requests_b": ts(30, 40),
        "e4xx": ts(1, 1),
        "e5xx": ts(2, 2),
    }
    assert vals(run('SUM(METRICS("errors"))', data, n=2), 2) == [4, 6]
    assert vals(run('SUM(METRICS("errors"))/SUM(METRICS("requests"))*100', data, n=2), 2) == [10, 10]
    assert vals(run("SUM([METRICS(\u201c4xx\u201d), METRICS(\u201c5xx\u201d)])", data, n=2), 2) == [3, 3]
    assert run('METRICS("nothing")', data) == []


def test_metrics_excludes_expressions():
    data = {"m1": M1, "m2": M2, "e1": M3}
    r = run("METRICS()", data, metric_ids=["m1", "m2"])
    assert [s.label for s in r] == ["M1", "M2"]


def test_diff_diff_time_rate_running_sum():
    data = {"m1": ts(1, None, 4, 10), "m2": ts(5, 5)}
    assert vals(run("DIFF(m1)", data), 4) == [None, None, 3, 6]
    assert vals(run("DIFF_TIME(METRICS())", data)[0], 4) == [None, None, 120, 60]
    assert vals(run("RATE(m1)", data), 4) == [None, None, 3 / 120, 6 / 60]
    assert [vals(s, 4) for s in run("RATE(METRICS())", data)] == [[None, None, 3 / 120, 0.1], [None, 0, None, None]]
    r = run("RUNNING_SUM([m1,m2])", data)
    assert [vals(s, 4) for s in r] == [[1, None, 5, 15], [5, 10, None, None]]


def test_fill_with_scalar_and_series():
    data = {"m1": ts(None, 2, None, 4, None), "m2": ts(7, 7, 7, None, 7)}
    assert vals(run("FILL(m1,10)", data), 5) == [10, 2, 10, 4, 10]
    assert vals(run("FILL(m1, MIN(m1))", data), 5) == [2, 2, 2, 4, 2]
    r = run("FILL(METRICS(), 0)", data)
    assert [vals(s, 5) for s in r] == [[0, 2, 0, 4, 0], [7, 7, 7, 0, 7]]
    r = run("FILL(METRICS(), m1)", data)
    assert [vals(s, 5) for s in r] == [[None, 2, None, 4, None], [7, 7, 7, 4, 7]]


def test_fill_repeat_and_linear():
    data = {"m1": ts(None, 2, None, None, 8, None), "m2": ts(1, None, 3)}
    assert vals(run("FILL(m1, REPEAT)", data, n=6), 6) == [None, 2, 2, 2, 8, 8]
    assert vals(run("FILL(m1, LINEAR)", data, n=6), 6) == [None, 2, 4, 6, 8, None]
    r = run("FILL(METRICS(), LINEAR)", data, n=6)
    assert vals(r[1], 6) == [1, 2, 3, None, None, None]


def test_fill_empty_series_and_grid():
    data = {"m1": ts(None, None, None)}
    assert vals(run("FILL(m1, 0)", data, n=3), 3) == [0, 0, 0]
    r = run("FILL(m1, 1)", data, n=3)
    assert r.timestamps.tolist() == [T0, T0 + 60, T0 + 120]


def test_fill_grid_follows_series_phase():
    # start not aligned with the series: the grid keeps the series' phase.
    m1 = Series([T0 + 30, T0 + 150], [1, 3], "", 60)
    r = evaluate(parse("FILL(m1, 0)"), {"m1": m1}, period=60, start=T0, end=T0 + 180, all_metric_ids=["m1"])
    assert r.points() == [(T0 + 30, 1.0), (T0 + 90, 0.0), (T0 + 150, 3.0)]


def test_fill_rejects_other_keywords():
    with pytest.raises(MathError, match="FILL"):
        run("FILL(m1, ASC)", DATA)


def test_first_last_sort_slice():
    data = {"a": ts(1, 1), "b": ts(5, 300), "c": ts(3, 3), "d": ts(None, None)}
    r = run("SORT(METRICS(), AVG, DESC)", data, n=2)
    assert [vals(s, 2) for s in r] == [[5, 300], [3, 3], [1, 1], [None, None]]
    r = run("SORT(METRICS(), MAX, ASC)", data, n=2)
    assert [vals(s, 2) for s in r] == [[1, 1], [3, 3], [5, 300], [None, None]]
    r = run("SORT(METRICS(), AVG, DESC, 2)", data, n=2)
    assert len(r) == 2 and vals(r[0], 2) == [5, 300]
    assert vals(run("IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0)", data, n=2), 2) == [0, 1]
    assert vals(run("LAST(SORT(METRICS(), SUM, DESC))", data, n=2), 2) == [None, None]
    r = run("SLICE(SORT(METRICS(), SUM, DESC), 0, 10)", data, n=2)
    assert len(r) == 4
    r = run("SLICE(SORT(METRICS(), AVG, ASC), 1)", data, n=2)
    assert [vals(s, 2) for s in r] == [[3, 3], [5, 300], [None, None]]
    r = run("SLICE(METRICS(), 1, 2)", data, n=2)
    assert len(r) == 1 and vals(r[0], 2) == [5, 300]
    # A one-element array is usable where a time series is expected.
    assert vals(run("SLICE(METRICS(), 1, 2) * 2", data, n=2)[0], 2) == [10, 600]
    assert vals(run("FILL(SLICE(METRICS(), 3, 4), 0)", data, n=2)[0], 2) == [0, 0]


def test_sort_argument_errors():
    for text, msg in [
        ("SORT(METRICS(), AVG, UP)", "Unknown function UP"),
        ("SORT(METRICS(), AVG, AVG)", "SORT expects ASC or DESC"),
        ("SORT(METRICS(), ASC, ASC)", "SORT expects AVG, MIN, MAX or SUM"),
        ("SORT(METRICS(), AVG, ASC, -1)", "non-negative integer"),
        ("SLICE(METRICS(), 1.5)", "non-negative integer"),
    ]:
        with pytest.raises(MathError, match=msg):
            run(text, DATA)


def test_remove_empty():
    data = {"a": ts(1, 2), "b": ts(None, None), "c": ts(None, 3)}
    r = run("REMOVE_EMPTY(METRICS())", data, n=2)
    assert [vals(s, 2) for s in r] == [[1, 2], [None, 3]]


def test_time_series():
    assert vals(run("TIME_SERIES(10)", DATA, n=3), 3) == [10, 10, 10]
    assert vals(run("TIME_SERIES(MAX(m1))", DATA, n=2), 2) == [4, 4]
    assert vals(run("TIME_SERIES(5*AVG(m1))", DATA, n=2), 2) == [12.5, 12.5]
    with pytest.raises(MathError, match="TIME_SERIES"):
        run("TIME_SERIES(m1)", DATA)


def test_time_functions():
    # 2024-04-30 23:58 UTC (Tuesday), period 60, three points crossing into May.
    start = calendar.timegm((2024, 4, 30, 23, 58, 0))
    data = {"m1": Series([start], [1.0], "", 60)}

    def t(expr):
        r = evaluate(parse(expr), data, period=60, start=start, end=start + 180, all_metric_ids=["m1"])
        return r.values.tolist()

    assert t("MINUTE(m1)") == [58, 59, 0]
    assert t("HOUR(m1)") == [23, 23, 0]
    assert t("DAY(m1)") == [2, 2, 3]  # Tuesday, Wednesday
    assert t("DATE(m1)") == [30, 30, 1]
    assert t("MONTH(m1)") == [4, 4, 5]
    assert t("YEAR(m1)") == [2024, 2024, 2024]
    assert t("EPOCH(m1)") == [start, start + 60, start + 120]
    # Non-sparse: one value per period over the whole range.
    r = evaluate(parse("IF(MONTH(m1) == 4, m1)"), data, period=60, start=start, end=start + 180, all_metric_ids=["m1"])
    assert r.points() == [(start, 1.0), (start + 60, 0.0)]
    r = evaluate(parse("IF(DAY(m1)<6,m1)"), data, period=60, start=start, end=start + 180, all_metric_ids=["m1"])
    assert len(r) == 3


def test_time_functions_new_year_and_sunday():
    start = calendar.timegm((2023, 12, 31, 23, 0, 0))  # a Sunday
    data = {"m1": Series([], [], "", 3600)}
    r = evaluate(parse("DAY(m1)"), data, period=3600, start=start, end=start + 7200, all_metric_ids=["m1"])
    assert r.values.tolist() == [7, 1]
    r = evaluate(parse("YEAR(m1)"), data, period=3600, start=start, end=start + 7200, all_metric_ids=["m1"])
    assert r.values.tolist() == [2023, 2024]


def test_time_functions_utc_offset():
    start = calendar.timegm((2024, 4, 1, 23, 0, 0))
    data = {"m1": Series([start], [1.0], "", 3600)}
    r = evaluate(parse("HOUR(m1)"), data, period=3600, start=start, end=start + 3600, all_metric_ids=["m1"], utc_offset=2 * 3600)
    assert r.values.tolist() == [1]
    r = evaluate(parse("EPOCH(m1)"), data, period=3600, start=start, end=start + 3600, all_metric_ids=["m1"], utc_offset=2 * 3600)
    assert r.values.tolist() == [start]


def test_anomaly_detection_band():
    calls = []

    def band(series, stddevs):
        calls.append((series.label, stddevs))
        lower = Series(series.timestamps, series.values - stddevs, "", series.period)
        upper = Series(series.timestamps, series.values + stddevs, "", series.period)
        return lower, upper

    r = run("ANOMALY_DETECTION_BAND(m1)", DATA, band_provider=band)
    assert [vals(s, 4) for s in r] == [[3, 4, 5, 6], [-1, 0, 1, 2]]
    assert [s.label for s in r] == ["M1 Upper", "M1 Lower"]
    r = run("ANOMALY_DETECTION_BAND(m1,4)", DATA, band_provider=band)
    assert vals(r[0], 4) == [5, 6, 7, 8]
    assert calls == [("M1", 2.0), ("M1", 4.0)]
    # "LAST(ANOMALY_DETECTION_BAND(m1)) returns the lower bound".
    assert vals(run("LAST(ANOMALY_DETECTION_BAND(m1))", DATA, band_provider=band), 4) == [-1, 0, 1, 2]
    assert vals(run("FIRST(ANOMALY_DETECTION_BAND(m1))", DATA, band_provider=band), 4) == [3, 4, 5, 6]
    with pytest.raises(MathError, match="ANOMALY_DETECTION_BAND"):
        run("ANOMALY_DETECTION_BAND(m1)", DATA)
    with pytest.raises(MathError, match="positive"):
        run("ANOMALY_DETECTION_BAND(m1, 0)", DATA, band_provider=band)


def test_expression_referring_to_expression():
    data = {"m1": M1, "e1": run("m1 * 10", {"m1": M1})}
    assert vals(run("e1-MIN(e1)", data, metric_ids=["m1"]), 4) == [0, 10, 20, 30]


# ---------------------------------------------------------------------------
# Type errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("ABS(REPEAT)", "ABS expects a time series or an array of time series, got a keyword"),
        ('m1 + "x"', "The operator + expects"),
        ("METRICS(5)", "METRICS expects a string, got a scalar"),
        ("FIRST(5)", "FIRST expects an array of time series, got a scalar"),
        ("DIFF(3)", "DIFF expects a time series or an array of time series, got a scalar"),
        ("[m1, 5]", "An array expects time series as elements, got a scalar"),
        ("REPEAT", "An expression expects a time series, got a keyword"),
        ("FILL(m1, \"x\")", "FILL expects"),
    ],
)
def test_type_errors(text, fragment):
    with pytest.raises(MathError) as exc:
        run(text, DATA)
    assert fragment in exc.value.message


# ---------------------------------------------------------------------------
# Dependency order and labels
# ---------------------------------------------------------------------------


def test_dependency_order():
    exprs = {"e3": parse("e1 + e2"), "e1": parse("m1 * 2"), "e2": parse("e1 + m2")}
    assert dependency_order(exprs, ["m1", "m2"]) == ["e1", "e2", "e3"]
    with pytest.raises(MathError, match="Circular"):
        dependency_order({"e1": parse("e2"), "e2": parse("e1 + 1")}, [])
    with pytest.raises(MathError, match="Unknown metric or expression id m9"):
        dependency_order({"e1": parse("m9")}, ["m1"])


def test_finalize_labels():
    s = ts(1, 2, label="inner")
    assert [x.label for x in finalize_labels(s, "e1")] == ["e1"]
    assert [x.label for x in finalize_labels(s, "e1", "Error rate")] == ["Error rate"]
    arr = [ts(1, label="Errors"), ts(2, label="Faults"), ts(3)]
    assert [x.label for x in finalize_labels(arr, "e1", "Filled With 0:")] == [
        "Filled With 0: Errors",
        "Filled With 0: Faults",
        "Filled With 0:",
    ]
    assert [x.label for x in finalize_labels(arr, "e1")] == ["Errors", "Faults", "e1"]
    assert finalize_labels([], "e1") == []
    with pytest.raises(MathError, match="scalar"):
        finalize_labels(2.5, "e1")


def test_series_normalises_input():
    s = Series([120, 0, 60], [3, 1, 2])
    assert s.timestamps.tolist() == [0, 60, 120] and s.values.tolist() == [1.0, 2.0, 3.0]
    assert s.timestamps.dtype == np.int64 and s.values.dtype == np.float64
    with pytest.raises(ValueError):
        Series([0, 0], [1, 2])
    with pytest.raises(ValueError):
        Series([0, 1], [1])


def test_large_series_are_vectorised():
    n = 200_000
    a = Series(np.arange(n) * 60, np.arange(n, dtype=float), "", 60)
    b = Series(np.arange(0, n, 2) * 60, np.ones(n // 2), "", 60)
    r = evaluate(parse("FILL(a / b, REPEAT) + RATE(a)"), {"a": a, "b": b}, period=60, start=0, end=n * 60, all_metric_ids=["a", "b"])
    assert len(r) == n


@pytest.mark.parametrize("expression", ["FILL(a, 0)", "TIME_SERIES(1)", "DAY(a)"])
def test_a_range_of_more_than_a_million_periods_is_refused_not_filled(expression):
    """Year 1 to 9999 at one second: the fuzzer's MemoryError (and, at 400 days, a hang)."""
    from sagewatch.services.cloudwatch.metric_math import MAX_GRID_POINTS

    a = Series(np.array([0]), np.array([1.0]), "", 1)
    with pytest.raises(MathError, match="more than"):
        evaluate(parse(expression), {"a": a}, period=1, start=0, end=MAX_GRID_POINTS + 1,
                 all_metric_ids=["a"])
    filled = evaluate(parse(expression), {"a": a}, period=1, start=0, end=MAX_GRID_POINTS - 1,
                      all_metric_ids=["a"])
    assert len(filled) == MAX_GRID_POINTS - 1  # just under the bound: every period
