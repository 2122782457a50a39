"""The SNS message of an alarm's state change (services/sns/alarm_messages.py), held to the
AWS-recorded message of reference §9.3 and to messages captured from AWS."""

from __future__ import annotations

import json

import botocore.loaders
import pytest

from sagewatch.services.cloudwatch.alarms import StateChange
from sagewatch.services.sns.alarm_messages import (
    alarm_notification,
    alarm_subject,
    alarm_time,
    region_long_name,
)
from sagewatch.store.alarms import Alarm

ACCOUNT = "111111111111"
TOPIC = "arn:aws:sns:us-east-1:111111111111:alarms"


def _change(definition: dict, name="my-alarm", old="INSUFFICIENT_DATA", new="ALARM") -> StateChange:
    alarm = Alarm(name=name, alarm_type="MetricAlarm", definition=definition, metric_keys=[],
                  state_value=new, state_reason="r", state_reason_data=None, state_updated=0.0,
                  state_transitioned=0.0, configuration_updated=1574384537.57, actions_enabled=True)
    reason = ("Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints "
              "were treated as [Breaching].")
    return StateChange(alarm, old, "Unchecked: Initial alarm creation", new, reason, None,
                       1574384537.999, f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}")


def test_the_recorded_metric_alarm_message():
    definition = {
        "AlarmName": "my-alarm", "AlarmDescription": "testing cloudwatch alarms",
        "MetricName": "my-metric101", "Namespace": "test-ns", "Statistic": "Average", "Unit": "Seconds",
        "Dimensions": [{"Name": "InstanceId", "Value": "abc"}], "Period": 10, "EvaluationPeriods": 2,
        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 2, "TreatMissingData": "breaching",
        "OKActions": [TOPIC], "AlarmActions": [TOPIC],
    }
    notification = alarm_notification(_change(definition), region="us-east-1", account_id=ACCOUNT)
    assert notification.subject == 'ALARM: "my-alarm" in US East (N. Virginia)'
    message = json.loads(notification.message)
    # Keys and order as recorded (reference §9.3).
    assert list(message) == [
        "AlarmName", "AlarmDescription", "AWSAccountId", "AlarmConfigurationUpdatedTimestamp",
        "NewStateValue", "NewStateReason", "StateChangeTime", "Region", "AlarmArn", "OldStateValue",
        "OKActions", "AlarmActions", "InsufficientDataActions", "Trigger"]
    assert message == {
        "AlarmName": "my-alarm", "AlarmDescription": "testing cloudwatch alarms", "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2019-11-22T01:02:17.570+0000", "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: no datapoints were received for 2 periods and 2 missing "
                          "datapoints were treated as [Breaching].",
        "StateChangeTime": "2019-11-22T01:02:17.999+0000", "Region": "US East (N. Virginia)",
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:my-alarm", "OldStateValue": "INSUFFICIENT_DATA",
        "OKActions": [TOPIC], "AlarmActions": [TOPIC], "InsufficientDataActions": [],
        "Trigger": {"MetricName": "my-metric101", "Namespace": "test-ns", "StatisticType": "Statistic",
                    "Statistic": "AVERAGE", "Unit": "Seconds", "Dimensions": [{"value": "abc", "name": "InstanceId"}],
                    "Period": 10, "EvaluationPeriods": 2, "ComparisonOperator": "GreaterThanThreshold",
                    "Threshold": 2.0, "TreatMissingData": "breaching", "EvaluateLowSampleCountPercentile": ""},
    }
    assert list(message["Trigger"]) == [
        "MetricName", "Namespace", "StatisticType", "Statistic", "Unit", "Dimensions", "Period",
        "EvaluationPeriods", "ComparisonOperator", "Threshold", "TreatMissingData",
        "EvaluateLowSampleCountPercentile"]
    # Compact JSON, as captured messages are; the threshold is written as a double ("2.0").
    assert notification.message.startswith('{"AlarmName":"my-alarm","AlarmDescription":"testing')
    assert '"Threshold":2.0,' in notification.message


def test_unset_members_are_null_empty_or_defaults():
    definition = {"MetricName": "m", "Namespace": "n", "Statistic": "Maximum", "Period": 60,
                  "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.5}
    message = json.loads(alarm_notification(_change(definition, old="OK", new="ALARM"),
                                            region="us-west-2", account_id=ACCOUNT).message)
    assert message["AlarmDescription"] is None
    assert message["OKActions"] == message["AlarmActions"] == message["InsufficientDataActions"] == []
    trigger = message["Trigger"]
    assert trigger["Statistic"] == "MAXIMUM"
    assert trigger["Unit"] is None
    assert trigger["Dimensions"] == []
    assert trigger["TreatMissingData"] == "missing"
    assert trigger["EvaluateLowSampleCountPercentile"] == ""
    assert message["Region"] == "US West (Oregon)"


def test_the_captured_metric_math_trigger():
    # The shape of a message captured from AWS (2020): Period first, Metrics last, each query's
    # keys in alphabetical order, ReturnData written.
    metrics = [
        {"Id": "expr_1", "Expression": "100*(healthyHostCount/fleetCapacity)", "ReturnData": True},
        {"Id": "healthyHostCount", "Label": "HealthyHostCount", "ReturnData": False,
         "MetricStat": {"Metric": {"Namespace": "AWS/NetworkELB", "MetricName": "HealthyHostCount",
                                   "Dimensions": [{"Name": "TargetGroup", "Value": "testTargetGroup"}]},
                        "Period": 60, "Stat": "Average"}},
    ]
    definition = {"Metrics": metrics, "EvaluationPeriods": 5, "ComparisonOperator": "LessThanThreshold",
                  "Threshold": 65}
    message = alarm_notification(_change(definition), region="us-west-2", account_id=ACCOUNT).message
    trigger_text = message[message.index('"Trigger":'):]
    assert trigger_text == (
        '"Trigger":{"Period":60,"EvaluationPeriods":5,"ComparisonOperator":"LessThanThreshold","Threshold":65.0,'
        '"TreatMissingData":"missing","EvaluateLowSampleCountPercentile":"",'
        '"Metrics":[{"Expression":"100*(healthyHostCount/fleetCapacity)","Id":"expr_1","ReturnData":true},'
        '{"Id":"healthyHostCount","Label":"HealthyHostCount","MetricStat":{"Metric":{"Dimensions":'
        '[{"value":"testTargetGroup","name":"TargetGroup"}],"MetricName":"HealthyHostCount",'
        '"Namespace":"AWS/NetworkELB"},"Period":60,"Stat":"Average"},"ReturnData":false}]}}')


def test_anomaly_band_alarms_name_the_threshold_metric_and_extended_statistics_their_own_type():
    band = {"Metrics": [{"Id": "m1", "MetricStat": {"Metric": {"Namespace": "n", "MetricName": "m"},
                                                    "Period": 300, "Stat": "p90"}},
                        {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}],
            "ThresholdMetricId": "ad1", "EvaluationPeriods": 1,
            "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"}
    trigger = json.loads(alarm_notification(_change(band), region="eu-central-1",
                                            account_id=ACCOUNT).message)["Trigger"]
    assert trigger["ThresholdMetricId"] == "ad1" and "Threshold" not in trigger
    assert trigger["Period"] == 300
    extended = {"MetricName": "m", "Namespace": "n", "ExtendedStatistic": "p99", "Period": 60,
                "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0}
    trigger = json.loads(alarm_notification(_change(extended), region="eu-central-1",
                                            account_id=ACCOUNT).message)["Trigger"]
    assert trigger["StatisticType"] == "ExtendedStatistic" and trigger["ExtendedStatistic"] == "p99"
    assert "Statistic" not in trigger
    assert trigger["DatapointsToAlarm"] == 2


@pytest.mark.parametrize("state", ["OK", "ALARM", "INSUFFICIENT_DATA"])
def test_the_subject_is_prefixed_by_the_new_state(state):
    assert alarm_subject("cpu high", state, "eu-central-1") == f'{state}: "cpu high" in Europe (Frankfurt)'


def test_region_names_are_botocores_and_unknown_regions_keep_their_code():
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    for partition in endpoints["partitions"]:
        for code, region in partition["regions"].items():
            assert region_long_name(code) == region["description"]
    assert region_long_name("cn-north-1") == "China (Beijing)"
    assert region_long_name("local") == "local"


def test_alarm_times_are_milliseconds_with_a_numeric_offset():
    assert alarm_time(1574384537.57) == "2019-11-22T01:02:17.570+0000"
