"""The events CloudWatch puts on the default event bus: ``CloudWatch Alarm State Change`` for
every transition of an alarm and ``CloudWatch Alarm Configuration Change`` for every alarm
created, updated or deleted (reference §5.3; cloudwatch-and-eventbridge.html: "CloudWatch sends
events to Amazon EventBridge whenever a CloudWatch alarm is created, updated, deleted, or changes
alarm state").

Pure: each builder turns the engine's ``StateChange`` / ``ConfigurationChange`` into an event
envelope without ``id``, ``time``, ``account`` and ``region``: ``EventsService.put_service_events``
fills them in when the event is put on the bus, milliseconds after the change (the engine's
announcer tells the listener right after the transition).

How close this comes to "CloudWatch guarantees the delivery of alarm state change events to
EventBridge": the transition is stored first (the alarm's state and its StateUpdate history item,
one transaction); the announcer then puts the event on the bus, whose target deliveries are
queued durably before ``put_service_events`` returns. A server that dies between the two (killed
within those milliseconds, or stopped with events still queued past its stop timeout) has stored
the transition but loses its event, which is not sent after the restart. Delivery from the bus to
targets is at-least-once (the outbox).

Grounding, in order of weight:
  * the AWS examples (reference §5.3; awsdocs/amazon-cloudwatch-user-guide
    doc_source/cloudwatch-and-eventbridge.md): single-metric, metric-math and anomaly alarms'
    state changes. ``detail`` is ``alarmName``, ``configuration``, ``previousState``, ``state``;
    a state is ``reason``, ``reasonData`` (the StateReasonData text, left out when there is
    none: a new alarm's previous state has none), ``timestamp``
    (``2019-10-02T17:04:40.989+0000``), ``value``. The configuration of a state change is the
    description and the alarm's metrics as MetricDataQuery objects in lower camel case, each
    one's keys in alphabetical order; dimensions a map; a single-metric alarm shows its metric
    as one query with a generated UUID ``id`` and ``returnData`` true;
  * the reference's notes (§5.3): composite alarms' ``configuration.alarmRule``, reason data
    ``{"triggeringAlarms": [...]}``, ``actionsSuppressedBy`` / ``actionsSuppressedReason`` in
    the state; configuration changes' ``operation`` create|update|delete, ``configuration`` with
    evaluationPeriods, threshold, comparisonOperator, treatMissingData, metrics, alarmName,
    description, actionsEnabled, timestamp, okActions, alarmActions, insufficientDataActions,
    and ``previousConfiguration`` on update;
  * the EventBridge schema registry's shape of ``aws.cloudwatch@CloudWatchAlarmConfigurationChange``
    as the CDK generates it (aws-cdk mixins-preview aws_cloudwatch.events: configuration members
    actionsSuppressor, actionsSuppressorWaitPeriod, actionsSuppressorExtensionPeriod, alarmRule,
    datapointsToAlarm, evaluateLowSampleCountPercentile, ...; a ``state`` in the detail) and
    youtype/mypy_boto3_builder's CloudwatchEventDetailTypeDef (``state`` required,
    ``previousConfiguration`` optional);
  * a consumer of real configuration change events (carlos-aws/CloudWatch-Alarms-Replicator):
    single-metric alarms are described by ``metrics`` there too, with ``metricStat.metric.name``
    and a dimensions map; ``treatMissingData`` and ``datapointsToAlarm`` may be absent (it reads
    them with defaults), so they are written only when the alarm sets them.
Unconfirmed, and chosen as noted where built: the configuration change's ``state`` (value and
timestamp; a delete adds the reason, as the stackd emulator's notes on captured events say), a
metricStat's ``unit`` when the alarm has one, ``description`` left out when the alarm has none.
"""

from __future__ import annotations

import uuid

from ...store.alarms import Alarm
from .alarm_evaluation import data_time
from .alarms import COMPOSITE_ALARM, ConfigurationChange, StateChange, utc

SOURCE = "aws.cloudwatch"
STATE_CHANGE = "CloudWatch Alarm State Change"
CONFIGURATION_CHANGE = "CloudWatch Alarm Configuration Change"

# Composite alarm members the event's configuration carries, in their lower camel spelling.
_COMPOSITE_MEMBERS = ("ActionsSuppressor", "ActionsSuppressorWaitPeriod", "ActionsSuppressorExtensionPeriod")


def state_change_event(change: StateChange) -> dict:
    """The ``CloudWatch Alarm State Change`` event of one transition."""
    alarm = change.alarm
    previous = _state(change.old_state, change.old_reason, change.old_reason_data,
                      change.old_timestamp if change.old_timestamp is not None else change.timestamp)
    state = _state(change.new_state, change.reason, change.reason_data, change.timestamp)
    if alarm.alarm_type == COMPOSITE_ALARM and alarm.actions_suppressed_by:
        state["actionsSuppressedBy"] = alarm.actions_suppressed_by
        state["actionsSuppressedReason"] = alarm.actions_suppressed_reason
    detail = {
        "alarmName": alarm.name,
        "configuration": _state_configuration(alarm, change.arn),
        "previousState": previous,
        "state": state,
    }
    return _event(STATE_CHANGE, change.arn, detail)


def configuration_change_event(change: ConfigurationChange) -> dict:
    """The ``CloudWatch Alarm Configuration Change`` event of an alarm created, updated or
    deleted."""
    alarm = change.alarm
    state = {"value": alarm.state_value, "timestamp": data_time(utc(alarm.state_updated))}
    if change.operation == "delete":
        state["reason"] = alarm.state_reason
    detail: dict = {
        "alarmName": alarm.name,
        "operation": change.operation,
        "state": state,
        "configuration": _full_configuration(alarm, change.arn),
    }
    if change.operation == "update" and change.previous is not None:
        detail["previousConfiguration"] = _full_configuration(change.previous, change.arn)
    return _event(CONFIGURATION_CHANGE, change.arn, detail)


def _event(detail_type: str, arn: str, detail: dict) -> dict:
    return {"source": SOURCE, "detail-type": detail_type, "resources": [arn], "detail": detail}


def _state(value: str, reason: str, reason_data: str | None, at: float) -> dict:
    state = {"reason": reason}
    if reason_data:
        state["reasonData"] = reason_data  # the JSON text itself, as AWS's examples carry it
    state["timestamp"] = data_time(utc(at))
    state["value"] = value
    return state


def _state_configuration(alarm: Alarm, arn: str) -> dict:
    """A state change's configuration: the description, and the metrics or the alarm rule."""
    definition = alarm.definition
    configuration: dict = {}
    if definition.get("AlarmDescription") is not None:
        configuration["description"] = definition["AlarmDescription"]
    if alarm.alarm_type == COMPOSITE_ALARM:
        configuration["alarmRule"] = definition["AlarmRule"]
        for member in _COMPOSITE_MEMBERS:
            if definition.get(member) is not None:
                configuration[_lower_camel(member)] = definition[member]
    else:
        configuration["metrics"] = _metrics(alarm, arn)
    return configuration


def _full_configuration(alarm: Alarm, arn: str) -> dict:
    """A configuration change's configuration: everything PutMetricAlarm / PutCompositeAlarm
    set, in the event's lower camel spelling."""
    definition = alarm.definition
    configuration = _state_configuration(alarm, arn)
    configuration["alarmName"] = alarm.name
    configuration["actionsEnabled"] = alarm.actions_enabled
    configuration["timestamp"] = data_time(utc(alarm.configuration_updated))
    configuration["okActions"] = list(definition.get("OKActions") or [])
    configuration["alarmActions"] = list(definition.get("AlarmActions") or [])
    configuration["insufficientDataActions"] = list(definition.get("InsufficientDataActions") or [])
    if alarm.alarm_type != COMPOSITE_ALARM:
        configuration["evaluationPeriods"] = definition["EvaluationPeriods"]
        if definition.get("DatapointsToAlarm") is not None:
            configuration["datapointsToAlarm"] = definition["DatapointsToAlarm"]
        if definition.get("Threshold") is not None:
            configuration["threshold"] = float(definition["Threshold"])
        configuration["comparisonOperator"] = definition["ComparisonOperator"]
        for member in ("TreatMissingData", "EvaluateLowSampleCountPercentile"):
            if definition.get(member) is not None:
                configuration[_lower_camel(member)] = definition[member]
    return configuration


def _metrics(alarm: Alarm, arn: str) -> list[dict]:
    definition = alarm.definition
    if definition.get("Metrics"):
        return [_query(query) for query in definition["Metrics"]]
    stat: dict = {
        "metric": _metric(definition),
        "period": definition["Period"],
        "stat": definition.get("Statistic") or definition.get("ExtendedStatistic"),
    }
    if definition.get("Unit"):
        stat["unit"] = definition["Unit"]
    return [{"id": single_metric_id(arn, alarm.configuration_updated), "metricStat": stat, "returnData": True}]


def single_metric_id(arn: str, configuration_updated: float) -> str:
    """The ``id`` a single-metric alarm's one query gets. AWS's is a UUID it makes up
    ("30b6c6b2-a864-43a2-4877-c09a1afc3b87"); this one is derived from the alarm and its
    configuration time, so it stays the same across the events of one configuration."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}#{configuration_updated!r}"))


def _metric(metric: dict) -> dict:
    """``{"dimensions": {name: value}, "name": ..., "namespace": ...}`` from a Metric (or a
    single-metric alarm's members)."""
    return {
        "dimensions": {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []},
        "name": metric["MetricName"],
        "namespace": metric["Namespace"],
    }


def _query(query: dict) -> dict:
    """A MetricDataQuery in the event's spelling: keys in lower camel case and alphabetical order,
    ``returnData`` always written (it defaults to true)."""
    shown: dict = {}
    for key, value in query.items():
        if key == "MetricStat":
            stat = {"metric": _metric(value["Metric"]), "period": value["Period"], "stat": value["Stat"]}
            if value.get("Unit"):
                stat["unit"] = value["Unit"]
            value = stat
        shown[_lower_camel(key)] = value
    shown.setdefault("returnData", True)
    return dict(sorted(shown.items()))


def _lower_camel(name: str) -> str:
    return name[0].lower() + name[1:]
