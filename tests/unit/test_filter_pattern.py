"""Filter pattern language: the AWS documentation examples, the TestMetricFilter API reference
examples (with their extracted values), error messages, and the prefilter soundness property."""

from __future__ import annotations

import json
import random

import pytest

from sagewatch.services.logs.filter_pattern import (
    FilterPattern,
    FilterPatternError,
    compile_pattern,
)


def matching(pattern: str, messages: list[str]) -> list[str]:
    p = compile_pattern(pattern)
    return [m for m in messages if p.matches(m)]


def pf_eval(pf, message: str) -> bool:
    kind, arg = pf
    if kind == "substr":
        return arg in message
    if kind == "and":
        return all(pf_eval(q, message) for q in arg)
    if kind == "or":
        return any(pf_eval(q, message) for q in arg)
    raise AssertionError(f"bad prefilter node {pf!r}")


# ------------------------------------------------------------------------------------------------
# Match everything
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [None, "", "   ", '" "', '""', "\t"])
def test_blank_patterns_match_everything(pattern):
    p = compile_pattern(pattern)
    assert p.kind == "all"
    for m in ["", "x", "ERROR something", '{"a": 1}', "   "]:
        assert p.matches(m)
        assert p.extract(m) == {}
    assert p.prefilter is None


def test_compile_is_cached():
    assert compile_pattern("ERROR cached") is compile_pattern("ERROR cached")
    assert isinstance(compile_pattern("ERROR"), FilterPattern)


# ------------------------------------------------------------------------------------------------
# Unstructured terms (FilterAndPatternSyntax: "Matching terms in unstructured log events")
# ------------------------------------------------------------------------------------------------

EVENTS = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
]


def test_single_term():
    assert matching("ERROR", EVENTS) == EVENTS


def test_terms_are_anded():
    assert matching("ERROR ARGUMENTS", EVENTS) == EVENTS[2:4]


def test_question_mark_terms_are_ored():
    assert matching("?ERROR ?ARGUMENTS", EVENTS) == EVENTS
    assert matching("?MISSING ?INTERNAL", EVENTS) == [EVENTS[2], EVENTS[4]]


def test_exact_phrase():
    assert matching('"INTERNAL SERVER ERROR"', EVENTS) == [EVENTS[4]]
    assert matching('"SERVER INTERNAL"', EVENTS) == []


def test_exclusion():
    assert matching("ERROR -ARGUMENTS", EVENTS) == [EVENTS[0], EVENTS[1], EVENTS[4]]


def test_blank_quoted_term_matches_everything():
    assert matching('" "', EVENTS + ["nospace"]) == EVENTS + ["nospace"]


def test_case_sensitive():
    assert matching("error", EVENTS) == []
    assert matching("Error", ["Error here", "ERROR here", "error here"]) == ["Error here"]


def test_user_guide_examples_terms_match_substrings():
    # Old user guide: ERROR matches "Exiting with ERRORCODE: -1"; "ERROR" - "Exiting" excludes it.
    events = ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"]
    assert matching("ERROR", events) == events
    assert matching('"ERROR" - "Exiting"', events) == events[:1]
    assert matching("ERROR -Exiting", events) == events[:1]
    both = ["[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception",
            "[INFO] Exception handled"]
    assert matching("ERROR Exception", both) == both[:2]
    phrase = ["[WARN] Failed to process the request",
              "[ERROR] Unable to continue: Failed to process the request",
              "[ERROR] Failed to read the request"]
    assert matching('"Failed to process the request"', phrase) == phrase[:2]
    # Unquoted, the same words are separate ANDed terms.
    assert matching("Failed to process the request", phrase) == phrase[:2]


def test_user_guide_or_examples():
    events = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert matching("ERROR", events) == events[:2]
    assert matching("?ERROR ?WARN", events) == events
    assert matching("ERROR WARN", events) == events[:1]
    assert matching("ERROR -WARN", events) == events[1:2]


def test_mixed_required_optional_excluded():
    events = ["server ERROR down", "server WARN slow", "server INFO ok", "client ERROR down",
              "server ERROR DEBUG"]
    assert matching("server ?ERROR ?WARN -DEBUG", events) == events[:2]


def test_quoted_terms_with_escapes_and_modes():
    events = ['say "hi" now', "say hi now", "C:\\temp dir"]
    assert matching(r'"\"hi\""', events) == events[:1]
    assert matching(r'"C:\\temp"', events) == events[2:]
    assert matching('?"say \\"hi" ?temp', events) == [events[0], events[2]]
    assert matching('-"hi now"', events) == [events[0], events[2]]


def test_several_quoted_phrases():
    # awsdocs/amazon-cloudwatch-logs-user-guide PR #31: "ERROR" "Exception"
    assert matching('"ERROR" "Exception"', ["ERROR Exception", "ERROR only"]) == ["ERROR Exception"]


def test_testmetricfilter_reference_term_examples():
    events = [
        "02 May 2014 00:34:12,525 [INFO] Starting the application",
        "02 May 2014 00:35:14,245 [DEBUG] Database connection established",
        "02 May 2014 00:34:14,663 [INFO] Executing SQL Query",
        "02 May 2014 00:34:16,142 [ERROR] Unhanded exception: InvalidQueryException",
        "02 May 2014 00:34:16,224 [ERROR] Terminating the application",
    ]
    p = compile_pattern('"[ERROR]"')
    assert [p.extract(m) for m in events] == [None, None, None, {}, {}]
    # "Exception" matches inside "InvalidQueryException": terms are substrings.
    p = compile_pattern('"[ERROR]" Exception')
    assert [p.extract(m) for m in events] == [None, None, None, {}, None]


# ------------------------------------------------------------------------------------------------
# Regex (regex-expressions.html)
# ------------------------------------------------------------------------------------------------

def test_regex_documented_examples():
    events = ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST", "[OK] done"]
    assert matching("%AUTHORIZED%", events) == events[:2]
    assert matching("%[Ee]rror|[Ff]ail%", ["Error x", "an error", "Fail", "failed", "ERROR"]) == [
        "Error x", "an error", "Fail", "failed"]
    ips = ["from 10.0.0.1 ok", "from 999.1.22.333", "from host"]
    assert matching(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%", ips) == ips[:2]


@pytest.mark.parametrize("pattern, yes, no", [
    ("%^[hc]at%", ["hat trick", "cat"], ["a cat", "bat"]),
    ("%[hc]at$%", ["a hat", "cat"], ["hats", "cat "]),
    ("%colou?r%", ["color", "colour"], ["colouur"]),
    ("%[abcx-z]%", ["y", "b"], ["d", "w"]),
    ("%a{3,5}%", ["aaa", "xaaaaay"], ["aa"]),
    (r"%\[.{2}\]%", ["[ab]", "x[12]y"], ["[a]", "ab"]),
    ("%go+gle%", ["gogle", "google"], ["ggle"]),
    ("%Unauthorized|Forbidden%", ["403 Forbidden", "Unauthorized"], ["OK"]),
])
def test_regex_operators(pattern, yes, no):
    p = compile_pattern(pattern)
    assert all(p.matches(m) for m in yes)
    assert not any(p.matches(m) for m in no)
    assert p.regex_count == 1


def test_regex_among_terms():
    assert matching("ERROR %[0-9]{3}% -DEBUG", ["ERROR 404", "ERROR x", "ERROR 500 DEBUG"]) == [
        "ERROR 404"]


@pytest.mark.parametrize("pattern, bad", [
    ("%something!%", "!"),
    ("%(foo)%", "("),
    ("%foo)%", ")"),
    ("%caf\u00e9%", "\u00e9"),
    ('%a"b%', '"'),
    ("%a<b%", "<"),
    ("{ $.a = %(x)% }", "("),
    ("[a = %x&y%]", "&"),
])
def test_regex_invalid_characters(pattern, bad):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == f"Invalid character(s) in term '{bad}'"
    assert not info.value.generic
    assert info.value.for_operation("PutMetricFilter") == str(info.value)


@pytest.mark.parametrize("pattern", ["%abc", "%[abc%", "%%", "%*a%", "%a**%", "ERROR %x"])
def test_regex_syntax_errors(pattern):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == "Invalid filter pattern"


def test_hex_escape_is_the_way_to_match_parentheses():
    assert matching(r"%\x28x\x29%", ["f(x)", "fx"]) == ["f(x)"]


# ------------------------------------------------------------------------------------------------
# JSON patterns (user guide "Matching Terms in JSON Log Events")
# ------------------------------------------------------------------------------------------------

TRAIL = json.dumps({
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "ThisFlag": True,
}, indent=2)


@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    '{ $.arrayKey[1] = "another value" }',
    "{ $.objectList[1].id = 2 }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
    "{ $.ThisFlag IS TRUE }",
    '{ $.eventType = "*" }',
    "{ $.eventType = * }",
    "{ $.eventType = *Trail }",
    "{ $.eventType = Update* }",
    "{ $.eventType = *dateTr* }",
    "{ $.eventType = UpdateTrail }",
    "{ $.eventType = %Trail$% }",
    "{ $.eventType != %^Delete% }",
    "{$.eventType=UpdateTrail}",
])
def test_json_documented_filters_match(pattern):
    assert compile_pattern(pattern).matches(TRAIL)


@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "DeleteTrail" }',
    "{ $.sourceIPAddress != 111.111.* }",
    '{ $.arrayKey[2] = "value" }',
    "{ $.objectList[1].id = 1 }",
    "{ $.objectList[5].id = 2 }",
    "{ $.eventType IS NULL }",
    "{ $.Missing IS NULL }",
    "{ $.eventType NOT EXISTS }",
    "{ $.SomeObject NOT EXISTS }",
    "{ $.ThisFlag IS FALSE }",
    "{ $.eventType = Upd*Trail }",     # * inside a value is literal
    "{ $.eventType = %^Trail% }",
    "{ $.arrayKey = value }",          # a selector pointing at an array never matches
    "{ $.arrayKey != value }",
    "{ $.objectList[0] = a }",         # ... nor one pointing at an object
    "{ $.objectList[0] != a }",
    "{ $.SomeObject = * }",            # null is not a value for comparisons
    "{ $.SomeObject != x }",
    "{ $.Missing != x }",              # nor is a missing selector
])
def test_json_documented_filters_do_not_match(pattern):
    assert not compile_pattern(pattern).matches(TRAIL)


def test_json_literal_star_inside_value():
    p = compile_pattern('{ $.name = "Ev*ent" }')
    assert p.matches('{"name": "Ev*ent"}')
    assert not p.matches('{"name": "Event"}')
    assert not p.matches('{"name": "EvXent"}')


def test_json_is_false():
    assert compile_pattern("{ $.f IS FALSE }").matches('{"f": false}')
    assert not compile_pattern("{ $.f IS FALSE }").matches('{"f": "false"}')
    assert not compile_pattern("{ $.f IS TRUE }").matches('{"f": "true"}')


COMPOUND = json.dumps({
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"},
              {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
})


@pytest.mark.parametrize("pattern, expected", [
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch '
     "&& $.actions[2] = nomatch }", True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) '
     "&& $.actions[2] = nomatch }", False),
    ("{ $.coordinates[0][1] = 1 }", True),
    ("{ $.coordinates[2][2] >= 9 && $.coordinates[1][0] < 5 }", True),
    ("{ $.coordinates[3][0] NOT EXISTS }", True),
    ("{ $.coordinates[0][1][0] NOT EXISTS }", True),
    ("{ $.users[1].email = Jane.Doe* }", True),
    ('{ ($.actions[0] = "GET" || $.actions[0] = "POST") && ($.user.id = 1) }', True),
    ('{ (($.actions[0] = "PUT") || ($.user.id = 1 && ($.actions[1] = "PUT"))) }', True),
])
def test_json_compound_conditions(pattern, expected):
    assert compile_pattern(pattern).matches(COMPOUND) is expected


def test_json_or_examples():
    assert matching("{$.foo = bar}", ['{"foo": "bar"}', '{"foo": "baz"}']) == ['{"foo": "bar"}']
    assert matching("{$.foo = baz }", ['{"foo": "bar"}', '{"foo": "baz"}']) == ['{"foo": "baz"}']
    assert matching("{$.foo = bar || $.foo = baz }", ['{"foo": "bar"}', '{"foo": "baz"}']) == [
        '{"foo": "bar"}', '{"foo": "baz"}']


def test_json_selector_pointing_at_array():
    event = '{"users": [1, 2, 3]}'
    assert not compile_pattern("{$.users = 1}").matches(event)
    assert not compile_pattern("{$.users != 1}").matches(event)


NUMBERS = json.dumps({
    "latency": 1500, "numbers": [0.001, 2], "number": [0.001],
    "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}], "errorCode": 400,
})


@pytest.mark.parametrize("pattern, expected", [
    ("{ $.latency >= 500 }", True),
    ("{ $.latency >= 1500 }", True),
    ("{ $.latency > 1500 }", False),
    ("{ $.numbers[0] < 10e3 }", True),
    ("{ $.numbers[0] < 10e-3 }", True),
    ("{ $.numbers[0] < 1e-3 }", False),
    ("{ $.number[0] = 1e-3 }", True),
    ("{ $.number[0] = 1.0E-3 }", True),
    ("{ $.processes[4].averageRuntime <= 55.5 }", True),
    ("{ $.processes[4].averageRuntime < 55.5 }", False),
    ("{ $.errorCode = 400 }", True),
    ("{ $.errorCode = 400.0 }", True),
    ("{ $.errorCode != 500 }", True),
    ("{ $.errorCode != 400 }", False),
    ("{ $.latency > +1000 }", True),
    ("{ $.latency > -1 }", True),
    ("{ $.latency < -.5 }", False),
    ("{ $.missing < 10 }", False),
    ("{ $.missing != 10 }", False),
])
def test_json_numeric_comparisons(pattern, expected):
    assert compile_pattern(pattern).matches(NUMBERS) is expected


def test_json_numbers_against_strings_and_booleans():
    assert compile_pattern("{ $.status = 404 }").matches('{"status": "404"}')
    assert compile_pattern("{ $.status >= 400 }").matches('{"status": "404"}')
    assert not compile_pattern("{ $.status >= 400 }").matches('{"status": "abc"}')
    assert compile_pattern("{ $.status != 404 }").matches('{"status": "abc"}')
    assert not compile_pattern("{ $.flag = 1 }").matches('{"flag": true}')
    assert compile_pattern('{ $.code = "404" }').matches('{"code": 404}')
    assert compile_pattern("{ $.flag = true }").matches('{"flag": true}')


def test_json_never_matches_non_json():
    p = compile_pattern("{ $.a NOT EXISTS }")
    assert p.matches('{"b": 1}')
    assert p.matches('   {"b": 1}')
    for m in ["plain text", "", '["a"]', "{not json}", '{"b": 1} trailing', "null", "[1]"]:
        assert not p.matches(m), m
        assert p.extract(m) is None


def test_json_unicode_escapes_in_messages():
    p = compile_pattern('{ $.level = "ERROR" }')
    assert p.matches('{"level": "\\u0045RROR"}')
    assert pf_eval(p.prefilter, '{"level": "\\u0045RROR"}')


def test_json_extract_reports_named_selectors():
    p = compile_pattern("{ $.latency = * }")
    assert p.extract('{"latency": 50, "other": 1}') == {"$.latency": "50"}
    assert p.extract('{"other": 1}') is None
    p = compile_pattern('{ $.a = 1 || $.b NOT EXISTS || $.c.d IS TRUE || $.e = "x" }')
    assert p.extract('{"a": 1, "c": {"d": true}, "e": null}') == {"$.a": "1", "$.c.d": "true"}
    assert p.field_names == frozenset({"$.a", "$.b", "$.c.d", "$.e"})
    p = compile_pattern("{ $.users[0].id = 2 }")
    assert p.extract('{"users": [{"id": 2}]}') == {"$.users[0].id": "2"}
    p = compile_pattern("{ $.x = * }")
    assert p.extract('{"x": 12.5}') == {"$.x": "12.5"}
    assert p.extract('{"x": "s"}') == {"$.x": "s"}


@pytest.mark.parametrize("pattern", [
    "{ }",
    "{ $.a }",
    "{ $.a = }",
    "{ $.a == 1 }",
    "{ a = 1 }",
    "{ $ = 1 }",
    "{ $[0] = 1 }",
    "{ $.a = 1",
    "{ ($.a = 1 }",
    "{ $.a = 1) }",
    "{ $.a = 1 && }",
    "{ $.a = 1 $.b = 2 }",
    '{ $.a = "unterminated }',
    "{ $.a IS NOT NULL }",
    "{ $.a EXISTS }",
    "{ $.a IS MAYBE }",
    "{ $.a NOT NULL }",
    '{ $.a < "x" }',
    "{ $.a > abc }",
    "{ $.a >= %x% }",
    "{ $.a = %x% && $.b = %y% && $.c = %z% }",
    "{ $.a = b&c }",
])
def test_json_syntax_errors(pattern):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == "Invalid filter pattern"
    assert info.value.generic
    assert info.value.detail != str(info.value)


def test_json_two_regexes_allowed():
    p = compile_pattern("{ $.a = %x% && $.b != %y% }")
    assert p.regex_count == 2
    assert p.matches('{"a": "xx", "b": "z"}')


# ------------------------------------------------------------------------------------------------
# Space-delimited patterns
# ------------------------------------------------------------------------------------------------

APACHE = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'


def test_space_delimited_documented_example_with_extracted_values():
    p = compile_pattern(
        "[ip, user, username, timestamp, request = *.html*, status_code = 4*, bytes]")
    assert p.extract(APACHE) == {
        "$bytes": "1534", "$status_code": "404", "$request": "GET /index.html HTTP/1.0",
        "$timestamp": "10/Oct/2000:13:25:15 -0700", "$username": "frank", "$user": "Prod",
        "$ip": "127.0.0.1",
    }
    assert p.field_names == frozenset({"$ip", "$user", "$username", "$timestamp", "$request",
                                       "$status_code", "$bytes"})
    assert not p.matches(APACHE.replace(" 404 ", " 200 "))
    assert not p.matches(APACHE.replace("index.html", "index.php"))
    assert p.extract(APACHE.replace(" 404 ", " 200 ")) is None


@pytest.mark.parametrize("pattern, expected", [
    ("[ip, user, username, timestamp, request, status_code, bytes]", True),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", True),
    ("[ip, user, username, timestamp, request, status_code, bytes > 2000]", False),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", False),
    ("[ip, user, username, timestamp, request, status_code = 404, bytes]", True),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", True),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", True),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
     True),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 404, bytes]",
     False),
    ("[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
     True),
    ("[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, "
     "bytes]", True),
    ("[..., status_code, bytes]", True),
    ("[ip, user, ..., status_code, bytes]", True),
    ("[ip, user, ...]", True),
    ("[..., request =*.html*, status_code = 4*, bytes]", True),
    (r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, "
     "bytes]", True),
    (r"[ip!=%127\.0\.0\.[1-9]%, user, username, timestamp, request, status_code, bytes]", False),
    ("[ip, user, username, timestamp, request, status_code]", False),           # too few names
    ("[ip, user, username, timestamp, request, status_code, bytes, extra]", False),
    ('[ip, user = "Prod", ...]', True),
    ('[ip, user = "Pro*", ...]', True),
    ("[..., bytes >= 1534]", True),
    ("[..., bytes <= 1533]", False),
    ("[..., bytes != 1534]", False),
    ("[..., bytes = 1534.0]", True),
    ("[ip, ..., request, ..., bytes]", True),
    ("[ip, ..., user, ..., bytes]", True),
    ("[ip, ..., nomatch = x, ..., bytes]", False),
])
def test_space_delimited_conditions(pattern, expected):
    assert compile_pattern(pattern).matches(APACHE) is expected


def test_testmetricfilter_reference_delimited_examples():
    events = [
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
        '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
        '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
    ]
    p = compile_pattern("[ip, identity, user_id, timestamp, request, status_code, size]")
    assert p.extract(events[1]) == {
        "$status_code": "500", "$identity": "-", "$request": "GET /apache_pb.gif HTTP/1.0",
        "$size": "5324", "$user_id": "frank", "$ip": "127.0.0.1",
        "$timestamp": "10/Oct/2000:13:35:22 -0700"}
    p = compile_pattern("[..., size]")
    assert p.extract(events[0]) == {
        "$size": "1534", "$6": "200", "$4": "10/Oct/2000:13:25:15 -0700",
        "$5": "GET /apache_pb.gif HTTP/1.0", "$2": "-", "$3": "frank", "$1": "127.0.0.1"}
    p = compile_pattern("[]")
    assert p.extract(events[2]) == {
        "$7": "4355", "$6": "200", "$4": "10/Oct/2000:13:50:35 -0700",
        "$5": "GET /apache_pb.gif HTTP/1.0", "$2": "-", "$3": "frank", "$1": "127.0.0.1"}
    assert p.matches("") and p.matches("one")
    p = compile_pattern("[..., status_code=200, size]")
    assert [p.extract(m) is not None for m in events] == [True, False, True]
    assert p.extract(events[2]) == {
        "$status_code": "200", "$size": "4355", "$4": "10/Oct/2000:13:50:35 -0700",
        "$5": "GET /apache_pb.gif HTTP/1.0", "$2": "-", "$3": "frank", "$1": "127.0.0.1"}
    html = [
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
        '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /about-us/index.html HTTP/1.0" 200 '
        '5324',
        '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 404 4355',
        '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /products/index.html HTTP/1.0" 400 '
        '1534',
    ]
    p = compile_pattern("[..., request=*.html*, status_code=4*,]")
    assert [i for i, m in enumerate(html) if p.matches(m)] == [0, 3]
    assert p.extract(html[0]) == {
        "$status_code": "404", "$request": "GET /index.html HTTP/1.0", "$7": "1534",
        "$4": "10/Oct/2000:13:25:15 -0700", "$2": "-", "$3": "frank", "$1": "127.0.0.1"}


def test_space_delimited_positional_words():
    events = ["ERROR WARN message", "ERROR message", "WARN message"]
    assert matching("[w1=ERROR, w2]", events) == ["ERROR message"]
    assert matching("[w1=ERROR || w1=WARN, w2]", events) == ["ERROR message", "WARN message"]
    assert matching("[w1!=ERROR&&w1!=WARN, w2]", events + ["INFO message"]) == ["INFO message"]
    assert matching("[w1=ERROR, ...]", events) == events[:2]


def test_space_delimited_splitting():
    p = compile_pattern("[a, b, c]")
    assert p.extract('x   "y z"\t[1 2]') == {"$a": "x", "$b": "y z", "$c": "1 2"}
    assert p.extract('  x "" []  ') == {"$a": "x", "$b": "", "$c": ""}
    assert p.extract('x "a \\" b" c') == {"$a": "x", "$b": 'a \\" b', "$c": "c"}
    assert not p.matches("only two")
    assert compile_pattern("[a, b]").extract("[unclosed x") == {"$a": "[unclosed", "$b": "x"}


def test_space_delimited_parenthesised_field_condition():
    p = compile_pattern("[(code = 4* || code = 5*) && code != 404, rest]")
    assert [p.matches(f"{c} x") for c in ("403", "404", "500", "200")] == [True, False, True, False]


def test_space_delimited_regex_fields():
    p = compile_pattern(r"[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, "
                        "response_time]")
    assert p.matches("INFO 09/25/2014 12:00:00 GET /service/resource/67 1200")
    assert not p.matches("INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310")
    assert p.regex_count == 1


@pytest.mark.parametrize("pattern", [
    "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",  # issue #21
    "[a, b = ]",
    "[a = 1 b]",
    "[a, 1x = 2]",
    '[a = "x]',
    "[a = %x]",
    "[a, b",
    '["ERROR", b]',
    "[a > x]",
    "[a = %x%, b = %y%, c = %z%]",
])
def test_space_delimited_syntax_errors(pattern):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == "Invalid filter pattern"


def test_typographic_quotes_are_invalid_characters():
    # serverless-plugin-log-subscription#47: AWS reports the offending character.
    with pytest.raises(FilterPatternError) as info:
        compile_pattern("[timestamp=*Z && request_id=\u201c*-*\u201c, x]")
    assert str(info.value) == "Invalid character(s) in term '\u201c'"
    with pytest.raises(FilterPatternError):
        compile_pattern("\u201cERROR\u201d")


# ------------------------------------------------------------------------------------------------
# Errors: messages per operation
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", ['"unterminated', "{ $.a = 1", "[a, b", "%abc"])
def test_generic_error_messages_per_operation(pattern):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    e = info.value
    assert isinstance(e, ValueError)
    assert str(e) == "Invalid filter pattern"
    assert e.for_operation("FilterLogEvents") == "Invalid filter pattern"
    assert e.for_operation("PutMetricFilter") == "Invalid metric filter pattern"
    assert e.for_operation("TestMetricFilter") == "Invalid metric filter pattern"
    assert e.for_operation("PutSubscriptionFilter") == "Invalid subscription filter pattern"


def test_term_pattern_oddities_are_accepted():
    # Lenient on plain terms: odd characters are literal, a trailing lone operator is a character.
    assert matching("a:b", ["x a:b y", "a b"]) == ["x a:b y"]
    assert matching("100%", ["100% done", "100 done"]) == ["100% done"]
    assert matching("ERROR ?", ["ERROR ?", "ERROR"]) == ["ERROR ?"]


# ------------------------------------------------------------------------------------------------
# Prefilter: shape for the common cases, and soundness over a generated corpus
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, expected", [
    ("ERROR", ("substr", "ERROR")),
    ("?Traceback ?ERROR", ("or", [("substr", "Traceback"), ("substr", "ERROR")])),
    ("ERROR -DEBUG", ("substr", "ERROR")),
    ("ERROR ARGUMENTS", ("and", [("substr", "ERROR"), ("substr", "ARGUMENTS")])),
    ('"INTERNAL SERVER ERROR"', ("substr", "INTERNAL SERVER ERROR")),
    ("ERROR ?A1 ?B2", ("and", [("substr", "ERROR"),
                               ("or", [("substr", "A1"), ("substr", "B2")])])),
    ("?ERROR ?x", None),                 # a one-character literal is not worth pushing
    ("-DEBUG", None),
    ("%AUTHORIZED%", ("substr", "AUTHORIZED")),
    ("%[Ee]rror|[Ff]ail%", ("or", [("substr", "rror"), ("substr", "ail")])),
    ("%colou?r%", ("substr", "colo")),
    (r"%\d+\.\d+%", None),
    ("%ab+c%", ("substr", "ab")),
    ("%^ERROR a*%", ("substr", "ERROR ")),
    ("%foo|.*%", None),
    ('{ $.level = "ERROR" }', ("or", [("substr", "ERROR"), ("substr", "\\u")])),
    ('{ $.path = "a/b*" }', ("or", [("substr", "a/b"), ("substr", "\\u"), ("substr", "\\/")])),
    ('{ $.level != "ERROR" }', None),
    ("{ $.code = 404 }", None),
    ('{ $.code = "404" }', None),        # a number's text could be spelled 4.04e2
    ('{ $.q = "say \\"hi\\"" }', None),  # a quote is always escaped in raw JSON
    ("{ $.x IS NULL }", ("substr", "null")),
    ("{ $.x IS TRUE || $.y IS FALSE }", ("or", [("substr", "true"), ("substr", "false")])),
    ("{ $.x NOT EXISTS }", None),
    ("{ $.a = *xyz && $.b = 1 }", ("or", [("substr", "xyz"), ("substr", "\\u")])),
    ("{ $.a = abc || $.b = 1 }", None),
    ("[..., status_code = 404, bytes]", None),
    ("[ip, user = Prod, ...]", ("substr", "Prod")),
    ("[a = *.html* || a = *.htm, b]", ("or", [("substr", ".html"), ("substr", ".htm")])),
    ("[a, b != Prod]", None),
    ("[]", None),
])
def test_prefilter_shapes(pattern, expected):
    assert compile_pattern(pattern).prefilter == expected


PROPERTY_PATTERNS = [
    "ERROR", "ERROR -DEBUG", "?Traceback ?ERROR", "?ERROR ?WARN -INFO", '"GET /index.html"',
    "ERROR Exception", "-ERROR", "%ERR|WAR%", r"%\d{3}%", "%^ERROR%", "%rror$%", "%E+RROR%",
    "%colou?r%", "%[Ee]rror|[Ff]ail%", "%a{2,3}b%", r"%\.html%", "ERROR %4[0-9]{2}%",
    '{ $.level = "ERROR" }', '{ $.level = "ERR*" }', '{ $.level = "*ROR" }', '{ $.path = "a/b" }',
    "{ $.path = *b/c* }", '{ $.level != "INFO" }', "{ $.code = 404 }", '{ $.code = "404" }',
    '{ $.n = "1.5" }', "{ $.n = %^1\\.5% }", "{ $.n >= 1.5 }", "{ $.x IS NULL }",
    "{ $.flag IS TRUE }", "{ $.flag IS FALSE }", "{ $.missing NOT EXISTS }",
    '{ $.level = "ERROR" || $.code = 404 }', '{ $.level = "ERROR" && $.path = *b* }',
    '{ $.tags[0] = "alpha" }', "{ $.level = %R{2}O% }", "{ $.level = %^E|^W% }",
    "{ $.flag = true }", '{ $.msg = "caf\u00e9" }', "{ $.msg = *\u00e9* }",
    "[a, b, c]", "[w1 = ERROR, ...]", "[..., code = 4*, size]", "[..., code = 404, size]",
    "[ip, ..., req = *.html*, code, size]", "[w1 = ERROR || w1 = WARN, ...]", "[]",
    r"[ip = %127\.0\.0\.[1-9]%, ...]", "[..., size > 1000]", '[x, y = "b c", ...]',
    "[w1 = ERROR, ..., c = 404, ...]", "[..., a = x, ..., b = -]",
]

WORDS = ["ERROR", "WARN", "INFO", "DEBUG", "Exception", "Traceback", "error", "fail", "Failed",
         "colour", "color", "aab", "aaab", "404", "200", "4.04e2", "-", "frank", "x",
         "ERRORCODE", "EERROR", "[10/Oct/2000:13:25:15 -0700]", '"GET /index.html HTTP/1.0"',
         '"b c"', "127.0.0.1", "127.0.0.9", "10.1.1.1", "1534", "99", "café", "\u00e9t\u00e9",
         "a/b", "index.html"]


def _spell_string(s: str, rng: random.Random) -> str:
    out = ['"']
    for ch in s:
        r = rng.random()
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch < " ":
            out.append(f"\\u{ord(ch):04x}")
        elif ch == "/" and r < 0.4:
            out.append("\\/")
        elif r < 0.15 or (ord(ch) > 127 and r < 0.5):
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _spell_json(value, rng: random.Random) -> str:
    """JSON text for ``value`` with the spellings a real producer might use."""
    if isinstance(value, dict):
        items = [f"{_spell_string(k, rng)}{rng.choice([':', ': ', ' : '])}{_spell_json(v, rng)}"
                 for k, v in value.items()]
        return "{" + rng.choice([",", ", "]).join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_spell_json(v, rng) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _spell_string(value, rng)
    if isinstance(value, int):
        return rng.choice([str(value), f"{value}.0", f"{value / 100}e2"])
    return rng.choice([repr(value), f"{value * 10}e-1", f"{value:.6f}"])


def _corpus(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    messages = []
    for _ in range(n):
        if rng.random() < 0.5:
            messages.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 8))))
        else:
            doc = {}
            for key, choices in [
                ("level", ["ERROR", "WARN", "INFO", "ERRORS", "xERROR"]),
                ("code", [404, 200, "404", "abc", 404.0, None, True]),
                ("path", ["a/b", "/a/b/c", "x", ["a/b"], {"p": "a/b"}]),
                ("n", [1.5, 15, "1.5", 0.15]),
                ("x", [None, 1, "null", {}]),
                ("flag", [True, False, "true", None]),
                ("tags", [["alpha", "beta"], ["beta"], "alpha"]),
                ("msg", ["caf\u00e9", "plain", "\u00e9t\u00e9 ERROR", 'say "hi"']),
            ]:
                if rng.random() < 0.7:
                    doc[key] = rng.choice(choices)
            messages.append(_spell_json(doc, rng))
    return messages


def test_prefilter_never_excludes_a_match():
    corpus = _corpus(4000)
    matched_per_pattern = {}
    for text in PROPERTY_PATTERNS:
        p = compile_pattern(text)
        hits = 0
        for m in corpus:
            if p.matches(m):
                hits += 1
                if p.prefilter is not None:
                    assert pf_eval(p.prefilter, m), (text, m, p.prefilter)
        matched_per_pattern[text] = hits
    # The property is only meaningful if the corpus exercises the patterns.
    unmatched = [t for t, hits in matched_per_pattern.items() if hits == 0]
    assert not unmatched, unmatched
    # And the JSON corpus does contain the awkward spellings this property is about.
    assert any("\\u" in m for m in corpus) and any("\\/" in m for m in corpus)
    assert any("e2" in m for m in corpus)


def test_prefilter_is_useful_on_the_corpus():
    # Not a correctness property: a sanity check that common patterns do prune.
    corpus = _corpus(2000, seed=11)
    for text in ["ERROR", "?Traceback ?ERROR", '{ $.level = "ERROR" }', "[w1 = ERROR, ...]"]:
        p = compile_pattern(text)
        assert p.prefilter is not None
        survivors = sum(1 for m in corpus if pf_eval(p.prefilter, m))
        assert survivors < len(corpus), text


def test_extract_agrees_with_matches():
    corpus = _corpus(1500, seed=3)
    for text in PROPERTY_PATTERNS:
        p = compile_pattern(text)
        for m in corpus:
            assert (p.extract(m) is not None) == p.matches(m), (text, m)
