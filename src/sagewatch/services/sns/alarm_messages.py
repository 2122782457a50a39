"""The message CloudWatch publishes to an SNS topic named in an alarm's actions: its subject
``<STATE>: "<alarm name>" in <Region long name>`` and its JSON text (reference §9.3).

Grounding, in order of weight:
  * AWS-recorded (localstack ``tests/aws/services/cloudwatch/test_cloudwatch.snapshot.json``,
    test_breaching_alarm_actions, 2025): the top-level fields and their order, ``Trigger`` of a
    metric alarm, ``Statistic`` upper-case, dimensions as ``{"value","name"}``, ``Unit`` null when
    unset, ``EvaluateLowSampleCountPercentile`` "" when unset, ``AlarmConfigurationUpdatedTimestamp``;
  * messages captured from AWS in public code (2019–2024): times as ``2019-11-22T01:02:17.570+0000``,
    ``AlarmDescription`` null when unset, the subject with ``US West (Oregon)``-style region names,
    and a metric-math ``Trigger`` (Period, EvaluationPeriods, ComparisonOperator, Threshold,
    TreatMissingData, EvaluateLowSampleCountPercentile, then ``Metrics`` with each query's keys
    in alphabetical order).
Unconfirmed, and so chosen as noted where they are built: ``ExtendedStatistic`` alarms' Trigger
keys, ``DatapointsToAlarm``'s place, ``ThresholdMetricId`` standing where Threshold stands,
SampleCount's upper-case spelling. ``TreatMissingData`` is written as the 2025 recording has it
(the value alone, "missing" when unset); captured messages of 2019–2024 show it as
``"- TreatMissingData: missing"`` instead, with varying padding.

Composite alarms: ``AlarmRule`` and ``TriggeringChildren`` instead of Trigger (reference §9.3),
in the order of a message captured from AWS in a composite alarm's Action history item (2022,
public test fixtures of an alarm re-trigger tool): ... ``InsufficientDataActions``,
``OldStateValue``, ``AlarmRule``, ``TriggeringChildren``, and no
``AlarmConfigurationUpdatedTimestamp``. Each triggering child is ``{"Arn": ..., "State":
{"Value": ..., "Timestamp": ...}}`` (localstack provider_v2
``create_message_response_update_composite_alarm_state_sns``), taken from the transition's
reason data (``triggeringAlarms``); a transition without them (SetAlarmState) has none, as the
captured message (``"TriggeringChildren":[]``) shows.

Region long names come from botocore's endpoint data (``description`` of each region), the
same names the AWS console shows; a region botocore does not know is written as its code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import botocore.loaders

from ..cloudwatch.alarms import COMPOSITE_ALARM, StateChange
from .messages import utc_milliseconds

# Statistic → Trigger.Statistic. Recorded: AVERAGE; captured: SUM, MAXIMUM, MINIMUM.
# SAMPLE_COUNT is unconfirmed (AWS's enum constant style, as the others follow).
TRIGGER_STATISTICS = {
    "Average": "AVERAGE", "Sum": "SUM", "Maximum": "MAXIMUM", "Minimum": "MINIMUM",
    "SampleCount": "SAMPLE_COUNT",
}
DEFAULT_TREAT_MISSING_DATA = "missing"  # PutMetricAlarm's documented default


@dataclass(frozen=True, slots=True)
class AlarmNotification:
    subject: str
    message: str  # the JSON text published as the SNS Message


@cache
def region_long_names() -> dict[str, str]:
    """Region code → long name ("us-east-1" → "US East (N. Virginia)"), from botocore's
    ``endpoints.json`` (every partition)."""
    endpoints = botocore.loaders.create_loader().load_data("endpoints")
    return {code: region["description"]
            for partition in endpoints["partitions"]
            for code, region in partition["regions"].items()}


def region_long_name(region: str) -> str:
    return region_long_names().get(region, region)


def alarm_subject(alarm_name: str, new_state: str, region: str) -> str:
    """``ALARM: "cpu-high" in US East (N. Virginia)``; the prefix is the new state
    (``OK``, ``ALARM``, ``INSUFFICIENT_DATA``)."""
    return f'{new_state}: "{alarm_name}" in {region_long_name(region)}'


def alarm_time(epoch_seconds: float) -> str:
    """Times in alarm messages: ``2019-11-22T01:02:17.570+0000`` (milliseconds, numeric UTC offset)."""
    return utc_milliseconds(epoch_seconds, "+0000")


def alarm_notification(change: StateChange, *, region: str, account_id: str) -> AlarmNotification:
    """The subject and message of one alarm's state change, as CloudWatch publishes them."""
    alarm = change.alarm
    definition = alarm.definition
    if alarm.alarm_type == COMPOSITE_ALARM:
        message = _composite_message(change, region=region, account_id=account_id)
    else:
        message = _metric_message(change, region=region, account_id=account_id)
    return AlarmNotification(
        subject=alarm_subject(alarm.name, change.new_state, region),
        # Compact, as captured messages are: no spaces after separators.
        message=json.dumps(message, separators=(",", ":"), ensure_ascii=False),
    )


def _metric_message(change: StateChange, *, region: str, account_id: str) -> dict:
    alarm = change.alarm
    definition = alarm.definition
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": definition.get("AlarmDescription"),
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": alarm_time(alarm.configuration_updated),
        "NewStateValue": change.new_state,
        "NewStateReason": change.reason,
        "StateChangeTime": alarm_time(change.timestamp),
        "Region": region_long_name(region),
        "AlarmArn": change.arn,
        "OldStateValue": change.old_state,
        "OKActions": list(definition.get("OKActions") or []),
        "AlarmActions": list(definition.get("AlarmActions") or []),
        "InsufficientDataActions": list(definition.get("InsufficientDataActions") or []),
        "Trigger": _trigger(definition),
    }


def _composite_message(change: StateChange, *, region: str, account_id: str) -> dict:
    alarm = change.alarm
    definition = alarm.definition
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": definition.get("AlarmDescription"),
        "AWSAccountId": account_id,
        "NewStateValue": change.new_state,
        "NewStateReason": change.reason,
        "StateChangeTime": alarm_time(change.timestamp),
        "Region": region_long_name(region),
        "AlarmArn": change.arn,
        "OKActions": list(definition.get("OKActions") or []),
        "AlarmActions": list(definition.get("AlarmActions") or []),
        "InsufficientDataActions": list(definition.get("InsufficientDataActions") or []),
        "OldStateValue": change.old_state,
        "AlarmRule": definition["AlarmRule"],
        "TriggeringChildren": [
            {"Arn": child["arn"], "State": {"Value": child["state"].get("value"),
                                            "Timestamp": child["state"].get("timestamp")}}
            for child in triggering_alarms(change)
        ],
    }


def triggering_alarms(change: StateChange) -> list[dict]:
    """The ``triggeringAlarms`` of a composite alarm's transition (its reason data, written by
    the engine: ``{"arn": ..., "state": {"value": ..., "timestamp": ...}}``), or none."""
    try:
        data = json.loads(change.reason_data or "{}")
        children = data.get("triggeringAlarms") or []
        return [c for c in children if isinstance(c, dict) and "arn" in c and isinstance(c.get("state"), dict)]
    except (ValueError, AttributeError):
        return []  # SetAlarmState's reason data is the caller's JSON, of any shape


def _trigger(definition: dict) -> dict:
    if definition.get("Metrics"):
        return _math_trigger(definition)
    trigger: dict = {"MetricName": definition.get("MetricName"), "Namespace": definition.get("Namespace")}
    if definition.get("ExtendedStatistic"):
        # Unconfirmed: the StatisticType names the member the alarm uses, which follows it.
        trigger["StatisticType"] = "ExtendedStatistic"
        trigger["ExtendedStatistic"] = definition["ExtendedStatistic"]
    else:
        trigger["StatisticType"] = "Statistic"
        statistic = definition.get("Statistic")
        trigger["Statistic"] = TRIGGER_STATISTICS.get(statistic, statistic)
    trigger["Unit"] = definition.get("Unit")
    trigger["Dimensions"] = _dimensions(definition.get("Dimensions"))
    trigger["Period"] = definition.get("Period")
    _common_trigger_fields(trigger, definition)
    return trigger


def _math_trigger(definition: dict) -> dict:
    trigger: dict = {"Period": definition.get("Period") or _query_period(definition["Metrics"])}
    _common_trigger_fields(trigger, definition)
    trigger["Metrics"] = [_query(query) for query in definition["Metrics"]]
    return trigger


def _common_trigger_fields(trigger: dict, definition: dict) -> None:
    trigger["EvaluationPeriods"] = definition.get("EvaluationPeriods")
    if definition.get("DatapointsToAlarm") is not None:
        trigger["DatapointsToAlarm"] = definition["DatapointsToAlarm"]  # place unconfirmed
    trigger["ComparisonOperator"] = definition.get("ComparisonOperator")
    if definition.get("ThresholdMetricId"):
        trigger["ThresholdMetricId"] = definition["ThresholdMetricId"]  # anomaly band alarms
    else:
        threshold = definition.get("Threshold")
        trigger["Threshold"] = float(threshold) if threshold is not None else None
    trigger["TreatMissingData"] = definition.get("TreatMissingData") or DEFAULT_TREAT_MISSING_DATA
    trigger["EvaluateLowSampleCountPercentile"] = definition.get("EvaluateLowSampleCountPercentile") or ""


def _dimensions(dimensions) -> list[dict[str, str]]:
    # Lower-case keys, value first: as recorded.
    return [{"value": dimension["Value"], "name": dimension["Name"]} for dimension in dimensions or []]


def _query(query: dict) -> dict:
    """A MetricDataQuery as the Trigger lists it: its keys in alphabetical order (captured),
    dimensions lower-cased, ReturnData always written (it defaults to true)."""
    shown: dict = {}
    for key, value in query.items():
        if key == "MetricStat":
            stat = dict(value)
            metric = dict(stat.get("Metric") or {})
            if "Dimensions" in metric:
                metric["Dimensions"] = _dimensions(metric["Dimensions"])
            stat["Metric"] = dict(sorted(metric.items()))
            value = dict(sorted(stat.items()))
        shown[key] = value
    shown.setdefault("ReturnData", True)
    return dict(sorted(shown.items()))


def _query_period(queries: list[dict]) -> int | None:
    """A math alarm's period: that of the query it alarms on if it has one, else of its first
    MetricStat (the captured math message shows the metrics' 60 at the top)."""
    for query in sorted(queries, key=lambda q: not q.get("ReturnData", True)):
        if query.get("Period"):
            return query["Period"]
        if query.get("MetricStat", {}).get("Period"):
            return query["MetricStat"]["Period"]
    return None
