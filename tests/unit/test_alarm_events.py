"""CloudWatch's alarm events (services/cloudwatch/alarm_events.py) held to AWS's examples
(reference §5.3; awsdocs/amazon-cloudwatch-user-guide cloudwatch-and-eventbridge.md): the alarm's
definition and transition as the engine has them go in, the example's envelope and detail come
out."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from sagewatch.services.cloudwatch.alarm_events import (
    CONFIGURATION_CHANGE,
    STATE_CHANGE,
    configuration_change_event,
    single_metric_id,
    state_change_event,
)
from sagewatch.services.cloudwatch.alarms import ConfigurationChange, StateChange
from sagewatch.store.alarms import Alarm

ACCOUNT = "123456789012"


def at(text: str) -> float:
    """Epoch seconds of a ``2019-10-02T17:04:40.989+0000`` time."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def arn(name: str) -> str:
    return f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}"


def alarm(name, definition, *, kind="MetricAlarm", state="ALARM", configured=1569967200.0, **fields) -> Alarm:
    return Alarm(name=name, alarm_type=kind, definition=definition, metric_keys=[], state_value=state,
                 state_reason="r", state_reason_data=None, state_updated=configured,
                 state_transitioned=configured, configuration_updated=configured, actions_enabled=True,
                 **fields)


OK_REASON = ("Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was "
             "not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).")
OK_DATA = ('{"version":"1.0","queryDate":"2019-10-01T13:56:40.985+0000","startDate":"2019-10-01T13:46:00.000+0000",'
           '"statistic":"Average","period":300,"recentDatapoints":[0.0666851903306472],"threshold":50.0}')
ALARM_REASON = ("Threshold Crossed: 1 out of the last 1 datapoints [99.50160229693434 (02/10/19 16:59:00)] was "
                "greater than the threshold (50.0) (minimum 1 datapoint for OK -> ALARM transition).")
ALARM_DATA = ('{"version":"1.0","queryDate":"2019-10-02T17:04:40.985+0000","startDate":"2019-10-02T16:59:00.000+0000",'
              '"statistic":"Average","period":300,"recentDatapoints":[99.50160229693434],"threshold":50.0}')

SERVER_CPU = {
    "AlarmDescription": "Goes into alarm when server CPU utilization is too high!",
    "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "Average", "Period": 300,
    "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}], "EvaluationPeriods": 1,
    "Threshold": 50.0, "ComparisonOperator": "GreaterThanThreshold",
}


def test_the_single_metric_alarm_example():
    cpu = alarm("ServerCpuTooHigh", SERVER_CPU)
    change = StateChange(cpu, "OK", OK_REASON, "ALARM", ALARM_REASON, ALARM_DATA, at("2019-10-02T17:04:40.989+0000"),
                         arn("ServerCpuTooHigh"), old_reason_data=OK_DATA,
                         old_timestamp=at("2019-10-01T13:56:40.987+0000"))
    event = state_change_event(change)
    assert event["source"] == "aws.cloudwatch"
    assert event["detail-type"] == STATE_CHANGE == "CloudWatch Alarm State Change"
    assert event["resources"] == [arn("ServerCpuTooHigh")]
    # id, time, account and region are the bus's to fill in (EventsService.put_service_events).
    assert set(event) == {"source", "detail-type", "resources", "detail"}
    metric_id = event["detail"]["configuration"]["metrics"][0]["id"]
    assert event["detail"] == {
        "alarmName": "ServerCpuTooHigh",
        "configuration": {
            "description": "Goes into alarm when server CPU utilization is too high!",
            "metrics": [{
                "id": metric_id,
                "metricStat": {
                    "metric": {"dimensions": {"InstanceId": "i-12345678901234567"}, "name": "CPUUtilization",
                               "namespace": "AWS/EC2"},
                    "period": 300, "stat": "Average"},
                "returnData": True}]},
        "previousState": {"reason": OK_REASON, "reasonData": OK_DATA,
                          "timestamp": "2019-10-01T13:56:40.987+0000", "value": "OK"},
        "state": {"reason": ALARM_REASON, "reasonData": ALARM_DATA,
                  "timestamp": "2019-10-02T17:04:40.989+0000", "value": "ALARM"},
    }
    # The example's key order, throughout.
    assert list(event["detail"]) == ["alarmName", "configuration", "previousState", "state"]
    assert list(event["detail"]["state"]) == ["reason", "reasonData", "timestamp", "value"]
    assert list(event["detail"]["configuration"]["metrics"][0]) == ["id", "metricStat", "returnData"]
    # A UUID, as AWS's generated one, and the same one for every event of this configuration.
    assert str(uuid.UUID(metric_id)) == metric_id
    assert metric_id == single_metric_id(arn("ServerCpuTooHigh"), cpu.configuration_updated)
    assert metric_id != single_metric_id(arn("ServerCpuTooHigh"), cpu.configuration_updated + 1)


def test_the_metric_math_alarm_example_from_a_new_alarm():
    definition = {
        "AlarmDescription": "Goes into alarm if total network traffic exceeds 10Kb",
        "Metrics": [
            {"Id": "e1", "Expression": "SUM(METRICS())", "Label": "Total Network Traffic", "ReturnData": True},
            {"Id": "m1", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkIn",
                           "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}]},
                "Period": 300, "Stat": "Maximum"}},
            {"Id": "m2", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "NetworkOut",
                           "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}]},
                "Period": 300, "Stat": "Maximum"}},
        ],
        "EvaluationPeriods": 1, "Threshold": 10000.0, "ComparisonOperator": "GreaterThanThreshold",
    }
    reason = ("Threshold Crossed: 1 out of the last 1 datapoints [45628.0 (02/10/19 17:10:00)] was greater than "
              "the threshold (10000.0) (minimum 1 datapoint for OK -> ALARM transition).")
    data = ('{"version":"1.0","queryDate":"2019-10-02T17:20:48.551+0000","startDate":"2019-10-02T17:10:00.000+0000",'
            '"period":300,"recentDatapoints":[45628.0],"threshold":10000.0}')
    traffic = alarm("TotalNetworkTrafficTooHigh", definition)
    change = StateChange(traffic, "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation", "ALARM", reason, data,
                         at("2019-10-02T17:20:48.554+0000"), arn("TotalNetworkTrafficTooHigh"),
                         old_reason_data=None, old_timestamp=at("2019-10-02T17:20:03.642+0000"))
    detail = state_change_event(change)["detail"]
    assert detail["configuration"] == {
        "description": "Goes into alarm if total network traffic exceeds 10Kb",
        "metrics": [
            {"expression": "SUM(METRICS())", "id": "e1", "label": "Total Network Traffic", "returnData": True},
            {"id": "m1", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                                   "name": "NetworkIn", "namespace": "AWS/EC2"},
                                        "period": 300, "stat": "Maximum"}, "returnData": False},
            {"id": "m2", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                                   "name": "NetworkOut", "namespace": "AWS/EC2"},
                                        "period": 300, "stat": "Maximum"}, "returnData": False},
        ],
    }
    # Each query's keys in alphabetical order, as in the example.
    assert [list(q) for q in detail["configuration"]["metrics"]] == [
        ["expression", "id", "label", "returnData"], ["id", "metricStat", "returnData"],
        ["id", "metricStat", "returnData"]]
    # A new alarm's previous state has no reason data, and so no reasonData member.
    assert detail["previousState"] == {"reason": "Unchecked: Initial alarm creation",
                                       "timestamp": "2019-10-02T17:20:03.642+0000", "value": "INSUFFICIENT_DATA"}
    assert detail["state"]["value"] == "ALARM" and detail["state"]["reasonData"] == data


def test_the_anomaly_detection_alarm_example():
    definition = {
        "AlarmDescription": "Goes into alarm if CPU Utilization is out of band",
        "Metrics": [
            {"Id": "m1", "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                           "Dimensions": [{"Name": "InstanceId", "Value": "i-12345678901234567"}]},
                "Period": 60, "Stat": "Average"}},
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 0.8)", "Label": "CPUUtilization (expected)",
             "ReturnData": True},
        ],
        "ThresholdMetricId": "ad1", "EvaluationPeriods": 1,
        "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
    }
    band = alarm("EC2 CPU Utilization Anomaly", definition)
    change = StateChange(band, "OK", "r0", "ALARM", "r1", None, at("2019-10-03T16:00:04.653+0000"),
                         arn("EC2 CPU Utilization Anomaly"), old_timestamp=at("2019-10-03T15:59:04.672+0000"))
    event = state_change_event(change)
    assert event["resources"] == ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:EC2 CPU Utilization Anomaly"]
    assert event["detail"]["configuration"]["metrics"] == [
        {"id": "m1", "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                               "name": "CPUUtilization", "namespace": "AWS/EC2"},
                                    "period": 60, "stat": "Average"}, "returnData": True},
        {"expression": "ANOMALY_DETECTION_BAND(m1, 0.8)", "id": "ad1", "label": "CPUUtilization (expected)",
         "returnData": True},
    ]


def test_a_composite_alarm_shows_its_rule_its_triggering_alarms_and_its_suppression():
    rule = "ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)"
    definition = {"AlarmRule": rule, "ActionsSuppressor": "DeploymentInProgress",
                  "ActionsSuppressorWaitPeriod": 60, "ActionsSuppressorExtensionPeriod": 120}
    composite = alarm("ServiceDown", definition, kind="CompositeAlarm", actions_suppressed_by="WaitPeriod",
                      actions_suppressed_reason="Waiting for DeploymentInProgress to go into ALARM state")
    reason = f"{arn('CPUUtilizationTooHigh')} transitioned to ALARM at Friday 22 July, 2022 15:57:45 UTC"
    data = json.dumps({"triggeringAlarms": [{"arn": arn("CPUUtilizationTooHigh"),
                                             "state": {"value": "ALARM", "timestamp": "2022-07-22T15:57:45.394+0000"}}]})
    change = StateChange(composite, "OK", "r0", "ALARM", reason, data, at("2022-07-22T15:57:45.500+0000"),
                         arn("ServiceDown"), old_timestamp=at("2022-07-22T15:00:00.000+0000"))
    detail = state_change_event(change)["detail"]
    # No metrics: the rule, and the suppressor's settings.
    assert detail["configuration"] == {"alarmRule": rule, "actionsSuppressor": "DeploymentInProgress",
                                       "actionsSuppressorWaitPeriod": 60, "actionsSuppressorExtensionPeriod": 120}
    assert detail["state"] == {
        "reason": reason, "reasonData": data, "timestamp": "2022-07-22T15:57:45.500+0000", "value": "ALARM",
        "actionsSuppressedBy": "WaitPeriod",
        "actionsSuppressedReason": "Waiting for DeploymentInProgress to go into ALARM state"}
    assert "actionsSuppressedBy" not in detail["previousState"]


def test_a_created_alarms_configuration_change():
    cpu = alarm("ServerCpuTooHigh", dict(SERVER_CPU, AlarmActions=["arn:aws:sns:us-east-1:123456789012:ops"],
                                         TreatMissingData="breaching", DatapointsToAlarm=1),
                state="INSUFFICIENT_DATA", configured=at("2019-10-02T17:20:03.642+0000"))
    event = configuration_change_event(ConfigurationChange("create", cpu, None, cpu.configuration_updated,
                                                           arn("ServerCpuTooHigh")))
    assert event["detail-type"] == CONFIGURATION_CHANGE == "CloudWatch Alarm Configuration Change"
    assert event["source"] == "aws.cloudwatch" and event["resources"] == [arn("ServerCpuTooHigh")]
    detail = event["detail"]
    assert detail["alarmName"] == "ServerCpuTooHigh" and detail["operation"] == "create"
    assert detail["state"] == {"value": "INSUFFICIENT_DATA", "timestamp": "2019-10-02T17:20:03.642+0000"}
    configuration = detail["configuration"]
    assert configuration == {
        "description": "Goes into alarm when server CPU utilization is too high!",
        "metrics": [{"id": single_metric_id(arn("ServerCpuTooHigh"), cpu.configuration_updated),
                     "metricStat": {"metric": {"dimensions": {"InstanceId": "i-12345678901234567"},
                                               "name": "CPUUtilization", "namespace": "AWS/EC2"},
                                    "period": 300, "stat": "Average"},
                     "returnData": True}],
        "alarmName": "ServerCpuTooHigh", "actionsEnabled": True, "timestamp": "2019-10-02T17:20:03.642+0000",
        "okActions": [], "alarmActions": ["arn:aws:sns:us-east-1:123456789012:ops"], "insufficientDataActions": [],
        "evaluationPeriods": 1, "datapointsToAlarm": 1, "threshold": 50.0,
        "comparisonOperator": "GreaterThanThreshold", "treatMissingData": "breaching",
    }
    assert "previousConfiguration" not in detail


def test_members_the_alarm_does_not_set_are_left_out():
    cpu = alarm("ServerCpuTooHigh", {k: v for k, v in SERVER_CPU.items() if k != "AlarmDescription"})
    configuration = configuration_change_event(
        ConfigurationChange("create", cpu, None, 0.0, arn("ServerCpuTooHigh")))["detail"]["configuration"]
    for member in ("description", "datapointsToAlarm", "treatMissingData", "evaluateLowSampleCountPercentile"):
        assert member not in configuration


def test_an_updated_alarm_carries_its_previous_configuration_and_a_deleted_one_its_state_reason():
    before = alarm("ServerCpuTooHigh", SERVER_CPU, configured=1000.0)
    after = alarm("ServerCpuTooHigh", dict(SERVER_CPU, Threshold=80.0, ExtendedStatistic="p99", Unit="Percent"),
                  configured=2000.0)
    del after.definition["Statistic"]
    detail = configuration_change_event(
        ConfigurationChange("update", after, before, 2000.0, arn("ServerCpuTooHigh")))["detail"]
    assert detail["operation"] == "update"
    assert detail["configuration"]["threshold"] == 80.0 and detail["previousConfiguration"]["threshold"] == 50.0
    assert detail["configuration"]["metrics"][0]["metricStat"]["stat"] == "p99"
    assert detail["configuration"]["metrics"][0]["metricStat"]["unit"] == "Percent"
    assert detail["previousConfiguration"]["metrics"][0]["metricStat"]["stat"] == "Average"
    assert detail["previousConfiguration"]["timestamp"] != detail["configuration"]["timestamp"]

    gone = alarm("ServerCpuTooHigh", SERVER_CPU, state="OK")
    gone.state_reason = "Threshold Crossed: no datapoints were received"
    detail = configuration_change_event(ConfigurationChange("delete", gone, None, 3000.0,
                                                            arn("ServerCpuTooHigh")))["detail"]
    assert detail["operation"] == "delete"
    assert detail["state"]["value"] == "OK"
    assert detail["state"]["reason"] == "Threshold Crossed: no datapoints were received"
    assert "previousConfiguration" not in detail


def test_a_composite_alarms_configuration_has_its_rule_and_no_metric_members():
    composite = alarm("ServiceDown", {"AlarmRule": "ALARM(a) OR ALARM(b)", "AlarmDescription": "d",
                                      "OKActions": ["arn:aws:sns:us-east-1:123456789012:ops"]},
                      kind="CompositeAlarm", state="INSUFFICIENT_DATA")
    configuration = configuration_change_event(
        ConfigurationChange("create", composite, None, 0.0, arn("ServiceDown")))["detail"]["configuration"]
    assert configuration["alarmRule"] == "ALARM(a) OR ALARM(b)"
    assert configuration["okActions"] == ["arn:aws:sns:us-east-1:123456789012:ops"]
    for member in ("metrics", "threshold", "evaluationPeriods", "comparisonOperator"):
        assert member not in configuration
