"""User regexes and other user-shaped input in filter patterns can never stall the server.

Python's ``re`` backtracks: ``%.*.*.*.*.*.*.*.*c%`` against ``"c" + "a" * 40`` took minutes and
held the GIL throughout, so no other request was answered either. Regexes now run on RE2
(``sagewatch.regex``), linear in the message; these tests hold the server to that, and to AWS's
limits on regexes in a filter pattern (regex-expressions.html, "Quotas")."""

from __future__ import annotations

import threading
import time

import pytest

from ..server import make_client
from .helpers import error_of, filter_all, messages, now_ms, put

PATHOLOGICAL = "%.*.*.*.*.*.*.*.*c%"  # backtracks through every split of a run of "a"


def contains_c(message: str) -> bool:
    """What PATHOLOGICAL means: one "c" anywhere (each ".*" may match nothing)."""
    return "c" in message


@pytest.fixture(scope="module")
def patient_logs(server):
    """A client that gives up after 60 s instead of waiting for ever: a stalled server fails the
    test instead of hanging it."""
    return make_client("logs", server.endpoint, read_timeout=60, connect_timeout=10)


def test_the_reported_pathological_regex_answers_with_its_match(logs, group, stream):
    put(logs, group, stream, [(now_ms(), "c" + "a" * 40)])
    response = logs.filter_log_events(logGroupName=group, filterPattern=PATHOLOGICAL)
    assert messages(response["events"]) == ["c" + "a" * 40]


def test_a_pathological_filter_delays_no_other_request(logs, patient_logs, group, stream):
    # 10,000 events that make a backtracking engine try every split of 40 "a" among 8 ".*",
    # most of them with no "c" at all (the costliest case: every split is tried and fails).
    variants = ["a" * 40, "c" + "a" * 40, "a" * 20 + "c" + "a" * 20, "a" * 40 + "c", "a" * 39 + "b"]
    base = now_ms() - 60_000
    adversarial = [variants[i % len(variants)] for i in range(10_000)]
    put(logs, group, stream, [(base + i // 100, m) for i, m in enumerate(adversarial)])

    outcome: dict = {}

    def pathological_filter() -> None:
        started = time.monotonic()
        try:
            outcome["events"], _ = filter_all(patient_logs, logGroupName=group,
                                              filterPattern=PATHOLOGICAL)
        except Exception as exc:  # reported below, in the test's own thread
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - started

    worker = threading.Thread(target=pathological_filter)
    worker.start()
    time.sleep(0.05)  # let the filter reach the server first
    started = time.monotonic()
    described = logs.describe_log_groups(logGroupNamePrefix=group)
    describe_seconds = time.monotonic() - started
    worker.join(timeout=120)

    assert [g["logGroupName"] for g in described["logGroups"]] == [group]
    # The one timed assertion the task sets: another request is not held up by the filter.
    assert describe_seconds < 1.0, f"DescribeLogGroups took {describe_seconds:.2f} s"
    assert not worker.is_alive(), "the pathological FilterLogEvents never answered"
    assert "error" not in outcome, outcome.get("error")
    assert messages(outcome["events"]) == [m for m in adversarial if contains_c(m)]
    assert outcome["seconds"] < 20, f"the pathological filter took {outcome['seconds']:.1f} s"


def test_dollar_matches_before_the_newline_that_ends_a_message(logs, group, stream):
    # Lambda's log lines end in "\n"; re's $ (the engine the regexes were written for) matches
    # just before it, and so must RE2's stand-in.
    t = now_ms()
    put(logs, group, stream, [(t, "REPORT Duration: 12 ms\n"), (t + 1, "REPORT Duration: 12 ms x"),
                              (t + 2, "done ms\n\n")])
    response = logs.filter_log_events(logGroupName=group, filterPattern="%ms$%")
    assert messages(response["events"]) == ["REPORT Duration: 12 ms\n"]


@pytest.mark.parametrize("pattern", [
    "%a% %b% %c%",                      # at most 2 regexes in one filter pattern
    "?%a% ?%b% ?%c%",
    "{ $.a = %x% && $.b = %y% && $.c = %z% }",
    "[a = %x%, b = %y%, c = %z%]",
    "%a*+%",                            # possessive: re accepts it, RE2 cannot run it
    "%a{1001}%",                        # over RE2's repetition limit
])
def test_regexes_aws_or_re2_refuse_are_invalid_filter_patterns(raw_logs, group, pattern):
    assert error_of(raw_logs.filter_log_events, logGroupName=group, filterPattern=pattern) == (
        "InvalidParameterException", "Invalid filter pattern", 400)


def test_two_regexes_are_allowed(logs, group, stream):
    t = now_ms()
    put(logs, group, stream, [(t, "alpha beta"), (t + 1, "alpha"), (t + 2, "beta")])
    response = logs.filter_log_events(logGroupName=group, filterPattern="%alp+ha% %be?ta%")
    assert messages(response["events"]) == ["alpha beta"]


def test_space_delimited_patterns_over_adversarial_messages(logs, patient_logs, group, stream):
    # "[ " * 100,000: each "[" looks for its "]" to the end of the message (quadratic: minutes,
    # holding the GIL). A line of 200 words against eight ellipses: every way of sharing the
    # words among them (200 ** 8) before finding that "nope" is nowhere.
    brackets = "[ " * 100_000
    words = " ".join(f"w{i}" for i in range(200))
    t = now_ms()
    put(logs, group, stream, [(t, brackets), (t + 1, words)])

    first_two = patient_logs.filter_log_events(logGroupName=group,
                                               filterPattern='[a = "[", b = "[", ...]')
    assert messages(first_two["events"]) == [brackets]

    ellipses = "[" + ", ".join(["..."] * 8) + ", x = nope]"
    none = patient_logs.filter_log_events(logGroupName=group, filterPattern=ellipses)
    assert none["events"] == []
    last = patient_logs.filter_log_events(
        logGroupName=group, filterPattern="[..., a = w10, ..., b = w100, ..., c = w199]")
    assert messages(last["events"]) == [words]
