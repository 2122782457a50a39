"""EventBridge matching: which rules an event put on a bus reaches.

The index (services/events/rule_index.py) is held to the plain scan (every rule's pattern
tested) on generated rules and events: repeated keys, ``$or`` naming the indexed fields,
operators, IP addresses (which match other spellings of themselves), non-string values,
arrays of sources. Then the real application: rules put through boto3, events put through
boto3 or emitted by sagewatch itself (``put_service_events``), and the target deliveries each
match queues, read from the outbox the delivery queue carries out (store/outbox.py).
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sagewatch.clock import FakeClock
from sagewatch.services.events.patterns import InvalidEventPattern, compile_pattern, flatten_event
from sagewatch.services.events.rule_index import RuleIndex, required_strings, scan

from ..e2e.sns_endpoints import webhook
from ..inprocess import InProcessSagewatch

# -- the index agrees with the scan ----------------------------------------------------------

# Strings that collide on purpose: an address and another spelling of it, a case variant, a
# number's text, the empty string. Plain strings are drawn most often, so that rules the index
# files (and the events that should reach them) are common.
PLAIN = st.sampled_from(["a", "b"])
ADDRESSES = st.sampled_from(["::1", "0:0:0:0:0:0:0:1"])
SCALARS = st.sampled_from(["A", "1", "", "10.0.0.1", 1, 1.0, None, True])
OPERATORS = st.sampled_from([
    {"prefix": "a"}, {"suffix": "1"}, {"anything-but": "a"}, {"anything-but": ["a", "b"]},
    {"exists": True}, {"exists": False}, {"equals-ignore-case": "A"}, {"cidr": "10.0.0.0/24"},
    {"wildcard": "a*"}, {"numeric": [">", 0]}, {"anything-but": {"prefix": "aws."}},
])
VALUE_LISTS = st.lists(st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, ADDRESSES, SCALARS, OPERATORS),
                       min_size=1, max_size=3)
FIELDS = ["source", "detail-type"]


def _text(value) -> str:
    """JSON text of a value whose objects are lists of (key, value) pairs (repeats kept)."""
    if isinstance(value, tuple) and value and value[0] == "object":
        return "{" + ",".join(f"{json.dumps(k)}:{_text(v)}" for k, v in value[1]) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_text(v) for v in value) + "]"
    return json.dumps(value)


def _object(members):
    return ("object", members)


def _members(depth: int) -> st.SearchStrategy:
    member = st.one_of(
        st.tuples(st.sampled_from(FIELDS), VALUE_LISTS),
        st.tuples(st.sampled_from(FIELDS), VALUE_LISTS),
        st.tuples(st.sampled_from(FIELDS), st.builds(lambda v: _object([("x", v)]), VALUE_LISTS)),
        st.tuples(st.just("detail"), st.builds(lambda v: _object([("n", v)]), VALUE_LISTS)),
        st.tuples(st.just("resources"), VALUE_LISTS),
    )
    if depth > 0:
        alternatives = st.lists(st.builds(_object, _members(depth - 1)), min_size=2, max_size=3)
        member = member | st.tuples(st.just("$or"), alternatives)
    return st.lists(member, min_size=1, max_size=4)


PATTERN_TEXTS = st.builds(lambda members: _text(_object(members)), _members(2))
EVENT_SCALARS = st.one_of(PLAIN, PLAIN, ADDRESSES, SCALARS)
EVENT_VALUES = st.one_of(EVENT_SCALARS, EVENT_SCALARS, st.lists(EVENT_SCALARS, max_size=3),
                         st.builds(lambda v: {"x": v}, EVENT_SCALARS))


@st.composite
def events(draw) -> dict:
    event = {}
    for field in FIELDS + ["resources"]:
        if draw(st.booleans()):
            event[field] = draw(EVENT_VALUES)
    if draw(st.booleans()):
        event["detail"] = {"n": draw(EVENT_VALUES)}
    return event


def _compiled(texts: list[str]) -> list:
    rules = []
    for number, text in enumerate(texts):
        try:
            rules.append((compile_pattern(text), number))
        except InvalidEventPattern:
            pass
    return rules


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PATTERN_TEXTS, min_size=1, max_size=25), st.lists(events(), min_size=1, max_size=5))
# The ways a filing can go wrong, each reached for sure (the draws reach them less often): an
# alternative of $or replacing the source rule, an address matching another spelling, a later
# member replacing an earlier one, an object beside the list, a source in an array.
@example(['{"source":["a"],"$or":[{"detail":{"n":["a"]}},{"source":["b"]}]}'], [{"source": "b"}])
@example(['{"source":["a"],"detail-type":["b"],"$or":[{"detail-type":["c"]},{"detail":{"n":[1]}}]}'],
         [{"source": "a", "detail-type": "c"}])
@example(['{"source":["::1"]}'], [{"source": "0:0:0:0:0:0:0:1"}])
@example(['{"source":["b"],"source":["a"]}', '{"source":["a"],"source":{"x":["b"]}}'],
         [{"source": "a"}, {"source": {"x": "b"}}, {"source": "b"}])
@example(['{"source":["a"],"detail-type":["b"]}', '{"detail-type":["b"]}'],
         [{"source": ["b", "a"], "detail-type": "b"}, {"detail-type": ["a", "b"]}])
def test_the_index_finds_exactly_what_the_scan_finds(texts, drawn_events):
    rules = _compiled(texts)
    index = RuleIndex(rules)
    for event in drawn_events:
        flat = flatten_event(event)
        assert index.matching(flat) == scan(rules, flat), (texts, event)


def test_rules_that_name_source_or_detail_type_exactly_are_filed_by_them():
    # Guards the property above against an index that files nothing (and so always agrees).
    texts = [
        '{"source": ["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"]}',
        '{"detail-type": ["CloudWatch Alarm State Change"], "detail": {"state": {"value": ["ALARM"]}}}',
        '{"source": [{"prefix": "aws."}]}',
    ]
    index = RuleIndex(_compiled(texts))
    assert set(index.by_pair) == {("aws.sagemaker", "SageMaker Training Job State Change")}
    assert (set(index.by_field["source"]), set(index.by_field["detail-type"])) == (
        set(), {"CloudWatch Alarm State Change"})
    assert [entry.item for entry in index.scanned] == [2]
    event = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
             "detail": {"state": {"value": "ALARM"}}}
    assert [entry.item for entry in index.candidates(flatten_event(event))] == [1, 2]
    assert index.matching(flatten_event(event)) == [1, 2]
    training = {"source": "aws.sagemaker", "detail-type": "SageMaker Training Job State Change"}
    assert [entry.item for entry in index.candidates(flatten_event(training))] == [0, 2]
    assert [entry.item for entry in index.candidates(flatten_event({"source": "aws.sagemaker"}))] == [2]


@pytest.mark.parametrize("text, expected", [
    ('{"source": ["a", "b"]}', {"a", "b"}),
    ('{"source": ["x"], "source": ["a"]}', {"a"}),  # a later rule for the field replaces
    ('{"source": {"x": ["a"]}, "source": ["a"]}', {"a"}),
    ('{"source": ["a"], "source": {"x": ["b"]}}', None),
    ('{"source": ["a"], "$or": [{"source": ["b"]}, {"detail": {"n": [1]}}]}', None),
    ('{"source": ["a"], "$or": [{"detail": {"n": [1]}}, {"detail": {"n": [2]}}]}', {"a"}),
    ('{"source": ["a", {"prefix": "b"}]}', None),
    ('{"source": ["10.0.0.1"]}', None),  # also matches other spellings of the address
    ('{"source": ["a", null]}', None),
    ('{"detail": {"source": ["a"]}}', None),
])
def test_required_strings(text, expected):
    compile_pattern(text)  # every case is a valid pattern
    found = required_strings(text, "source")
    assert (None if found is None else set(found)) == expected


# -- through the application -----------------------------------------------------------------
#
# Each rule's one target is an SNS topic of its own, to which a real HTTP listener is subscribed
# with raw delivery: the listener receives, under the rule's path, exactly the event the rule
# matched. ``delivered`` settles the delivery queue first (nothing due, nothing running), so the
# listener has then received everything the events caused, and a missing delivery is a wrong
# match, not a slow one.

NOW = 1_780_000_000.0  # the application's (fake) clock: events are stamped with it


@pytest.fixture(scope="module")
def app():
    with InProcessSagewatch(clock=FakeClock(NOW)) as application:
        yield application


@pytest.fixture(scope="module")
def hook():
    with webhook(confirm=False) as listener:
        yield listener


class Bus:
    """Rules with a listening target each, on one bus of the application."""

    def __init__(self, app, hook, name: str = "default") -> None:
        self.app, self.hook, self.name = app, hook, name
        self.events, self.sns = app.client("events"), app.client("sns")
        if name != "default":
            self.events.create_event_bus(Name=name)
        self.seen = len(self.notifications())

    def rule(self, name: str, pattern: dict | str, **options) -> str:
        """A rule whose matches arrive at the listener under /<bus>/<name>."""
        text = pattern if isinstance(pattern, str) else json.dumps(pattern)
        arn = self.events.put_rule(Name=name, EventBusName=self.name, EventPattern=text, **options)["RuleArn"]
        topic = self.sns.create_topic(Name=f"{self.name}-{name}")["TopicArn"]
        path = f"/{self.name}/{name}"
        self.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=self.hook.url + path,
                           Attributes={"RawMessageDelivery": "true"})
        self.app.settle()
        confirmation = next(json.loads(body) for at, headers, body in self.hook.posts
                            if at.endswith(path) and headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation")
        self.sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])
        self.events.put_targets(Rule=name, EventBusName=self.name, Targets=[{"Id": "listener", "Arn": topic}])
        return arn

    def put(self, *entries: dict) -> list[str]:
        """PutEvents on this bus; the EventIds."""
        answer = self.events.put_events(Entries=[{"EventBusName": self.name, "DetailType": "Thing",
                                                  "Detail": "{}", **entry} for entry in entries])
        assert answer["FailedEntryCount"] == 0, answer
        return [entry["EventId"] for entry in answer["Entries"]]

    def notifications(self) -> list[tuple[str, dict]]:
        return [(at, json.loads(body)) for at, headers, body in self.hook.posts
                if headers.get("x-amz-sns-message-type") == "Notification"]

    def delivered(self) -> list[tuple[str, dict]]:
        """(rule name, event) for each delivery since the last call, in arrival order."""
        self.app.settle()
        found = self.notifications()
        new, self.seen = found[self.seen:], len(found)
        prefix = f"/sns/{self.name}/"
        return [(at[len(prefix):], event) for at, event in new if at.startswith(prefix)]


def _pairs(delivered) -> set[tuple[str, str]]:
    return {(rule, event["id"]) for rule, event in delivered}


def test_events_reach_exactly_the_rules_that_match_them(app, hook):
    bus = Bus(app, hook, "matching")
    bus.rule("by-source", {"source": ["com.acme.training"]})
    bus.rule("by-type", {"detail-type": ["Job Failed"]})
    bus.rule("by-both", {"source": ["com.acme.training"], "detail-type": ["Job Failed"],
                         "detail": {"status": ["Failed"]}})
    bus.rule("by-prefix", {"source": [{"prefix": "com.acme."}], "detail": {"loss": [{"numeric": [">", 1]}]}})
    bus.rule("by-or", {"$or": [{"source": ["com.other"]}, {"detail-type": ["Job Started"]}]})
    bus.rule("by-address", {"source": ["0:0:0:0:0:0:0:1"]})
    bus.rule("disabled", {"source": ["com.acme.training"]}, State="DISABLED")

    failed, started, other, serving, loopback = bus.put(
        {"Source": "com.acme.training", "DetailType": "Job Failed", "Detail": '{"status": "Failed", "loss": 3}'},
        {"Source": "com.acme.training", "DetailType": "Job Started", "Detail": '{"loss": 0.5}'},
        {"Source": "com.other", "DetailType": "Job Failed"},
        {"Source": "com.acme.serving", "DetailType": "Deployed", "Detail": '{"loss": 2}'},
        {"Source": "::1", "DetailType": "Ping"},
    )
    assert _pairs(bus.delivered()) == {
        ("by-source", failed), ("by-type", failed), ("by-both", failed), ("by-prefix", failed),
        ("by-source", started), ("by-or", started),
        ("by-type", other), ("by-or", other),
        ("by-prefix", serving),
        ("by-address", loopback),
    }


def test_a_delivered_event_is_aws_s_envelope(app, hook):
    bus = Bus(app, hook, "envelope")
    bus.rule("all", {"source": ["com.acme.envelope"]})
    (with_time,) = bus.put({"Source": "com.acme.envelope", "DetailType": "Shaped", "Time": 1_700_000_000.9,
                            "Resources": ["arn:aws:sagemaker:us-east-1:000000000000:training-job/a"],
                            "Detail": '{"n": 1, "nested": {"list": [1, "two", null]}}'})
    (without_time,) = bus.put({"Source": "com.acme.envelope", "DetailType": "Shaped"})
    (first, second) = [event for _, event in bus.delivered()]
    assert first == {
        "version": "0", "id": with_time, "detail-type": "Shaped", "source": "com.acme.envelope",
        "account": "000000000000", "time": "2023-11-14T22:13:20Z", "region": "us-east-1",
        "resources": ["arn:aws:sagemaker:us-east-1:000000000000:training-job/a"],
        "detail": {"n": 1, "nested": {"list": [1, "two", None]}},
    }
    # Time defaults to the call's time (the application's clock).
    assert (second["id"], second["time"], second["resources"], second["detail"]) == (
        without_time, "2026-05-28T20:26:40Z", [], {})


def test_changes_to_rules_and_targets_apply_to_the_next_event(app, hook):
    bus = Bus(app, hook, "changes")
    bus.rule("r", {"source": ["a"]})
    (first,) = bus.put({"Source": "a"})
    assert _pairs(bus.delivered()) == {("r", first)}

    bus.events.disable_rule(Name="r", EventBusName="changes")
    bus.put({"Source": "a"})
    assert bus.delivered() == []
    bus.events.enable_rule(Name="r", EventBusName="changes")
    (again,) = bus.put({"Source": "a"})
    assert _pairs(bus.delivered()) == {("r", again)}

    # A new pattern replaces the old one at once.
    bus.events.put_rule(Name="r", EventBusName="changes", EventPattern='{"source": ["b"]}')
    old, new = bus.put({"Source": "a"}, {"Source": "b"})
    assert _pairs(bus.delivered()) == {("r", new)}

    # Without targets, a match delivers nothing; with them back, it does.
    topic = bus.events.list_targets_by_rule(Rule="r", EventBusName="changes")["Targets"][0]["Arn"]
    bus.events.remove_targets(Rule="r", EventBusName="changes", Ids=["listener"])
    bus.put({"Source": "b"})
    assert bus.delivered() == []
    bus.events.put_targets(Rule="r", EventBusName="changes", Targets=[{"Id": "listener", "Arn": topic}])
    (back,) = bus.put({"Source": "b"})
    assert _pairs(bus.delivered()) == {("r", back)}


def test_an_event_reaches_only_the_rules_of_its_bus(app, hook):
    left, right = Bus(app, hook, "left"), Bus(app, hook, "right")
    left.rule("r", {"source": ["shared"]})
    right.rule("r", {"source": ["shared"]})
    (on_left,) = left.put({"Source": "shared"})
    (by_arn,) = left.put({"Source": "shared", "EventBusName": "arn:aws:events:us-east-1:000000000000:event-bus/right"})
    assert _pairs(left.delivered()) == {("r", on_left)}
    assert _pairs(right.delivered()) == {("r", by_arn)}


def test_sagewatch_s_own_events_go_to_the_default_bus(app, hook):
    bus = Bus(app, hook)
    bus.rule("alarms", {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
                        "detail": {"state": {"value": ["ALARM"]}}})
    app.system.events.put_service_events([
        {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
         "resources": ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:loss"],
         "detail": {"alarmName": "loss", "state": {"value": "ALARM"}}},
        {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
         "detail": {"alarmName": "loss", "state": {"value": "OK"}}},
    ])
    ((rule, event),) = bus.delivered()
    assert rule == "alarms"
    assert uuid.UUID(event.pop("id"))
    assert event == {"version": "0", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
                     "account": "000000000000", "time": "2026-05-28T20:26:40Z", "region": "us-east-1",
                     "resources": ["arn:aws:cloudwatch:us-east-1:000000000000:alarm:loss"],
                     "detail": {"alarmName": "loss", "state": {"value": "ALARM"}}}


def test_a_rule_that_stops_compiling_matches_nothing_and_breaks_nothing(app, hook):
    # A stored pattern an older sagewatch accepted: the bus's other rules go on matching.
    bus = Bus(app, hook, "stored")
    bus.rule("good", {"source": ["s"]})
    bus.rule("bad", {"source": ["s"]})
    with app.system.database.write() as db:
        db.execute("UPDATE event_rules SET event_pattern = ? WHERE name = 'bad'", ('{"source": "s"}',))
    app.system.events._changed("stored")
    (event,) = bus.put({"Source": "s"})
    assert _pairs(bus.delivered()) == {("good", event)}
