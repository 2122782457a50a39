"""CloudWatch metrics end to end on each wire protocol (json, query, smithy-rpc-v2-cbor):
PutMetricData in all its forms and limits, ListMetrics filters and pagination,
GetMetricStatistics statistics, units and period rules, and AWS's error codes and messages.

Expected values come from AWS's documentation and from responses recorded against real AWS
(localstack's tests/aws/services/cloudwatch/test_cloudwatch.snapshot.json); see the notes on
each test.
"""

from __future__ import annotations

import time

import pytest

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    at,
    cw,
    cw_clients,
    cloudwatch_data_root,
    error_of,
    minute_floor,
    protocol,
    raw_cw,
    raw_cw_clients,
)

ALL_STATS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]


@pytest.fixture
def ns(unique, protocol) -> str:
    return f"e2e/{protocol}/{unique}"


def recent_minute(minutes_ago: int = 5) -> int:
    """The start (epoch seconds) of a whole minute some minutes back: data put there is complete."""
    return minute_floor(time.time()) - minutes_ago * 60


def stats(client, ns, name, start, end, period=60, **kwargs) -> list[dict]:
    """GetMetricStatistics datapoints, oldest first."""
    kwargs.setdefault("Statistics", ALL_STATS)
    points = client.get_metric_statistics(
        Namespace=ns, MetricName=name, StartTime=at(start), EndTime=at(end), Period=period, **kwargs,
    )["Datapoints"]
    return sorted(points, key=lambda p: (p["Timestamp"], p.get("Unit", "")))


def without_timestamp(point: dict) -> dict:
    return {k: v for k, v in point.items() if k != "Timestamp"}


# == PutMetricData: the forms of a datum =========================================================


def test_values_in_one_minute_aggregate_as_aws_documents(cw, ns):
    # publishingMetrics.md: values 2, 4, 5 in one minute ->
    # {"SampleCount":3.0,"Average":3.6666666666666665,"Maximum":5.0,"Minimum":2.0,"Sum":11.0,"Unit":"None"}
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": v, "Timestamp": at(minute + s)} for v, s in ((2, 1), (4, 20), (5, 59))
    ])
    points = stats(cw, ns, "m", minute - 60, minute + 120)
    assert len(points) == 1
    assert points[0]["Timestamp"] == at(minute)
    assert without_timestamp(points[0]) == {
        "SampleCount": 3.0, "Average": 3.6666666666666665, "Maximum": 5.0, "Minimum": 2.0, "Sum": 11.0,
        "Unit": "None",
    }
    for key in ALL_STATS:
        assert isinstance(points[0][key], float)


def test_values_and_counts(cw, ns):
    # AWS-recorded (test_put_metric_data_values_list): Values [1, 10], Counts [2, 4], Unit Count ->
    # SampleCount 6, Sum 42, Maximum 10.
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[{
        "MetricName": "m", "Timestamp": at(minute + 5), "Values": [1.0, 10.0], "Counts": [2, 4], "Unit": "Count",
    }])
    points = stats(cw, ns, "m", minute, minute + 60, Statistics=["SampleCount", "Sum", "Maximum"])
    assert [without_timestamp(p) for p in points] == [
        {"Maximum": 10.0, "SampleCount": 6.0, "Sum": 42.0, "Unit": "Count"}
    ]


def test_values_without_counts_count_once_each(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + 5), "Values": [1.0, 2.0, 3.0, 10.0]},
    ])
    (point,) = stats(cw, ns, "m", minute, minute + 60)
    assert (point["SampleCount"], point["Sum"], point["Minimum"], point["Maximum"]) == (4.0, 16.0, 1.0, 10.0)


def test_statistic_values_merge_with_raw_values(cw, ns):
    # AWS-recorded (test_get_metric_data_stats): Value 11 plus StatisticValues {10, 55, 1, 10} in
    # one period -> Sum 66, SampleCount 11, Minimum 1, Maximum 11, Average 6.
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + 5), "Value": 11, "Unit": "Seconds"},
        {"MetricName": "m", "Timestamp": at(minute + 6), "Unit": "Seconds",
         "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10}},
    ])
    (point,) = stats(cw, ns, "m", minute, minute + 60)
    assert without_timestamp(point) == {
        "SampleCount": 11.0, "Average": 6.0, "Sum": 66.0, "Minimum": 1.0, "Maximum": 11.0, "Unit": "Seconds",
    }


def test_values_together_with_statistic_values_are_accepted(cw, ns):
    # AWS accepts Values + StatisticValues in one datum (localstack test_put_metric_data_validation,
    # validated against AWS: "For some strange reason the AWS implementation allows this").
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[{
        "MetricName": "m", "Timestamp": at(minute + 5), "Values": [1.0, 10.0], "Unit": "Count",
        "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10},
    }])
    (point,) = stats(cw, ns, "m", minute, minute + 60)
    assert point["SampleCount"] == 12.0 and point["Sum"] == 66.0


def test_units_are_aggregated_separately_and_filter(cw, ns):
    # AWS-recorded (test_handle_different_units): one datapoint per unit; no conversion.
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + 5), "Value": 1, "Unit": "Seconds"},
        {"MetricName": "m", "Timestamp": at(minute + 5), "Value": 5, "Unit": "Count"},
        {"MetricName": "m", "Timestamp": at(minute + 5), "Value": 10},
    ])
    points = stats(cw, ns, "m", minute, minute + 60, Statistics=["Average"])
    assert sorted((p["Average"], p["Unit"]) for p in points) == [(1.0, "Seconds"), (5.0, "Count"), (10.0, "None")]
    assert all(p["Timestamp"] == at(minute) for p in points)
    only = stats(cw, ns, "m", minute, minute + 60, Statistics=["Average"], Unit="Count")
    assert [(p["Average"], p["Unit"]) for p in only] == [(5.0, "Count")]
    assert stats(cw, ns, "m", minute, minute + 60, Statistics=["Average"], Unit="Bytes") == []


def test_default_timestamp_is_now(cw, ns):
    before = time.time()
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 3}])
    (point,) = stats(cw, ns, "m", minute_floor(before) - 60, minute_floor(before) + 180)
    assert point["Timestamp"] in (at(minute_floor(before)), at(minute_floor(before) + 60))
    assert point["Sum"] == 3.0


def test_dimensions_identify_the_metric(cw, ns):
    # "CloudWatch does not aggregate across dimensions for your custom metrics."
    minute = recent_minute()
    a, b = [{"Name": "Host", "Value": "a"}], [{"Name": "Host", "Value": "b"}]
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Dimensions": a, "Timestamp": at(minute + 1), "Value": 1},
        {"MetricName": "m", "Dimensions": b, "Timestamp": at(minute + 1), "Value": 2},
        {"MetricName": "m", "Dimensions": [{"Name": "Host", "Value": "a"}, {"Name": "Gpu", "Value": "0"}],
         "Timestamp": at(minute + 1), "Value": 4},
    ])
    assert [p["Sum"] for p in stats(cw, ns, "m", minute, minute + 60, Dimensions=a)] == [1.0]
    assert [p["Sum"] for p in stats(cw, ns, "m", minute, minute + 60, Dimensions=b)] == [2.0]
    # The order dimensions are given in does not matter; a subset or no dimensions is another metric.
    both = [{"Name": "Gpu", "Value": "0"}, {"Name": "Host", "Value": "a"}]
    assert [p["Sum"] for p in stats(cw, ns, "m", minute, minute + 60, Dimensions=both)] == [4.0]
    assert stats(cw, ns, "m", minute, minute + 60) == []


def test_thirty_dimensions_are_accepted(cw, ns):
    minute = recent_minute()
    dims = [{"Name": f"d{i:02d}", "Value": f"v{i}"} for i in range(30)]
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Dimensions": dims, "Timestamp": at(minute + 1), "Value": 7},
    ])
    assert [p["Sum"] for p in stats(cw, ns, "m", minute, minute + 60, Dimensions=dims)] == [7.0]
    listed = cw.list_metrics(Namespace=ns)["Metrics"]
    assert len(listed) == 1 and len(listed[0]["Dimensions"]) == 30


def test_high_resolution_data_has_sub_minute_periods(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "hi", "StorageResolution": 1, "Timestamp": at(minute + s), "Value": s}
        for s in (1, 2, 11, 25, 59)
    ])
    ten = stats(cw, ns, "hi", minute, minute + 60, period=10, Statistics=["Sum", "SampleCount"])
    assert [(p["Timestamp"], p["Sum"], p["SampleCount"]) for p in ten] == [
        (at(minute), 3.0, 2.0), (at(minute + 10), 11.0, 1.0), (at(minute + 20), 25.0, 1.0),
        (at(minute + 50), 59.0, 1.0),
    ]
    one = stats(cw, ns, "hi", minute, minute + 60, period=1, Statistics=["Sum"])
    assert [p["Timestamp"] for p in one] == [at(minute + s) for s in (1, 2, 11, 25, 59)]
    # The same data still makes one-minute periods.
    assert [p["Sum"] for p in stats(cw, ns, "hi", minute, minute + 60, Statistics=["Sum"])] == [98.0]


def test_old_and_future_timestamps_inside_the_window_are_accepted(cw, ns):
    now = time.time()
    old = minute_floor(now - 13 * 86400)
    soon = minute_floor(now + 3600)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(old + 1), "Value": 1},
        {"MetricName": "m", "Timestamp": at(soon + 1), "Value": 2},
    ])
    assert [p["Sum"] for p in stats(cw, ns, "m", old, old + 60)] == [1.0]
    assert [p["Sum"] for p in stats(cw, ns, "m", soon, soon + 60)] == [2.0]


def test_large_requests_are_gzipped_by_botocore_and_read(cw, ns):
    # botocore compresses PutMetricData bodies of 10 KiB or more (requestcompression trait), on
    # every protocol; the server must gunzip before parsing.
    sent_headers = []

    def capture(request, **_):
        sent_headers.append(dict(request.headers))

    cw.meta.events.register("before-send.cloudwatch.PutMetricData", capture)
    try:
        minute = recent_minute()
        datums = [
            {"MetricName": f"metric-{i:04d}", "Dimensions": [{"Name": "Host", "Value": f"host-{i:04d}"}],
             "Timestamp": at(minute + 1), "Value": float(i), "Unit": "Count"}
            for i in range(400)
        ]
        cw.put_metric_data(Namespace=ns, MetricData=datums)
    finally:
        cw.meta.events.unregister("before-send.cloudwatch.PutMetricData", capture)
    encoding = sent_headers[-1].get("Content-Encoding")
    assert encoding is not None and "gzip" in (encoding.decode() if isinstance(encoding, bytes) else encoding)
    listed = cw.get_paginator("list_metrics").paginate(Namespace=ns).build_full_result()["Metrics"]
    assert len(listed) == 400
    sample = stats(cw, ns, "metric-0123", minute, minute + 60,
                   Dimensions=[{"Name": "Host", "Value": "host-0123"}], Statistics=["Sum"])
    assert [(p["Sum"], p["Unit"]) for p in sample] == [(123.0, "Count")]


def test_thousand_datums_are_accepted(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + i % 60), "Value": 1.0} for i in range(1000)
    ])
    assert [p["SampleCount"] for p in stats(cw, ns, "m", minute, minute + 60)] == [1000.0]


def test_hundred_fifty_distinct_values_make_percentiles(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + 1), "Values": [float(v) for v in range(1, 151)]},
    ])
    points = cw.get_metric_statistics(
        Namespace=ns, MetricName="m", StartTime=at(minute), EndTime=at(minute + 60), Period=60,
        ExtendedStatistics=["p0", "p50", "p90", "p100"],
    )["Datapoints"]
    assert len(points) == 1
    assert points[0]["ExtendedStatistics"] == {"p0": 1.0, "p50": 75.0, "p90": 135.0, "p100": 150.0}
    assert "Sum" not in points[0] and points[0]["Unit"] == "None"


# == PutMetricData: errors =======================================================================


def test_value_and_values_are_mutually_exclusive(cw, ns):
    # AWS-validated message (localstack test_put_metric_data_validation).
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "ok", "Value": 1},
        {"MetricName": "m", "Value": 1.5, "Values": [1.0, 10.0], "Unit": "Count"},
    ])
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message == ("The parameters MetricData.member.2.Value and MetricData.member.2.Values are "
                       "mutually exclusive and you have specified both.")


def test_value_and_statistic_values_are_mutually_exclusive(cw, ns):
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[{
        "MetricName": "m", "Value": 1.5, "Unit": "Count",
        "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10},
    }])
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message == ("The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues "
                       "are mutually exclusive and you have specified both.")


def test_values_and_counts_must_be_the_same_size(cw, ns):
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Values": [1.0, 10.0], "Counts": [2, 4, 5], "Unit": "Count"},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == ("The parameters MetricData.member.1.Values and MetricData.member.1.Counts must be "
                       "of the same size.")


def test_error_codes_map_to_botocore_exceptions(cw, ns):
    with pytest.raises(cw.exceptions.InvalidParameterCombinationException):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1, "Values": [1.0]}])
    with pytest.raises(cw.exceptions.InvalidParameterValueException):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Values": [1.0], "Counts": [1, 1]}])
    with pytest.raises(cw.exceptions.MissingRequiredParameterException):
        cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m"}])


def test_timestamp_older_than_two_weeks_is_rejected_for_every_datum(cw, ns):
    # Real AWS lists each offending datum, one per line (aws-robotics/cloudwatchmetrics-ros1#46;
    # the single-datum text is also in python-diamond/Diamond#372).
    old = at(time.time() - 15 * 86400)
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": old, "Value": 1},
        {"MetricName": "m", "Value": 1},
        {"MetricName": "m", "Timestamp": old, "Value": 1},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == (
        "The parameter MetricData.member.1.Timestamp must specify a time within the past two weeks.\n"
        "The parameter MetricData.member.3.Timestamp must specify a time within the past two weeks."
    )
    # Nothing of a rejected request is stored.
    assert cw.list_metrics(Namespace=ns)["Metrics"] == []


def test_timestamp_more_than_two_hours_ahead_is_rejected(cw, ns):
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(time.time() + 3 * 3600), "Value": 1},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message.startswith("The parameter MetricData.member.1.Timestamp must specify a time ")


@pytest.mark.parametrize("value, shown", [(float("nan"), "\ufffd"), (float("inf"), "∞"), (float("-inf"), "-∞")])
def test_non_finite_values_are_rejected(cw, ns, value, shown):
    # Real AWS prints NaN as U+FFFD and the infinities as ∞ / -∞ (prometheus-to-cloudwatch PR #17;
    # Netflix servo CloudWatchValueTest). botocore sends them as "NaN"/"Infinity" strings on json,
    # as text on query and as half-floats on cbor.
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1.0}, {"MetricName": "m", "Value": value},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == f"The value {shown} for parameter MetricData.member.2.Value is invalid."


def test_values_out_of_range_are_rejected(cw, ns):
    code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Values": [1.0, 2.0**361]},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message.startswith("The value ") and message.endswith(
        " for parameter MetricData.member.1.Values.member.2 is invalid.")
    code, _, _ = error_of(cw.put_metric_data, Namespace=ns, MetricData=[{"MetricName": "m", "Value": 1e-200}])
    assert code == "InvalidParameterValue"
    # Zero and the edges of the range are fine.
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 0.0}, {"MetricName": "m", "Value": 2.0**360},
        {"MetricName": "m", "Value": -(2.0**360)}, {"MetricName": "m", "Value": 2.0**-360},
    ])


def test_storage_resolution_must_be_1_or_60(raw_cw, ns):
    # boto/botocore#1671 quotes the message.
    code, message, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1, "StorageResolution": 30},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The parameter MetricData.member.1.StorageResolution must be a value in the set [ 1, 60 ]."


def test_more_than_thirty_dimensions_are_rejected(raw_cw, ns):
    dims = [{"Name": f"d{i:02d}", "Value": "v"} for i in range(31)]
    code, message, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1, "Dimensions": dims},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The collection MetricData.member.1.Dimensions must not have a size greater than 30."


def test_more_than_a_thousand_datums_are_rejected(raw_cw, ns):
    code, message, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1.0} for _ in range(1001)
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    # The 20-datum limit of old was worded "The collection MetricData must not have a size greater
    # than 20." (aknostic/elasticsearch-cloudwatch#3).
    assert message == "The collection MetricData must not have a size greater than 1000."


def test_more_than_150_values_are_rejected(raw_cw, ns):
    code, message, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Values": [float(v) for v in range(151)]},
    ])
    assert (code, status) == ("InvalidParameterValue", 400)
    assert message == "The collection MetricData.member.1.Values must not have a size greater than 150."


def test_missing_members_are_missing_parameter(raw_cw, ns):
    # Real AWS: "The parameter MetricData.member.16.Dimensions.member.3.Value is required." one per
    # line (noxdafox/rabbitmq-cloudwatch-exporter#14); "The parameter Namespace is required."
    # (JuliaCloud/AWSSDK.jl#2).
    code, message, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Value": 1, "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "b"}]},
        {"MetricName": "m", "Value": 1, "Dimensions": [{"Name": "c"}]},
    ])
    assert (code, status) == ("MissingParameter", 400)
    assert message == ("The parameter MetricData.member.1.Dimensions.member.2.Value is required.\n"
                       "The parameter MetricData.member.2.Dimensions.member.1.Value is required.")
    code, message, _ = error_of(raw_cw.put_metric_data, MetricData=[{"MetricName": "m", "Value": 1}])
    assert (code, message) == ("MissingParameter", "The parameter Namespace is required.")


def test_datum_without_any_value_is_rejected(raw_cw, ns):
    code, _, status = error_of(raw_cw.put_metric_data, Namespace=ns, MetricData=[{"MetricName": "m"}])
    assert (code, status) == ("MissingParameter", 400)


# == ListMetrics =================================================================================


def test_list_metrics_filters(cw, ns):
    # After localstack's AWS-validated test_list_metrics_with_filters.
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "CPUUtilization", "Value": 15},
        {"MetricName": "MemoryUtilization", "Dimensions": [{"Name": "InstanceId", "Value": "one"}], "Value": 30},
        {"MetricName": "DiskReadOps", "Dimensions": [{"Name": "InstanceId", "Value": "two"}], "Value": 15},
        {"MetricName": "DiskWriteOps", "Dimensions": [{"Name": "InstanceId", "Value": "two"},
                                                      {"Name": "Volume", "Value": "v1"}],
         "StatisticValues": {"Maximum": 1.0, "Minimum": 1.0, "SampleCount": 1.0, "Sum": 1.0}},
        {"MetricName": "CPUUtilization", "Value": 16},  # the same metric again
    ])

    def names(**kwargs):
        return sorted(m["MetricName"] for m in cw.list_metrics(Namespace=ns, **kwargs)["Metrics"])

    assert names() == ["CPUUtilization", "DiskReadOps", "DiskWriteOps", "MemoryUtilization"]
    assert names(MetricName="CPUUtilization") == ["CPUUtilization"]
    assert names(Dimensions=[{"Name": "InstanceId"}]) == ["DiskReadOps", "DiskWriteOps", "MemoryUtilization"]
    assert names(Dimensions=[{"Name": "InstanceId", "Value": "two"}]) == ["DiskReadOps", "DiskWriteOps"]
    assert names(Dimensions=[{"Name": "InstanceId", "Value": "two"}, {"Name": "Volume"}]) == ["DiskWriteOps"]
    assert names(Dimensions=[{"Name": "Nope"}]) == []
    assert names(RecentlyActive="PT3H") == ["CPUUtilization", "DiskReadOps", "DiskWriteOps", "MemoryUtilization"]
    (metric,) = cw.list_metrics(Namespace=ns, MetricName="DiskWriteOps")["Metrics"]
    assert metric == {"Namespace": ns, "MetricName": "DiskWriteOps", "Dimensions": [
        {"Name": "InstanceId", "Value": "two"}, {"Name": "Volume", "Value": "v1"}]}
    # Without a namespace, the metric is found among all.
    found = cw.list_metrics(MetricName="DiskWriteOps", Dimensions=[{"Name": "Volume", "Value": "v1"}])["Metrics"]
    assert metric in found


def test_list_metrics_pages_at_500(cw, ns):
    # AWS: at most 500 metrics per page, with a NextToken (localstack test_list_metrics_pagination).
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": f"m-{i:04d}", "Timestamp": at(minute), "Value": 1.0} for i in range(1000)
    ])
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m-1000", "Value": 1.0}])
    first = cw.list_metrics(Namespace=ns)
    assert len(first["Metrics"]) == 500 and first.get("NextToken")
    second = cw.list_metrics(Namespace=ns, NextToken=first["NextToken"])
    assert len(second["Metrics"]) == 500 and second.get("NextToken")
    third = cw.list_metrics(Namespace=ns, NextToken=second["NextToken"])
    assert len(third["Metrics"]) == 1 and "NextToken" not in third
    seen = [m["MetricName"] for page in (first, second, third) for m in page["Metrics"]]
    assert sorted(seen) == [f"m-{i:04d}" for i in range(1001)]
    pages = list(cw.get_paginator("list_metrics").paginate(Namespace=ns))
    assert [len(p["Metrics"]) for p in pages] == [500, 500, 1]


def test_list_metrics_bad_token(cw, ns):
    code, _, status = error_of(cw.list_metrics, Namespace=ns, NextToken="not-a-token")
    assert (code, status) == ("InvalidNextToken", 400)


def test_list_metrics_recently_active_enum(raw_cw, ns):
    code, message, status = error_of(raw_cw.list_metrics, Namespace=ns, RecentlyActive="PT1H")
    assert (code, status) == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [PT3H]")


# == GetMetricStatistics =========================================================================


def test_extended_statistics(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(minute + 1), "Values": [float(v) for v in range(1, 101)]},
        {"MetricName": "m", "Timestamp": at(minute + 61), "Values": [10.0, 20.0], "Counts": [3, 1]},
    ])
    points = cw.get_metric_statistics(
        Namespace=ns, MetricName="m", StartTime=at(minute), EndTime=at(minute + 120), Period=60,
        ExtendedStatistics=["p50", "p99", "p99.9", "tm90", "IQM", "TC(:50)", "TS(10%:20%)", "PR(:25)", "wm90"],
    )["Datapoints"]
    points.sort(key=lambda p: p["Timestamp"])
    assert [p["Timestamp"] for p in points] == [at(minute), at(minute + 60)]
    first, second = points[0]["ExtendedStatistics"], points[1]["ExtendedStatistics"]
    assert first["p50"] == 50.0 and first["p99"] == 99.0 and first["p99.9"] == 100.0
    assert first["tm90"] == pytest.approx(45.5)  # mean of 1..90
    assert first["IQM"] == pytest.approx(50.5)  # mean of 26..75
    assert first["TC(:50)"] == 50.0
    assert first["TS(10%:20%)"] == pytest.approx(sum(range(11, 21)))
    assert first["PR(:25)"] == 25.0
    assert first["wm90"] == pytest.approx((sum(range(1, 91)) + 10 * 90) / 100)
    assert second["p50"] == 10.0 and second["p99"] == 20.0
    assert second["PR(:25)"] == 100.0


def test_percentiles_are_absent_for_statistic_sets(cw, ns):
    minute = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[{
        "MetricName": "m", "Timestamp": at(minute + 1),
        "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1, "Maximum": 10},
    }])
    points = cw.get_metric_statistics(
        Namespace=ns, MetricName="m", StartTime=at(minute), EndTime=at(minute + 60), Period=60,
        ExtendedStatistics=["p50"],
    )["Datapoints"]
    assert len(points) == 1 and points[0].get("ExtendedStatistics", {}) == {}


def test_periods_and_start_alignment(cw, ns):
    base = recent_minute(30)
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(base + i * 60 + 30), "Value": float(i)} for i in range(10)
    ])
    # Five-minute periods start at StartTime rounded down to the minute.
    points = stats(cw, ns, "m", base + 17, base + 600, period=300, Statistics=["Sum", "SampleCount"])
    assert [(p["Timestamp"], p["Sum"], p["SampleCount"]) for p in points] == [
        (at(base), 10.0, 5.0), (at(base + 300), 35.0, 5.0),
    ]
    # EndTime is exclusive.
    assert [p["Sum"] for p in stats(cw, ns, "m", base, base + 120, Statistics=["Sum"])] == [0.0, 1.0]


def test_1440_datapoint_limit(cw, ns):
    # Real AWS message (measured capture quoted in wire-and-errors.md §5.3).
    end = minute_floor(time.time())
    code, message, status = error_of(
        cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=at(end - 13 * 86400),
        EndTime=at(end), Period=60, Statistics=["Sum"],
    )
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message == ("You have requested up to 18720 datapoints, which exceeds the limit of 1440. You may "
                       "reduce the datapoints requested by increasing Period, or decreasing the time range.")
    # 1440 exactly is fine.
    cw.get_metric_statistics(Namespace=ns, MetricName="m", StartTime=at(end - 86400), EndTime=at(end),
                             Period=60, Statistics=["Sum"])


def test_start_equal_to_end(cw, ns):
    # influxdata/telegraf#2022 (real AWS).
    moment = at(minute_floor(time.time()))
    code, message, status = error_of(
        cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=moment, EndTime=moment,
        Period=60, Statistics=["Sum"],
    )
    assert (code, message, status) == (
        "InvalidParameterValue", "The parameter StartTime must not equal parameter EndTime.", 400)


def test_start_after_end(cw, ns):
    now = minute_floor(time.time())
    code, _, status = error_of(
        cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=at(now), EndTime=at(now - 600),
        Period=60, Statistics=["Sum"],
    )
    assert (code, status) == ("InvalidParameterValue", 400)


def test_period_must_be_a_multiple_of_60(cw, ns):
    now = minute_floor(time.time())
    code, message, status = error_of(
        cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=at(now - 600), EndTime=at(now),
        Period=45, Statistics=["Sum"],
    )
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "Period" in message


def test_statistics_and_extended_statistics(cw, ns):
    now = minute_floor(time.time())
    common = dict(Namespace=ns, MetricName="m", StartTime=at(now - 600), EndTime=at(now), Period=60)
    code, _, status = error_of(cw.get_metric_statistics, Statistics=["Sum"], ExtendedStatistics=["p90"], **common)
    assert (code, status) == ("InvalidParameterCombination", 400)
    code, _, status = error_of(cw.get_metric_statistics, **common)
    assert (code, status) == ("MissingParameter", 400)
    code, message, status = error_of(cw.get_metric_statistics, ExtendedStatistics=["p101"], **common)
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "p101" in message


def test_bad_statistic_name(raw_cw, ns):
    # arabold/aws-to-slack#74 (real AWS).
    now = minute_floor(time.time())
    code, message, status = error_of(
        raw_cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=at(now - 600), EndTime=at(now),
        Period=60, Statistics=["Sum", "Median"],
    )
    assert (code, message, status) == (
        "InvalidParameterValue",
        "The parameter Statistics.member.2 must be a value in the set [ Minimum, Maximum, Average, SampleCount, Sum ].",
        400,
    )


def test_no_data_is_an_empty_list_with_the_label(cw, ns):
    now = minute_floor(time.time())
    out = cw.get_metric_statistics(Namespace=ns, MetricName="nothing", StartTime=at(now - 600), EndTime=at(now),
                                   Period=60, Statistics=["Sum"])
    assert out["Label"] == "nothing" and out["Datapoints"] == []


def test_sub_minute_periods_only_cover_the_last_three_hours(cw, ns):
    # "Data points with a period of less than 60 seconds are available for 3 hours" (§7.2): older
    # high-resolution data is still there at one-minute resolution.
    old = minute_floor(time.time() - 4 * 3600)
    recent = recent_minute()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "hi", "StorageResolution": 1, "Timestamp": at(old + 15), "Value": 4.0},
        {"MetricName": "hi", "StorageResolution": 1, "Timestamp": at(recent + 15), "Value": 6.0},
    ])
    assert stats(cw, ns, "hi", old, old + 60, period=10, Statistics=["Sum"]) == []
    assert [p["Sum"] for p in stats(cw, ns, "hi", old, old + 60, Statistics=["Sum"])] == [4.0]
    assert [(p["Timestamp"], p["Sum"]) for p in stats(cw, ns, "hi", recent, recent + 60, period=10,
                                                      Statistics=["Sum"])] == [(at(recent + 10), 6.0)]
