"""Tag limits end to end: a resource holds at most 50 tags however many requests add them, and
keys starting with aws: are AWS's (services/tagging.py), for Logs and CloudWatch over boto3."""

from __future__ import annotations

from .cloudwatch_clients import (  # noqa: F401  (fixtures)
    ARN_PREFIX,
    cloudwatch_data_root,
    cw,
    cw_clients,
    error_of,
    protocol,
)


def tags(prefix: str, count: int) -> dict[str, str]:
    return {f"{prefix}{i}": "v" for i in range(count)}


def test_a_log_group_holds_at_most_fifty_tags_across_requests(logs, group):
    arn = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["logGroupArn"]
    logs.tag_resource(resourceArn=arn, tags=tags("a", 30))
    assert error_of(logs.tag_resource, resourceArn=arn, tags=tags("b", 21))[:2] == (
        "TooManyTagsException", "A resource can have no more than 50 tags.")
    assert error_of(logs.tag_log_group, logGroupName=group, tags=tags("b", 21))[0] == "TooManyTagsException"
    # Nothing of a refused request was written; overwriting held keys does not count twice.
    assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 30
    logs.tag_resource(resourceArn=arn, tags={**tags("a", 30), **tags("b", 20)})
    assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 50


def test_log_group_tag_keys_starting_with_aws_are_refused(logs, group, unique):
    code, message, status = error_of(logs.tag_log_group, logGroupName=group, tags={"aws:team": "ml"})
    assert (code, status) == ("InvalidParameterException", 400) and "aws:team" in message
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {}
    code, _, _ = error_of(logs.create_log_group, logGroupName=f"/e2e/{unique}-reserved", tags={"AWS:x": "1"})
    assert code == "InvalidParameterException"
    assert logs.describe_log_groups(logGroupNamePrefix=f"/e2e/{unique}-reserved")["logGroups"] == []


def still_alarm(cw, name: str, **extra) -> str:
    cw.put_metric_alarm(
        AlarmName=name, Namespace="e2e/tags", MetricName="never", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold", **extra)
    return ARN_PREFIX + name


def pairs(prefix: str, count: int) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in tags(prefix, count).items()]


def test_an_alarm_holds_at_most_fifty_tags_across_requests(cw, unique, protocol):
    arn = still_alarm(cw, f"tags-{protocol}-{unique}", Tags=pairs("a", 30))
    assert error_of(cw.tag_resource, ResourceARN=arn, Tags=pairs("b", 21))[0] == "InvalidParameterValue"
    assert len(cw.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 30
    cw.tag_resource(ResourceARN=arn, Tags=pairs("b", 20))
    assert len(cw.list_tags_for_resource(ResourceARN=arn)["Tags"]) == 50


def test_alarm_tag_keys_starting_with_aws_are_refused(cw, unique, protocol):
    name = f"reserved-{protocol}-{unique}"
    code, message, status = error_of(cw.put_metric_alarm, AlarmName=name, Namespace="e2e/tags",
                                     MetricName="never", Statistic="Sum", Period=60, EvaluationPeriods=1,
                                     Threshold=1, ComparisonOperator="GreaterThanThreshold",
                                     Tags=[{"Key": "aws:x", "Value": "1"}])
    assert (code, status) == ("InvalidParameterValue", 400) and "aws:x" in message
    assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []  # not created
    arn = still_alarm(cw, name)
    assert error_of(cw.tag_resource, ResourceARN=arn, Tags=[{"Key": "Aws:y", "Value": "1"}])[0] == (
        "InvalidParameterValue")
    assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == []
