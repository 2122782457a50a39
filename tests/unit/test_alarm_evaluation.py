"""Metric-alarm evaluation against AWS's published tables and AWS-recorded reason strings.

Sources: AWS user guide "Using Amazon CloudWatch alarms" (tables under "How alarm state is
evaluated when data is missing"; aws-behaviour.md section 8.2), localstack's AWS-recorded
snapshots (tests/aws/services/cloudwatch/test_cloudwatch.snapshot.json), the EventBridge user
guide's alarm-state-change examples, and StateReason / StateReasonData strings quoted from real
accounts in public repositories.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sagewatch.services.cloudwatch.alarm_evaluation import (
    AlarmConfig,
    Datapoint,
    evaluate,
    evaluation_range,
    reason_data_json,
)

UTC = timezone.utc
ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"
RETAIN = "retain"
MODES = ("missing", "ignore", "breaching", "notBreaching")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def config(**overrides) -> AlarmConfig:
    values = dict(
        period=300,
        evaluation_periods=3,
        datapoints_to_alarm=3,
        threshold=1.0,
        comparison_operator="GreaterThanThreshold",
        treat_missing_data="missing",
        statistic_name="Average",
    )
    values.update(overrides)
    return AlarmConfig(**values)


def series(pattern: str, newest: datetime, period: int = 300) -> list[Datapoint]:
    """'0 - X - X' (oldest left): 0 good (0.0), X breaching (5.0), - missing."""
    marks = pattern.split()
    points = []
    for i, mark in enumerate(marks):
        ts = newest - timedelta(seconds=period * (len(marks) - 1 - i))
        value = {"0": 0.0, "X": 5.0, "-": None}[mark]
        points.append(Datapoint(ts, value, sample_count=1.0 if value is not None else 0.0))
    return points


NEWEST = at("2024-05-01T12:00:00")
NOW = NEWEST + timedelta(minutes=5, seconds=40)


def test_evaluation_range_reproduces_the_guide_n3_to_5():
    assert evaluation_range(3) == 5
    assert evaluation_range(1) == 3


# --------------------------------------------------------------------------------------------
# The user guide's tables: columns MISSING, IGNORE, BREACHING, NOT BREACHING.

TABLE_3_OF_3 = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - X - -", (ALARM, RETAIN, ALARM, OK)),
]
TABLE_2_OF_3 = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - X -", (ALARM, RETAIN, ALARM, OK)),
]
# The 2019 revision of the same page (awsdocs/amazon-cloudwatch-user-guide) had two rows the
# current one dropped; they pin the choice made for "all real points breach but too recently".
TABLE_3_OF_3_2019 = [
    ("- - - - X", (INSUFFICIENT, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
]


def _table_cases(table, m):
    for pattern, expected in table:
        for mode, want in zip(MODES, expected):
            yield pytest.param(pattern, m, mode, want, id=f"{m}of3[{pattern}]-{mode}")


@pytest.mark.parametrize(
    "pattern,m,mode,want",
    [
        *_table_cases(TABLE_3_OF_3, 3),
        *_table_cases(TABLE_2_OF_3, 2),
        *_table_cases(TABLE_3_OF_3_2019, 3),
    ],
)
@pytest.mark.parametrize("current", [OK, ALARM, INSUFFICIENT])
def test_user_guide_tables(pattern, m, mode, want, current):
    cfg = config(datapoints_to_alarm=m, treat_missing_data=mode)
    result = evaluate(cfg, series(pattern, NEWEST), current, NOW)
    if want == RETAIN:
        assert result.retained and result.state == current
        assert result.reason == "" and result.reason_data == {}
    else:
        assert not result.retained
        assert result.state == want


def test_m_of_n_needs_not_be_consecutive():
    cfg = config(evaluation_periods=5, datapoints_to_alarm=3)
    assert evaluate(cfg, series("- - X 0 X 0 X", NEWEST), OK, NOW).state == ALARM
    assert evaluate(cfg, series("- - X 0 X 0 0", NEWEST), ALARM, NOW).state == OK


def test_real_points_decide_when_there_are_enough_even_if_older():
    # rule (b): the newest N real points, however far back in the range; the missing ones are not
    # filled in even though filling them as breaching would alarm
    cfg = config(treat_missing_data="breaching")
    assert evaluate(cfg, series("X X - X -", NEWEST), OK, NOW).state == ALARM
    assert evaluate(cfg, series("0 X - X -", NEWEST), ALARM, NOW).state == OK


def test_a_period_left_out_counts_as_missing():
    points = [p for p in series("0 - X - X", NEWEST) if p.value is not None]
    cfg = config(datapoints_to_alarm=2)
    result = evaluate(cfg, points, OK, NOW)
    assert result.state == ALARM
    assert result.reason_data["recentDatapoints"] == [0.0, 5.0, 5.0]


def test_fewer_points_than_evaluation_periods_are_padded_with_missing_slots():
    cfg = config(treat_missing_data="breaching", datapoints_to_alarm=3)
    result = evaluate(cfg, series("X", NEWEST), OK, NOW)
    assert result.state == ALARM
    assert [e["timestamp"] for e in result.reason_data["evaluatedDatapoints"]] == [
        "2024-05-01T12:00:00.000+0000",
        "2024-05-01T11:55:00.000+0000",
        "2024-05-01T11:50:00.000+0000",
    ]


def test_no_datapoints_at_all_uses_the_newest_complete_period_before_now():
    cfg = config(evaluation_periods=1, datapoints_to_alarm=1, period=60)
    result = evaluate(cfg, [], OK, at("2023-08-04T12:31:29.591"))
    assert result.state == INSUFFICIENT
    assert result.reason_data["evaluatedDatapoints"] == [{"timestamp": "2023-08-04T12:30:00.000+0000"}]


# --------------------------------------------------------------------------------------------
# Operators


@pytest.mark.parametrize(
    "operator,value,breaches",
    [
        ("GreaterThanThreshold", 2.0, False),
        ("GreaterThanThreshold", 2.5, True),
        ("GreaterThanOrEqualToThreshold", 2.0, True),
        ("LessThanThreshold", 2.0, False),
        ("LessThanThreshold", 1.0, True),
        ("LessThanOrEqualToThreshold", 2.0, True),
    ],
)
def test_threshold_operators(operator, value, breaches):
    cfg = config(evaluation_periods=1, datapoints_to_alarm=1, threshold=2.0, comparison_operator=operator)
    result = evaluate(cfg, [Datapoint(NEWEST, value, 1.0)], OK, NOW)
    assert result.state == (ALARM if breaches else OK)


@pytest.mark.parametrize(
    "operator,value,breaches",
    [
        ("LessThanLowerOrGreaterThanUpperThreshold", 5.0, False),
        ("LessThanLowerOrGreaterThanUpperThreshold", 0.5, True),
        ("LessThanLowerOrGreaterThanUpperThreshold", 11.0, True),
        ("LessThanLowerOrGreaterThanUpperThreshold", 10.0, False),  # on the edge is inside
        ("LessThanLowerThreshold", 0.5, True),
        ("LessThanLowerThreshold", 11.0, False),
        ("GreaterThanUpperThreshold", 11.0, True),
        ("GreaterThanUpperThreshold", 0.5, False),
    ],
)
def test_band_operators(operator, value, breaches):
    cfg = config(evaluation_periods=1, datapoints_to_alarm=1, threshold=None, comparison_operator=operator)
    result = evaluate(cfg, [Datapoint(NEWEST, value, 1.0, lower=1.0, upper=10.0)], OK, NOW)
    assert result.state == (ALARM if breaches else OK)


def test_a_value_without_a_band_counts_as_missing():
    cfg = config(
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=None,
        comparison_operator="GreaterThanUpperThreshold",
    )
    result = evaluate(cfg, [Datapoint(NEWEST, 99.0, 1.0)], OK, NOW)
    assert result.state == INSUFFICIENT


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        evaluate(config(comparison_operator="Bigger"), [], OK, NOW)
    with pytest.raises(ValueError):
        evaluate(config(threshold=None), [], OK, NOW)


# --------------------------------------------------------------------------------------------
# Low-sample percentiles


def _percentile_alarm(stat: str, mode: str | None) -> AlarmConfig:
    return config(
        evaluation_periods=1,
        datapoints_to_alarm=1,
        statistic_name=stat,
        evaluate_low_sample_count_percentile=mode,
    )


@pytest.mark.parametrize(
    "stat,samples,retained",
    [
        ("p99", 999, True),  # "fewer than 1000 samples for an alarm on a p99 percentile"
        ("p99", 1000, False),
        ("p90", 99, True),  # 10 / (1 - 0.9) = 100
        ("p90", 100, False),
        ("p99.9", 9999, True),  # 10 / 0.001 = 10000
        ("p99.9", 10000, False),
        ("p10", 99, True),  # 10 / 0.1 = 100
        ("p50", 19, True),  # 20 either way
        ("p50", 20, False),
        ("p100", 1, False),
        ("Average", 1, False),
    ],
)
def test_low_sample_percentile_ignore_keeps_the_state(stat, samples, retained):
    point = [Datapoint(NEWEST, 5.0, float(samples))]
    result = evaluate(_percentile_alarm(stat, "ignore"), point, OK, NOW)
    assert result.retained is retained
    assert result.state == (OK if retained else ALARM)


def test_low_sample_percentile_evaluate_evaluates():
    point = [Datapoint(NEWEST, 5.0, 3.0)]
    assert evaluate(_percentile_alarm("p99", "evaluate"), point, OK, NOW).state == ALARM
    assert evaluate(_percentile_alarm("p99", None), point, OK, NOW).state == ALARM


def test_percentile_alarms_report_extended_statistic():
    result = evaluate(_percentile_alarm("p99", None), [Datapoint(NEWEST, 5.0, 3.0)], OK, NOW)
    assert result.reason_data["extendedStatistic"] == "p99"
    assert "statistic" not in result.reason_data


# --------------------------------------------------------------------------------------------
# Reason strings and StateReasonData as AWS recorded them


def test_localstack_snapshot_single_breaching_datapoint():
    # test_put_metric_alarm, recorded 26-10-2023 against AWS
    cfg = config(
        period=30,
        evaluation_periods=1,
        datapoints_to_alarm=1,
        threshold=2.0,
        treat_missing_data="notBreaching",
        unit="Seconds",
    )
    points = [Datapoint(at("2023-10-26T16:42:00"), 21.5, sample_count=2.0)]
    result = evaluate(cfg, points, INSUFFICIENT, at("2023-10-26T16:42:41.123"))
    assert result.state == ALARM
    assert result.reason == "Threshold Crossed: 1 datapoint [21.5 (26/10/23 16:42:00)] was greater than the threshold (2.0)."
    assert list(result.reason_data) == [
        "version", "queryDate", "startDate", "unit", "statistic", "period",
        "recentDatapoints", "threshold", "evaluatedDatapoints",
    ]  # fmt: skip
    assert result.reason_data == {
        "version": "1.0",
        "queryDate": "2023-10-26T16:42:41.123+0000",
        "startDate": "2023-10-26T16:42:00.000+0000",
        "unit": "Seconds",
        "statistic": "Average",
        "period": 30,
        "recentDatapoints": [21.5],
        "threshold": 2.0,
        "evaluatedDatapoints": [{"timestamp": "2023-10-26T16:42:00.000+0000", "sampleCount": 2.0, "value": 21.5}],
    }


def test_localstack_snapshot_missing_treated_as_breaching():
    # test_breaching_alarm_actions: EvaluationPeriods 2, TreatMissingData breaching, no data
    cfg = config(
        period=10, evaluation_periods=2, datapoints_to_alarm=2, threshold=2.0,
        treat_missing_data="breaching", unit="Seconds",
    )  # fmt: skip
    newest = at("2023-09-12T11:56:30")
    points = [Datapoint(newest - timedelta(seconds=10 * i), None) for i in reversed(range(4))]
    result = evaluate(cfg, points, INSUFFICIENT, newest + timedelta(seconds=12))
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints "
        "were treated as [Breaching]."
    )
    assert list(result.reason_data) == [
        "version", "queryDate", "unit", "statistic", "period", "recentDatapoints", "threshold", "evaluatedDatapoints",
    ]  # fmt: skip
    assert result.reason_data["recentDatapoints"] == []
    assert result.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2023-09-12T11:56:30.000+0000"},
        {"timestamp": "2023-09-12T11:56:20.000+0000"},
    ]


def test_localstack_snapshot_missing_treated_as_not_breaching_singular():
    cfg = config(
        period=30, evaluation_periods=1, datapoints_to_alarm=1, threshold=2.0,
        treat_missing_data="notBreaching", unit="Seconds",
    )  # fmt: skip
    points = series("- - -", at("2023-10-26T16:43:00"), period=30)
    result = evaluate(cfg, points, ALARM, at("2023-10-26T16:43:40"))
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
        "was treated as [NonBreaching]."
    )
    assert result.reason_data["evaluatedDatapoints"] == [{"timestamp": "2023-10-26T16:43:00.000+0000"}]


def test_insufficient_data_reason_and_data():
    # AWS user guide, Lambda alarm action example: "Insufficient Data: 5 datapoints were unknown."
    # with five timestamps, newest first, and no startDate.
    cfg = config(period=60, evaluation_periods=5, datapoints_to_alarm=5, threshold=5.0)
    newest = at("2023-08-04T12:30:00")
    points = [Datapoint(newest - timedelta(minutes=i), None) for i in reversed(range(7))]
    result = evaluate(cfg, points, OK, at("2023-08-04T12:31:29.591"))
    assert result.state == INSUFFICIENT
    assert result.reason == "Insufficient Data: 5 datapoints were unknown."
    assert reason_data_json(result.reason_data) == (
        '{"version":"1.0","queryDate":"2023-08-04T12:31:29.591+0000","statistic":"Average","period":60,'
        '"recentDatapoints":[],"threshold":5.0,"evaluatedDatapoints":[{"timestamp":"2023-08-04T12:30:00.000+0000"},'
        '{"timestamp":"2023-08-04T12:29:00.000+0000"},{"timestamp":"2023-08-04T12:28:00.000+0000"},'
        '{"timestamp":"2023-08-04T12:27:00.000+0000"},{"timestamp":"2023-08-04T12:26:00.000+0000"}]}'
    )
    one = config(period=60, evaluation_periods=1, datapoints_to_alarm=1)
    assert evaluate(one, [], OK, NOW).reason == "Insufficient Data: 1 datapoint was unknown."


def test_short_style_ok_reason_and_full_reason_data():
    # A target-tracking AlarmHigh (no DatapointsToAlarm), quoted from DescribeAlarms output
    cfg = config(
        period=60, evaluation_periods=2, datapoints_to_alarm=2, threshold=42.0, statistic_name="Sum",
    )  # fmt: skip
    points = [
        Datapoint(at("2023-01-09T13:59:00"), None),
        Datapoint(at("2023-01-09T14:00:00"), None),
        Datapoint(at("2023-01-09T14:01:00"), 1.0, 1.0),
        Datapoint(at("2023-01-09T14:02:00"), 0.0, 1.0),
    ]
    result = evaluate(cfg, points, ALARM, at("2023-01-09T14:07:25.504"))
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 2 datapoints [0.0 (09/01/23 14:02:00), 1.0 (09/01/23 14:01:00)] were not "
        "greater than the threshold (42.0)."
    )
    assert reason_data_json(result.reason_data) == (
        '{"version":"1.0","queryDate":"2023-01-09T14:07:25.504+0000","startDate":"2023-01-09T14:01:00.000+0000",'
        '"statistic":"Sum","period":60,"recentDatapoints":[1.0,0.0],"threshold":42.0,"evaluatedDatapoints":'
        '[{"timestamp":"2023-01-09T14:02:00.000+0000","sampleCount":1.0,"value":0.0}]}'
    )


def test_long_style_ok_reason_and_full_reason_data():
    # EventBridge event quoted from a real account (sample-app ... cpu_utilization_high)
    cfg = config(
        period=60, evaluation_periods=2, datapoints_to_alarm=2, threshold=40.0,
        datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    points = [
        Datapoint(at("2021-04-13T16:01:00"), None),
        Datapoint(at("2021-04-13T16:02:00"), None),
        Datapoint(at("2021-04-13T16:03:00"), 0.01575357001274824, 1.0),
        Datapoint(at("2021-04-13T16:04:00"), 0.01758096118768056, 1.0),
    ]
    result = evaluate(cfg, points, ALARM, at("2021-04-13T16:06:38.066"))
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 2 datapoints [0.01758096118768056 (13/04/21 16:04:00), "
        "0.01575357001274824 (13/04/21 16:03:00)] were not greater than the threshold (40.0) "
        "(minimum 1 datapoint for ALARM -> OK transition)."
    )
    assert reason_data_json(result.reason_data) == (
        '{"version":"1.0","queryDate":"2021-04-13T16:06:38.066+0000","startDate":"2021-04-13T16:03:00.000+0000",'
        '"statistic":"Average","period":60,"recentDatapoints":[0.01575357001274824,0.01758096118768056],'
        '"threshold":40.0,"evaluatedDatapoints":[{"timestamp":"2021-04-13T16:04:00.000+0000","sampleCount":1.0,'
        '"value":0.01758096118768056}]}'
    )


def test_long_style_alarm_reason_lists_newest_first():
    # SNS message quoted from a real account (Traffic alarm, 3 of 3, period 300)
    cfg = config(
        evaluation_periods=3, datapoints_to_alarm=3, threshold=30.0,
        comparison_operator="GreaterThanOrEqualToThreshold", datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    newest = at("2020-10-09T21:24:00")
    points = [
        Datapoint(newest - timedelta(minutes=20), None),
        Datapoint(newest - timedelta(minutes=15), None),
        Datapoint(newest - timedelta(minutes=10), 1390.0, 10.0),
        Datapoint(newest - timedelta(minutes=5), 1226.0, 10.0),
        Datapoint(newest, 1141.0, 10.0),
    ]
    result = evaluate(cfg, points, OK, at("2020-10-09T21:32:10.617"))
    assert result.reason == (
        "Threshold Crossed: 3 out of the last 3 datapoints [1141.0 (09/10/20 21:24:00), 1226.0 (09/10/20 21:19:00), "
        "1390.0 (09/10/20 21:14:00)] were greater than or equal to the threshold (30.0) "
        "(minimum 3 datapoints for OK -> ALARM transition)."
    )
    assert [e["value"] for e in result.reason_data["evaluatedDatapoints"]] == [1141.0, 1226.0, 1390.0]


def test_long_style_m_of_n_ok_lists_only_the_good_points():
    # SNS message quoted from a real account (MediaLive ActiveAlerts, 3 out of 5)
    cfg = config(
        period=60, evaluation_periods=5, datapoints_to_alarm=3, threshold=0.0,
        datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    values = {"06:41": 1.0, "06:42": 0.0, "06:43": 1.0, "06:44": 0.0, "06:45": 0.0}
    points = [Datapoint(at(f"2021-12-21T{hm}:00"), v, 1.0) for hm, v in values.items()]
    result = evaluate(cfg, points, ALARM, at("2021-12-21T06:46:11"))
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 3 out of the last 5 datapoints [0.0 (21/12/21 06:45:00), 0.0 (21/12/21 06:44:00), "
        "0.0 (21/12/21 06:42:00)] were not greater than the threshold (0.0) "
        "(minimum 3 datapoints for ALARM -> OK transition)."
    )
    assert len(result.reason_data["evaluatedDatapoints"]) == 3


def test_premature_alarm_reason_says_fewer_than_the_minimum():
    # Quoted from a real alarm's history: "1 out of the last 3 datapoints [0.0] was less than the
    # threshold (minimum 3 datapoints for OK -> ALARM transition)" -- ALARM on one point.
    cfg = config(
        period=60, threshold=0.5, comparison_operator="LessThanThreshold", datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    points = [
        Datapoint(at("2024-01-01T00:00:00"), None),
        Datapoint(at("2024-01-01T00:01:00"), None),
        Datapoint(at("2024-01-01T00:02:00"), 0.0, 1.0),
        Datapoint(at("2024-01-01T00:03:00"), None),
        Datapoint(at("2024-01-01T00:04:00"), None),
    ]
    result = evaluate(cfg, points, OK, at("2024-01-01T00:05:30"))
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 3 datapoints [0.0 (01/01/24 00:02:00)] was less than the "
        "threshold (0.5) (minimum 3 datapoints for OK -> ALARM transition)."
    )


def test_filled_points_with_a_real_one_listed():
    # Quoted from a real alarm (watermark-stale, 8 periods of 900 s, breaching):
    cfg = config(
        period=900, evaluation_periods=8, datapoints_to_alarm=8, threshold=0.0,
        comparison_operator="LessThanOrEqualToThreshold", treat_missing_data="breaching",
    )  # fmt: skip
    newest = at("2026-08-19T09:36:00")
    points = [Datapoint(newest - timedelta(seconds=900 * i), None) for i in reversed(range(1, 10))]
    points.append(Datapoint(newest, 2.0, 3.0))
    result = evaluate(cfg, points, ALARM, at("2026-08-19T09:51:49.318"))
    assert result.state == OK
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [2.0 (19/08/26 09:36:00)] was not less than or equal to the threshold "
        "(0.0) and 7 missing datapoints were treated as [Breaching]."
    )
    assert result.reason_data["startDate"] == "2026-08-19T09:36:00.000+0000"
    assert result.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2026-08-19T09:36:00.000+0000", "sampleCount": 3.0, "value": 2.0}
    ]


def test_filled_points_when_no_real_point_agrees():
    # Quoted from a real alarm: "1 datapoint was received for 3 periods and 2 missing datapoints
    # were treated as [Breaching]" (2 of 3, the one real point good)
    cfg = config(datapoints_to_alarm=2, treat_missing_data="breaching")
    result = evaluate(cfg, series("- - 0", NEWEST), OK, NOW)
    assert result.state == ALARM
    assert result.reason == (
        "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching]."
    )
    assert result.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2024-05-01T11:55:00.000+0000"},
        {"timestamp": "2024-05-01T11:50:00.000+0000"},
    ]


def test_eventbridge_anomaly_examples():
    # EventBridge user guide, "Anomaly Detection Alarm" state change (metric math: no statistic)
    cfg = config(
        period=60, evaluation_periods=1, datapoints_to_alarm=1, threshold=None,
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", statistic_name=None,
        datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    alarm = evaluate(
        cfg,
        [Datapoint(at("2019-10-03T15:58:00"), 0.0, 1.0, lower=0.020599444741798756, upper=0.3006915352732461)],
        OK,
        at("2019-10-03T16:00:04.650"),
    )
    assert alarm.reason == (
        "Thresholds Crossed: 1 out of the last 1 datapoints [0.0 (03/10/19 15:58:00)] was less than the lower "
        "thresholds [0.020599444741798756] or greater than the upper thresholds [0.3006915352732461] "
        "(minimum 1 datapoint for OK -> ALARM transition)."
    )
    # The 2019 example predates evaluatedDatapoints; everything before it matches byte for byte.
    assert reason_data_json(alarm.reason_data).startswith(
        '{"version":"1.0","queryDate":"2019-10-03T16:00:04.650+0000","startDate":"2019-10-03T15:58:00.000+0000",'
        '"period":60,"recentDatapoints":[0.0],"recentLowerThresholds":[0.020599444741798756],'
        '"recentUpperThresholds":[0.3006915352732461],'
    )
    ok = evaluate(
        cfg,
        [Datapoint(at("2019-10-03T15:57:00"), 0.166666666664241, 1.0, lower=0.0206719426210418, upper=0.30076870222143803)],
        ALARM,
        at("2019-10-03T15:59:04.670"),
    )
    assert ok.reason == (
        "Thresholds Crossed: 1 out of the last 1 datapoints [0.166666666664241 (03/10/19 15:57:00)] was not less "
        "than the lower thresholds [0.0206719426210418] or not greater than the upper thresholds "
        "[0.30076870222143803] (minimum 1 datapoint for ALARM -> OK transition)."
    )


def test_anomaly_two_datapoints_list_bands_in_datapoint_order():
    # SNS message quoted from a real account (2 of 2, period 300)
    cfg = config(
        evaluation_periods=2, datapoints_to_alarm=2, threshold=None,
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", statistic_name=None,
        datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    points = [
        Datapoint(at("2019-11-22T00:52:00"), 27.035814838199848, 5.0, 31.317673764600034, 32.68864166862828),
        Datapoint(at("2019-11-22T00:57:00"), 28.244242980188464, 5.0, 31.723549397187316, 33.09242087209403),
    ]
    result = evaluate(cfg, points, OK, at("2019-11-22T01:02:17.570"))
    assert result.reason == (
        "Thresholds Crossed: 2 out of the last 2 datapoints [28.244242980188464 (22/11/19 00:57:00), "
        "27.035814838199848 (22/11/19 00:52:00)] were less than the lower thresholds [31.723549397187316, "
        "31.317673764600034] or greater than the upper thresholds [33.09242087209403, 32.68864166862828] "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )


def test_anomaly_with_more_agreeing_points_than_listed():
    # SNS message quoted from a real account (TrafficAnomaly, 7 of 10, period 300)
    cfg = config(
        evaluation_periods=10, datapoints_to_alarm=7, threshold=None,
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", statistic_name=None,
        datapoints_to_alarm_explicit=True,
    )  # fmt: skip
    newest = at("2020-10-11T09:45:00")
    recent = [
        (2246.0, 153.14514009861045, 2152.153702273202),
        (2442.0, 13.94763546927436, 2011.8820527416765),
        (2294.0, -67.59661653399712, 1932.1216878019675),
        (2393.0, 59.31589686034863, 2059.7204222396495),
        (2660.0, -102.53180874192037, 1898.7580338483122),
        (3000.0, 0.0, 2000.0),
        (3000.0, 0.0, 2000.0),
        (1000.0, 0.0, 2000.0),
        (1000.0, 0.0, 2000.0),
        (1000.0, 0.0, 2000.0),
    ]
    points = [
        Datapoint(newest - timedelta(minutes=5 * i), v, 10.0, lo, hi) for i, (v, lo, hi) in enumerate(recent)
    ]
    result = evaluate(cfg, points, OK, at("2020-10-11T09:53:25.070"))
    assert result.state == ALARM
    assert result.reason == (
        "Thresholds Crossed: 7 out of the last 10 datapoints were less than the lower thresholds or greater than "
        "the upper thresholds. Recent datapoints [2246.0 (11/10/20 09:45:00), 2442.0 (11/10/20 09:40:00), "
        "2294.0 (11/10/20 09:35:00), 2393.0 (11/10/20 09:30:00), 2660.0 (11/10/20 09:25:00)] crossed the lower "
        "thresholds [153.14514009861045, 13.94763546927436, -67.59661653399712, 59.31589686034863, "
        "-102.53180874192037] or upper thresholds [2152.153702273202, 2011.8820527416765, 1932.1216878019675, "
        "2059.7204222396495, 1898.7580338483122] (minimum 7 datapoints for OK -> ALARM transition)."
    )


def test_eventbridge_single_metric_example_matches_up_to_evaluated_datapoints():
    # EventBridge user guide, "Single Metric Alarm" (2019, before evaluatedDatapoints existed)
    cfg = config(threshold=50.0, evaluation_periods=1, datapoints_to_alarm=1, datapoints_to_alarm_explicit=True)
    points = series("- -", at("2019-10-02T16:54:00")) + [Datapoint(at("2019-10-02T16:59:00"), 99.50160229693434, 1.0)]
    result = evaluate(cfg, points, OK, at("2019-10-02T17:04:40.985"))
    assert result.reason == (
        "Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was greater "
        "than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition)."
    )
    assert reason_data_json(result.reason_data).startswith(
        '{"version":"1.0","queryDate":"2019-10-02T17:04:40.985+0000","startDate":"2019-10-02T16:59:00.000+0000",'
        '"statistic":"Average","period":300,"recentDatapoints":[99.50160229693434],"threshold":50.0,'
    )


def test_reason_lists_at_most_five_points_but_counts_all():
    cfg = config(evaluation_periods=7, datapoints_to_alarm=7)
    result = evaluate(cfg, series("X X X X X X X", NEWEST), OK, NOW)
    assert result.reason.startswith("Threshold Crossed: 7 datapoints [5.0 (01/05/24 12:00:00), ")
    assert result.reason.count("(01/05/24") == 5
    assert len(result.reason_data["recentDatapoints"]) == 7


@pytest.mark.parametrize(
    "value,text",
    [(2.0, "2.0"), (21.5, "21.5"), (0.001, "0.001"), (1.5e-4, "1.5E-4"), (1e7, "1.0E7"), (-12345678.9, "-1.23456789E7"),
     (9999999.0, "9999999.0")],
)
def test_numbers_are_written_like_java_doubles(value, text):
    cfg = config(evaluation_periods=1, datapoints_to_alarm=1, threshold=value, comparison_operator="LessThanThreshold")
    result = evaluate(cfg, [Datapoint(NEWEST, value, 1.0)], OK, NOW)
    assert f"[{text} (01/05/24 12:00:00)]" in result.reason
    assert result.reason.endswith(f"the threshold ({text}).")


def test_reason_data_is_json_serialisable_and_threshold_is_float():
    cfg = config(threshold=3)
    result = evaluate(cfg, series("0 0 0 0 0", NEWEST), ALARM, NOW)
    data = json.loads(reason_data_json(result.reason_data))
    assert data["threshold"] == 3.0 and isinstance(data["threshold"], float)
    assert ":3.0," in reason_data_json(result.reason_data)


def test_naive_timestamps_are_read_as_utc():
    cfg = config(evaluation_periods=1, datapoints_to_alarm=1)
    naive = datetime(2024, 5, 1, 12, 0)
    result = evaluate(cfg, [Datapoint(naive, 5.0, 1.0)], OK, datetime(2024, 5, 1, 12, 5, 1, 250000))
    assert result.reason_data["queryDate"] == "2024-05-01T12:05:01.250+0000"
