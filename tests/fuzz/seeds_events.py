"""The EventBridge fuzz seeds (see seeds.py for what seeds are): a custom bus with a rule whose
target is an SNS topic, a scheduled rule on the default bus, and the connections and API
destination of seeds_event_connections.py, merged in.

The target topic has no subscribers: events the fuzz puts that match the rule are delivered to
it and go no further.
"""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from ..server import make_client
from .seeds_event_connections import EventConnectionSeeds

PATTERN = {"source": ["sagewatch.fuzz"], "detail-type": ["Fuzzed"], "detail": {"n": [{"numeric": [">", 0]}]}}


class EventsSeeds:
    """A bus, a rule on it with a target, a scheduled rule, connections and an API destination."""

    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.client = make_client("events", endpoint)
        self.sns = make_client("sns", endpoint)
        self.bus, self.rule, self.scheduled = f"fuzz-{suffix}", f"fuzz-rule-{suffix}", f"fuzz-schedule-{suffix}"
        self.topic = self.sns.create_topic(Name=f"fuzz-events-{suffix}")["TopicArn"]
        self.connections = EventConnectionSeeds(self.client, suffix)
        self.restore()
        bus_arn = self.client.describe_event_bus(Name=self.bus)["Arn"]
        rule_arn = self.client.describe_rule(Name=self.rule, EventBusName=self.bus)["Arn"]
        self.arns = {"bus": bus_arn, "rule": rule_arn}
        self.known = {"EventBusName": [self.bus], "EventBusNameOrArn": [self.bus, bus_arn, "default"],
                      "NonPartnerEventBusNameOrArn": [self.bus, bus_arn], "RuleName": [self.rule, self.scheduled],
                      "TargetId": ["fuzz-target"], "TargetArn": [self.topic], "Arn": [rule_arn, bus_arn],
                      **self.connections.known}

    def corpus(self) -> dict[str, list[dict]]:
        # aws-behaviour.md §5; botocore:events shapes.
        bus, rule, topic = self.bus, self.rule, self.topic
        event = {"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Fuzzed",
                 "source": "sagewatch.fuzz", "account": "000000000000", "time": "2026-01-01T00:00:00Z",
                 "region": "us-east-1", "resources": [], "detail": {"n": 3}}
        target = {"Id": "fuzz-target", "Arn": topic,
                  "InputTransformer": {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"n": <n>}'},
                  "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
                  "DeadLetterConfig": {"Arn": topic}}
        corpus = {
            "CreateEventBus": [{"Name": f"{bus}-more", "Description": "fuzz", "KmsKeyIdentifier": "alias/fuzz",
                                "Tags": [{"Key": "team", "Value": "fuzz"}]}],
            # The seeded bus has a rule, and the rule a target: AWS refuses to delete either.
            "DeleteEventBus": [{"Name": f"{bus}-more"}],
            "DescribeEventBus": [{"Name": bus}, {"Name": self.arns["bus"]}],
            "ListEventBuses": [{"NamePrefix": "fuzz-", "Limit": 2}],
            "PutRule": [{"Name": rule, "EventBusName": bus, "EventPattern": json.dumps(PATTERN),
                         "State": "ENABLED", "Description": "fuzz", "Tags": [{"Key": "team", "Value": "fuzz"}]},
                        {"Name": self.scheduled, "ScheduleExpression": "cron(0 12 ? * MON-FRI *)",
                         "State": "DISABLED"}],
            "DescribeRule": [{"Name": rule, "EventBusName": bus}],
            "ListRules": [{"NamePrefix": "fuzz-", "EventBusName": bus, "Limit": 2}],
            "EnableRule": [{"Name": rule, "EventBusName": bus}],
            "DisableRule": [{"Name": rule, "EventBusName": bus}],
            "DeleteRule": [{"Name": self.scheduled}],
            "PutTargets": [{"Rule": rule, "EventBusName": bus, "Targets": [target]}],
            "RemoveTargets": [{"Rule": rule, "EventBusName": bus, "Ids": ["fuzz-target"]}],
            "ListTargetsByRule": [{"Rule": rule, "EventBusName": bus, "Limit": 2}],
            "ListRuleNamesByTarget": [{"TargetArn": topic, "EventBusName": bus, "Limit": 2}],
            "PutEvents": [{"Entries": [
                {"Source": "sagewatch.fuzz", "DetailType": "Fuzzed", "Detail": json.dumps({"n": 3}),
                 "EventBusName": bus, "Resources": ["arn:aws:sagemaker:us-east-1:000000000000:training-job/x"],
                 "Time": 1_700_000_000},
                {"Source": "sagewatch.fuzz", "DetailType": "Fuzzed", "Detail": "{}"}]}],
            "TestEventPattern": [{"EventPattern": json.dumps(PATTERN), "Event": json.dumps(event)}],
            "TagResource": [{"ResourceARN": self.arns["rule"], "Tags": [{"Key": "stage", "Value": "test"}]}],
            "UntagResource": [{"ResourceARN": self.arns["bus"], "TagKeys": ["stage"]}],
            "ListTagsForResource": [{"ResourceARN": self.arns["rule"]}],
        }
        corpus.update(self.connections.corpus())
        return corpus

    def restore(self) -> None:
        events = self.client
        try:
            events.create_event_bus(Name=self.bus, Tags=[{"Key": "team", "Value": "fuzz"}])
        except ClientError as error:
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        # PutRule and PutTargets create or replace: restoring what exists changes nothing.
        events.put_rule(Name=self.rule, EventBusName=self.bus, EventPattern=json.dumps(PATTERN))
        events.put_targets(Rule=self.rule, EventBusName=self.bus, Targets=[{"Id": "fuzz-target", "Arn": self.topic}])
        events.put_rule(Name=self.scheduled, ScheduleExpression="rate(1 day)", State="DISABLED")
        self.connections.restore()

    def close(self) -> None:
        pass
