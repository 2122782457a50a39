"""SNS subscription filter policies (services/sns/filter_policy.py): AWS's refusals, word for
word, and what a policy matches.

The refusals are AWS's recorded answers (localstack tests/aws/services/sns/
test_sns_filter_policy.snapshot.json and test_sns.snapshot.json, recorded against AWS: the
``_normalized`` text, without Jackson's source location; see the module's doc). The matching
cases follow the SNS developer guide's examples (sns-subscription-filter-policies.html,
string-value-matching.html, numeric-value-matching.html, attribute-key-matching.html) and the
recorded deliveries of the same snapshot files.
"""

from __future__ import annotations

import json

import pytest

from sagewatch.services.sns.filter_policy import (
    MESSAGE_ATTRIBUTES, MESSAGE_BODY, InvalidFilterPolicy, attribute_values, compile_filter_policy,
)

REDACTED = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]"

# (policy, AWS's reason) — test_validate_policy*, test_policy_complexity, test_sub_filter_policy_*.
RECORDED_REFUSALS = [
    ('{"key":[["value"]]}', "Match value must be String, number, true, false, or null"),
    ('{"key":[{"wrong-operator":true}]}', "Unrecognized match type wrong-operator"),
    ('{"key":[{"suffix":"value","prefix":"value2"}]}', "Only one key allowed in match expression"),
    ('{"key":[{"suffix":100}]}', "suffix match pattern must be a string"),
    ('{"key":[{"suffix":null}]}', "suffix match pattern must be a string"),
    ('{"key":{"suffix":"value"}}', '"suffix" must be an object or an array'),
    ('{"key":[{"suffix":[]}]}', "suffix match pattern must be a string"),
    ('{"key":[{"suffix":["test","test2"]}]}', "suffix match pattern must be a string"),
    ('{"key":{"suffix":"value","prefix":"value"}}', '"suffix" must be an object or an array'),
    ('{"key":{"not-an-operator":"value"}}', '"not-an-operator" must be an object or an array'),
    ('{"key":[{"numeric":[]}]}', "Invalid member in numeric match: ]"),
    ('{"key":[{"numeric":["operator"]}]}', "Unrecognized numeric range operator: operator"),
    ('{"key":[{"numeric":[1,"<="]}]}', "Invalid member in numeric match: 1"),
    ('{"key":[{"numeric":["=","000"]}]}', "Value of equals must be numeric"),
    ('{"key":[{"numeric":[">="]}]}', "Value of >= must be numeric"),
    ('{"key":[{"numeric":["<",100,">",10]}]}', "Too many elements in numeric expression"),
    ('{"key":[{"numeric":[">=",1,">",2]}]}', "Bad numeric range operator: >"),
    ('{"key":[{"numeric":[">",3,"<",1]}]}', "Bottom must be less than top"),
    ('{"key":[{"numeric":[">",20,"<="]}]}', "Value of <= must be numeric"),
    ('{"key":[{"numeric":[">",20,30]}]}', "Bad value in numeric range: 30"),
    ('{"key":[{"numeric":[">",20,"test"]}]}', "Bad numeric range operator: test"),
    ('{"key":[{"numeric":[">","20","<","30"]}]}', "Value of > must be numeric"),
    ('{"key":[{"numeric":[">",20,"<","30"]}]}', "Value of < must be numeric"),
    ('{"key":[{"numeric":[">",20,"<",30,"<",50]}]}', "Too many terms in numeric range expression"),
    ('{"key":[{"exists":null}]}', "exists match pattern must be either true or false."),
    ('{"key":[{"exists":"no"}]}', "exists match pattern must be either true or false."),
    ('{"key":[{"anything-but":{"wrong-operator":null}}]}', "Unsupported anything-but pattern: wrong-operator"),
    ('{"key":[{"anything-but":{"suffix":"test"}}]}', "Unsupported anything-but pattern: suffix"),
    ('{"key":[{"anything-but":{"exists":false}}]}', "Unsupported anything-but pattern: exists"),
    ('{"key":[{"anything-but":{"prefix":false}}]}', "prefix match pattern must be a string"),
    ('{"a":["x"],"b":["x"],"c":["x"],"d":["x"],"e":["x"],"f":["x"]}',
     "Filter policy can not have more than 5 keys"),
    # 16 x 10 = 160 combinations (the limit is 150).
    (json.dumps({"k": list(range(16)), "j": list(range(10))}), "Filter policy is too complex"),
    # $or alternatives add up: 2 x (1 + 100) = 202.
    (json.dumps({"a": [1, 2], "$or": [{"b": [1]}, {"c": list(range(100))}]}), "Filter policy is too complex"),
    ("{invalidjson}", "failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote "
                      "to start field name" + REDACTED),
]


@pytest.mark.parametrize(("policy", "reason"), RECORDED_REFUSALS)
def test_recorded_refusals(policy, reason):
    with pytest.raises(InvalidFilterPolicy) as refused:
        compile_filter_policy(policy, MESSAGE_ATTRIBUTES)
    assert refused.value.reason == reason
    assert refused.value.of_policy


def test_nested_policy_in_the_attributes_scope_is_refused_on_its_own_terms():
    policy = '{"object":{"key":[{"prefix":"auto-"}]}}'
    with pytest.raises(InvalidFilterPolicy) as refused:
        compile_filter_policy(policy, MESSAGE_ATTRIBUTES)
    assert refused.value.reason == "Filter policy scope MessageAttributes does not support nested filter policy"
    assert not refused.value.of_policy  # worded without "FilterPolicy: " (recorded)
    body = compile_filter_policy(policy, MESSAGE_BODY)
    assert body.matches('{"object":{"key":"auto-test"}}', None)


def test_nested_complexity_counts_each_arrays_depth():
    # The guide's example: 4 values three levels deep, 3 values two levels deep: 4x3 x 3x2 = 72.
    fine = {"key_a": {"key_b": {"key_c": [1, 2, 3, 4]}}, "key_d": {"key_e": [1, 2, 3]}}
    compile_filter_policy(json.dumps(fine), MESSAGE_BODY)
    # One more value on the deep key: 5x3 x 3x2 = 90, still fine; 9 of them: 9x3x6 = 162, too complex.
    too_deep = {"key_a": {"key_b": {"key_c": list(range(9))}}, "key_d": {"key_e": [1, 2, 3]}}
    with pytest.raises(InvalidFilterPolicy) as refused:
        compile_filter_policy(json.dumps(too_deep), MESSAGE_BODY)
    assert refused.value.reason == "Filter policy is too complex"


def test_a_value_neither_object_nor_array_is_refused_in_the_body_scope_too():
    with pytest.raises(InvalidFilterPolicy) as refused:
        compile_filter_policy('{"key_a":"value_one"}', MESSAGE_BODY)
    assert refused.value.reason == '"key_a" must be an object or an array'  # recorded


def test_deeply_nested_policies_are_refused_not_crashed_on():
    deep = '{"a":' * 3000 + "{}" + "}" * 3000
    with pytest.raises(InvalidFilterPolicy):
        compile_filter_policy(deep, MESSAGE_BODY)
    with pytest.raises(InvalidFilterPolicy):
        compile_filter_policy("[" * 5000 + "]" * 5000, MESSAGE_ATTRIBUTES)


def number(value) -> dict:
    return {"DataType": "Number", "StringValue": str(value)}


def string(value) -> dict:
    return {"DataType": "String", "StringValue": value}


def array(values) -> dict:
    return {"DataType": "String.Array", "StringValue": json.dumps(values)}


def matches(policy: dict, attributes: dict) -> bool:
    return compile_filter_policy(json.dumps(policy), MESSAGE_ATTRIBUTES).matches("ignored", attributes)


def test_exact_string_and_number_values():
    policy = {"customer_interests": ["rugby", "football"], "price_usd": [100]}
    assert matches(policy, {"customer_interests": string("rugby"), "price_usd": number(100)})
    assert matches(policy, {"customer_interests": string("football"), "price_usd": number("100.0")})
    assert not matches(policy, {"customer_interests": string("Rugby"), "price_usd": number(100)})  # case-sensitive
    assert not matches(policy, {"customer_interests": string("rugby")})  # every key must match
    # A String attribute holding digits is not the number (Number and String are compared apart).
    assert not matches(policy, {"customer_interests": string("rugby"), "price_usd": string("100")})


def test_numeric_ranges_read_number_attributes():
    policy = {"attr1": [{"numeric": [">", 0, "<=", 100]}]}
    assert matches(policy, {"attr1": number(99)})  # recorded delivery (test_filter_policy)
    assert matches(policy, {"attr1": number("99.12")})
    assert not matches(policy, {"attr1": number(111)})  # recorded: filtered out
    assert not matches(policy, {"attr1": number(0)})


def test_string_arrays_match_when_any_element_does():
    policy = {"store": ["value1"]}
    assert matches(policy, {"store": array(["value1", "other"])})  # recorded (attributes_array)
    assert not matches(policy, {"store": array(["other"])})
    assert matches({"n": [{"numeric": [">=", 5]}]}, {"n": array([1, 7])})


def test_prefix_suffix_anything_but_equals_ignore_case_cidr():
    assert matches({"k": [{"prefix": "auto-"}]}, {"k": string("auto-insurance")})
    assert not matches({"k": [{"prefix": "auto-"}]}, {"k": string("home-insurance")})
    assert matches({"k": [{"suffix": ".png"}]}, {"k": string("image.png")})
    assert matches({"k": [{"anything-but": ["a", "b"]}]}, {"k": string("c")})
    assert not matches({"k": [{"anything-but": "a"}]}, {"k": string("a")})
    assert matches({"k": [{"anything-but": {"prefix": "order-"}}]}, {"k": string("invoice-1")})
    assert not matches({"k": [{"anything-but": {"prefix": "order-"}}]}, {"k": string("order-1")})
    assert matches({"k": [{"equals-ignore-case": "RUGBY"}]}, {"k": string("rugby")})
    assert matches({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.0.7")})
    assert not matches({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": string("10.0.1.7")})


def test_exists_and_absent_attributes():
    assert matches({"store": [{"exists": True}]}, {"store": number(99)})  # recorded
    assert not matches({"store": [{"exists": True}]}, {"def": number(99)})
    assert matches({"store": [{"exists": False}]}, {"def": number(99)})  # recorded
    assert not matches({"store": [{"exists": False}]}, {"store": number(99)})


def test_or_of_keys():
    policy = {"$or": [{"source": ["aws.cloudwatch"]}, {"metricName": ["CPUUtilization"]}]}
    assert matches(policy, {"source": string("aws.cloudwatch")})
    assert matches(policy, {"metricName": string("CPUUtilization")})
    assert not matches(policy, {"source": string("aws.ec2")})


def test_binary_attributes_are_not_compared():
    policy = {"blob": [{"exists": True}]}
    assert not matches(policy, {"blob": {"DataType": "Binary", "BinaryValue": b"\x01"}})
    assert attribute_values({"blob": {"DataType": "Binary", "BinaryValue": b"\x01"}}) == {}


def test_message_body_scope_reads_the_json_message():
    policy = compile_filter_policy('{"object":{"key":[{"prefix":"auto-"}]}}', MESSAGE_BODY)
    assert policy.matches('{"object": {"key": "auto-test"}}', None)  # recorded delivery
    # Dotted keys in the message are the same field (recorded, ..._dot_attribute).
    assert policy.matches('{"object.key": "auto-test"}', None)
    assert not policy.matches('{"object": {"key": "home"}}', None)
    assert not policy.matches("not json", None)
    assert not policy.matches('["a list"]', None)


def test_message_body_arrays_of_objects():
    policy = compile_filter_policy('{"headers":{"route-to":["queue1"]}}', MESSAGE_BODY)
    assert policy.matches('{"headers":{"route-to":["queue1","queue2"]}}', None)  # recorded
    assert not policy.matches('{"headers":{"route-to":["queue2"]}}', None)


def test_the_empty_policy_matches_everything():
    policy = compile_filter_policy("{}", MESSAGE_ATTRIBUTES)
    assert policy.matches("anything", {})
