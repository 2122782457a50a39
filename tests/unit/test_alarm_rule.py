"""The composite-alarm AlarmRule language.

Sources: PutCompositeAlarm's AlarmRule documentation (botocore), the user guide's "Composite
alarms" page (alarm references, AT_LEAST), AWS error messages quoted in aws-cdk issues 13953 and
34662, and the EventBridge user guide's composite-alarm state-change examples.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sagewatch.services.cloudwatch.alarm_rule import (
    AlarmRuleError,
    TriggeringAlarm,
    alarm_name_of,
    child_transition_reason,
    created_reason,
    parse_alarm_rule,
    triggering_alarms_data,
    updated_reason,
)

ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def states(**by_name: str):
    return lambda name: by_name.get(name, "INSUFFICIENT_DATA")


# --------------------------------------------------------------------------------------------
# AWS's documented examples


def test_documented_example_and():
    rule = parse_alarm_rule("ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)")
    assert rule.alarm_names() == {"CPUUtilizationTooHigh", "DiskReadOpsTooHigh"}
    assert rule.evaluate(states(CPUUtilizationTooHigh="ALARM", DiskReadOpsTooHigh="ALARM"))
    assert not rule.evaluate(states(CPUUtilizationTooHigh="ALARM", DiskReadOpsTooHigh="OK"))


def test_documented_example_and_not():
    rule = parse_alarm_rule("ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)")
    assert rule.evaluate(states(CPUUtilizationTooHigh="ALARM", DeploymentInProgress="OK"))
    assert not rule.evaluate(states(CPUUtilizationTooHigh="ALARM", DeploymentInProgress="ALARM"))


def test_documented_example_grouping():
    rule = parse_alarm_rule("(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND OK(NetworkOutTooHigh)")
    assert rule.evaluate(states(DiskReadOpsTooHigh="ALARM", NetworkOutTooHigh="OK"))
    assert not rule.evaluate(states(DiskReadOpsTooHigh="ALARM", NetworkOutTooHigh="ALARM"))
    assert not rule.evaluate(states(NetworkOutTooHigh="OK"))


def test_documented_at_least_examples():
    rule = parse_alarm_rule("AT_LEAST(2, ALARM, (WebServer1CPU, WebServer2CPU, WebServer3CPU, WebServer4CPU))")
    assert rule.alarm_names() == {"WebServer1CPU", "WebServer2CPU", "WebServer3CPU", "WebServer4CPU"}
    assert not rule.evaluate(states(WebServer1CPU="ALARM"))
    assert rule.evaluate(states(WebServer1CPU="ALARM", WebServer3CPU="ALARM"))

    pct = parse_alarm_rule(
        "AT_LEAST(50%, OK, (DatabaseConnection1, DatabaseConnection2, DatabaseConnection3, DatabaseConnection4))"
    )
    assert not pct.evaluate(states(DatabaseConnection1="OK"))
    assert pct.evaluate(states(DatabaseConnection1="OK", DatabaseConnection4="OK"))

    mixed = parse_alarm_rule("AT_LEAST(2, ALARM, (AZ1Health, AZ2Health, AZ3Health)) AND NOT ALARM(MaintenanceWindow)")
    assert mixed.evaluate(states(AZ1Health="ALARM", AZ2Health="ALARM", MaintenanceWindow="OK"))
    assert not mixed.evaluate(states(AZ1Health="ALARM", AZ2Health="ALARM", MaintenanceWindow="ALARM"))


def test_at_least_not_condition_and_quoted_percentage():
    rule = parse_alarm_rule('AT_LEAST("34%", NOT OK, (a, b, c))')
    assert not rule.evaluate(states(a="OK", b="OK", c="ALARM"))  # 1 of 3 is 33%
    assert rule.evaluate(states(a="OK", b="INSUFFICIENT_DATA", c="ALARM"))


@pytest.mark.parametrize(
    "text,truth",
    [("TRUE", True), ("FALSE", False), ("NOT TRUE", False), ("NOT NOT TRUE", True), ("TRUE AND FALSE", False),
     ("FALSE OR TRUE", True), ("((TRUE))", True)],
)
def test_constants(text, truth):
    rule = parse_alarm_rule(text)
    assert rule.evaluate(states()) is truth
    assert rule.alarm_names() == set()


@pytest.mark.parametrize("state", ["ALARM", "OK", "INSUFFICIENT_DATA"])
def test_state_functions(state):
    rule = parse_alarm_rule(f"{state}(child)")
    for actual in ("ALARM", "OK", "INSUFFICIENT_DATA"):
        assert rule.evaluate(states(child=actual)) is (actual == state)


# --------------------------------------------------------------------------------------------
# Precedence: NOT > AND > OR


def test_and_binds_tighter_than_or():
    rule = parse_alarm_rule("ALARM(a) OR ALARM(b) AND ALARM(c)")  # a OR (b AND c)
    assert rule.evaluate(states(a="ALARM"))
    assert not rule.evaluate(states(b="ALARM"))
    rule = parse_alarm_rule("ALARM(a) AND ALARM(b) OR ALARM(c)")  # (a AND b) OR c
    assert rule.evaluate(states(c="ALARM"))


def test_not_binds_tighter_than_and():
    rule = parse_alarm_rule("NOT ALARM(a) AND ALARM(b)")  # (NOT a) AND b
    assert rule.evaluate(states(b="ALARM"))
    assert not rule.evaluate(states(a="ALARM", b="ALARM"))
    assert not rule.evaluate(states())


# --------------------------------------------------------------------------------------------
# Names


def test_quoted_names_may_hold_spaces_parentheses_commas_and_escaped_quotes():
    rule = parse_alarm_rule(r'ALARM("SampleQueue Oldest (Age), \"p99\"") OR OK("plain")')
    assert rule.alarm_names() == {'SampleQueue Oldest (Age), "p99"', "plain"}
    assert rule.evaluate(states(**{'SampleQueue Oldest (Age), "p99"': "ALARM"}))


def test_arns_reduce_to_names():
    rule = parse_alarm_rule(f'ALARM({ARN}cpu) AND OK("{ARN}disk:with:colons")')
    assert rule.alarm_names() == {"cpu", "disk:with:colons"}
    assert rule.evaluate(states(cpu="ALARM", **{"disk:with:colons": "OK"}))
    assert alarm_name_of("arn:aws-cn:cloudwatch:cn-north-1:1:alarm:x") == "x"
    assert alarm_name_of("arn:aws:sns:us-east-1:1:topic") == "arn:aws:sns:us-east-1:1:topic"
    assert alarm_name_of("just-a-name") == "just-a-name"


def test_unquoted_names_take_any_other_character():
    rule = parse_alarm_rule("ALARM(TargetTracking-table/dylan-tfstate-AlarmHigh-14069c4a) OR ALARM(a.b:c_d)")
    assert rule.alarm_names() == {"TargetTracking-table/dylan-tfstate-AlarmHigh-14069c4a", "a.b:c_d"}


def test_whitespace_is_free():
    rule = parse_alarm_rule("  ALARM ( a )\n\tAND\nOK(b)  ")
    assert rule.evaluate(states(a="ALARM", b="OK"))


# --------------------------------------------------------------------------------------------
# Errors (AWS's wording where it is known)


def test_aws_error_for_a_name_with_a_space():
    # aws-cdk issue 13953: CloudFormation relayed this for an unquoted ARN with spaces
    text = (
        f"(ALARM({ARN}SampleQueue Oldest Age Alarm) OR "
        f"ALARM({ARN}SampleQueue Visible Messages Alarm))"
    )
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule(text)
    assert str(err.value) == "Error in AlarmRule [Unsupported token 'Oldest' at char 67, must be: ')']"
    assert err.value.code == "ValidationError"
    assert isinstance(err.value, ValueError)


def test_aws_error_for_empty_parentheses():
    # aws-cdk issue 34662: AlarmRule.anyOf() with no alarms rendered "()"
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule("()")
    assert str(err.value) == "Error in AlarmRule [Unsupported token ')' at char 1]"


@pytest.mark.parametrize(
    "text,message",
    [
        ("ALARM(a) ALARM(b)", "Error in AlarmRule [Unsupported token 'ALARM' at char 9, must be: AND or OR]"),
        ("ALARM(a) AND", "Error in AlarmRule [Unexpected end of rule at char 12]"),
        ("(ALARM(a)", "Error in AlarmRule [Unexpected end of rule at char 9, must be: ')']"),
        ("ALARM(a))", "Error in AlarmRule [Unsupported token ')' at char 8, must be: AND or OR]"),
        ("ALARM()", "Error in AlarmRule [Unsupported token ')' at char 6, must be: an alarm name or ARN]"),
        ('ALARM("")', "Error in AlarmRule [Unsupported token '\"\"' at char 6, must be: an alarm name or ARN]"),
        ("ALARM a", "Error in AlarmRule [Unsupported token 'a' at char 6, must be: '(']"),
        ("alarm(a)", "Error in AlarmRule [Unsupported token 'alarm' at char 0]"),
        ("ALARM(a) and OK(b)", "Error in AlarmRule [Unsupported token 'and' at char 9, must be: AND or OR]"),
        ("BROKEN(a)", "Error in AlarmRule [Unsupported token 'BROKEN' at char 0]"),
        ('ALARM("open', "Error in AlarmRule [Unterminated quoted alarm name at char 6]"),
        ("AT_LEAST(x, ALARM, (a))", "Error in AlarmRule [Unsupported token 'x' at char 9, must be: a number or a percentage]"),
        ("AT_LEAST(101%, ALARM, (a))", "Error in AlarmRule [Unsupported token '101%' at char 9, must be: a number or a percentage]"),
        ("AT_LEAST(1, BAD, (a))", "Error in AlarmRule [Unsupported token 'BAD' at char 12, must be: ALARM, OK or INSUFFICIENT_DATA]"),
        ("AT_LEAST(1, ALARM, a)", "Error in AlarmRule [Unsupported token 'a' at char 19, must be: '(']"),
    ],
)
def test_syntax_errors(text, message):
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule(text)
    assert str(err.value) == message


def test_length_limits_use_aws_validation_wording():
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule("")
    assert str(err.value) == (
        "1 validation error detected: Value '' at 'alarmRule' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    too_long = "TRUE OR " * 1280 + "TRUE"  # 10244 characters
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule(too_long)
    assert str(err.value).endswith("Member must have length less than or equal to 10240")


def test_at_most_100_children():
    ok = " OR ".join(f"ALARM(a{i})" for i in range(100))
    assert len(parse_alarm_rule(ok).alarm_names()) == 100
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule(ok + " OR ALARM(a100)")
    assert "101 alarms" in str(err.value) and "100" in str(err.value)
    # the same child referenced twice is one child
    assert parse_alarm_rule(" OR ".join(["ALARM(a)"] * 150)).alarm_names() == {"a"}


def test_at_most_500_elements():
    five_hundred = " OR ".join(["TRUE"] * 500)
    assert parse_alarm_rule(five_hundred).evaluate(states())
    with pytest.raises(AlarmRuleError) as err:
        parse_alarm_rule(five_hundred + " OR FALSE")
    assert "501 elements" in str(err.value)
    # grouping parentheses count, function-call parentheses do not
    with pytest.raises(AlarmRuleError):
        parse_alarm_rule(" OR ".join(["(TRUE)"] * 251))
    assert parse_alarm_rule(" OR ".join(["ALARM(a)"] * 500)).alarm_names() == {"a"}


# --------------------------------------------------------------------------------------------
# explain: the children behind the current value


def test_explain_or_in_alarm_names_only_the_alarming_children():
    rule = parse_alarm_rule("ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)")
    assert rule.explain(states(ServerCpuTooHigh="ALARM", TotalNetworkTrafficTooHigh="OK")) == ["ServerCpuTooHigh"]


def test_explain_or_in_ok_names_every_child():
    # EventBridge example: an OR of two OK children lists both as triggeringAlarms
    rule = parse_alarm_rule("ALARM(ServerCpuTooHigh) OR ALARM(TotalNetworkTrafficTooHigh)")
    assert rule.state(states(ServerCpuTooHigh="OK", TotalNetworkTrafficTooHigh="OK")) == "OK"
    assert rule.explain(states(ServerCpuTooHigh="OK", TotalNetworkTrafficTooHigh="OK")) == [
        "ServerCpuTooHigh",
        "TotalNetworkTrafficTooHigh",
    ]


def test_explain_and_not():
    rule = parse_alarm_rule("ALARM(cpu) AND NOT ALARM(deploy)")
    assert rule.explain(states(cpu="ALARM", deploy="OK")) == ["cpu", "deploy"]
    assert rule.explain(states(cpu="ALARM", deploy="ALARM")) == ["deploy"]
    assert rule.explain(states(cpu="OK", deploy="OK")) == ["cpu"]


def test_explain_at_least_and_deduplicates():
    rule = parse_alarm_rule("AT_LEAST(2, ALARM, (a, b, c)) OR ALARM(a)")
    assert rule.explain(states(a="ALARM", b="ALARM")) == ["a", "b"]
    assert rule.explain(states(c="ALARM")) == ["a", "b"]


def test_explain_constants_name_nobody():
    assert parse_alarm_rule("TRUE").explain(states()) == []


# --------------------------------------------------------------------------------------------
# Composite StateReason / StateReasonData


def test_composite_reasons_as_aws_writes_them():
    at = datetime(2022, 10, 30, 20, 47, 35, 671000, tzinfo=timezone.utc)
    assert child_transition_reason(f"{ARN}child", "ALARM", at) == (
        f"{ARN}child transitioned to ALARM at Sunday 30 October, 2022 20:47:35 UTC"
    )
    assert child_transition_reason(f"{ARN}c", "OK", datetime(2022, 7, 2, 5, 7, 45)) == (
        f"{ARN}c transitioned to OK at Saturday 02 July, 2022 05:07:45 UTC"
    )
    assert created_reason(f"{ARN}Main", "OK") == f"{ARN}Main was created and its alarm rule evaluates to OK"
    assert updated_reason(f"{ARN}asg-disk-composite", "OK") == (
        f"{ARN}asg-disk-composite was updated and its new alarm rule evaluates to OK"
    )


def test_triggering_alarms_data_newest_first():
    # EventBridge user guide: TotalNetworkTrafficTooHigh (16:28:57.770) before ServerCpuTooHigh (16:28:54.191)
    data = triggering_alarms_data(
        [
            TriggeringAlarm(f"{ARN}ServerCpuTooHigh", "OK", datetime(2022, 7, 14, 16, 28, 54, 191000, tzinfo=timezone.utc)),
            TriggeringAlarm(f"{ARN}TotalNetworkTrafficTooHigh", "OK", datetime(2022, 7, 14, 16, 28, 57, 770000, tzinfo=timezone.utc)),
        ]
    )
    assert data == {
        "triggeringAlarms": [
            {"arn": f"{ARN}TotalNetworkTrafficTooHigh", "state": {"value": "OK", "timestamp": "2022-07-14T16:28:57.770+0000"}},
            {"arn": f"{ARN}ServerCpuTooHigh", "state": {"value": "OK", "timestamp": "2022-07-14T16:28:54.191+0000"}},
        ]
    }
