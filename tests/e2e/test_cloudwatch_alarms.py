"""CloudWatch alarm operations end to end on each wire protocol: PutMetricAlarm /
PutCompositeAlarm and their checks, DescribeAlarms (every filter, pagination),
DescribeAlarmsForMetric, DeleteAlarms, SetAlarmState, DescribeAlarmHistory (filters, pagination,
ScanBy), Enable/DisableAlarmActions, tags, anomaly detectors.

Alarms here are kept still: a metric alarm on a metric that never gets data, with
TreatMissingData=ignore, keeps whatever state SetAlarmState gives it (AWS: "The current alarm
state is maintained"), so transitions happen exactly when a test makes them. Evaluation with
real data and real time is in test_cloudwatch_alarm_evaluation.py.
"""

from __future__ import annotations

import json
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
    protocol,
    raw_cw,
    raw_cw_clients,
    transitions,
    wait_for,
    wait_state,
)

TOPIC = "arn:aws:sns:us-east-1:000000000000:alarms"
OK_TOPIC = "arn:aws:sns:us-east-1:000000000000:ok"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000"


@pytest.fixture
def prefix(unique, protocol) -> str:
    return f"e2e-{protocol}-{unique}"


def still_alarm(client, name: str, **extra) -> str:
    """A metric alarm that no data will ever move (see the module docstring)."""
    args = dict(
        AlarmName=name, Namespace="e2e/still", MetricName=f"never-{name}", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=30, ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
    )
    args.update(extra)
    client.put_metric_alarm(**args)
    return name


def names(response: dict) -> list[str]:
    return [a["AlarmName"] for a in response.get("MetricAlarms", []) + response.get("CompositeAlarms", [])]


# == PutMetricAlarm / DescribeAlarms =============================================================


def test_minimal_alarm_is_described_as_aws_does(cw, prefix):
    # AWS-recorded (localstack test_describe_minimal_metric_alarm).
    name = f"{prefix}-minimal"
    cw.put_metric_alarm(AlarmName=name, MetricName="m", Namespace=f"ns/{prefix}", EvaluationPeriods=1, Period=10,
                        Statistic="Sum", ComparisonOperator="GreaterThanThreshold", Threshold=30)
    (described,) = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert set(described) == {
        "ActionsEnabled", "AlarmActions", "AlarmArn", "AlarmConfigurationUpdatedTimestamp", "AlarmName",
        "ComparisonOperator", "Dimensions", "EvaluationPeriods", "InsufficientDataActions", "MetricName",
        "Namespace", "OKActions", "Period", "StateReason", "StateTransitionedTimestamp", "StateUpdatedTimestamp",
        "StateValue", "Statistic", "Threshold",
    }
    assert {k: v for k, v in described.items() if not k.endswith("Timestamp")} == {
        "ActionsEnabled": True, "AlarmActions": [], "AlarmArn": ARN_PREFIX + name, "AlarmName": name,
        "ComparisonOperator": "GreaterThanThreshold", "Dimensions": [], "EvaluationPeriods": 1,
        "InsufficientDataActions": [], "MetricName": "m", "Namespace": f"ns/{prefix}", "OKActions": [],
        "Period": 10, "StateReason": "Unchecked: Initial alarm creation", "StateValue": "INSUFFICIENT_DATA",
        "Statistic": "Sum", "Threshold": 30.0,
    }
    assert isinstance(described["Threshold"], float)
    assert described["StateUpdatedTimestamp"] == described["StateTransitionedTimestamp"]
    assert described["AlarmConfigurationUpdatedTimestamp"].year >= 2024


def test_full_alarm_round_trips(cw, prefix):
    name = f"{prefix}-full"
    dims = [{"Name": "Host", "Value": "algo-1"}, {"Name": "Job", "Value": "train"}]
    cw.put_metric_alarm(
        AlarmName=name, AlarmDescription="testing <cloudwatch> & alarms", ActionsEnabled=False,
        OKActions=[OK_TOPIC], AlarmActions=[TOPIC], InsufficientDataActions=[TOPIC],
        MetricName="GPUUtilization", Namespace=f"ns/{prefix}", ExtendedStatistic="p90", Dimensions=dims,
        Period=300, Unit="Percent", EvaluationPeriods=5, DatapointsToAlarm=3, Threshold=85.5,
        ComparisonOperator="LessThanOrEqualToThreshold", TreatMissingData="notBreaching",
        EvaluateLowSampleCountPercentile="ignore",
    )
    described = alarm(cw, name)
    expected = {
        "AlarmDescription": "testing <cloudwatch> & alarms", "ActionsEnabled": False, "OKActions": [OK_TOPIC],
        "AlarmActions": [TOPIC], "InsufficientDataActions": [TOPIC], "MetricName": "GPUUtilization",
        "ExtendedStatistic": "p90", "Dimensions": dims, "Period": 300, "Unit": "Percent", "EvaluationPeriods": 5,
        "DatapointsToAlarm": 3, "Threshold": 85.5, "ComparisonOperator": "LessThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "EvaluateLowSampleCountPercentile": "ignore",
    }
    assert {k: described[k] for k in expected} == expected
    assert "Statistic" not in described


def test_metric_math_alarm_round_trips(cw, prefix):
    name = f"{prefix}-math"
    metrics = [
        {"Id": "errors", "MetricStat": {"Metric": {"Namespace": f"ns/{prefix}", "MetricName": "Errors"},
                                        "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "calls", "MetricStat": {"Metric": {"Namespace": f"ns/{prefix}", "MetricName": "Calls"},
                                       "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "rate", "Expression": "100 * errors / calls", "Label": "error rate", "ReturnData": True},
    ]
    cw.put_metric_alarm(AlarmName=name, Metrics=metrics, EvaluationPeriods=2, Threshold=5,
                        ComparisonOperator="GreaterThanThreshold")
    described = alarm(cw, name)
    assert described["Metrics"] == metrics
    assert "MetricName" not in described and "Period" not in described


def test_update_keeps_state_and_ignores_tags(cw, prefix):
    name = still_alarm(cw, f"{prefix}-update", Tags=[{"Key": "team", "Value": "ml"}])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="by hand")
    before = alarm(cw, name)
    time.sleep(0.01)
    still_alarm(cw, name, Threshold=50, AlarmDescription="now 50", Tags=[{"Key": "other", "Value": "x"}])
    after = alarm(cw, name)
    assert (after["Threshold"], after["AlarmDescription"]) == (50.0, "now 50")
    assert (after["StateValue"], after["StateReason"]) == ("ALARM", "by hand")
    assert after["StateUpdatedTimestamp"] == before["StateUpdatedTimestamp"]
    assert after["AlarmConfigurationUpdatedTimestamp"] > before["AlarmConfigurationUpdatedTimestamp"]
    # "Tags ... ignored on update" (PutMetricAlarm reference).
    assert cw.list_tags_for_resource(ResourceARN=ARN_PREFIX + name)["Tags"] == [{"Key": "team", "Value": "ml"}]
    updates = history(cw, name, "ConfigurationUpdate")
    assert [i["HistorySummary"] for i in updates] == [f'Alarm "{name}" created', f'Alarm "{name}" updated']
    data = json.loads(updates[1]["HistoryData"])
    assert data["type"] == "Update"
    assert data["originalAlarm"]["Threshold"] == 30.0 and data["updatedAlarm"]["Threshold"] == 50.0


@pytest.mark.parametrize("change, code, message", [
    # Real AWS texts where known (awsdocs/aws-cloudformation-user-guide PR #777;
    # hashicorp/terraform-provider-aws PR #11105); the rest are sagewatch's wording.
    ({"Period": 45}, "ValidationError", "Period must be 10, 30 or a multiple of 60"),
    ({"MetricName": None}, "ValidationError", "MetricName must not be null"),
    ({"TreatMissingData": "sometimes"}, "ValidationError",
     "The value sometimes is not supported for TreatMissingData parameter. Supported values are "
     "[breaching, notBreaching, ignore, missing]."),
    ({"EvaluateLowSampleCountPercentile": "maybe"}, "ValidationError",
     "Option maybe is not supported. Supported options for parameter EvaluateLowSampleCountPercentile are "
     "evaluate and ignore."),
    ({"Statistic": None, "ExtendedStatistic": "p101"}, "ValidationError",
     "The value p101 for parameter ExtendedStatistic is not supported."),
    ({"DatapointsToAlarm": 3}, "ValidationError", None),
    ({"Period": 3600, "EvaluationPeriods": 200}, "ValidationError", None),
    ({"Threshold": None}, "ValidationError", None),
    ({"ExtendedStatistic": "p90"}, "ValidationError", None),
])
def test_put_metric_alarm_errors(raw_cw, prefix, change, code, message):
    args = dict(AlarmName=f"{prefix}-bad", Namespace="e2e/bad", MetricName="m", Statistic="Sum", Period=60,
                EvaluationPeriods=2, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    args.update(change)
    args = {k: v for k, v in args.items() if v is not None}
    got_code, got_message, status = error_of(raw_cw.put_metric_alarm, **args)
    assert (got_code, status) == (code, 400)
    if message is not None:
        assert got_message == message
    assert alarm(raw_cw, f"{prefix}-bad") is None


def test_put_metric_alarm_without_required_members(raw_cw, prefix):
    code, message, status = error_of(raw_cw.put_metric_alarm, AlarmName=f"{prefix}-x", Namespace="n",
                                     MetricName="m", Statistic="Sum", Period=60, Threshold=1)
    assert (code, status) == ("MissingParameter", 400)
    assert message == ("The parameter EvaluationPeriods is required.\n"
                       "The parameter ComparisonOperator is required.")


def test_describe_alarms_filters(cw, prefix):
    a = still_alarm(cw, f"{prefix}-a", AlarmActions=[TOPIC])
    b = still_alarm(cw, f"{prefix}-b", OKActions=[OK_TOPIC])
    c = still_alarm(cw, f"{prefix}-c")
    comp = f"{prefix}-comp"
    cw.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({a}) OR ALARM({b})", AlarmActions=[TOPIC])
    cw.set_alarm_state(AlarmName=a, StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName=b, StateValue="OK", StateReason="test")
    both = ["MetricAlarm", "CompositeAlarm"]

    assert names(cw.describe_alarms(AlarmNamePrefix=prefix)) == [a, b, c]  # MetricAlarm only by default
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=both)) == [a, b, c, comp]
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["CompositeAlarm"])) == [comp]
    assert names(cw.describe_alarms(AlarmNames=[c, a, "nope"])) == [a, c]
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM", AlarmTypes=both)) == [a, comp]
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="INSUFFICIENT_DATA")) == [c]
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix=TOPIC, AlarmTypes=both)) == [a, comp]
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix, ActionPrefix="arn:aws:sns:us-east-1:000000000000:ok")) == [b]
    assert names(cw.describe_alarms(ChildrenOfAlarmName=comp, AlarmTypes=both)) == [a, b]
    assert names(cw.describe_alarms(ParentsOfAlarmName=a, AlarmTypes=both)) == [comp]
    assert names(cw.describe_alarms(ParentsOfAlarmName=c, AlarmTypes=both)) == []
    response = cw.describe_alarms(AlarmNames=[a], AlarmTypes=both)
    assert response["CompositeAlarms"] == [] and len(response["MetricAlarms"]) == 1


def test_describe_alarms_pagination(cw, prefix):
    created = [still_alarm(cw, f"{prefix}-{i:02d}") for i in range(7)]
    pages, token = [], None
    while True:
        kwargs = {"AlarmNamePrefix": prefix, "MaxRecords": 3}
        if token:
            kwargs["NextToken"] = token
        page = cw.describe_alarms(**kwargs)
        pages.append(names(page))
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [created[0:3], created[3:6], created[6:7]]
    full = cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, PaginationConfig={"PageSize": 2})
    assert [n for page in full for n in names(page)] == created
    code, _, status = error_of(cw.describe_alarms, NextToken="bogus")
    assert (code, status) == ("InvalidNextToken", 400)


def test_describe_alarms_bad_combinations(cw, prefix):
    code, _, status = error_of(cw.describe_alarms, AlarmNames=["x"], AlarmNamePrefix="x")
    assert (code, status) == ("InvalidParameterCombination", 400)
    code, _, status = error_of(cw.describe_alarms, ChildrenOfAlarmName="x", ParentsOfAlarmName="y")
    assert (code, status) == ("InvalidParameterCombination", 400)
    code, _, status = error_of(cw.describe_alarms, ChildrenOfAlarmName="x", StateValue="OK")
    assert (code, status) == ("InvalidParameterCombination", 400)


def test_describe_alarms_for_metric(cw, prefix):
    ns = f"ns/{prefix}"
    dims = [{"Name": "Host", "Value": "a"}]
    common = dict(Namespace=ns, MetricName="cpu", EvaluationPeriods=1, Threshold=1,
                  ComparisonOperator="GreaterThanThreshold")
    cw.put_metric_alarm(AlarmName=f"{prefix}-avg", Statistic="Average", Period=60, Dimensions=dims, **common)
    cw.put_metric_alarm(AlarmName=f"{prefix}-max", Statistic="Maximum", Period=300, Dimensions=dims, Unit="Percent",
                        **common)
    cw.put_metric_alarm(AlarmName=f"{prefix}-p99", ExtendedStatistic="p99", Period=60, Dimensions=dims, **common)
    cw.put_metric_alarm(AlarmName=f"{prefix}-nodims", Statistic="Average", Period=60, **common)
    cw.put_metric_alarm(AlarmName=f"{prefix}-math", EvaluationPeriods=1, Threshold=1,
                        ComparisonOperator="GreaterThanThreshold", Metrics=[
                            {"Id": "m", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "cpu",
                                                                  "Dimensions": dims},
                                                       "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                            {"Id": "e", "Expression": "m * 2"}])

    def found(**kwargs):
        return sorted(a["AlarmName"] for a in cw.describe_alarms_for_metric(
            Namespace=ns, MetricName="cpu", **kwargs)["MetricAlarms"])

    assert found(Dimensions=dims) == sorted(f"{prefix}-{s}" for s in ("avg", "max", "p99", "math"))
    assert found() == [f"{prefix}-nodims"]
    assert found(Dimensions=dims, Statistic="Average") == [f"{prefix}-avg"]
    assert found(Dimensions=dims, ExtendedStatistic="p99") == [f"{prefix}-p99"]
    assert found(Dimensions=dims, Period=300) == [f"{prefix}-max"]
    assert found(Dimensions=dims, Unit="Percent") == [f"{prefix}-max"]


def test_delete_alarms(cw, prefix):
    a, b = still_alarm(cw, f"{prefix}-a"), still_alarm(cw, f"{prefix}-b")
    code, _, status = error_of(cw.delete_alarms, AlarmNames=[a, f"{prefix}-missing"])
    assert (code, status) == ("ResourceNotFound", 404)
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix)) == [a, b]  # nothing deleted
    cw.delete_alarms(AlarmNames=[a, b])
    assert names(cw.describe_alarms(AlarmNamePrefix=prefix)) == []
    # History outlives the alarm.
    deleted = history(cw, a, "ConfigurationUpdate")
    assert [i["HistorySummary"] for i in deleted] == [f'Alarm "{a}" created', f'Alarm "{a}" deleted']
    assert json.loads(deleted[1]["HistoryData"])["type"] == "Delete"
    # A deleted alarm's ARN lists no tags (AWS answers 200 and an empty list, not ResourceNotFound).
    assert cw.list_tags_for_resource(ResourceARN=ARN_PREFIX + a)["Tags"] == []


# == SetAlarmState ===============================================================================


def test_set_alarm_state_writes_history(cw, prefix):
    name = still_alarm(cw, f"{prefix}-set")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing alarm",
                       StateReasonData=json.dumps({"custom": 1}))
    described = alarm(cw, name)
    assert (described["StateValue"], described["StateReason"]) == ("ALARM", "testing alarm")
    assert json.loads(described["StateReasonData"]) == {"custom": 1}
    assert described["StateTransitionedTimestamp"] == described["StateUpdatedTimestamp"]
    (item,) = history(cw, name, "StateUpdate")
    # AWS-recorded StateUpdate item form (localstack test_put_metric_alarm snapshot).
    assert item["AlarmType"] == "MetricAlarm"
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert json.loads(item["HistoryData"]) == {
        "version": "1.0",
        "oldState": {"stateValue": "INSUFFICIENT_DATA", "stateReason": "Unchecked: Initial alarm creation"},
        "newState": {"stateValue": "ALARM", "stateReason": "testing alarm", "stateReasonData": {"custom": 1}},
    }
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="resetting alarm")
    assert transitions(cw, name) == [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")]


def test_set_alarm_state_errors(raw_cw, prefix):
    # AWS-recorded (localstack test_set_alarm_invalid_input).
    name = still_alarm(raw_cw, f"{prefix}-err")
    code, message, status = error_of(raw_cw.set_alarm_state, AlarmName=name, StateValue="INVALID", StateReason="t")
    assert (code, status) == ("ValidationError", 400)
    assert message == ("1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]")
    code, message, status = error_of(raw_cw.set_alarm_state, AlarmName=f"{name}-nonexistent", StateValue="OK",
                                     StateReason="test")
    assert (code, status) == ("ResourceNotFound", 404)
    assert not message  # AWS sends no message
    code, _, status = error_of(raw_cw.set_alarm_state, AlarmName=name, StateValue="OK", StateReason="t",
                               StateReasonData="{not json")
    assert (code, status) == ("InvalidFormat", 400)
    assert alarm(raw_cw, name)["StateValue"] == "INSUFFICIENT_DATA"


def test_error_classes(cw, prefix):
    with pytest.raises(cw.exceptions.ResourceNotFound):
        cw.set_alarm_state(AlarmName=f"{prefix}-none", StateValue="OK", StateReason="t")
    name = still_alarm(cw, f"{prefix}-cls")
    with pytest.raises(cw.exceptions.InvalidFormatFault):
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="t", StateReasonData="[")


# == DescribeAlarmHistory ========================================================================


def test_alarm_history_filters_and_pages(cw, prefix):
    name = still_alarm(cw, f"{prefix}-hist")
    other = still_alarm(cw, f"{prefix}-other")
    t0 = time.time()
    states = ["ALARM", "OK", "ALARM", "OK", "ALARM"]
    for state in states:
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason=f"to {state}")
    cw.set_alarm_state(AlarmName=other, StateValue="OK", StateReason="other")

    everything = history(cw, name)
    assert [i["HistoryItemType"] for i in everything] == ["ConfigurationUpdate"] + ["StateUpdate"] * 5
    assert all(i["AlarmName"] == name for i in everything)
    stamps = [i["Timestamp"] for i in everything]
    assert stamps == sorted(stamps)

    newest_first = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [i["HistorySummary"] for i in newest_first] == [
        "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM",
        "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]

    pages, token = [], None
    while True:
        kwargs = {"AlarmName": name, "HistoryItemType": "StateUpdate", "MaxRecords": 2,
                  "ScanBy": "TimestampAscending"}
        if token:
            kwargs["NextToken"] = token
        page = cw.describe_alarm_history(**kwargs)
        pages.append([json.loads(i["HistoryData"])["newState"]["stateValue"] for i in page["AlarmHistoryItems"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["ALARM", "OK"], ["ALARM", "OK"], ["ALARM"]]

    future = cw.describe_alarm_history(AlarmName=name, StartDate=at(time.time() + 3600))["AlarmHistoryItems"]
    assert future == []
    past = cw.describe_alarm_history(AlarmName=name, EndDate=at(t0 - 3600))["AlarmHistoryItems"]
    assert past == []
    window = cw.describe_alarm_history(AlarmName=name, StartDate=at(t0 - 1), EndDate=at(time.time() + 1),
                                       HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert len(window) == 5

    # Without AlarmName: every alarm's items (MetricAlarm by default).
    mine = [i for i in cw.get_paginator("describe_alarm_history").paginate(
        HistoryItemType="StateUpdate", StartDate=at(t0 - 1)).build_full_result()["AlarmHistoryItems"]
        if i["AlarmName"].startswith(prefix)]
    assert sorted({i["AlarmName"] for i in mine}) == [name, other]


def test_history_types_filter(cw, prefix):
    child = still_alarm(cw, f"{prefix}-child")
    comp = f"{prefix}-comp"
    cw.put_composite_alarm(AlarmName=comp, AlarmRule=f"ALARM({child})")
    metric_only = cw.describe_alarm_history(AlarmName=comp)["AlarmHistoryItems"]
    assert metric_only == []  # AlarmTypes defaults to MetricAlarm
    items = cw.describe_alarm_history(AlarmName=comp, AlarmTypes=["CompositeAlarm"])["AlarmHistoryItems"]
    assert items and all(i["AlarmType"] == "CompositeAlarm" for i in items)


# == actions =====================================================================================


def test_actions_are_recorded_and_can_be_disabled(cw, prefix):
    name = still_alarm(cw, f"{prefix}-act", AlarmActions=[TOPIC], OKActions=[OK_TOPIC])
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="one")
    actions = wait_for(lambda: history(cw, name, "Action"), timeout=10, what="an Action history item")
    assert len(actions) == 1
    data = json.loads(actions[0]["HistoryData"])
    assert data["notificationResource"] == TOPIC
    assert data["actionState"] in ("Succeeded", "Failed")
    assert TOPIC in actions[0]["HistorySummary"]

    cw.disable_alarm_actions(AlarmNames=[name])
    assert alarm(cw, name)["ActionsEnabled"] is False
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="two")
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="three")
    assert len(transitions(cw, name)) == 3
    assert len(history(cw, name, "Action")) == 1  # disabled: transitions, no actions

    cw.enable_alarm_actions(AlarmNames=[name])
    assert alarm(cw, name)["ActionsEnabled"] is True
    cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="four")
    actions = history(cw, name, "Action")
    assert [json.loads(i["HistoryData"])["notificationResource"] for i in actions] == [TOPIC, OK_TOPIC]
    # No action list for INSUFFICIENT_DATA: nothing to run.
    cw.set_alarm_state(AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="five")
    assert len(history(cw, name, "Action")) == 2


# == tags ========================================================================================


def test_tags(cw, prefix):
    # AWS-recorded (localstack test_store_tags).
    name = still_alarm(cw, f"{prefix}-tags")
    arn = alarm(cw, name)["AlarmArn"]
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "tag1", "Value": "foo"}, {"Key": "tag2", "Value": "bar"}])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "tag1", "Value": "foo"}, {"Key": "tag2", "Value": "bar"}]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "tag2", "Value": "baz"}])
    cw.untag_resource(ResourceARN=arn, TagKeys=["tag1"])
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "tag2", "Value": "baz"}]
    created = still_alarm(cw, f"{prefix}-born-tagged", Tags=[{"Key": "a", "Value": "1"}])
    assert cw.list_tags_for_resource(ResourceARN=ARN_PREFIX + created)["Tags"] == [{"Key": "a", "Value": "1"}]
    code, _, status = error_of(cw.tag_resource, ResourceARN=ARN_PREFIX + f"{prefix}-nope",
                               Tags=[{"Key": "a", "Value": "b"}])
    assert (code, status) == ("ResourceNotFoundException", 404)


# == composite alarms (API) ======================================================================


def test_composite_alarm_round_trips(cw, prefix):
    a, b = still_alarm(cw, f"{prefix}-a"), still_alarm(cw, f"{prefix}-b")
    supp = still_alarm(cw, f"{prefix}-supp")
    comp = f"{prefix}-comp"
    rule = f'ALARM("{a}") AND NOT OK({ARN_PREFIX}{b})'
    cw.put_composite_alarm(
        AlarmName=comp, AlarmRule=rule, AlarmDescription="both", AlarmActions=[TOPIC], OKActions=[OK_TOPIC],
        ActionsSuppressor=supp, ActionsSuppressorWaitPeriod=60, ActionsSuppressorExtensionPeriod=120,
        Tags=[{"Key": "k", "Value": "v"}],
    )
    (described,) = cw.describe_alarms(AlarmNames=[comp], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    expected = {
        "AlarmName": comp, "AlarmArn": ARN_PREFIX + comp, "AlarmRule": rule, "AlarmDescription": "both",
        "AlarmActions": [TOPIC], "OKActions": [OK_TOPIC], "InsufficientDataActions": [], "ActionsEnabled": True,
        "ActionsSuppressor": supp, "ActionsSuppressorWaitPeriod": 60, "ActionsSuppressorExtensionPeriod": 120,
    }
    assert {k: described.get(k) for k in expected} == expected
    # Both children are INSUFFICIENT_DATA: the rule is false, so the composite is OK once evaluated.
    described = wait_state(cw, comp, "OK", timeout=10)
    assert described["StateReason"] == f"{ARN_PREFIX}{comp} was created and its alarm rule evaluates to OK"
    assert cw.list_tags_for_resource(ResourceARN=ARN_PREFIX + comp)["Tags"] == [{"Key": "k", "Value": "v"}]


@pytest.mark.parametrize("rule", [
    "ALARM(a) AND", "ALARM(a", "ALARM(a))", "SOMETIMES(a)", "ALARM()", "", "alarm(a)", "TRUE FALSE",
])
def test_bad_alarm_rules(raw_cw, prefix, rule):
    # AWS: ValidationError, "Error in AlarmRule [...]" (CloudFormation errors in aws-cdk #13953, #34662).
    code, message, status = error_of(raw_cw.put_composite_alarm, AlarmName=f"{prefix}-bad", AlarmRule=rule)
    assert (code, status) == ("ValidationError", 400)
    assert message
    assert alarm(raw_cw, f"{prefix}-bad") is None


def test_rule_error_message(raw_cw, prefix):
    code, message, _ = error_of(raw_cw.put_composite_alarm, AlarmName=f"{prefix}-bad", AlarmRule=")")
    assert (code, message) == ("ValidationError", "Error in AlarmRule [Unsupported token ')' at char 0]")


def test_composite_cannot_reference_itself(raw_cw, prefix):
    code, _, status = error_of(raw_cw.put_composite_alarm, AlarmName=f"{prefix}-self",
                               AlarmRule=f"ALARM({prefix}-self) OR TRUE")
    assert (code, status) == ("ValidationError", 400)


# == anomaly detectors (API) =====================================================================


def test_anomaly_detector_lifecycle(cw, prefix):
    # AWS-recorded (localstack test_anomaly_detector_lifecycle).
    ns = f"ns/{prefix}"
    dims = [{"Name": "DimensionName", "Value": "DimensionValue"}]
    cw.put_anomaly_detector(MetricName="MyMetric", Namespace=ns, Stat="Sum", Configuration={}, Dimensions=dims)
    (detector,) = cw.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]
    assert {k: detector[k] for k in ("Configuration", "Dimensions", "MetricName", "Namespace",
                                     "SingleMetricAnomalyDetector", "Stat", "StateValue")} == {
        "Configuration": {"ExcludedTimeRanges": []}, "Dimensions": dims, "MetricName": "MyMetric",
        "Namespace": ns, "SingleMetricAnomalyDetector": {"Dimensions": dims, "MetricName": "MyMetric",
                                                         "Namespace": ns, "Stat": "Sum"},
        "Stat": "Sum", "StateValue": "PENDING_TRAINING",
    }
    # The same detector through SingleMetricAnomalyDetector is the same model, not a second one.
    cw.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": "MyMetric",
                                                         "Dimensions": dims, "Stat": "Sum"})
    cw.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": "Other", "Stat": "p90"})
    assert sorted(d["MetricName"] for d in cw.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]) == [
        "MyMetric", "Other"]
    assert [d["MetricName"] for d in cw.describe_anomaly_detectors(
        Namespace=ns, MetricName="Other")["AnomalyDetectors"]] == ["Other"]
    assert [d["MetricName"] for d in cw.describe_anomaly_detectors(
        Namespace=ns, Dimensions=dims)["AnomalyDetectors"]] == ["MyMetric"]
    cw.delete_anomaly_detector(MetricName="MyMetric", Namespace=ns, Stat="Sum", Dimensions=dims)
    assert [d["MetricName"] for d in cw.describe_anomaly_detectors(Namespace=ns)["AnomalyDetectors"]] == ["Other"]
    code, _, status = error_of(cw.delete_anomaly_detector, MetricName="MyMetric", Namespace=ns, Stat="Sum",
                               Dimensions=dims)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_anomaly_detector_pagination_and_bad_input(cw, prefix):
    ns = f"ns/{prefix}"
    for i in range(5):
        cw.put_anomaly_detector(SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": f"m{i}", "Stat": "Average"})
    pages = list(cw.get_paginator("describe_anomaly_detectors").paginate(
        Namespace=ns, PaginationConfig={"PageSize": 2}))
    assert [len(p["AnomalyDetectors"]) for p in pages] == [2, 2, 1]
    assert sorted(d["MetricName"] for p in pages for d in p["AnomalyDetectors"]) == [f"m{i}" for i in range(5)]
    # The model gives Stat a pattern, so AWS's front end refuses a bad one itself.
    code, message, status = error_of(cw.put_anomaly_detector, SingleMetricAnomalyDetector={
        "Namespace": ns, "MetricName": "m", "Stat": "Bogus"})
    assert (code, status) == ("ValidationError", 400)
    assert message.startswith("1 validation error detected: Value 'Bogus' at 'singleMetricAnomalyDetector.stat' "
                              "failed to satisfy constraint: Member must satisfy regular expression pattern: ")
    code, _, status = error_of(cw.put_anomaly_detector, Namespace=ns, MetricName="m", Stat="Sum",
                               SingleMetricAnomalyDetector={"Namespace": ns, "MetricName": "m", "Stat": "Sum"})
    assert (code, status) == ("InvalidParameterCombination", 400)
