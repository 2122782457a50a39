"""EventBridge event patterns (services/events/patterns.py).

The conformance part replays AWS-recorded answers (tests/unit/event_pattern_cases/, each case
naming its source file and commit): AWS's match / no match / InvalidEventPatternException and its
message must be ours. The rest pins the rules that no recorded case covers, each citing the AWS
engine (aws/event-ruler) or document it follows, and holds the matcher's fast path to the plain
statement of a match.
"""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sagewatch.services.events.patterns import (
    InvalidEventPattern,
    _branch_matches,
    compile_pattern,
    flatten_event,
)

CASES = Path(__file__).parent / "event_pattern_cases"


def _load(name: str) -> list[dict]:
    return json.loads((CASES / name).read_text())["cases"]


TEMPLATES = _load("localstack_templates.json")
RAW_TEXT = _load("localstack_raw_text.json")


def _answer(pattern_text: str, event: dict) -> str:
    try:
        pattern = compile_pattern(pattern_text)
    except InvalidEventPattern as error:
        return error.message
    return "match" if pattern.matches(event) else "no match"


def _expected(case: dict) -> str:
    return case["message"] if case["expect"] == "InvalidEventPatternException" else case["expect"]


@pytest.mark.parametrize("case", TEMPLATES, ids=[case["name"] for case in TEMPLATES])
def test_aws_recorded_template(case):
    # The localstack test sends json.dumps(template["EventPattern"]); so do we.
    assert _answer(json.dumps(case["pattern"]), case["event"]) == _expected(case)


@pytest.mark.parametrize("case", RAW_TEXT, ids=[case["name"] for case in RAW_TEXT])
def test_aws_recorded_raw_text(case):
    assert _answer(case["pattern_text"], case["event"]) == _expected(case)


def test_corpus_covers_every_operator():
    text = json.dumps([case["pattern"] for case in TEMPLATES])
    for operator in ("prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case",
                     "wildcard", "cidr", "$or"):
        assert f'"{operator}"' in text


# --- rules no recorded case covers --------------------------------------------------------------

EVENT = {"id": "1", "source": "s", "detail-type": "t", "account": "123456789012",
         "region": "us-east-1", "time": "2024-01-01T00:00:00Z", "resources": []}


def matches(pattern: dict | str, **fields) -> bool:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    return compile_pattern(text).matches({**EVENT, **fields})


def reason(pattern: dict | str) -> str:
    text = pattern if isinstance(pattern, str) else json.dumps(pattern)
    with pytest.raises(InvalidEventPattern) as raised:
        compile_pattern(text)
    assert raised.value.message.startswith("Event pattern is not valid. Reason: ")
    return raised.value.message.removeprefix("Event pattern is not valid. Reason: ")


def test_empty_array_in_event_is_no_leaf():
    # exists_list_empty (AWS: match) is not in the stored corpus; event-ruler flattens [] to nothing.
    assert matches({"resources": [{"exists": False}]})
    assert not matches({"resources": [{"exists": True}]})


def test_arrays_on_both_sides_intersect():
    # eb-event-patterns-arrays.md: "matches if the intersection ... is non-empty".
    assert matches({"detail": {"tags": ["b", "z"]}}, detail={"tags": ["a", "b"]})
    assert not matches({"detail": {"tags": ["y", "z"]}}, detail={"tags": ["a", "b"]})
    assert matches({"detail": {"n": [{"numeric": [">", 5]}]}}, detail={"n": [1, 2, 9]})


def test_fields_of_one_array_element_must_match_together():
    # event-ruler ArrayMembership: fields read from an array of objects come from one element.
    pattern = {"detail": {"items": {"name": ["x"], "size": [1]}}}
    assert matches(pattern, detail={"items": [{"name": "x", "size": 1}]})
    assert not matches(pattern, detail={"items": [{"name": "x", "size": 2}, {"name": "y", "size": 1}]})
    assert matches(pattern, detail={"items": [{"name": "y", "size": 1}, {"name": "x", "size": 1}]})


def test_null_and_empty_string_are_distinct():
    # eb-event-patterns-null-values.md
    assert matches({"detail": {"v": [None]}}, detail={"v": None})
    assert not matches({"detail": {"v": [""]}}, detail={"v": None})
    assert matches({"detail": {"v": [""]}}, detail={"v": ""})
    assert not matches({"detail": {"v": [None]}}, detail={"v": ""})


def test_numbers_compare_as_event_ruler_comparable_numbers():
    assert matches({"detail": {"n": [{"numeric": ["=", 3.018e2]}]}}, detail={"n": 301.8})
    assert matches({"detail": {"n": [{"numeric": [">=", 0, "<", 1]}]}}, detail={"n": 0})
    assert not matches({"detail": {"n": [{"numeric": [">", 0, "<=", 1]}]}}, detail={"n": 0})
    # Beyond +-5e9 there is no numeric comparison, but a listed number still matches its text.
    assert not matches({"detail": {"n": [{"numeric": [">", 0]}]}}, detail={"n": 6e9})
    assert matches({"account": [123456789012]}, account=123456789012)
    assert not matches({"account": [123456789012]}, account="123456789012")
    assert reason({"n": [{"numeric": [">", 6e9]}]}) == "Value must be between -5.0E9 and 5.0E9, inclusive"


def test_numeric_syntax_errors_are_event_ruler_s():
    assert reason({"n": [{"numeric": 5}]}) == "Value of numeric must be an array."
    assert reason({"n": [{"numeric": []}]}) == "Invalid member in numeric match: ]"
    assert reason({"n": [{"numeric": [5]}]}) == "Invalid member in numeric match: 5"
    assert reason({"n": [{"numeric": ["!=", 5]}]}) == "Unrecognized numeric range operator: !="
    assert reason({"n": [{"numeric": ["=", "5"]}]}) == "Value of equals must be numeric"
    assert reason({"n": [{"numeric": ["<", 5, ">", 1]}]}) == "Too many elements in numeric expression"
    assert reason({"n": [{"numeric": [">", 0, 5]}]}) == "Bad value in numeric range: 5"
    assert reason({"n": [{"numeric": [">", 0, "<", 5, 7]}]}) == "Too many terms in numeric range expression"


def test_string_affixes_are_matched_on_the_quoted_value():
    # event-ruler compiles prefix p as '"p' and suffix s as 's"' against '"value"'.
    assert matches({"v": [{"prefix": ""}]}, v="anything")
    assert not matches({"v": [{"prefix": ""}]}, v=5)
    assert matches({"v": [{"prefix": 'abc"'}]}, v="abc")
    assert matches({"v": [{"suffix": '"abc'}]}, v="abc")
    assert matches({"v": [{"prefix": {"equals-ignore-case": "EVENTB"}}]}, v="eventbridge")


def test_wildcards():
    assert matches({"v": [{"wildcard": "dir/*.png"}]}, v="dir/a/b.png")
    assert matches({"v": [{"wildcard": "*"}]}, v="")
    assert not matches({"v": [{"wildcard": "*"}]}, v=5)
    assert matches({"v": [{"wildcard": r"a\*b"}]}, v="a*b")
    assert not matches({"v": [{"wildcard": r"a\*b"}]}, v="axb")
    assert matches({"v": [{"wildcard": "a\\\\*"}]}, v="a\\xyz")
    assert reason({"v": [{"wildcard": r"a\b"}]}) == "Invalid escape character at pos 2"
    assert reason({"v": [{"wildcard": "ab**"}]}) == "Consecutive wildcard characters at pos 3"
    assert not matches({"v": [{"anything-but": {"wildcard": "*"}}]}, v="x")
    assert matches({"v": [{"anything-but": {"wildcard": "*"}}]}, v=None)


def test_addresses():
    # A listed string that is an address matches the same address however it is written.
    assert matches({"ip": ["2001:db8::1"]}, ip="2001:0db8:0000:0000:0000:0000:0000:0001")
    assert matches({"ip": [{"cidr": "10.0.0.0/8"}]}, ip="10.255.1.2")
    assert not matches({"ip": [{"cidr": "10.0.0.0/8"}]}, ip="11.0.0.0")
    # The range starts at the address as written, not at the network address (CIDR.cidr).
    assert not matches({"ip": [{"cidr": "10.0.0.5/24"}]}, ip="10.0.0.1")
    assert not matches({"ip": [{"cidr": "10.0.0.0/8"}]}, ip="::ffff:10.0.0.1")
    assert reason({"ip": [{"cidr": "10.0.0.0/"}]}) == "Malformed CIDR, one '/' required"
    assert reason({"ip": [{"cidr": "10.0.0.0/-1"}]}) == "Malformed CIDR, mask bits must not be negative"
    assert reason({"ip": [{"cidr": "10.0.0.0/32"}]}) == "IPv4 mask bits must be < 32"
    assert reason({"ip": [{"cidr": "10.0.0.256/8"}]}) == "Invalid IP address: 10.0.0.256"


def test_anything_but_forms():
    assert reason({"v": [{"anything-but": ["a", 1]}]}) == (
        "Inside anything but list, either all values are number or string, mixed type is not supported")
    assert reason({"v": [{"anything-but": []}]}) == (
        "Inside anything but list, either all values are number or string, mixed type is not supported")
    assert reason({"v": [{"anything-but": {"exists": True}}]}) == "Unsupported anything-but pattern: exists"
    assert reason({"v": [{"anything-but": {}}]}) == "Anything-But expression name not found"
    assert reason({"v": [{"anything-but": True}]}) == (
        "Value of anything-but must be an array or single string/number value.")
    assert matches({"v": [{"anything-but": [1, 2]}]}, v="1")
    assert not matches({"v": [{"anything-but": [1, 2]}]}, v=1.0)
    assert matches({"v": [{"anything-but": {"equals-ignore-case": []}}]}, v="x")


def test_structure_errors():
    assert reason({}) == "Empty objects are not allowed"
    assert reason({"detail": {}}) == "Empty objects are not allowed"
    assert reason({"v": [[1]]}) == "Match value must be String, number, true, false, or null"
    assert reason({"v": [{}]}) == "Match expression name not found"
    assert reason({"v": [{"prefix": "a", "suffix": "b"}]}) == "Only one key allowed in match expression"
    assert reason({"v": [{"exists": "yes"}]}) == "exists match pattern must be either true or false."
    assert reason({"v": [{"prefix": {"foo": "a"}}]}) == "Unsupported prefix pattern: foo"
    assert reason({"$or": {"a": ["b"]}}) == "It must be an Array followed with $or."
    assert reason({"$or": [{"a": ["b"]}]}) == "There must have at least 2 Objects in $or relationship."
    assert reason({"$or": [{"a": ["b"]}, ["c"]]}) == "Only JSON object is allowed in array of $or relationship."
    assert reason({"$or": [{"prefix": ["b"]}, {"a": ["c"]}]}) == (
        "prefix is Ruler reserved fieldName which cannot be used inside $or.")
    assert reason("NaN").startswith("Unrecognized token 'NaN'")
    assert reason("[" * 1001 + "]" * 1001).startswith("Document nesting depth (1001)")


def test_or_at_any_level_and_combination_limit():
    pattern = {"source": ["s"], "detail": {"$or": [{"a": ["1"]}, {"b": {"$or": [{"c": ["2"]}, {"d": ["3"]}]}}]}}
    assert matches(pattern, detail={"b": {"d": "3"}})
    assert not matches(pattern, detail={"b": {"e": "3"}})
    eleven = [{f"k{i}": ["v"]} for i in range(11)]
    assert "$or" in reason({"x": {"$or": eleven}, "y": {"$or": eleven}, "z": {"$or": eleven}})


def test_repeated_objects_add_their_fields():
    text = '{"detail": {"a": ["1"]}, "detail": {"b": ["2"]}}'
    assert compile_pattern(text).matches({"detail": {"a": "1", "b": "2"}})
    assert not compile_pattern(text).matches({"detail": {"b": "2"}})


def test_compiled_pattern_reads_no_text_when_matching():
    pattern = compile_pattern('{"detail": {"v": [{"numeric": [">", 1]}]}}')
    object.__setattr__(pattern, "text", None)
    assert pattern.matches({"detail": {"v": 2}})


# --- the fast path against the plain statement --------------------------------------------------

_scalars = st.one_of(st.sampled_from(["a", "b", "", "ab", "A"]), st.integers(-3, 3), st.none(),
                     st.booleans())
_events = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["x", "y", "z"]), children, max_size=3)),
    max_leaves=12)
_values = st.one_of(
    st.sampled_from(["a", "b", ""]), st.integers(-3, 3), st.none(),
    st.sampled_from([{"prefix": "a"}, {"exists": True}, {"exists": False}, {"anything-but": "a"},
                     {"numeric": [">", 0]}, {"equals-ignore-case": "A"}, {"wildcard": "*b"}]))
_patterns = st.recursive(
    st.lists(_values, min_size=1, max_size=3),
    lambda children: st.dictionaries(st.sampled_from(["x", "y", "z"]), children, min_size=1, max_size=3),
    max_leaves=6).filter(lambda value: isinstance(value, dict))


def _consistent(chosen) -> bool:
    seen: dict[int, int] = {}
    for leaf in chosen:
        for array, index in leaf.elements:
            if seen.setdefault(array, index) != index:
                return False
    return True


def branch_matches_reference(branch, flat) -> bool:
    """The plain statement of a branch match: some choice of one passing leaf per present field
    is array consistent (every combination tried)."""
    candidates = []
    for path, rule in branch.items():
        passing = [leaf for leaf in flat.get(path, ())
                   if rule.exists or any(test(leaf.value) for test in rule.tests)]
        if passing:
            candidates.append(passing)
        elif not (rule.absent_ok and not flat.get(path)):
            return False
    return any(_consistent(choice) for choice in product(*candidates))


@settings(max_examples=400, deadline=None)
@given(pattern=_patterns, event=st.dictionaries(st.sampled_from(["x", "y", "z"]), _events, max_size=3))
def test_fast_path_agrees_with_reference(pattern, event):
    compiled = compile_pattern(json.dumps(pattern))
    flat = flatten_event(event)
    for branch in compiled.branches:
        assert _branch_matches(branch, flat) == branch_matches_reference(branch, flat)
