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

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sagewatch.services.events.patterns import InvalidEventPattern, compile_pattern, flatten_event
from sagewatch.services.events.rule_index import RuleIndex, required_strings, scan

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
    assert set(index.by_field["source"]) == {"aws.sagemaker"}
    assert set(index.by_field["detail-type"]) == {"CloudWatch Alarm State Change"}
    assert [entry.item for entry in index.scanned] == [2]
    event = {"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change",
             "detail": {"state": {"value": "ALARM"}}}
    assert [entry.item for entry in index.candidates(flatten_event(event))] == [1, 2]
    assert index.matching(flatten_event(event)) == [1, 2]
    assert index.candidates(flatten_event({"source": "aws.sagemaker"}))[0].item == 0


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
