"""SNS subscription filter policies: checked as SNS checks them, matched with EventBridge's engine.

    policy = compile_filter_policy(text, scope)     # raises InvalidFilterPolicy
    policy.matches(message, message_attributes)     # the message as published to that subscriber

SNS and EventBridge filter with the same AWS engine (aws/event-ruler), so the operators, their
semantics and most refusals are those of ``services/events/patterns.py``, which this module
reuses whole: exact strings and numbers, ``prefix``, ``suffix``, ``anything-but``, ``numeric``,
``exists``, ``equals-ignore-case``, ``cidr``, ``$or``, nesting (MessageBody scope). What SNS adds
or does otherwise, each from an AWS-recorded answer or the SNS developer guide:

* Limits (subscription-filter-policy-constraints.html): at most 5 keys ("For a nested policy,
  only parent keys are counted"), and at most 150 *combinations*: the product, over the policy's
  value arrays, of each array's length times the depth of its key (the guide's example: four
  values three levels deep and three values two levels deep make 4 x 3 x 3 x 2 = 72); the
  alternatives of a ``$or`` add up. Refused with "Filter policy can not have more than 5 keys" /
  "Filter policy is too complex" (localstack test_sns_filter_policy.snapshot.json, recorded
  against AWS, test_policy_complexity*).
* The MessageAttributes scope (the default) takes no nested policy: "Filter policy scope
  MessageAttributes does not support nested filter policy" (same snapshot).
* ``anything-but`` takes only ``prefix`` in its object form: "Unsupported anything-but pattern:
  suffix" and "prefix match pattern must be a string" (same snapshot,
  test_validate_policy_nested_anything_but_operator; EventBridge accepts suffix, wildcard and
  equals-ignore-case there).
* A numeric range whose bottom is not below its top is refused, "Bottom must be less than top"
  (same snapshot, test_validate_policy_numeric_operator; EventBridge's module accepts it and
  matches nothing).
* A policy that is not JSON is refused "failed to parse JSON. " + Jackson's message with its
  source hidden (test_sns.snapshot.json, test_validate_set_sub_attributes). AWS appends Jackson's
  source location to the engine's other refusals too (``\\n at [Source: ...; column: N]``);
  they are written here without it: the column is where AWS's streaming parser stood, which
  this module does not reproduce (a known difference).
* The empty policy ``{}`` matches every message (sagewatch's choice: EventBridge refuses an
  empty pattern, and SNS's answer to ``{}`` is not recorded; an empty AttributeValue removes the
  policy, which the service handles).

What a policy is matched against: for the MessageAttributes scope, the message attributes as an
object of their values: ``String`` (and ``String.<custom>``) as the string, ``Number`` as the
number, ``String.Array`` as the JSON array it holds; ``Binary`` attributes are not compared
("Amazon SNS compares policy properties only to message attributes that have the following data
types: String, String.Array, Number", subscription-filter-policy-constraints.html). For the
MessageBody scope, the message parsed as JSON; a message that is not a JSON object matches no
policy ("payload-based filtering assumes the message payload is a well-formed JSON object",
sns-message-filtering.html). Numbers compare as event-ruler compares them (-5e9..5e9, six
decimals) rather than the guide's -1e9..1e9 with five: a wider range, the same answers inside
the guide's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..events.patterns import REASON, EventPattern, InvalidEventPattern, compile_pattern

MESSAGE_ATTRIBUTES = "MessageAttributes"
MESSAGE_BODY = "MessageBody"
SCOPES = (MESSAGE_ATTRIBUTES, MESSAGE_BODY)
MAX_KEYS = 5
MAX_COMBINATIONS = 150
_NESTED_IN_ATTRIBUTES = "Filter policy scope MessageAttributes does not support nested filter policy"
_REDACTED_SOURCE = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


class InvalidFilterPolicy(Exception):
    """A policy SNS refuses. ``reason`` is AWS's text; ``of_policy`` says whether AWS words it
    as a FilterPolicy problem ("FilterPolicy: <reason>") or on its own (the scope refusal)."""

    def __init__(self, reason: str, *, of_policy: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.of_policy = of_policy


@dataclass(frozen=True)
class FilterPolicy:
    """A compiled policy (``pattern`` None: the empty policy, which matches everything)."""

    pattern: EventPattern | None
    scope: str

    def matches(self, message: str, message_attributes: Mapping[str, Mapping] | None) -> bool:
        if self.pattern is None:
            return True
        if self.scope == MESSAGE_BODY:
            try:
                body = json.loads(message)
            except ValueError:
                return False
            return isinstance(body, dict) and self.pattern.matches(body)
        return self.pattern.matches(attribute_values(message_attributes or {}))


def attribute_values(message_attributes: Mapping[str, Mapping]) -> dict[str, Any]:
    """The message attributes as a policy sees them (see the module's doc)."""
    values: dict[str, Any] = {}
    for name, attribute in message_attributes.items():
        data_type = attribute.get("DataType", "")
        text = attribute.get("StringValue")
        if text is None or data_type.startswith("Binary"):
            continue
        if data_type == "String.Array":
            try:
                values[name] = json.loads(text)
            except ValueError:
                continue
        elif data_type.startswith("Number"):
            number = parse_number(text)
            if number is not None:
                values[name] = number
        else:
            values[name] = text
    return values


def parse_number(text: str) -> int | float | None:
    """A Number attribute's value as a number (None: not one, or not finite)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def compile_filter_policy(text: str, scope: str = MESSAGE_ATTRIBUTES) -> FilterPolicy:
    """Check a FilterPolicy as SNS does, in the scope it is to be used in; raises
    InvalidFilterPolicy with AWS's reason."""
    try:
        return _compile(text, scope)
    except RecursionError:
        # Nested deeper than Python's stack allows (~1,000 levels): far past the combination
        # limit, since each level multiplies a value array's weight (sagewatch's wording).
        raise InvalidFilterPolicy("Filter policy is too complex") from None


def _compile(text: str, scope: str) -> FilterPolicy:
    try:
        document = json.loads(text, parse_constant=_not_json)
    except ValueError:
        raise InvalidFilterPolicy("failed to parse JSON. " + jackson_syntax_error(text)) from None
    except RecursionError:
        raise InvalidFilterPolicy(_pattern_refusal(text) or "Filter policy is too complex") from None
    if isinstance(document, dict) and not document:
        return FilterPolicy(None, scope)
    if isinstance(document, dict):
        # In the order AWS reports them when a policy breaks several rules: the key count, then
        # what the walk meets (a value neither object nor array, the scope's nesting), then the
        # complexity (localstack's FilterPolicyValidator, written against the recorded answers).
        if len(_top_keys(document)) > MAX_KEYS:
            raise InvalidFilterPolicy(f"Filter policy can not have more than {MAX_KEYS} keys")
        if _combinations(document, scope, depth=1, running=1) > MAX_COMBINATIONS:
            raise InvalidFilterPolicy("Filter policy is too complex")
        _check_sns_rules(document)
    try:
        pattern = compile_pattern(text)
    except InvalidEventPattern as error:
        raise InvalidFilterPolicy(error.message.removeprefix(REASON)) from None
    if isinstance(document, dict):
        _check_ranges(document)
    return FilterPolicy(pattern, scope)


def _pattern_refusal(text: str) -> str | None:
    """EventBridge's engine's reason for refusing ``text``, or None."""
    try:
        compile_pattern(text)
    except InvalidEventPattern as error:
        return error.message.removeprefix(REASON)
    return None


def _not_json(name: str):
    raise ValueError(name)  # NaN, Infinity: Python's json reads them, Jackson does not


def jackson_syntax_error(text: str) -> str:
    """Jackson's message for text that is not JSON, as EventBridge's module words it, with the
    source hidden as SNS hides it."""
    message = _pattern_refusal(text) or "Unexpected end-of-input"
    start = message.find('\n at [Source: (String)"')
    if start < 0:
        return message
    return message[:start] + _REDACTED_SOURCE + message[message.rindex("; line: "):]


def _top_keys(document: dict) -> set[str]:
    """The parent keys a policy is counted by: its top-level keys, those of its top-level
    ``$or`` alternatives included."""
    keys: set[str] = set()
    for key, value in document.items():
        if key == "$or" and isinstance(value, list):
            for alternative in value:
                if isinstance(alternative, dict):
                    keys |= _top_keys(alternative)
        else:
            keys.add(key)
    return keys


def _combinations(document: dict, scope: str, depth: int, running: int) -> int:
    """The policy's combinations (see the module's doc), refusing on the way what the walk
    meets: a value that is neither an object nor an array, an empty array, a nested object in
    the MessageAttributes scope (once the object's own members passed)."""
    for key, value in document.items():
        if key == "$or" and isinstance(value, list):
            running = sum(_combinations(alternative, scope, depth, running)
                          for alternative in value if isinstance(alternative, dict)) or running
        elif isinstance(value, dict):
            running = _combinations(value, scope, depth + 1, running)
        elif isinstance(value, list):
            if not value:
                raise InvalidFilterPolicy("Empty arrays are not allowed")
            running *= len(value) * depth
        else:
            raise InvalidFilterPolicy(f'"{key}" must be an object or an array')
    if scope == MESSAGE_ATTRIBUTES and depth > 1:
        raise InvalidFilterPolicy(_NESTED_IN_ATTRIBUTES, of_policy=False)
    return running


def _leaf_arrays(document: dict):
    for key, value in document.items():
        if key == "$or" and isinstance(value, list):
            for alternative in value:
                if isinstance(alternative, dict):
                    yield from _leaf_arrays(alternative)
        elif isinstance(value, dict):
            yield from _leaf_arrays(value)
        elif isinstance(value, list):
            yield value


def _check_sns_rules(document: dict) -> None:
    """The refusals SNS words otherwise than EventBridge (see the module's doc)."""
    for values in _leaf_arrays(document):
        for value in values:
            if not (isinstance(value, dict) and value and next(iter(value)) == "anything-but"):
                continue
            operand = value["anything-but"]
            if isinstance(operand, dict) and operand:
                inner, inner_value = next(iter(operand.items()))
                if inner != "prefix":
                    raise InvalidFilterPolicy(f"Unsupported anything-but pattern: {inner}")
                if not isinstance(inner_value, str):
                    raise InvalidFilterPolicy("prefix match pattern must be a string")


def _check_ranges(document: dict) -> None:
    for values in _leaf_arrays(document):
        for value in values:
            if isinstance(value, dict) and list(value) == ["numeric"]:
                terms = value["numeric"]
                if (len(terms) == 4 and terms[0] in (">", ">=") and terms[2] in ("<", "<=")
                        and terms[3] <= terms[1]):
                    raise InvalidFilterPolicy("Bottom must be less than top")
