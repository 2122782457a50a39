"""The EventBridge API over HTTP, with boto3 and the aws CLI: event buses, rules, targets,
PutEvents, TestEventPattern, tags, and every refusal with AWS's code, message and status.

AWS's answers are those recorded against AWS in localstack's snapshot tests
(tests/aws/services/events/test_events.snapshot.json, recorded 2024-12-06) unless a comment
says otherwise; services/events/service.py cites each. What a matched event then does (which
rules it reaches, what their targets receive) is tests/app/test_events_matching.py's and
tests/e2e/test_events_targets.py's.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest

from ..server import ServerProcess, make_client
from .helpers import error_of
from .sns_endpoints import of_type, webhook

REGION, ACCOUNT = "us-east-1", "000000000000"
PATTERN = '{"source": ["sagewatch.api-tests"], "detail-type": ["Thing Happened"]}'
ENTRY = {"Source": "sagewatch.api-tests", "DetailType": "Thing Happened", "Detail": '{"n": 1}'}


@pytest.fixture(scope="module")
def events(server):
    return make_client("events", server.endpoint)


@pytest.fixture(scope="module")
def raw_events(server):
    """Sends what it is given: the server's own validation is what answers."""
    return make_client("events", server.endpoint, parameter_validation=False)


@pytest.fixture(scope="module")
def topic(server) -> str:
    """A real target: an SNS topic (EventBridge refuses ARNs it cannot deliver to)."""
    return make_client("sns", server.endpoint).create_topic(Name="events-api-target")["TopicArn"]


@pytest.fixture
def bus(events, unique) -> str:
    name = f"bus-{unique}"
    events.create_event_bus(Name=name)
    return name


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def rule_arn(name: str, bus: str = "default") -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/" + (name if bus == "default" else f"{bus}/{name}")


def validation(message: str) -> tuple[str, str, int]:
    return ("ValidationException", message, 400)


def not_found(message: str) -> tuple[str, str, int]:
    return ("ResourceNotFoundException", message, 400)


# -- event buses -----------------------------------------------------------------------------

def test_the_default_bus_always_exists_and_cannot_be_deleted(events):
    default = events.describe_event_bus()
    assert (default["Name"], default["Arn"]) == ("default", bus_arn("default"))
    assert events.describe_event_bus(Name="default")["Arn"] == default["Arn"]
    assert events.describe_event_bus(Name=bus_arn("default"))["Name"] == "default"
    assert error_of(events.delete_event_bus, Name="default") == validation("Cannot delete event bus default.")
    assert error_of(events.create_event_bus, Name="default") == (
        "ResourceAlreadyExistsException", "Event bus default already exists.", 400)


def test_create_describe_list_delete_a_custom_bus(events, unique):
    name = f"custom-{unique}"
    created = events.create_event_bus(Name=name, Description="jobs of team a", KmsKeyIdentifier="alias/team-a",
                                      Tags=[{"Key": "team", "Value": "a"}])
    assert created["EventBusArn"] == bus_arn(name)
    assert (created["Description"], created["KmsKeyIdentifier"]) == ("jobs of team a", "alias/team-a")
    described = events.describe_event_bus(Name=name)
    assert {k: described[k] for k in ("Name", "Arn", "Description", "KmsKeyIdentifier")} == {
        "Name": name, "Arn": bus_arn(name), "Description": "jobs of team a", "KmsKeyIdentifier": "alias/team-a"}
    assert described["CreationTime"] == described["LastModifiedTime"]
    assert events.describe_event_bus(Name=bus_arn(name))["Name"] == name
    listed = events.list_event_buses(NamePrefix=name)["EventBuses"]
    assert [(b["Name"], b["Arn"], b["Description"]) for b in listed] == [(name, bus_arn(name), "jobs of team a")]
    assert events.list_tags_for_resource(ResourceARN=bus_arn(name))["Tags"] == [{"Key": "team", "Value": "a"}]
    assert error_of(events.create_event_bus, Name=name) == (
        "ResourceAlreadyExistsException", f"Event bus {name} already exists.", 400)

    events.delete_event_bus(Name=name)
    assert error_of(events.describe_event_bus, Name=name) == not_found(f"Event bus {name} does not exist.")
    assert events.list_event_buses(NamePrefix=name)["EventBuses"] == []
    events.delete_event_bus(Name=name)  # deleting what does not exist succeeds
    events.create_event_bus(Name=name)  # the name is free again, without the old tags
    assert events.list_tags_for_resource(ResourceARN=bus_arn(name))["Tags"] == []


def test_list_event_buses_pages(events, unique):
    names = [f"page-{unique}-{i}" for i in range(5)]
    for name in names:
        events.create_event_bus(Name=name)
    first = events.list_event_buses(NamePrefix=f"page-{unique}", Limit=3)
    second = events.list_event_buses(NamePrefix=f"page-{unique}", Limit=3, NextToken=first["NextToken"])
    assert [b["Name"] for b in first["EventBuses"]] == names[:3]
    assert [b["Name"] for b in second["EventBuses"]] == names[3:]
    assert "NextToken" not in second
    code, _, status = error_of(events.list_event_buses, NextToken="not-a-token")
    assert (code, status) == ("InvalidToken", 400)


def test_bus_refusals(events, bus, topic):
    assert error_of(events.create_event_bus, Name="team/a") == validation(
        "Event bus name team/a is not valid: custom event bus names cannot contain '/'.")
    assert error_of(events.create_event_bus, Name="partner", EventSourceName="aws.partner/example.com/1/x") == (
        not_found("Event source aws.partner/example.com/1/x does not exist."))
    events.put_rule(Name="keeps-the-bus", EventBusName=bus, EventPattern=PATTERN)
    assert error_of(events.delete_event_bus, Name=bus) == validation("EventBus can't be deleted since it has rules.")
    events.delete_rule(Name="keeps-the-bus", EventBusName=bus)
    events.delete_event_bus(Name=bus)


# -- rules -----------------------------------------------------------------------------------

def test_put_describe_list_delete_rules_on_the_default_and_a_custom_bus(events, bus, unique):
    for on_bus in ("default", bus):
        name = f"rule-{unique}"
        arn = events.put_rule(Name=name, EventBusName=on_bus, EventPattern=PATTERN, Description="about things",
                              RoleArn="arn:aws:iam::000000000000:role/events")["RuleArn"]
        assert arn == rule_arn(name, on_bus)
        described = events.describe_rule(Name=name, EventBusName=on_bus)
        described.pop("ResponseMetadata")
        assert described == {"Name": name, "Arn": arn, "EventPattern": PATTERN, "State": "ENABLED",
                             "Description": "about things", "RoleArn": "arn:aws:iam::000000000000:role/events",
                             "EventBusName": on_bus, "CreatedBy": ACCOUNT}
        listed = events.list_rules(NamePrefix=name, EventBusName=on_bus)["Rules"]
        assert listed == [{k: v for k, v in described.items() if k != "CreatedBy"}]
        events.delete_rule(Name=name, EventBusName=on_bus)
        assert error_of(events.describe_rule, Name=name, EventBusName=on_bus) == not_found(
            f"Rule {name} does not exist on EventBus {on_bus}.")
        events.delete_rule(Name=name, EventBusName=on_bus)  # "all calls will succeed"
    # The bus may be named by its ARN.
    events.put_rule(Name=f"by-arn-{unique}", EventBusName=bus_arn(bus), EventPattern=PATTERN)
    assert events.describe_rule(Name=f"by-arn-{unique}", EventBusName=bus)["EventBusName"] == bus
    events.delete_rule(Name=f"by-arn-{unique}", EventBusName=bus_arn(bus))


def test_put_rule_again_replaces_it_but_keeps_its_targets_and_tags(events, unique, topic):
    name = f"again-{unique}"
    events.put_rule(Name=name, EventPattern=PATTERN, State="DISABLED", Description="first",
                    Tags=[{"Key": "v", "Value": "1"}])
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": topic}])
    events.put_rule(Name=name, ScheduleExpression="rate(5 minutes)", Tags=[{"Key": "v", "Value": "2"}])
    described = events.describe_rule(Name=name)
    # Omitted members are not kept (State back to ENABLED, no pattern, no description).
    assert (described["State"], described.get("EventPattern"), described.get("Description")) == ("ENABLED", None, None)
    assert described["ScheduleExpression"] == "rate(5 minutes)"
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t"]
    # Tags given when updating a rule are ignored.
    assert events.list_tags_for_resource(ResourceARN=rule_arn(name))["Tags"] == [{"Key": "v", "Value": "1"}]
    events.remove_targets(Rule=name, Ids=["t"])
    events.delete_rule(Name=name)


def test_enable_and_disable(events, bus, unique):
    name = f"toggle-{unique}"
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
    events.disable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "DISABLED"
    events.enable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "ENABLED"
    for call in (events.enable_rule, events.disable_rule):
        assert error_of(call, Name="nope", EventBusName=bus) == not_found(f"Rule nope does not exist on EventBus {bus}.")
    events.delete_rule(Name=name, EventBusName=bus)


def test_list_rules_pages_in_name_order(events, bus):
    names = [f"r{i}" for i in range(5)]
    for name in reversed(names):
        events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
    first = events.list_rules(EventBusName=bus, Limit=2)
    second = events.list_rules(EventBusName=bus, Limit=2, NextToken=first["NextToken"])
    third = events.list_rules(EventBusName=bus, Limit=2, NextToken=second["NextToken"])
    assert [[r["Name"] for r in page["Rules"]] for page in (first, second, third)] == [names[:2], names[2:4], names[4:]]
    assert "NextToken" not in third
    # A token is for the listing it came from.
    code, _, status = error_of(events.list_rules, NextToken=first["NextToken"])
    assert (code, status) == ("InvalidToken", 400)


def test_put_rule_refusals(events, bus, unique):
    assert error_of(events.put_rule, Name=f"bare-{unique}") == validation(
        "Parameter(s) EventPattern or ScheduleExpression must be specified.")
    assert error_of(events.put_rule, Name=f"sched-{unique}", EventBusName=bus,
                    ScheduleExpression="rate(5 minutes)") == validation(
        "ScheduleExpression is supported only on the default event bus.")
    for expression in ("rate(1 minutes)", "rate(5 minute)", "cron(0 12 * * * *)", "every day"):
        assert error_of(events.put_rule, Name=f"sched-{unique}", ScheduleExpression=expression) == validation(
            "Parameter ScheduleExpression is not valid.")
    # The pattern's own reason, as the pattern compiler words it (AWS-recorded cases).
    assert error_of(events.put_rule, Name=f"pat-{unique}", EventPattern='{"int": 42}') == (
        "InvalidEventPatternException", 'Event pattern is not valid. Reason: "int" must be an object or an array', 400)
    assert error_of(events.put_rule, Name=f"pat-{unique}", EventPattern='{"a": [{"EXISTS": true}]}') == (
        "InvalidEventPatternException", "Event pattern is not valid. Reason: Unrecognized match type EXISTS", 400)
    assert error_of(events.put_rule, Name=f"lost-{unique}", EventBusName="no-such-bus", EventPattern=PATTERN) == (
        not_found("Event bus no-such-bus does not exist."))
    # What the model states, answered by the gateway in AWS's validation form.
    code, message, status = error_of(events.put_rule, Name="bad name!", EventPattern=PATTERN)
    assert (code, status) == ("ValidationException", 400)
    assert "failed to satisfy constraint: Member must satisfy regular expression pattern" in message
    assert events.list_rules(NamePrefix=f"sched-{unique}")["Rules"] == []
    assert events.list_rules(NamePrefix=f"pat-{unique}")["Rules"] == []


def test_delete_rule_refusals(events, unique, topic):
    name = f"held-{unique}"
    events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": topic}])
    for force in (False, True):  # Force concerns managed rules only
        assert error_of(events.delete_rule, Name=name, Force=force) == validation(
            "Rule can't be deleted since it has targets.")
    assert events.describe_rule(Name=name)["Name"] == name
    events.remove_targets(Rule=name, Ids=["t"])
    events.delete_rule(Name=name)
    assert error_of(events.delete_rule, Name=name, EventBusName="no-such-bus") == not_found(
        "Event bus no-such-bus does not exist.")


# -- targets ---------------------------------------------------------------------------------

def test_put_list_remove_targets(events, unique, topic):
    name = f"targets-{unique}"
    events.put_rule(Name=name, EventPattern=PATTERN)
    transformer = {"InputPathsMap": {"n": "$.detail.n"}, "InputTemplate": '{"count": <n>}'}
    answer = events.put_targets(Rule=name, Targets=[
        {"Id": "plain", "Arn": topic},
        {"Id": "shaped", "Arn": topic, "InputTransformer": transformer,
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}},
        {"Id": "constant", "Arn": topic, "Input": '{"fixed": true}'},
    ])
    assert (answer["FailedEntryCount"], answer["FailedEntries"]) == (0, [])
    listed = events.list_targets_by_rule(Rule=name)["Targets"]
    assert listed == [
        {"Id": "plain", "Arn": topic},
        {"Id": "shaped", "Arn": topic, "InputTransformer": transformer,
         "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}},
        {"Id": "constant", "Arn": topic, "Input": '{"fixed": true}'},
    ]
    # The same Id again replaces that target, in its place.
    events.put_targets(Rule=name, Targets=[{"Id": "plain", "Arn": topic, "InputPath": "$.detail"}])
    assert events.list_targets_by_rule(Rule=name)["Targets"][0] == {"Id": "plain", "Arn": topic, "InputPath": "$.detail"}
    first = events.list_targets_by_rule(Rule=name, Limit=2)
    second = events.list_targets_by_rule(Rule=name, Limit=2, NextToken=first["NextToken"])
    assert [t["Id"] for t in first["Targets"] + second["Targets"]] == ["plain", "shaped", "constant"]
    assert "NextToken" not in second
    assert events.list_rule_names_by_target(TargetArn=topic)["RuleNames"].count(name) == 1

    removed = events.remove_targets(Rule=name, Ids=["plain", "never-there"])
    assert (removed["FailedEntryCount"], removed["FailedEntries"]) == (0, [])
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["shaped", "constant"]
    events.remove_targets(Rule=name, Ids=["shaped", "constant"])
    assert name not in events.list_rule_names_by_target(TargetArn=topic)["RuleNames"]
    events.delete_rule(Name=name)


def test_a_rule_takes_at_most_five_targets(events, unique, topic):
    name = f"five-{unique}"
    events.put_rule(Name=name, EventPattern=PATTERN)
    events.put_targets(Rule=name, Targets=[{"Id": f"t{i}", "Arn": topic} for i in range(4)])
    assert error_of(events.put_targets, Rule=name, Targets=[{"Id": "t4", "Arn": topic}, {"Id": "t5", "Arn": topic}]) == (
        "LimitExceededException", "The requested resource exceeds the maximum number allowed.", 400)
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 4  # nothing of the refused call
    events.put_targets(Rule=name, Targets=[{"Id": "t0", "Arn": topic}, {"Id": "t4", "Arn": topic}])  # 5: fine
    assert len(events.list_targets_by_rule(Rule=name)["Targets"]) == 5


def test_put_targets_refusals(events, bus, unique, topic):
    name = f"refuse-{unique}"
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
    assert error_of(events.put_targets, Rule=name, EventBusName=bus, Targets=[
        {"Id": "both", "Arn": topic, "Input": "{}", "InputPath": "$.detail"}]) == validation(
        "Only one of Input, InputPath, or InputTransformer must be provided for target both.")
    assert error_of(events.put_targets, Rule="nope", EventBusName=bus, Targets=[{"Id": "t", "Arn": topic}]) == (
        not_found(f"Rule nope does not exist on EventBus {bus}."))
    # A target ARN EventBridge cannot deliver to (targets.py words it).
    code, message, status = error_of(events.put_targets, Rule=name, EventBusName=bus, Targets=[
        {"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}])
    assert (code, status) == ("ValidationException", 400) and message
    # A target Id breaking the model's pattern: AWS's validation message (recorded,
    # test_put_target_id_validation).
    raw = make_client("events", events.meta.endpoint_url, parameter_validation=False)
    assert error_of(raw.put_targets, Rule=name, EventBusName=bus, Targets=[{"Id": "!@#$@!#$", "Arn": topic}]) == (
        validation("1 validation error detected: Value '!@#$@!#$' at 'targets.1.member.id' failed to satisfy "
                   "constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"))
    assert events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"] == []
    assert error_of(events.list_targets_by_rule, Rule="nope") == not_found("Rule nope does not exist on EventBus default.")
    assert error_of(events.remove_targets, Rule="nope", Ids=["t"]) == not_found(
        "Rule nope does not exist on EventBus default.")


def test_list_rule_names_by_target_on_a_bus(events, bus, topic):
    for name in ("b", "a", "c"):
        events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": topic}])
    first = events.list_rule_names_by_target(TargetArn=topic, EventBusName=bus, Limit=2)
    second = events.list_rule_names_by_target(TargetArn=topic, EventBusName=bus, Limit=2, NextToken=first["NextToken"])
    assert (first["RuleNames"], second["RuleNames"]) == (["a", "b"], ["c"])
    assert events.list_rule_names_by_target(TargetArn=topic + "-other", EventBusName=bus)["RuleNames"] == []
    assert error_of(events.list_rule_names_by_target, TargetArn=topic, EventBusName="no-such-bus") == not_found(
        "Event bus no-such-bus does not exist.")


# -- events ----------------------------------------------------------------------------------

def test_put_events_answers_an_event_id_per_entry(events, bus):
    answer = events.put_events(Entries=[ENTRY, {**ENTRY, "EventBusName": bus},
                                        {**ENTRY, "EventBusName": bus_arn(bus), "Resources": ["arn:aws:x"],
                                         "Time": 1_700_000_000}])
    assert answer["FailedEntryCount"] == 0
    for entry in answer["Entries"]:
        assert set(entry) == {"EventId"} and uuid.UUID(entry["EventId"])
    # An event for a bus that does not exist is accepted and goes nowhere (recorded,
    # test_put_events_nonexistent_event_bus).
    lost = events.put_events(Entries=[{**ENTRY, "EventBusName": "no-such-bus"}])
    assert lost["FailedEntryCount"] == 0 and "EventId" in lost["Entries"][0]


def test_put_events_refuses_entries_one_by_one(events):
    def without(member):
        return {k: v for k, v in ENTRY.items() if k != member}

    answer = events.put_events(Entries=[
        without("Source"), without("DetailType"), without("Detail"), ENTRY,
        {**ENTRY, "Detail": '"a string"'}, {**ENTRY, "Detail": "[1, 2]"}, {**ENTRY, "Detail": "{not json"},
        {**ENTRY, "Detail": json.dumps(json.dumps({"n": 1}))}, {**ENTRY, "DetailType": "x" * 129},
        {**ENTRY, "Detail": "[" * 500 + "]" * 500},
    ])
    required = "Parameter {0} is not valid. Reason: {0} is a required argument."
    malformed = {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    assert answer["FailedEntryCount"] == 9
    entries = answer["Entries"]
    assert entries[:3] == [{"ErrorCode": "InvalidArgument", "ErrorMessage": required.format(m)}
                           for m in ("Source", "DetailType", "Detail")]
    assert set(entries[3]) == {"EventId"}
    assert entries[4:8] == [malformed] * 4
    assert entries[8] == {"ErrorCode": "InvalidArgument", "ErrorMessage": "Parameter DetailType is not valid. "
                                                                          "Reason: DetailType is longer than 128 characters."}
    assert entries[9] == malformed


def test_put_events_refuses_a_request_over_256_kb(events):
    # Time counts 14 bytes, Source, DetailType, Detail and each resource their UTF-8 bytes: this
    # entry is one byte short of 256 KB ("é" is two bytes).
    room = 256 * 1024 - 1 - (14 + len("s") + len("d") + len("a") + len('{"x": ""}'))
    fits = {"Source": "s", "DetailType": "d", "Resources": ["a"], "Time": 1_700_000_000,
            "Detail": '{"x": "' + "é" * (room // 2) + "a" * (room % 2) + '"}'}
    over = {**fits, "Detail": fits["Detail"].replace('"x": "', '"x": "a')}
    assert error_of(events.put_events, Entries=[over]) == validation(
        "Total size of the entries in the request is over the limit.")
    half = {**ENTRY, "Detail": json.dumps({"x": "a" * (128 * 1024)})}
    assert error_of(events.put_events, Entries=[half, half]) == validation(
        "Total size of the entries in the request is over the limit.")


def test_put_events_takes_at_most_ten_entries(events, raw_events):
    code, message, status = error_of(raw_events.put_events, Entries=[ENTRY] * 11)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value '")
    assert message.endswith("' at 'entries' failed to satisfy constraint: "
                            "Member must have length less than or equal to 10")


def test_test_event_pattern(events):
    event = {"id": "1", "account": ACCOUNT, "source": "sagewatch.api-tests", "time": "2026-01-01T00:00:00Z",
             "region": REGION, "resources": [], "detail-type": "Thing Happened", "detail": {"n": 5}}
    assert events.test_event_pattern(EventPattern=PATTERN, Event=json.dumps(event))["Result"] is True
    assert events.test_event_pattern(EventPattern='{"detail": {"n": [{"numeric": [">", 5]}]}}',
                                     Event=json.dumps(event))["Result"] is False
    without_resources = {k: v for k, v in event.items() if k != "resources"}  # not required in fact
    assert events.test_event_pattern(EventPattern=PATTERN, Event=json.dumps(without_resources))["Result"] is True
    for missing in ("id", "account", "source", "time", "region", "detail-type"):
        broken = {k: v for k, v in event.items() if k != missing}
        assert error_of(events.test_event_pattern, EventPattern=PATTERN, Event=json.dumps(broken)) == validation(
            "Parameter Event is not valid.")
    for broken in ("not json", "[1]", '"a"'):
        assert error_of(events.test_event_pattern, EventPattern=PATTERN, Event=broken) == validation(
            "Parameter Event is not valid.")
    assert error_of(events.test_event_pattern, EventPattern='{"source": "x"}', Event=json.dumps(event)) == (
        "InvalidEventPatternException", 'Event pattern is not valid. Reason: "source" must be an object or an array', 400)


# -- tags ------------------------------------------------------------------------------------

def test_tag_rules_and_buses(events, bus, unique):
    name = f"tagged-{unique}"
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN,
                          Tags=[{"Key": "team", "Value": "a"}])["RuleArn"]
    for resource in (arn, bus_arn(bus)):
        events.tag_resource(ResourceARN=resource, Tags=[{"Key": "stage", "Value": "test"}, {"Key": "x", "Value": ""}])
        events.untag_resource(ResourceARN=resource, TagKeys=["x", "never-there"])
    assert events.list_tags_for_resource(ResourceARN=arn)["Tags"] == [
        {"Key": "stage", "Value": "test"}, {"Key": "team", "Value": "a"}]
    assert events.list_tags_for_resource(ResourceARN=bus_arn(bus))["Tags"] == [{"Key": "stage", "Value": "test"}]
    assert error_of(events.tag_resource, ResourceARN=arn, Tags=[{"Key": "aws:x", "Value": "1"}]) == validation(
        "Invalid tag key: aws:x. The prefix 'aws:' is reserved for AWS use.")
    code, _, status = error_of(events.tag_resource, ResourceARN=arn,
                               Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert (code, status) == ("ValidationException", 400)
    events.delete_rule(Name=name, EventBusName=bus)
    assert error_of(events.list_tags_for_resource, ResourceARN=arn) == not_found(
        f"Rule {name} does not exist on EventBus {bus}.")
    assert error_of(events.tag_resource, ResourceARN=bus_arn("no-such-bus"), Tags=[{"Key": "a", "Value": "b"}]) == (
        not_found("Event bus no-such-bus does not exist."))
    foreign = "arn:aws:sns:us-east-1:000000000000:topic"
    assert error_of(events.untag_resource, ResourceARN=foreign, TagKeys=["a"]) == not_found(
        f"Resource {foreign} does not exist.")


# -- the aws CLI -----------------------------------------------------------------------------

def test_the_aws_cli(aws, unique):
    name = f"cli-{unique}"
    arn = aws.json("events", "put-rule", "--name", name, "--event-pattern", PATTERN)["RuleArn"]
    assert arn == rule_arn(name)
    assert [r["Name"] for r in aws.json("events", "list-rules", "--name-prefix", name)["Rules"]] == [name]
    answer = aws.json("events", "put-events", "--entries", json.dumps([ENTRY]))
    assert answer["FailedEntryCount"] == 0 and re.fullmatch(r"[0-9a-f-]{36}", answer["Entries"][0]["EventId"])
    failed = aws("events", "describe-rule", "--name", f"{name}-nope", check=False)
    assert failed.returncode != 0 and "ResourceNotFoundException" in failed.stderr
    aws("events", "delete-rule", "--name", name)


# -- durability ------------------------------------------------------------------------------

def test_buses_rules_targets_and_tags_survive_kill_9(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        events, sns = make_client("events", server.endpoint), make_client("sns", server.endpoint)
        topic = sns.create_topic(Name="after-crash")["TopicArn"]
        with webhook() as hook:
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url,
                          Attributes={"RawMessageDelivery": "true"})
            hook.wait_for(of_type("SubscriptionConfirmation"))
            events.create_event_bus(Name="kept", Description="survives", Tags=[{"Key": "k", "Value": "v"}])
            events.put_rule(Name="on-default", EventPattern=PATTERN, Tags=[{"Key": "r", "Value": "1"}])
            events.put_rule(Name="on-kept", EventBusName="kept", EventPattern=PATTERN, State="DISABLED")
            events.put_targets(Rule="on-default", Targets=[{"Id": "hook", "Arn": topic, "InputPath": "$.detail"}])
            before = _everything(events)
            server.kill()
            server = ServerProcess(tmp_path / "data", port=server.port).start()
            events = make_client("events", server.endpoint)
            assert _everything(events) == before
            # The restarted server matches with the rules it read back.
            events.put_events(Entries=[{**ENTRY, "Detail": '{"after": "restart"}'}])
            hook.wait_for(lambda headers, body: of_type("Notification")(headers, body)
                          and json.loads(body) == {"after": "restart"})
    finally:
        server.stop()


def _everything(events) -> list:
    """What the API answers about the buses, rules, targets and tags of the test above."""
    rules = [(bus, events.describe_rule(Name=name, EventBusName=bus)) for bus, name in
             (("default", "on-default"), ("kept", "on-kept"))]
    return [
        [{k: b.get(k) for k in ("Name", "Arn", "Description", "CreationTime")}
         for b in events.list_event_buses()["EventBuses"]],
        [{k: v for k, v in rule.items() if k != "ResponseMetadata"} for _, rule in rules],
        events.list_targets_by_rule(Rule="on-default")["Targets"],
        [events.list_tags_for_resource(ResourceARN=arn)["Tags"]
         for arn in (bus_arn("kept"), rule_arn("on-default"), rule_arn("on-kept", "kept"))],
    ]


def test_paging_tokens_fit_next_token_for_the_longest_names(events, unique, topic):
    # NextToken takes at most 2,048 characters (botocore:events); a token must fit, whatever the
    # length of the names and ARNs its listing is for.
    bus = f"long-{unique}-" + "b" * (256 - len(f"long-{unique}-"))
    events.create_event_bus(Name=bus)
    long_arn = topic + "x" * (1600 - len(topic))  # a topic that does not exist: never delivered to
    for i in range(2):
        name = f"{i}" + "r" * 63
        events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": f"{i}" + "t" * 63, "Arn": long_arn}])
    names = events.list_rule_names_by_target(TargetArn=long_arn, EventBusName=bus, Limit=1)
    assert events.list_rule_names_by_target(TargetArn=long_arn, EventBusName=bus, Limit=1,
                                            NextToken=names["NextToken"])["RuleNames"] == ["1" + "r" * 63]
    rules = events.list_rules(EventBusName=bus, Limit=1)
    assert len(events.list_rules(EventBusName=bus, Limit=1, NextToken=rules["NextToken"])["Rules"]) == 1
    events.put_targets(Rule="0" + "r" * 63, EventBusName=bus, Targets=[{"Id": "second", "Arn": topic}])
    targets = events.list_targets_by_rule(Rule="0" + "r" * 63, EventBusName=bus, Limit=1)
    assert events.list_targets_by_rule(Rule="0" + "r" * 63, EventBusName=bus, Limit=1,
                                       NextToken=targets["NextToken"])["Targets"][0]["Id"] == "second"
    assert max(len(t) for t in (names["NextToken"], rules["NextToken"], targets["NextToken"])) <= 2048
