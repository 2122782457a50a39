"""The plain-text alarm email (services/sns/alarm_email.py) and the message an SNS alarm action
publishes (services/sns/alarm_action.py), held to what AWS sent: a composite alarm's published
message captured exactly (JSON-escaped in an Action history item, 2022) and metric alarm emails
quoted in public write-ups (2019–2025)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from sagewatch.services.cloudwatch.alarms import StateChange
from sagewatch.services.sns.alarm_action import MAX_SUBJECT_CHARS, SnsAlarmAction
from sagewatch.services.sns.alarm_email import alarm_email, console_url, email_time
from sagewatch.services.sns.alarm_messages import region_long_name
from sagewatch.store.alarms import Alarm


def utc(*fields) -> float:
    return datetime(*fields, tzinfo=timezone.utc).timestamp()


def change_of(name, definition, *, kind="MetricAlarm", old="OK", new="ALARM", reason="r", data=None,
              when=0.0, account="123456789012", region="us-east-1") -> StateChange:
    alarm = Alarm(name=name, alarm_type=kind, definition=definition, metric_keys=[], state_value=new,
                  state_reason=reason, state_reason_data=data, state_updated=when, state_transitioned=when,
                  configuration_updated=when, actions_enabled=True)
    return StateChange(alarm, old, "before", new, reason, data, when,
                       f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}")


# A composite alarm's Action history item, captured from AWS (2022; public test fixtures of an
# alarm re-trigger tool): its publishedMessage, unescaped once. The capture's author renamed the
# alarm in the text but not in the console link ("Dummy composite alarm"), and AWS then called
# eu-west-1 "EU (Ireland)", botocore now "Europe (Ireland)": both are put back below.
CAPTURED = (
    '{"default":"{\\"AlarmName\\":\\"some-alarm-name\\",\\"AlarmDescription\\":\\"Test dummy alarm\\",'
    '\\"AWSAccountId\\":\\"123456\\",\\"NewStateValue\\":\\"ALARM\\",\\"NewStateReason\\":\\"forced test reason\\",'
    '\\"StateChangeTime\\":\\"2022-11-06T17:43:53.496+0000\\",\\"Region\\":\\"EU (Ireland)\\",'
    '\\"AlarmArn\\":\\"arn:aws:cloudwatch:eu-west-1:123456:alarm:some-alarm-name\\",\\"OKActions\\":[],'
    '\\"AlarmActions\\":[\\"arn:aws:sns:eu-west-1:123456:some-topic-name\\"],\\"InsufficientDataActions\\":[],'
    '\\"OldStateValue\\":\\"OK\\",\\"AlarmRule\\":\\"ALARM(dummy-function-DummyErrorAlarm-1LWOKJ2U4UZ2U) OR '
    'ALARM(dummy-function-DummyErrorPercentageAlarm-PM5CG7X05G4P)\\",\\"TriggeringChildren\\":[]}",'
    '"sms":"ALARM: \\"some-alarm-name\\" in EU (Ireland)",'
    '"email":"You are receiving this email because your Amazon CloudWatch Alarm \\"some-alarm-name\\" in the '
    'EU (Ireland) region has transitioned to ALARM state on Sunday 06 November, 2022 17:43:53 UTC, because '
    '\\"forced test reason\\".\\n\\nView this alarm in the AWS Management Console:\\n'
    'https://eu-west-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=eu-west-1#alarmsV2:alarm/'
    'Dummy%20composite%20alarm\\n\\nAlarm Details:\\n'
    '- Name:                       some-alarm-name\\n'
    '- Description:                Test dummy alarm\\n'
    '- State Change:               OK -> ALARM\\n'
    '- Alarm Rule:                 ALARM(dummy-function-DummyErrorAlarm-1LWOKJ2U4UZ2U) OR '
    'ALARM(dummy-function-DummyErrorPercentageAlarm-PM5CG7X05G4P)\\n'
    '- Reason for State Change:    forced test reason\\n'
    '- Timestamp:                  Sunday 06 November, 2022 17:43:53 UTC\\n'
    '- AWS Account:                123456\\n'
    '- Alarm Arn:                  arn:aws:cloudwatch:eu-west-1:123456:alarm:some-alarm-name\\n\\n'
    'Triggering children (max. 10):\\n\\n'
    'State Change Actions:\\n- OK: \\n- ALARM: [arn:aws:sns:eu-west-1:123456:some-topic-name]\\n'
    '- INSUFFICIENT_DATA: \\n"}'
)


def test_a_composite_alarms_published_message_is_the_captured_one():
    rule = "ALARM(dummy-function-DummyErrorAlarm-1LWOKJ2U4UZ2U) OR ALARM(dummy-function-DummyErrorPercentageAlarm-PM5CG7X05G4P)"
    definition = {"AlarmRule": rule, "AlarmDescription": "Test dummy alarm",
                  "AlarmActions": ["arn:aws:sns:eu-west-1:123456:some-topic-name"]}
    # SetAlarmState(StateReason="forced test reason"): no triggering children.
    change = change_of("some-alarm-name", definition, kind="CompositeAlarm", reason="forced test reason",
                       when=1667756633.496, account="123456", region="eu-west-1")
    subject, message = SnsAlarmAction(None, "eu-west-1", "123456").message(change)
    expected = (CAPTURED.replace("EU (Ireland)", region_long_name("eu-west-1"))
                .replace("alarm/Dummy%20composite%20alarm", "alarm/some-alarm-name"))
    assert message == expected
    assert subject == 'ALARM: "some-alarm-name" in Europe (Ireland)'
    assert json.loads(message)["sms"] == subject


# An email AWS sent for a metric alarm (2025, quoted in a lab write-up; the quote lost the
# trailing spaces of the empty lines, which are compared without them).
FAILED_LOGINS = """\
You are receiving this email because your Amazon CloudWatch Alarm "FailedLogins" in the US East (N. Virginia) region has entered the ALARM state, because "Threshold Crossed: 1 out of the last 1 datapoints [3.0 (15/06/25 12:02:00)] was greater than or equal to the threshold (3.0) (minimum 1 datapoint for OK -> ALARM transition)." at "Sunday 15 June, 2025 12:07:17 UTC".

View this alarm in the AWS Management Console:
https://us-east-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=us-east-1#alarmsV2:alarm/FailedLogins

Alarm Details:
- Name:                       FailedLogins
- Description:
- State Change:               INSUFFICIENT_DATA -> ALARM
- Reason for State Change:    Threshold Crossed: 1 out of the last 1 datapoints [3.0 (15/06/25 12:02:00)] was greater than or equal to the threshold (3.0) (minimum 1 datapoint for OK -> ALARM transition).
- Timestamp:                  Sunday 15 June, 2025 12:07:17 UTC
- AWS Account:                776520358045
- Alarm Arn:                  arn:aws:cloudwatch:us-east-1:776520358045:alarm:FailedLogins

Threshold:
- The alarm is in the ALARM state when the metric is GreaterThanOrEqualToThreshold 3.0 for at least 1 of the last 1 period(s) of 300 seconds.

Monitored Metric:
- MetricNamespace:                     CloudTrailMetrics
- MetricName:                          ConsoleLoginFailureCount
- Dimensions:
- Period:                              300 seconds
- Statistic:                           Sum
- Unit:                                not specified
- TreatMissingData:                    missing


State Change Actions:
- OK:
- ALARM: [arn:aws:sns:us-east-1:776520358045:MySNSTopic]
- INSUFFICIENT_DATA:
"""


def test_a_metric_alarms_email_is_the_one_aws_sent():
    definition = {"MetricName": "ConsoleLoginFailureCount", "Namespace": "CloudTrailMetrics", "Statistic": "Sum",
                  "Period": 300, "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                  "Threshold": 3.0, "TreatMissingData": "missing",
                  "AlarmActions": ["arn:aws:sns:us-east-1:776520358045:MySNSTopic"]}
    reason = ("Threshold Crossed: 1 out of the last 1 datapoints [3.0 (15/06/25 12:02:00)] was greater than or "
              "equal to the threshold (3.0) (minimum 1 datapoint for OK -> ALARM transition).")
    change = change_of("FailedLogins", definition, old="INSUFFICIENT_DATA", reason=reason,
                       when=utc(2025, 6, 15, 12, 7, 17), account="776520358045")
    text = alarm_email(change, region="us-east-1", account_id="776520358045")
    assert [line.rstrip() for line in text.split("\n")] == FAILED_LOGINS.split("\n")
    # Values start in their column whether or not they are empty (AWS's exact capture writes
    # "- OK: " with its space).
    assert "\n- Description:                \n" in text
    assert "\n- OK: \n" in text


def test_every_state_is_entered_and_unset_members_read_as_aws_writes_them():
    definition = {"MetricName": "Invocations", "Namespace": "AWS/Lambda", "ExtendedStatistic": "p99",
                  "Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 3, "Unit": "Count",
                  "ComparisonOperator": "GreaterThanThreshold", "Threshold": 2147483648,
                  "Dimensions": [{"Name": "FunctionName", "Value": "f"}, {"Name": "Resource", "Value": "f:1"}],
                  "AlarmDescription": "too many", "OKActions": ["arn:aws:sns:us-east-1:1:a", "arn:aws:sns:us-east-1:1:b"]}
    text = alarm_email(change_of("x", definition, old="ALARM", new="OK", reason="back"), region="us-east-1",
                       account_id="1")
    lines = text.split("\n")
    assert lines[0] == ('You are receiving this email because your Amazon CloudWatch Alarm "x" in the '
                        'US East (N. Virginia) region has entered the OK state, because "back" at '
                        '"Thursday 01 January, 1970 00:00:00 UTC".')
    assert "- Description:                too many" in lines
    assert "- State Change:               ALARM -> OK" in lines
    # Java's Double.toString, as in the reasons; M of N.
    assert ("- The alarm is in the ALARM state when the metric is GreaterThanThreshold 2.147483648E9 for at "
            "least 3 of the last 5 period(s) of 60 seconds. ") in lines
    assert "- Dimensions:                          [FunctionName = f, Resource = f:1]" in lines
    assert "- Statistic:                           p99" in lines
    assert "- Unit:                                Count" in lines
    # No TreatMissingData set: an empty line where it would be, three before the actions.
    assert "TreatMissingData" not in text
    assert "- Unit:                                Count\n\n\n\nState Change Actions:\n" in text
    assert "- OK: [arn:aws:sns:us-east-1:1:a, arn:aws:sns:us-east-1:1:b]" in lines
    assert text.endswith("- INSUFFICIENT_DATA: \n")


def test_a_metric_math_alarm_lists_the_expression_it_alarms_on():
    definition = {"Metrics": [
        {"Id": "rate", "Expression": "100 * errors / invocations", "Label": "ErrorRate", "ReturnData": True},
        {"Id": "errors", "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors"}, "Period": 300, "Stat": "Sum"}},
    ], "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0}
    text = alarm_email(change_of("rate", definition), region="us-east-1", account_id="1")
    section = text[text.index("Monitored Metrics:"):text.index("State Change Actions:")]
    assert section.split("\n")[:3] == ["Monitored Metrics:",
                                       "- MetricExpression:           100 * errors / invocations",
                                       "- MetricLabel:                ErrorRate"]
    assert "Errors" not in section  # a query that returns no data is not what the alarm watches
    assert "for at least 1 of the last 1 period(s) of 300 seconds. " in text


def test_a_composite_alarm_lists_its_triggering_children():
    children = [{"arn": f"arn:aws:cloudwatch:us-east-1:1:alarm:child-{i}",
                 "state": {"value": "ALARM", "timestamp": "2022-07-22T15:57:45.394+0000"}} for i in range(12)]
    change = change_of("parent", {"AlarmRule": "ALARM(child-0)"}, kind="CompositeAlarm",
                       reason="arn:... transitioned to ALARM", data=json.dumps({"triggeringAlarms": children}))
    lines = alarm_email(change, region="us-east-1", account_id="1").split("\n")
    start = lines.index("Triggering children (max. 10):")
    listed = lines[start + 1:lines.index("State Change Actions:") - 1]
    assert len(listed) == 10
    assert listed[0] == ("- arn:aws:cloudwatch:us-east-1:1:alarm:child-0   ALARM               "
                         "Friday 22 July, 2022 15:57:45 UTC")
    assert "Threshold:" not in lines and "- Alarm Rule:                 ALARM(child-0)" in lines


@pytest.mark.parametrize("name, fragment", [("FailedLogins", "FailedLogins"),
                                             ("Dummy composite alarm", "Dummy%20composite%20alarm"),
                                             ("a/b", "a%2Fb")])
def test_the_console_link_names_the_alarm_percent_encoded(name, fragment):
    assert console_url(name, "eu-west-1") == (
        f"https://eu-west-1.console.aws.amazon.com/cloudwatch/deeplink.js?region=eu-west-1#alarmsV2:alarm/{fragment}")


def test_email_times_are_the_reason_style_long_form():
    assert email_time(1667756633.496) == "Sunday 06 November, 2022 17:43:53 UTC"


def test_the_message_of_a_metric_alarm_and_a_subject_cut_to_what_publish_takes():
    definition = {"MetricName": "m", "Namespace": "n", "Statistic": "Average", "Period": 60,
                  "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.0}
    change = change_of("n" * 255, definition)
    subject, message = SnsAlarmAction(None, "us-east-1", "1").message(change)
    assert len(subject) == MAX_SUBJECT_CHARS and subject.startswith('ALARM: "nnn')
    published = json.loads(message)
    assert list(published) == ["default", "sms", "email"]
    assert json.loads(published["default"])["Trigger"]["MetricName"] == "m"
    assert published["email"].startswith("You are receiving this email because")


@pytest.mark.parametrize("arn, accepted", [
    ("arn:aws:sns:us-east-1:123456789012:ops", True),
    ("arn:aws-cn:sns:cn-north-1:123456789012:ops", True),
    ("arn:aws:automate:us-east-1:sagemaker:stop", False),
    ("not an arn", False),
])
def test_the_action_takes_sns_topics(arn, accepted):
    assert SnsAlarmAction.accepts(arn) is accepted
