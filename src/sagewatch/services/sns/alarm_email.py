"""The plain-text email CloudWatch sends for an alarm's state change: the ``email`` member of the
MessageStructure=json message an alarm action publishes, which SNS delivers to email
subscriptions (the JSON message of alarm_messages.py goes to every other protocol).

AWS publishes it this way: the Action history item of an SNS alarm action holds the published
message, ``{"default": <alarm JSON>, "sms": <subject>, "email": <this text>}`` (a composite
alarm's, captured from AWS in 2022 in the public test fixtures of an alarm re-trigger tool; the
``default`` member alone shows in a 2018 history item quoted in aws/aws-sdk-java#1723).

The text, line by line, follows emails received from AWS and quoted verbatim in public
documents (2019–2025: lab write-ups, blog posts, AWS's own Trusted Advisor guide), and for
composite alarms the 2022 capture above, which is exact to the character::

    You are receiving this email because your Amazon CloudWatch Alarm "FailedLogins" in the US
    East (N. Virginia) region has entered the ALARM state, because "Threshold Crossed: ..." at
    "Sunday 15 June, 2025 12:07:17 UTC".            (one line in the email)

    View this alarm in the AWS Management Console:
    https://us-east-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=us-east-1#alarmsV2:alarm/FailedLogins

    Alarm Details:
    - Name:                       FailedLogins
    - Description:
    - State Change:               INSUFFICIENT_DATA -> ALARM
    - Reason for State Change:    Threshold Crossed: ...
    - Timestamp:                  Sunday 15 June, 2025 12:07:17 UTC
    - AWS Account:                776520358045
    - Alarm Arn:                  arn:aws:cloudwatch:us-east-1:776520358045:alarm:FailedLogins

    Threshold:
    - The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 3.0 for at least 1 of the last 1 period(s) of 300 seconds.

    Monitored Metric:
    - MetricNamespace:                     CloudTrailMetrics
    - MetricName:                          ConsoleLoginFailureCount
    - Dimensions:                          [InstanceId = i-0b41c232eabc69685]
    - Period:                              300 seconds
    - Statistic:                           Sum
    - Unit:                                not specified
    - TreatMissingData:                    missing


    State Change Actions:
    - OK:
    - ALARM: [arn:aws:sns:us-east-1:776520358045:MySNSTopic]
    - INSUFFICIENT_DATA:

Details the quotes agree on: the first sentence for every state ("has entered the OK state,
because"), the label columns (values from column 30, and column 39 under Monitored Metric),
times as ``Sunday 15 June, 2025 12:07:17 UTC``, ``Unit`` "not specified" when unset, the
``TreatMissingData`` line present only when the alarm sets it (an empty line in its place
otherwise: emails of alarms without it show three empty lines before State Change Actions),
action lists as ``[arn, ...]``. The Threshold line is the 2025 wording; earlier emails (2019–2021)
read "... GreaterThanOrEqualToThreshold 2.0 for 300 seconds. ", with a space after the full stop,
which is kept. Composite alarms (the 2022 capture): "has transitioned to ALARM state on <time>,
because "<reason>".", an ``Alarm Rule`` line after State Change, no Threshold or metric section
but "Triggering children (max. 10):", and "- OK: " with its space when a list is empty.

Unconfirmed, and so chosen: the line of each triggering child (``- <arn>   <STATE padded to 20>
<time>``, as the stackd emulator reproduces it), several dimensions as ``[A = 1, B = 2]``, a
metric-math alarm's "Monitored Metrics:" section beyond the ``MetricExpression`` and
``MetricLabel`` lines an AWS email of 2026 shows, and an anomaly-band alarm's threshold (named
by its ThresholdMetricId). The console link is AWS's: sagewatch has no console, and the text is
AWS's email as it is. Thresholds are written as Java's Double.toString writes them, as in the
reasons (alarm_evaluation.py).

SNS adds its own footer (the unsubscribe link) when it sends the email (emails.py).
"""

from __future__ import annotations

import urllib.parse
from datetime import datetime

from ..cloudwatch.alarm_evaluation import _java_double
from ..cloudwatch.alarm_rule import _long_time
from ..cloudwatch.alarms import COMPOSITE_ALARM, StateChange, utc
from .alarm_messages import region_long_name, triggering_alarms

DETAIL_COLUMN = 30  # "- Reason for State Change:    " and every label of Alarm Details
METRIC_COLUMN = 39  # "- MetricNamespace:                     " under Monitored Metric
MAX_TRIGGERING_CHILDREN = 10


def alarm_email(change: StateChange, *, region: str, account_id: str) -> str:
    """The email text of one alarm's state change (metric or composite alarm)."""
    alarm = change.alarm
    definition = alarm.definition
    composite = alarm.alarm_type == COMPOSITE_ALARM
    when = email_time(change.timestamp)
    place = region_long_name(region)
    if composite:
        opening = (f'You are receiving this email because your Amazon CloudWatch Alarm "{alarm.name}" in the '
                   f'{place} region has transitioned to {change.new_state} state on {when}, because '
                   f'"{change.reason}".')
    else:
        opening = (f'You are receiving this email because your Amazon CloudWatch Alarm "{alarm.name}" in the '
                   f'{place} region has entered the {change.new_state} state, because "{change.reason}" '
                   f'at "{when}".')
    lines = [
        opening,
        "",
        "View this alarm in the AWS Management Console:",
        console_url(alarm.name, region),
        "",
        "Alarm Details:",
        _detail("Name", alarm.name),
        _detail("Description", definition.get("AlarmDescription") or ""),
        _detail("State Change", f"{change.old_state} -> {change.new_state}"),
    ]
    if composite:
        lines.append(_detail("Alarm Rule", definition["AlarmRule"]))
    lines += [
        _detail("Reason for State Change", change.reason),
        _detail("Timestamp", when),
        _detail("AWS Account", account_id),
        _detail("Alarm Arn", change.arn),
        "",
    ]
    if composite:
        lines.append("Triggering children (max. 10):")
        for child in triggering_alarms(change)[:MAX_TRIGGERING_CHILDREN]:
            lines.append(_child_line(child))
        lines.append("")
    else:
        lines += ["Threshold:", _threshold_line(definition), ""]
        lines += _metric_lines(definition)
        lines += ["", ""]
    lines += [
        "State Change Actions:",
        f"- OK: {_actions(definition.get('OKActions'))}",
        f"- ALARM: {_actions(definition.get('AlarmActions'))}",
        f"- INSUFFICIENT_DATA: {_actions(definition.get('InsufficientDataActions'))}",
    ]
    return "\n".join(lines) + "\n"


def email_time(epoch_seconds: float) -> str:
    """``Sunday 06 November, 2022 17:43:53 UTC``: the composite rule's reason time format."""
    return _long_time(utc(epoch_seconds))


def console_url(alarm_name: str, region: str) -> str:
    """The console link of AWS's emails (2021–2025); the name percent-encoded, as the 2022
    capture shows ("alarm/Dummy%20composite%20alarm")."""
    name = urllib.parse.quote(alarm_name, safe="")
    return f"https://{region}.console.aws.amazon.com/cloudwatch/deeplink.js?region={region}#alarmsV2:alarm/{name}"


def _detail(label: str, value: str) -> str:
    return f"- {label}:".ljust(DETAIL_COLUMN) + value


def _metric_field(label: str, value: str) -> str:
    return f"- {label}:".ljust(METRIC_COLUMN) + value


def _actions(arns) -> str:
    return f"[{', '.join(arns)}]" if arns else ""


def _threshold_line(definition: dict) -> str:
    n = definition["EvaluationPeriods"]
    m = definition.get("DatapointsToAlarm") or n
    if definition.get("ThresholdMetricId"):
        threshold = definition["ThresholdMetricId"]  # an anomaly band: unconfirmed wording
    else:
        threshold = _java_double(definition["Threshold"])
    return (f"- The alarm is in the ALARM state when the metric is {definition['ComparisonOperator']} "
            f"{threshold} for at least {m} of the last {n} period(s) of {_period(definition)} seconds. ")


def _period(definition: dict) -> int | None:
    if definition.get("Period"):
        return definition["Period"]
    for query in definition.get("Metrics") or []:
        if query.get("MetricStat", {}).get("Period"):
            return query["MetricStat"]["Period"]
        if query.get("Period"):
            return query["Period"]
    return None


def _dimensions(dimensions) -> str:
    if not dimensions:
        return ""
    return "[" + ", ".join(f"{d['Name']} = {d['Value']}" for d in dimensions) + "]"


def _metric_lines(definition: dict) -> list[str]:
    """The Monitored Metric section, ending with the TreatMissingData line (or an empty line
    where an alarm that does not set it has none)."""
    treat = definition.get("TreatMissingData")
    treat_line = _metric_field("TreatMissingData", treat) if treat else ""
    if not definition.get("Metrics"):
        return [
            "Monitored Metric:",
            _metric_field("MetricNamespace", definition["Namespace"]),
            _metric_field("MetricName", definition["MetricName"]),
            _metric_field("Dimensions", _dimensions(definition.get("Dimensions"))),
            _metric_field("Period", f"{definition['Period']} seconds"),
            _metric_field("Statistic", definition.get("Statistic") or definition.get("ExtendedStatistic")),
            _metric_field("Unit", definition.get("Unit") or "not specified"),
            treat_line,
        ]
    lines = ["Monitored Metrics:"]
    band = definition.get("ThresholdMetricId")
    for query in definition["Metrics"]:
        if not query.get("ReturnData", True) or query["Id"] == band:
            continue
        if query.get("Expression"):
            lines.append(_detail("MetricExpression", query["Expression"]))
        elif query.get("MetricStat"):
            metric = query["MetricStat"]["Metric"]
            lines += [
                _detail("MetricNamespace", metric["Namespace"]),
                _detail("MetricName", metric["MetricName"]),
                _detail("Dimensions", _dimensions(metric.get("Dimensions"))),
                _detail("Statistic", query["MetricStat"]["Stat"]),
            ]
        if query.get("Label"):
            lines.append(_detail("MetricLabel", query["Label"]))
    lines.append(treat_line)
    return lines


def _child_line(child: dict) -> str:
    state = child["state"]
    timestamp = state.get("timestamp") or ""
    try:  # "2022-07-22T15:57:45.394+0000", as the engine writes triggeringAlarms
        timestamp = _long_time(datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z"))
    except ValueError:
        pass
    return f"- {child['arn']}   {str(state.get('value')):<20}{timestamp}"
