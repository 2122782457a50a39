"""GetMetricData end to end on each wire protocol: every statistic, metric math, labels,
ReturnData, ScanBy, MaxDatapoints / NextToken pagination and the request errors.

One fixture puts a small, known dataset per protocol (four whole minutes some minutes back); the
expected values below are computed by hand from it.
"""

from __future__ import annotations

import time

import pytest

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    at,
    cloudwatch_data_root,
    cw,
    cw_clients,
    error_of,
    minute_floor,
    protocol,
    raw_cw,
    raw_cw_clients,
)

# Minute k (0..3) of the dataset: metric "a" has one value, "b" one value (none in minute 3),
# "dist" the samples 1..100 plus k * 100 (so its percentiles are known), "hi" high-resolution
# values at seconds 5 and 15 of every minute.
A = [1.0, -4.0, 9.0, 16.0]
B = [2.0, 2.0, 2.0, None]


class Dataset:
    def __init__(self, client, ns: str, base: int) -> None:
        self.client, self.ns, self.base = client, ns, base

    def stat(self, qid: str, name: str, stat: str, period: int = 60, unit: str | None = None, **extra) -> dict:
        query = {"Id": qid, "MetricStat": {"Metric": {"Namespace": self.ns, "MetricName": name},
                                           "Period": period, "Stat": stat}}
        if unit:
            query["MetricStat"]["Unit"] = unit
        query.update(extra)
        return query

    def get(self, queries: list[dict], minutes: int = 4, **kwargs) -> dict:
        kwargs.setdefault("ScanBy", "TimestampAscending")
        return self.client.get_metric_data(
            MetricDataQueries=queries, StartTime=at(self.base), EndTime=at(self.base + minutes * 60), **kwargs,
        )

    def results(self, queries: list[dict], **kwargs) -> dict[str, dict]:
        return {r["Id"]: r for r in self.get(queries, **kwargs)["MetricDataResults"]}

    def series(self, result: dict) -> list[tuple[int, float]]:
        """(minute index, value) pairs of one result."""
        return [(int((t.timestamp() - self.base) // 60), v) for t, v in zip(result["Timestamps"], result["Values"])]


@pytest.fixture(scope="module")
def datasets(cw_clients, tmp_path_factory):
    out = {}
    base = minute_floor(time.time()) - 10 * 60
    for pid, client in cw_clients.items():
        ns = f"e2e/gmd/{pid}/{int(time.time() * 1000)}"
        data = []
        for k in range(4):
            minute = base + k * 60
            data.append({"MetricName": "a", "Timestamp": at(minute + 5), "Value": A[k]})
            if B[k] is not None:
                data.append({"MetricName": "b", "Timestamp": at(minute + 5), "Value": B[k], "Unit": "Count"})
            data.append({"MetricName": "dist", "Timestamp": at(minute + 5),
                         "Values": [float(v + k * 100) for v in range(1, 101)]})
            for second in (5, 15):
                data.append({"MetricName": "hi", "Timestamp": at(minute + second), "Value": float(second),
                             "StorageResolution": 1})
        client.put_metric_data(Namespace=ns, MetricData=data)
        out[pid] = Dataset(client, ns, base)
    return out


@pytest.fixture
def d(datasets, protocol) -> Dataset:
    return datasets[protocol]


# == statistics ==================================================================================


@pytest.mark.parametrize("stat, expected", [
    ("SampleCount", [100.0, 100.0, 100.0, 100.0]),
    ("Sum", [5050.0, 15050.0, 25050.0, 35050.0]),
    ("Average", [50.5, 150.5, 250.5, 350.5]),
    ("Minimum", [1.0, 101.0, 201.0, 301.0]),
    ("Maximum", [100.0, 200.0, 300.0, 400.0]),
    ("p50", [50.0, 150.0, 250.0, 350.0]),
    ("p99.5", [100.0, 200.0, 300.0, 400.0]),
    ("p10", [10.0, 110.0, 210.0, 310.0]),
    ("tm90", [45.5, 145.5, 245.5, 345.5]),
    ("TM(10%:90%)", [50.5, 150.5, 250.5, 350.5]),
    ("IQM", [50.5, 150.5, 250.5, 350.5]),
    ("wm90", [(sum(range(1, 91)) + 10 * 90) / 100 + k * 100 for k in range(4)]),
    ("tc90", [90.0, 90.0, 90.0, 90.0]),
    ("TC(:50)", [50.0, 0.0, 0.0, 0.0]),
    ("ts10", [55.0, 1055.0, 2055.0, 3055.0]),
    ("PR(:150)", [100.0, 50.0, 0.0, 0.0]),
])
def test_every_statistic(d, stat, expected):
    (result,) = d.get([d.stat("q", "dist", stat)])["MetricDataResults"]
    assert result["StatusCode"] == "Complete"
    assert [m for m, _ in d.series(result)] == [0, 1, 2, 3]
    assert [v for _, v in d.series(result)] == pytest.approx(expected)


def test_high_resolution_periods(d):
    results = d.results([d.stat("ten", "hi", "Sum", period=10), d.stat("one", "hi", "SampleCount", period=1),
                         d.stat("min", "hi", "Sum")], minutes=1)
    ten = [(round(t.timestamp() - d.base), v) for t, v in zip(results["ten"]["Timestamps"], results["ten"]["Values"])]
    assert ten == [(0, 5.0), (10, 15.0)]
    assert [round(t.timestamp() - d.base) for t in results["one"]["Timestamps"]] == [5, 15]
    assert results["min"]["Values"] == [20.0]


def test_unit_filter(d):
    results = d.results([d.stat("count", "b", "Sum", unit="Count"), d.stat("bytes", "b", "Sum", unit="Bytes")])
    assert d.series(results["count"]) == [(0, 2.0), (1, 2.0), (2, 2.0)]
    assert results["bytes"]["Values"] == [] and results["bytes"]["StatusCode"] == "Complete"


# == metric math =================================================================================


def math(d, expression: str, **query) -> list[tuple[int, float]]:
    results = d.results([
        d.stat("a", "a", "Sum", ReturnData=False), d.stat("b", "b", "Sum", ReturnData=False),
        {"Id": "e", "Expression": expression, **query},
    ])
    assert list(results) == ["e"]
    return d.series(results["e"])


@pytest.mark.parametrize("expression, expected", [
    ("a + b", [(0, 3.0), (1, -2.0), (2, 11.0), (3, 16.0)]),  # a missing value counts as 0
    ("a * 2 - 1", [(0, 1.0), (1, -9.0), (2, 17.0), (3, 31.0)]),
    ("a / b", [(0, 0.5), (1, -2.0), (2, 4.5)]),  # division by a missing (0) value drops the point
    ("a ^ 2", [(0, 1.0), (1, 16.0), (2, 81.0), (3, 256.0)]),
    ("-a", [(0, -1.0), (1, 4.0), (2, -9.0), (3, -16.0)]),
    ("a > 2", [(0, 0.0), (1, 0.0), (2, 1.0), (3, 1.0)]),
    ("a >= 9 AND b == 2", [(0, 0.0), (1, 0.0), (2, 1.0), (3, 0.0)]),
    ("a < 0 || b > 1", [(0, 1.0), (1, 1.0), (2, 1.0), (3, 0.0)]),
    ("ABS(a)", [(0, 1.0), (1, 4.0), (2, 9.0), (3, 16.0)]),
    ("CEIL(a / 3)", [(0, 1.0), (1, -1.0), (2, 3.0), (3, 6.0)]),
    ("FLOOR(a / 3)", [(0, 0.0), (1, -2.0), (2, 3.0), (3, 5.0)]),
    ("a - AVG(a)", [(0, -4.5), (1, -9.5), (2, 3.5), (3, 10.5)]),  # AVG of one series is a scalar
    ("a * 0 + SUM(a)", [(0, 22.0), (1, 22.0), (2, 22.0), (3, 22.0)]),
    ("a * 0 + MIN(a)", [(0, -4.0), (1, -4.0), (2, -4.0), (3, -4.0)]),
    ("a * 0 + MAX(a)", [(0, 16.0), (1, 16.0), (2, 16.0), (3, 16.0)]),
    ("SUM(METRICS())", [(0, 3.0), (1, -2.0), (2, 11.0), (3, 16.0)]),
    # Across an array a missing value counts as 0, as in arithmetic (the user guide says so for AVG).
    ("AVG(METRICS())", [(0, 1.5), (1, -1.0), (2, 5.5), (3, 8.0)]),
    ("MIN(METRICS())", [(0, 1.0), (1, -4.0), (2, 2.0), (3, 0.0)]),
    ("MAX(METRICS())", [(0, 2.0), (1, 2.0), (2, 9.0), (3, 16.0)]),
    ("STDDEV(METRICS())", [(0, 0.5), (1, 3.0), (2, 3.5), (3, 8.0)]),
    ("RATE(a)", [(1, -5 / 60), (2, 13 / 60), (3, 7 / 60)]),  # per second, from the previous point
    ("DIFF(a)", [(1, -5.0), (2, 13.0), (3, 7.0)]),
    ("DIFF_TIME(a)", [(1, 60.0), (2, 60.0), (3, 60.0)]),
    ("FILL(b, 0)", [(0, 2.0), (1, 2.0), (2, 2.0), (3, 0.0)]),
    ("FILL(b, REPEAT)", [(0, 2.0), (1, 2.0), (2, 2.0), (3, 2.0)]),
    ("RUNNING_SUM(a)", [(0, 1.0), (1, -3.0), (2, 6.0), (3, 22.0)]),
    ("IF(a > 2, a, 0)", [(0, 0.0), (1, 0.0), (2, 9.0), (3, 16.0)]),
    ("IF(a > 2, 1)", [(2, 1.0), (3, 1.0)]),  # no else: the point is dropped
    ("a / PERIOD(a)", [(0, 1 / 60), (1, -4 / 60), (2, 9 / 60), (3, 16 / 60)]),
])
def test_math(d, expression, expected):
    got = math(d, expression)
    assert [m for m, _ in got] == [m for m, _ in expected]
    assert [v for _, v in got] == pytest.approx([v for _, v in expected])


def test_stddev_of_one_series_is_a_scalar(d):
    mean = sum(A) / 4
    sd = (sum((v - mean) ** 2 for v in A) / 4) ** 0.5
    got = math(d, "a * 0 + STDDEV(a)")
    assert [v for _, v in got] == pytest.approx([sd] * 4)  # the population standard deviation


def test_metrics_returns_every_metric_stat(d):
    results = d.get([
        d.stat("a", "a", "Sum", ReturnData=False), d.stat("b", "b", "Sum", ReturnData=False),
        {"Id": "all", "Expression": "METRICS()"},
        {"Id": "some", "Expression": "METRICS('b')", "Label": "only b"},
    ])["MetricDataResults"]
    # Each series of an array keeps its own label, after the query's Label when there is one.
    assert [(r["Id"], r["Label"]) for r in results] == [("all", "a"), ("all", "b"), ("some", "only b b")]
    assert [d.series(r) for r in results] == [
        [(0, 1.0), (1, -4.0), (2, 9.0), (3, 16.0)], [(0, 2.0), (1, 2.0), (2, 2.0)], [(0, 2.0), (1, 2.0), (2, 2.0)],
    ]


def test_expressions_can_use_expressions(d):
    results = d.results([
        d.stat("a", "a", "Sum", ReturnData=False),
        {"Id": "doubled", "Expression": "a * 2", "ReturnData": False},
        {"Id": "e", "Expression": "doubled + 1", "Label": "twice plus one"},
    ])
    assert results["e"]["Label"] == "twice plus one"
    assert d.series(results["e"]) == [(0, 3.0), (1, -7.0), (2, 19.0), (3, 33.0)]


# == labels, ReturnData, ordering ================================================================


def test_default_labels_name_what_differs(d):
    # AWS-recorded (localstack test_label_generation / test_get_metric_data_with_zero_and_labels).
    def labels(*queries):
        return [r["Label"] for r in d.get(list(queries))["MetricDataResults"]]

    assert labels(d.stat("x", "dist", "Sum")) == ["dist"]
    assert labels(d.stat("x", "dist", "Sum"), d.stat("y", "dist", "Minimum", period=120)) == [
        "dist Sum 60", "dist Minimum 120"]
    assert labels(d.stat("x", "dist", "Sum"), d.stat("y", "dist", "Minimum")) == ["dist Sum", "dist Minimum"]
    assert labels(d.stat("x", "dist", "Sum"), d.stat("y", "dist", "Sum", period=120)) == ["dist 60", "dist 120"]
    assert labels(d.stat("x", "dist", "Sum", unit="None"), d.stat("y", "dist", "Sum", unit="Count")) == [
        "dist", "dist"]
    assert labels(d.stat("x", "dist", "Sum", Label="mine"), d.stat("y", "a", "Sum")) == ["mine", "a"]


def test_results_come_in_request_order_without_messages(d):
    response = d.get([d.stat("z", "a", "Sum"), d.stat("y", "b", "Sum"), d.stat("x", "dist", "Sum")])
    assert [r["Id"] for r in response["MetricDataResults"]] == ["z", "y", "x"]
    assert response["Messages"] == []
    for result in response["MetricDataResults"]:
        assert "Messages" not in result  # AWS leaves empty per-result Messages out
        assert result["StatusCode"] == "Complete"


def test_return_data_false_hides_a_query(d):
    results = d.get([d.stat("a", "a", "Sum"), d.stat("b", "b", "Sum", ReturnData=False)])["MetricDataResults"]
    assert [r["Id"] for r in results] == ["a"]


def test_scan_by(d):
    desc = d.client.get_metric_data(MetricDataQueries=[d.stat("a", "a", "Sum")], StartTime=at(d.base),
                                    EndTime=at(d.base + 240))["MetricDataResults"][0]
    asc = d.get([d.stat("a", "a", "Sum")], ScanBy="TimestampAscending")["MetricDataResults"][0]
    explicit = d.get([d.stat("a", "a", "Sum")], ScanBy="TimestampDescending")["MetricDataResults"][0]
    assert desc["Timestamps"] == explicit["Timestamps"] == list(reversed(asc["Timestamps"]))
    assert desc["Values"] == [16.0, 9.0, -4.0, 1.0]
    assert asc["Values"] == [1.0, -4.0, 9.0, 16.0]


def test_no_data_is_an_empty_complete_result(d):
    (result,) = d.get([{"Id": "q", "MetricStat": {
        "Metric": {"Namespace": d.ns, "MetricName": "a", "Dimensions": [{"Name": "foo", "Value": "bar"}]},
        "Period": 60, "Stat": "Sum"}}])["MetricDataResults"]
    assert (result["Label"], result["Values"], result["Timestamps"], result["StatusCode"]) == ("a", [], [], "Complete")


# == pagination ==================================================================================


def test_max_datapoints_and_next_token(d):
    queries = [d.stat("a", "a", "Sum"), d.stat("b", "b", "Sum")]
    collected: dict[str, list] = {"a": [], "b": []}
    token, pages = None, []
    while True:
        kwargs = {"MaxDatapoints": 3}
        if token:
            kwargs["NextToken"] = token
        page = d.get(queries, **kwargs)
        pages.append(page)
        for r in page["MetricDataResults"]:
            collected[r["Id"]] += d.series(r)
        token = page.get("NextToken")
        if not token:
            break
    assert [sum(len(r["Values"]) for r in p["MetricDataResults"]) for p in pages] == [3, 3, 1]
    assert pages[0]["MetricDataResults"][0]["StatusCode"] == "PartialData"
    assert all(r["StatusCode"] == "Complete" for r in pages[-1]["MetricDataResults"])
    assert collected == {"a": [(0, 1.0), (1, -4.0), (2, 9.0), (3, 16.0)], "b": [(0, 2.0), (1, 2.0), (2, 2.0)]}
    # botocore's paginator follows the same tokens.
    full = d.client.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=at(d.base), EndTime=at(d.base + 240), ScanBy="TimestampAscending",
        PaginationConfig={"PageSize": 2},
    )
    assert sum(len(r["Values"]) for p in full for r in p["MetricDataResults"]) == 7


def test_bad_next_token(d):
    code, _, status = error_of(d.get, queries=[d.stat("a", "a", "Sum")], NextToken="garbage")
    assert (code, status) == ("InvalidNextToken", 400)


# == errors ======================================================================================


def test_start_equal_to_end(d):
    # Real AWS, with its trailing newline (elastic/beats#32687).
    code, message, status = error_of(
        d.client.get_metric_data, MetricDataQueries=[d.stat("a", "a", "Sum")], StartTime=at(d.base),
        EndTime=at(d.base),
    )
    assert (code, message, status) == (
        "ValidationError", "The parameter StartTime must not equal parameter EndTime.\n", 400)


def test_bad_statistics_are_all_listed(d):
    # Real AWS (prometheus-community/yet-another-cloudwatch-exporter#385): one line per query.
    code, message, status = error_of(d.get, queries=[
        d.stat("a", "a", "Sum"), d.stat("b", "a", "Median"), d.stat("c", "a", "p200"),
    ])
    assert (code, status) == ("ValidationError", 400)
    assert message == (
        "The value Median for parameter MetricDataQueries.member.2.MetricStat.Stat is not a valid statistic.\n"
        "The value p200 for parameter MetricDataQueries.member.3.MetricStat.Stat is not a valid statistic.\n"
    )


@pytest.mark.parametrize("queries_of", [
    lambda d: [d.stat("Bad", "a", "Sum")],  # ids start with a lower-case letter
    lambda d: [d.stat("a", "a", "Sum"), d.stat("a", "b", "Sum")],  # ids are unique
    lambda d: [d.stat("a", "a", "Sum", ReturnData=False)],  # something must be returned
    lambda d: [{"Id": "e", "Expression": "a +"}, d.stat("a", "a", "Sum")],  # syntax
    lambda d: [{"Id": "e", "Expression": "nope * 2"}],  # unknown id
    lambda d: [{"Id": "e", "Expression": "NOPE(a)"}, d.stat("a", "a", "Sum")],  # unknown function
    lambda d: [{"Id": "e", "Expression": "e + 1"}],  # a cycle
    lambda d: [{"Id": "x", "Expression": "1", "MetricStat": d.stat("a", "a", "Sum")["MetricStat"]}],
], ids=["id-case", "duplicate-id", "no-return-data", "syntax", "unknown-id", "unknown-function", "cycle",
        "stat-and-expression"])
def test_bad_queries_are_validation_errors(d, queries_of):
    code, message, status = error_of(d.get, queries=queries_of(d))
    assert (code, status) == ("ValidationError", 400)
    assert message


def test_more_than_500_queries(raw_cw, datasets, protocol):
    d = datasets[protocol]
    code, message, status = error_of(
        raw_cw.get_metric_data, MetricDataQueries=[d.stat(f"q{i}", "a", "Sum") for i in range(501)],
        StartTime=at(d.base), EndTime=at(d.base + 60),
    )
    assert (code, status) == ("ValidationError", 400)
    assert message == "The collection MetricDataQueries must not have a size greater than 500."
