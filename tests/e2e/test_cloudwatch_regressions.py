"""CloudWatch regressions, end to end on each wire protocol (json, query, smithy-rpc-v2-cbor).

Each test names the fault it guards against:

1. one PutMetricData of an enormous count broke its metric for good (overflow);
2. PutMetricAlarm took a NaN or infinite Threshold, and the alarm never left INSUFFICIENT_DATA;
3. GetMetricStatistics over exactly one day at Period 60 counted 1,441 datapoints;
4. sub-minute periods over standard-resolution data found nothing;
5. DescribeAnomalyDetectors left out SingleMetricAnomalyDetector.AccountId;
6. a deleted alarm's ARN failed ListTagsForResource instead of listing no tags;
7. identities reused: an alarm deleted and created again under its name, and listing tokens
   used after the data changed.

The expected behaviour and its source are given beside each rule in the service code.
"""

from __future__ import annotations

import json
import math
import time

import pytest

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    ARN_PREFIX,
    alarm,
    at,
    cloudwatch_data_root,
    cw,
    cw_clients,
    error_of,
    history,
    minute_floor,
    protocol,
    raw_cw,
    raw_cw_clients,
    wait_state,
)

EDGE = 2.0**360  # the largest magnitude PutMetricData accepts
ALL_STATS = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
TOPIC = "arn:aws:sns:us-east-1:000000000000:regressions"


@pytest.fixture
def ns(unique, protocol) -> str:
    return f"e2e/regressions/{protocol}/{unique}"


@pytest.fixture
def prefix(unique, protocol) -> str:
    return f"e2e-regressions-{protocol}-{unique}"


def statistics(client, ns: str, name: str, start: float, end: float, period: int = 60, **kwargs) -> list[dict]:
    if "ExtendedStatistics" not in kwargs:
        kwargs.setdefault("Statistics", ALL_STATS)
    points = client.get_metric_statistics(Namespace=ns, MetricName=name, StartTime=at(start), EndTime=at(end),
                                          Period=period, **kwargs)["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


def metric_data(client, ns: str, name: str, start: float, end: float, period: int, stat: str = "Sum",
                **kwargs) -> dict:
    (result,) = client.get_metric_data(
        MetricDataQueries=[{"Id": "q", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": name},
                                                      "Period": period, "Stat": stat}}],
        StartTime=at(start), EndTime=at(end), ScanBy="TimestampAscending", **kwargs,
    )["MetricDataResults"]
    return result


def still_alarm(client, name: str, **extra) -> str:
    """A metric alarm no data moves: its metric never gets any, and missing data keeps the state."""
    args = dict(AlarmName=name, Namespace="e2e/regressions/still", MetricName=f"never-{name}", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                TreatMissingData="ignore")
    args.update(extra)
    client.put_metric_alarm(**args)
    return name


# == 1. overflow =================================================================================


def test_counts_beyond_the_value_range_are_refused_and_the_metric_stays_readable(cw, ns):
    # The report: {"Values": [1], "Counts": [1e308]} twice in one minute answered 200 twice, then
    # every read of the metric 500. Counts share the Values' range, [-2^360, 2^360].
    minute = minute_floor(time.time()) - 120
    datum = {"MetricName": "m", "Timestamp": at(minute + 5), "Values": [1.0], "Counts": [1e308]}
    for _ in range(2):
        code, message, status = error_of(cw.put_metric_data, Namespace=ns, MetricData=[datum])
        assert (code, message, status) == (
            "InvalidParameterValue", "The value 1e+308 for parameter MetricData.member.1.Counts.member.1 is invalid.",
            400)
    code, message, _ = error_of(cw.put_metric_data, Namespace=ns, MetricData=[
        {"MetricName": "m", "Values": [1.0, 2.0], "Counts": [1.0, -1.0]}])
    assert (code, message) == ("InvalidParameterValue",
                               "The value -1.0 for parameter MetricData.member.1.Counts.member.2 is invalid.")
    assert statistics(cw, ns, "m", minute, minute + 60) == []  # nothing half-written


def test_the_largest_accepted_values_and_counts_twice_in_a_minute_stay_readable(cw, ns):
    minute = minute_floor(time.time()) - 120
    request = [
        {"MetricName": "m", "Timestamp": at(minute + 5), "Values": [EDGE, 0.0, 2.0**-360],
         "Counts": [EDGE, EDGE, EDGE]},
        {"MetricName": "m", "Timestamp": at(minute + 6),
         "StatisticValues": {"SampleCount": EDGE, "Sum": EDGE, "Minimum": -EDGE, "Maximum": EDGE}},
    ]
    cw.put_metric_data(Namespace=ns, MetricData=request)
    cw.put_metric_data(Namespace=ns, MetricData=request)
    (point,) = statistics(cw, ns, "m", minute, minute + 60)
    assert point["SampleCount"] == 8 * EDGE and point["Maximum"] == EDGE and point["Minimum"] == -EDGE
    assert all(math.isfinite(point[s]) for s in ALL_STATS)
    (extended,) = statistics(cw, ns, "m", minute, minute + 60, ExtendedStatistics=["ts99", "wm90", "tc90", "PR(0:1)"])
    assert all(math.isfinite(v) for v in extended.get("ExtendedStatistics", {}).values())
    result = metric_data(cw, ns, "m", minute, minute + 60, 60)
    assert result["Values"] == [point["Sum"]]


# == 2. non-finite thresholds ====================================================================


@pytest.mark.parametrize("threshold, shown", [(math.nan, "\ufffd"), (math.inf, "∞"), (-math.inf, "-∞")])
def test_a_threshold_must_be_a_number(raw_cw, prefix, threshold, shown):
    name = f"{prefix}-threshold"
    code, message, status = error_of(
        raw_cw.put_metric_alarm, AlarmName=name, Namespace="e2e/regressions", MetricName="m", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=threshold, ComparisonOperator="GreaterThanThreshold",
    )
    assert (code, message, status) == ("ValidationError", f"The value {shown} for parameter Threshold is invalid.",
                                       400)
    assert alarm(raw_cw, name) is None
    # An existing alarm is not changed by a bad update either.
    still_alarm(raw_cw, name)
    code, _, _ = error_of(raw_cw.put_metric_alarm, **{**dict(
        AlarmName=name, Namespace="e2e/regressions", MetricName="m", Statistic="Sum", Period=60,
        EvaluationPeriods=1, ComparisonOperator="GreaterThanThreshold"), "Threshold": threshold})
    assert code == "ValidationError" and alarm(raw_cw, name)["Threshold"] == 1.0


# == 3. datapoint counting =======================================================================


def test_one_day_at_period_60_is_1440_datapoints_from_any_start(cw, ns):
    for start in (time.time(), minute_floor(time.time()) + 30.5, minute_floor(time.time())):
        assert cw.get_metric_statistics(Namespace=ns, MetricName="m", StartTime=at(start),
                                        EndTime=at(start + 86400), Period=60, Statistics=["Sum"])["Datapoints"] == []
    start = time.time()
    code, message, status = error_of(cw.get_metric_statistics, Namespace=ns, MetricName="m", StartTime=at(start),
                                     EndTime=at(start + 86401), Period=60, Statistics=["Sum"])
    assert (code, status) == ("InvalidParameterCombination", 400)
    assert message.startswith("You have requested up to 1441 datapoints, which exceeds the limit of 1440.")


# == 4. sub-minute periods over standard-resolution data =========================================


def test_sub_minute_periods_give_standard_data_once_a_minute_at_the_minute(cw, ns):
    minute = minute_floor(time.time()) - 300
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "std", "Timestamp": at(minute + 7), "Value": 21.0},
        {"MetricName": "std", "Timestamp": at(minute + 41), "Value": 22.0},
        {"MetricName": "std", "Timestamp": at(minute + 61), "Value": 5.0},
        {"MetricName": "hi", "Timestamp": at(minute + 41), "Value": 3.0, "StorageResolution": 1},
    ])
    for period in (1, 5, 10, 20, 30):
        result = metric_data(cw, ns, "std", minute, minute + 120, period, stat="Average")
        assert (result["Timestamps"], result["Values"]) == ([at(minute), at(minute + 60)], [21.5, 5.0]), period
        points = statistics(cw, ns, "std", minute, minute + 120, period=period, Statistics=["Average", "SampleCount"])
        assert [(p["Timestamp"], p["Average"], p["SampleCount"]) for p in points] == [
            (at(minute), 21.5, 2.0), (at(minute + 60), 5.0, 1.0)], period
    # High-resolution data keeps its seconds.
    result = metric_data(cw, ns, "hi", minute, minute + 120, 10)
    assert (result["Timestamps"], result["Values"]) == ([at(minute + 40)], [3.0])


def test_a_30_second_alarm_on_standard_data_sees_the_minute(cw, ns, prefix):
    # AWS-recorded (localstack test_put_metric_alarm): values 21 and 22 without StorageResolution, a
    # Period 30 alarm, "Threshold Crossed: 1 datapoint [21.5 (...)] was greater than the threshold".
    now = time.time()
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "std", "Timestamp": at(now), "Value": 21.0},
        {"MetricName": "std", "Timestamp": at(now), "Value": 22.0},
    ])
    name = f"{prefix}-thirty"
    cw.put_metric_alarm(AlarmName=name, Namespace=ns, MetricName="std", Statistic="Average", Period=30,
                        EvaluationPeriods=1, Threshold=2, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="notBreaching")
    described = wait_state(cw, name, "ALARM", timeout=20)
    assert described["StateReason"].startswith("Threshold Crossed: 1 datapoint [21.5 (")
    assert described["StateReason"].endswith(")] was greater than the threshold (2.0).")


# == 5. anomaly detectors ========================================================================


def test_single_metric_anomaly_detectors_are_described_with_their_account(cw, ns):
    cw.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": "m", "Stat": "Average"})
    cw.put_anomaly_detector(Namespace=ns, MetricName="legacy", Stat="Sum")
    detectors = {d["MetricName"]: d for d in cw.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]}
    assert detectors["m"]["SingleMetricAnomalyDetector"] == {
        "AccountId": "000000000000", "Namespace": ns, "MetricName": "m", "Dimensions": [], "Stat": "Average"}
    # Made with the top-level members, AWS describes it without (AWS-recorded, localstack
    # test_anomaly_detector_lifecycle).
    assert "AccountId" not in detectors["legacy"]["SingleMetricAnomalyDetector"]


def test_a_detector_deleted_and_put_again_is_described_once_as_put(cw, ns):
    single = {"Namespace": ns, "MetricName": "m", "Stat": "p90"}
    cw.put_anomaly_detector(SingleMetricAnomalyDetector=single, Configuration={"MetricTimezone": "UTC"})
    cw.delete_anomaly_detector(SingleMetricAnomalyDetector=single)
    cw.put_anomaly_detector(SingleMetricAnomalyDetector=single)
    (detector,) = cw.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]
    assert detector["Configuration"] == {"ExcludedTimeRanges": []}


# == 6 and 7. tags and reused alarm names ========================================================


def test_a_deleted_alarm_lists_no_tags_and_cannot_be_tagged(cw, prefix):
    name = still_alarm(cw, f"{prefix}-tagged", Tags=[{"Key": "team", "Value": "ml"}])
    arn = ARN_PREFIX + name
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "cost", "Value": "1"}])
    cw.delete_alarms(AlarmNames=[name])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
    for call, args in ((cw.tag_resource, {"Tags": [{"Key": "late", "Value": "x"}]}),
                       (cw.untag_resource, {"TagKeys": ["team"]})):
        code, _, status = error_of(call, ResourceARN=arn, **args)
        assert (code, status) == ("ResourceNotFoundException", 404)
    # An ARN that names no alarm of this account and Region is still not found.
    code, _, status = error_of(cw.list_tags_for_resource, ResourceARN=arn.replace("us-east-1", "eu-west-1"))
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_an_alarm_created_again_under_its_name_starts_afresh(cw, prefix):
    name = still_alarm(cw, f"{prefix}-again", Tags=[{"Key": "old", "Value": "1"}], AlarmActions=[TOPIC])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="old trouble")
    cw.delete_alarms(AlarmNames=[name])
    still_alarm(cw, name, Threshold=7, Tags=[{"Key": "new", "Value": "2"}])
    described = alarm(cw, name)
    assert (described["StateValue"], described["StateReason"], described["Threshold"]) == (
        "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", 7.0)
    assert described["AlarmActions"] == []
    assert cw.list_tags_for_resource(ResourceARN=ARN_PREFIX + name)["Tags"] == [{"Key": "new", "Value": "2"}]
    # History is kept by name and outlives the alarm (AWS): both lives are in it, in order.
    summaries = [i["HistorySummary"] for i in history(cw, name, "ConfigurationUpdate")]
    assert summaries == [f'Alarm "{name}" created', f'Alarm "{name}" deleted', f'Alarm "{name}" created']


def test_a_suppressor_created_again_does_not_inherit_its_predecessors_extension_period(cw, prefix):
    # A suppressor that just left ALARM holds a composite's actions for its extension period. One
    # deleted and created again under the same name has never been in ALARM: the history of its
    # predecessor (kept by name) must not hold anything back.
    suppressor = still_alarm(cw, f"{prefix}-sup")
    cw.set_alarm_state(AlarmName=suppressor, StateValue="ALARM", StateReason="maintenance")
    cw.set_alarm_state(AlarmName=suppressor, StateValue="OK", StateReason="done")
    cw.delete_alarms(AlarmNames=[suppressor])
    still_alarm(cw, suppressor)
    child = still_alarm(cw, f"{prefix}-child")
    composite = f"{prefix}-comp"
    cw.put_composite_alarm(AlarmName=composite, AlarmRule=f"ALARM({child})", OKActions=[TOPIC],
                           ActionsSuppressor=suppressor, ActionsSuppressorExtensionPeriod=3600)
    described = wait_state(cw, composite, "OK", timeout=10)
    assert "ActionsSuppressedBy" not in described
    actions = [json.loads(i["HistoryData"])["notificationResource"] for i in history(cw, composite, "Action")]
    assert actions == [TOPIC]


# == 7. listing tokens ===========================================================================


def test_a_metric_data_token_resumes_after_the_last_datapoint_even_when_data_arrives(cw, ns):
    base = minute_floor(time.time()) - 600
    cw.put_metric_data(Namespace=ns, MetricData=[
        {"MetricName": "m", "Timestamp": at(base + k * 60 + 1), "Value": float(k)} for k in range(5)])
    query = [{"Id": "q", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "m"}, "Period": 60, "Stat": "Sum"}}]
    common = dict(MetricDataQueries=query, StartTime=at(base), EndTime=at(base + 600), MaxDatapoints=2)
    first = cw.get_metric_data(**common)  # newest first: minutes 4 and 3
    assert first["MetricDataResults"][0]["Values"] == [4.0, 3.0]
    # A newer minute arrives between the pages: the next page goes on from minute 3, it does not
    # shift by one and repeat it.
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "m", "Timestamp": at(base + 5 * 60 + 1),
                                                  "Value": 5.0}])
    second = cw.get_metric_data(NextToken=first["NextToken"], **common)
    assert second["MetricDataResults"][0]["Values"] == [2.0, 1.0]
    third = cw.get_metric_data(NextToken=second["NextToken"], **common)
    assert third["MetricDataResults"][0]["Values"] == [0.0] and "NextToken" not in third
    # A token continues only the request it came from.
    code, _, status = error_of(cw.get_metric_data, NextToken=first["NextToken"],
                               **{**common, "EndTime": at(base + 540)})
    assert (code, status) == ("InvalidNextToken", 400)


def test_an_alarm_listing_token_outlives_the_alarm_it_stopped_at(cw, prefix):
    names = [still_alarm(cw, f"{prefix}-{i}") for i in range(3)]
    first = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=1)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == names[:1]
    cw.delete_alarms(AlarmNames=names[:1])
    rest = cw.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=5, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in rest["MetricAlarms"]] == names[1:]


@pytest.mark.parametrize("call, kind, key", [
    ("describe_alarm_history", "history", 2**63),   # beyond SQLite's integers
    ("describe_alarm_history", "history", True),    # a boolean is not an id
    ("list_metrics", "metrics", "7"),               # an offset as text
    ("describe_alarms", "alarms", ["a", "b"]),      # a list where a name belongs
])
def test_a_made_up_listing_token_is_invalid_next_token(cw, call, kind, key):
    """The check digits are a public hash: a made-up token passes them. Its key must still have
    the listing's shape, or the answer is InvalidNextToken, never a 500."""
    from botocore.exceptions import ClientError

    from sagewatch.services.pagination import page_token

    with pytest.raises(ClientError) as info:
        getattr(cw, call)(NextToken=page_token(kind, tuple(key) if isinstance(key, list) else key))
    assert info.value.response["Error"]["Code"] == "InvalidNextToken"
