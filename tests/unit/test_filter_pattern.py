"""Filter pattern language: the AWS documentation examples, the TestMetricFilter API reference
examples (with their extracted values), error messages, and the prefilter soundness property."""

from __future__ import annotations

import json
import random
import re
import re._constants as sre
import re._parser as sre_parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sagewatch.regex import UserRegexError, compile_user_regex
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
# Regexes run on RE2 (sagewatch.regex): re's answers, in time linear in the message
# ------------------------------------------------------------------------------------------------

def test_pathological_regex_answers():
    # re took minutes on each of these (every split of the "a" among the ".*" is tried).
    p = compile_pattern("%.*.*.*.*.*.*.*.*c%")
    events = ["c" + "a" * 40, "a" * 40, "a" * 40 + "c", "a" * 20 + "c" + "a" * 20, "a" * 39 + "b"]
    assert [p.matches(m) for m in events] == ["c" in m for m in events]
    p = compile_pattern("{ $.m = %.*.*.*.*.*.*.*.*c% }")
    assert [p.matches(json.dumps({"m": m})) for m in events] == ["c" in m for m in events]


@pytest.mark.parametrize("pattern, yes, no", [
    # re's $ matches at the end, or before a "\n" that ends the message; \Z only at the end.
    ("%done$%", ["done", "done\n", "all done\n"], ["done\n\n", "done \n", "done\nx"]),
    (r"%done$\n%", ["done\n"], ["done", "done\n\n"]),
    (r"%done\Z%", ["done"], ["done\n"]),
    (r"%^$%", ["", "\n"], ["x", "\n\n"]),
    (r"%\b$%", ["a\n", "a"], ["-\n", "-"]),
    # re's classes are Unicode ones (RE2's are ASCII).
    (r"%\d%", ["7", "\u0663"], ["x", "\u00b2"]),      # ARABIC-INDIC THREE; SUPERSCRIPT TWO is no \d
    (r"%^\w+$%", ["caf\u00e9", "a_1"], ["a-b", "\u2028"]),
    (r"%\s%", [" ", "\x0b", "\xa0", "\u2028", "\x1c"], ["x", "\u200b"]),
    (r"%^\S+$%", ["\u00e9t\u00e9"], ["a\xa0b"]),
    (r"%[^\d]%", ["a"], ["\u0663\u0661"]),
    # . is any character but "\n"; ^ is the start of the message only.
    ("%a.b%", ["a\tb", "a\u00e9b"], ["a\nb", "ab"]),
    ("%^b%", ["b"], ["a\nb"]),
    # \B never holds in an empty text, nor inside a multi-byte character.
    (r"%\B%", ["ab", "--"], ["", "a\u00d7b", "a"]),
    # Escapes re reads: hex, Unicode, control characters.
    (r"%\x41\u00e9\t%", ["A\u00e9\t"], ["A\u00e9 "]),
])
def test_regex_keeps_python_re_semantics(pattern, yes, no):
    p = compile_pattern(pattern)
    body = pattern[1:-1]
    for m in yes + no:  # the table itself is checked against re
        assert (re.search(body, m) is not None) == (m in yes), (body, m)
    assert [m for m in yes + no if p.matches(m)] == yes


def test_regex_on_a_json_value_with_a_lone_surrogate():
    # orjson refuses "\ud800", json.loads gives a str holding a lone surrogate: RE2 is fed its
    # code point (not an error).
    p = compile_pattern("{ $.a = %^.x$% }")
    assert p.matches('{"a": "\\ud800x"}') and not p.matches('{"a": "\\ud800y"}')


@pytest.mark.parametrize("pattern", [
    "%a% %b% %c%",              # at most two regexes in any filter pattern (see _MAX_REGEXES)
    "?%a% ?%b% ?%c%",
    "ERROR %a% -%b% %c%",
    "%a*+%", "%a++%", "%a?+%", "%a{2}+%",   # possessive: re accepts it, RE2 cannot run it
    "%a{1001}%", "%a{2,1001}%",             # RE2's repetition limit
    r"%\w{1000}%",                          # a program over RE2's memory budget
    r"%a\1%",                                # no groups, so no backreference either
])
def test_regex_limits_are_invalid_filter_patterns(pattern):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert str(info.value) == "Invalid filter pattern"
    assert info.value.for_operation("PutMetricFilter") == "Invalid metric filter pattern"


def test_two_regexes_are_allowed_in_every_kind_of_pattern():
    assert compile_pattern("%a% %b%").regex_count == 2
    assert compile_pattern("?%a% ?%b% c").regex_count == 2
    assert matching("%al+pha% -%^beta%", ["alpha", "beta alpha", "alpha beta"]) == [
        "alpha", "alpha beta"]


# The alphabet regex-expressions.html allows (plus the blanks this module allows), as tokens that
# make both valid and invalid regexes; and messages mixing ASCII, non-ASCII letters, digits and
# blanks, newlines and brackets.
REGEX_TOKENS = [
    "a", "b", "c", "A", "9", "_", ":", "#", "=", "@", "/", ";", ",", "-", " ", "\t",
    ".", "^", "$", "|", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{,2}", "{2,}", "{", "}",
    "[", "]", "\\", r"\.", r"\d", r"\w", r"\s", r"\D", r"\W", r"\S", r"\b", r"\B", r"\A",
    r"\Z", r"\n", r"\t", r"\x41", r"\u00e9", r"\x0b", "[ab]", "[^a-c]", r"[\d_]", r"[\W\s]",
    "[^\\n]", "[-a]", "[]a]", r"[^\S\n]", r"\-", r"\^",
]
MESSAGE_CHARACTERS = "abcA9_ :-\n\t.\u00e9\u0663\xa0\u2028\x0b\x1c\u00c0[]"


def _parsed_nodes(items):
    for op, av in items:
        yield op, av
        if op is sre.SUBPATTERN:
            yield from _parsed_nodes(av[3])
        elif op is sre.BRANCH:
            for alternative in av[1]:
                yield from _parsed_nodes(alternative)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            yield from _parsed_nodes(av[2])


@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")  # re on "[[]..."
@settings(max_examples=250, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.sampled_from(REGEX_TOKENS), min_size=1, max_size=8).map("".join),
       texts=st.lists(st.text(MESSAGE_CHARACTERS, max_size=8), min_size=1, max_size=6))
def test_regex_engine_swap_changes_no_answer(body, texts):
    """RE2 answers as re did, for every regex of the filter dialect re accepts, on every message.

    The exceptions are the documented ones: what RE2 cannot run (possessive quantifiers) is an
    invalid pattern, and \\b/\\B count only ASCII letters and digits as word characters, so a
    message with a non-ASCII letter or digit is not compared for a regex using them.
    """
    try:
        nodes = list(_parsed_nodes(sre_parse.parse(body)))
    except re.error:
        with pytest.raises(FilterPatternError):
            compile_pattern(f"%{body}%")
        return
    try:
        pattern = compile_pattern(f"%{body}%")
    except FilterPatternError:
        assert any(op is sre.POSSESSIVE_REPEAT for op, _ in nodes), body
        return
    boundary = any(op is sre.AT and av in (sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY)
                   for op, av in nodes)
    for text in texts:
        if boundary and any(ch.isalnum() and not ch.isascii() for ch in text):
            continue
        assert pattern.matches(text) == (re.search(body, text) is not None), (body, text)


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


FIELD_CHARACTERS = '[]"\\ \tab'


@settings(max_examples=300, deadline=None, derandomize=True)
@given(message=st.text(FIELD_CHARACTERS, max_size=16))
def test_space_delimited_fields_are_those_the_documented_grammar_gives(message):
    # A field is [bracketed], "quoted" (\" does not close it) or a run of non-blanks; "[]"
    # reports every field by position.
    grammar = r'\[([^\]]*)\]|"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)'
    fields = [a or b or c for a, b, c in re.findall(grammar, message, re.DOTALL)]
    assert compile_pattern("[]").extract(message) == {
        f"${i}": field for i, field in enumerate(fields, 1)}


def test_space_delimited_fields_of_a_message_full_of_unclosed_brackets():
    # Each "[" used to look for its "]" to the end of the message: quadratic, minutes for this
    # one, all of it holding the GIL.
    message = "[a] " * 1000 + '"q" ' + "[ " * 100_000
    fields = compile_pattern("[]").extract(message)
    assert len(fields) == 101_001
    assert fields["$1000"] == "a" and fields["$1001"] == "q" and fields["$101001"] == "["


def _first_fit(pattern: list[tuple[str, str | None]], words: list[str]):
    """Reference alignment: try every split, each ellipsis as short as possible, left to right.
    ``pattern`` holds ("...", None) or (name, the value the field must equal, or None)."""
    if not pattern:
        return [] if not words else None
    (name, value), rest = pattern[0], pattern[1:]
    if name == "...":
        for take in range(len(words) + 1):
            tail = _first_fit(rest, words[take:])
            if tail is not None:
                return [words[:take]] + tail
        return None
    if not words or (value is not None and words[0] != value):
        return None
    tail = _first_fit(rest, words[1:])
    return None if tail is None else [[words[0]]] + tail


@settings(max_examples=300, deadline=None, derandomize=True)
@given(fields=st.lists(st.sampled_from(["...", "any", "a", "b"]), min_size=1, max_size=7),
       words=st.lists(st.sampled_from(["a", "b"]), max_size=9))
def test_space_delimited_ellipses_take_the_first_fit(fields, words):
    spec = [("...", None) if f == "..." else (f"f{i}", None if f == "any" else f)
            for i, f in enumerate(fields)]
    text = "[" + ", ".join(n if n == "..." else n if v is None else f"{n} = {v}"
                           for n, v in spec) + "]"
    fit = _first_fit(spec, words)
    p = compile_pattern(text)
    assert p.matches(" ".join(words)) is (fit is not None)
    if fit is None:
        assert p.extract(" ".join(words)) is None
        return
    expected, position = {}, 1
    for (name, _), taken in zip(spec, fit):
        if name == "...":
            expected.update({f"${position + k}": w for k, w in enumerate(taken)})
        else:
            expected[f"${name}"] = taken[0]
        position += len(taken)
    assert p.extract(" ".join(words)) == expected


def test_space_delimited_many_ellipses_on_a_long_line():
    # Trying every way of sharing 200 words among eight ellipses never finished.
    line = " ".join(f"w{i}" for i in range(200))
    assert not compile_pattern("[" + ", ".join(["..."] * 8) + ", x = nope]").matches(line)
    p = compile_pattern("[..., a = w10, ..., b = w100, ..., c = w199]")
    assert p.extract(line)["$b"] == "w100"


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


# ------------------------------------------------------------------------------------------------
# The shared helper (sagewatch.regex) beyond the filter dialect: groups, flags, refusals. Step 4
# applies SageMaker MetricDefinitions (groups allowed) to job log lines with it.
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, line", [
    # The MetricDefinitions examples of the SageMaker guide (reference section 2.3).
    ("Train_error=(.*?);", "Train_error=0.138318;  Valid_error=0.324557;"),
    ("Valid_error=(.*?);", "Train_error=0.138318;  Valid_error=0.324557;"),
    (r"loss: ([0-9\.]+)$", "epoch 3 - loss: 0.25"),
    (r"(?P<name>\w+)=(\d+(?:\.\d+)?)(ms)?", "took=12.5ms"),
    (r"(a|ab)(c|bcd)(d*)", "abcd"),
    (r"(x)?y", "y"),
    (r"(?m)^(\d+)$", "a\n42\nb"),
    (r"(?s)a(.)b", "a\nb"),
    (r"(?a)(\w+)", "caf\u00e9"),
    (r"(?x) (\d+) \s* ms  # a comment", "took 12 ms"),
    (r"(\d)", "\u0663"),
])
def test_user_regex_search_gives_re_groups(pattern, line):
    match = re.search(pattern, line)
    assert compile_user_regex(pattern).search(line) == (match.group(0), *match.groups())


def test_user_regex_search_without_a_match():
    assert compile_user_regex(r"loss=(\d+)").search("no metric here") is None
    assert compile_user_regex(r"\B").search("") is None


@pytest.mark.parametrize("pattern, reason", [
    (r"(a)\1", "backreferences"),
    ("(?=a)", "lookahead and lookbehind"),
    ("(?<!a)b", "lookahead and lookbehind"),
    ("(a)?(?(1)b|c)", "conditional groups"),
    ("(?>a)", "atomic groups"),
    ("a*+", "possessive quantifiers"),
    ("(?i)a", "case-insensitive"),
    ("a(?i:b)", "case-insensitive"),
    ("a{1001}", "above 1000"),
    ("(", "missing )"),
])
def test_user_regex_refusals_say_why(pattern, reason):
    with pytest.raises(UserRegexError, match=re.escape(reason)):
        compile_user_regex(pattern)


GROUP_TOKENS = ["a", "b", "9", " ", ".", "^", "$", "|", "*", "+", "?", "*?", "??", "{2}", "{0,2}",
                r"\d", r"\w", r"\s", r"\W", r"\Z", "[ab]", "[^a]", "(", ")", "(?:", "(?P<n>",
                "(?s:", "(?m:", "(?m)"]


def _repeats_a_group_that_can_match_empty(nodes) -> bool:
    return any(op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[1] > 1 and av[2].getwidth()[0] == 0
               and any(o is sre.SUBPATTERN for o, _ in _parsed_nodes(av[2]))
               for op, av in nodes)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(pattern=st.lists(st.sampled_from(GROUP_TOKENS), min_size=1, max_size=9).map("".join),
       lines=st.lists(st.text("ab9 -\u00e9\u0663\n", max_size=7), min_size=1, max_size=5))
def test_user_regex_agrees_with_re_on_groups(pattern, lines):
    """re.search's match and groups, for patterns with groups and flags, on texts that do not end
    in a newline (search() is for one line). One documented difference is not compared: a
    repeated group that can match the empty string reports its last non-empty iteration, where
    re reports an empty one (re: (a|)* on "aa" gives group 1 "", RE2 "a")."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        with pytest.raises(UserRegexError):
            compile_user_regex(pattern)
        return
    nodes = list(_parsed_nodes(sre_parse.parse(pattern)))
    try:
        regex = compile_user_regex(pattern)
    except UserRegexError:
        assert any(op is sre.POSSESSIVE_REPEAT for op, _ in nodes), pattern
        return
    whole_match_only = _repeats_a_group_that_can_match_empty(nodes)
    for line in lines:
        match = compiled.search(line)
        assert regex.contains_match(line) == (match is not None), (pattern, line)
        if line.endswith("\n"):
            continue
        found = regex.search(line)
        if match is None or found is None:
            assert found is match, (pattern, line)
        elif whole_match_only:
            assert found[0] == match.group(0), (pattern, line)
        else:
            assert found == (match.group(0), *match.groups()), (pattern, line)
