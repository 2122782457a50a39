"""Deleted data never reaches another resource (issue 8).

SQLite gave the id of a deleted row back to the next insert, and the decoded-block cache (keyed by
block id) served the deleted block's events to the new one: a deleted group's events showed up in
the next group created. These tests replay every trigger of that family the hostile-input run
found, each on a fresh server so that the ids really would be reused; the model-based test
(test_logs_model.py) searches the same space at random.
"""

from __future__ import annotations

import time

import pytest

from ..server import ServerProcess, make_client
from .helpers import DAY_MS, error_of, messages, now_ms, put, read_forward

INVALID_TOKEN = ("InvalidParameterException", "The specified nextToken is invalid.", 400)


@pytest.fixture
def fresh(tmp_path):
    """A logs client on a server of its own, whose retention sweep runs five times a second."""
    server = ServerProcess(tmp_path / "data", extra_args=("--retention-sweep-seconds", "0.2")).start()
    yield make_client("logs", server.endpoint)
    server.stop()


def test_deleted_group_is_not_served_to_the_next_group(fresh):
    # The reproduction, step by step.
    logs, now = fresh, now_ms()
    logs.create_log_group(logGroupName="a")
    logs.create_log_stream(logGroupName="a", logStreamName="s")
    put(logs, "a", "s", [(now, "OLD deleted event")])
    assert messages(logs.get_log_events(logGroupName="a", logStreamName="s")["events"]) == [
        "OLD deleted event"]
    logs.delete_log_group(logGroupName="a")
    logs.create_log_group(logGroupName="b")
    logs.create_log_stream(logGroupName="b", logStreamName="s2")
    put(logs, "b", "s2", [(now + 1, "new 1"), (now + 2, "new 2")])

    assert messages(logs.get_log_events(logGroupName="b", logStreamName="s2")["events"]) == [
        "new 1", "new 2"]
    found = logs.filter_log_events(logGroupName="b")["events"]
    assert [(e["logStreamName"], e["message"]) for e in found] == [("s2", "new 1"), ("s2", "new 2")]


def test_deleted_stream_is_not_served_to_a_stream_of_another_group(fresh):
    logs, now = fresh, now_ms()
    for group in ("g1", "g2"):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName="g1", logStreamName="old")
    put(logs, "g1", "old", [(now, "deleted with its stream")])
    logs.get_log_events(logGroupName="g1", logStreamName="old")  # into the block cache
    logs.delete_log_stream(logGroupName="g1", logStreamName="old")

    logs.create_log_stream(logGroupName="g2", logStreamName="new")
    put(logs, "g2", "new", [(now, "fresh")])
    assert messages(read_forward(logs, "g2", "new")) == ["fresh"]
    assert messages(logs.filter_log_events(logGroupName="g2")["events"]) == ["fresh"]
    assert logs.filter_log_events(logGroupName="g1")["events"] == []


def test_recreated_stream_starts_empty(fresh):
    logs, now = fresh, now_ms()
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    put(logs, "g", "s", [(now, "first life")])
    logs.get_log_events(logGroupName="g", logStreamName="s")
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    assert read_forward(logs, "g", "s") == []
    put(logs, "g", "s", [(now, "second life")])
    assert messages(read_forward(logs, "g", "s")) == ["second life"]


def test_retention_expiry_is_not_served_to_another_group(fresh):
    logs, now = fresh, now_ms()
    logs.create_log_group(logGroupName="old")
    logs.create_log_stream(logGroupName="old", logStreamName="s")
    put(logs, "old", "s", [(now - 3 * DAY_MS, "expired by retention")])
    logs.filter_log_events(logGroupName="old")  # into the block cache
    logs.put_retention_policy(logGroupName="old", retentionInDays=1)
    assert logs.filter_log_events(logGroupName="old")["events"] == []  # hidden at once
    _wait_until_swept(logs, "old")

    logs.create_log_group(logGroupName="new")
    logs.create_log_stream(logGroupName="new", logStreamName="s")
    put(logs, "new", "s", [(now, "kept")])
    assert messages(read_forward(logs, "new", "s")) == ["kept"]
    assert messages(logs.filter_log_events(logGroupName="new")["events"]) == ["kept"]


def _wait_until_swept(logs, group: str) -> None:
    """Until the retention sweep has deleted the group's stored events (storedBytes drops)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        if described["storedBytes"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the retention sweep never deleted the expired events")


def test_filter_token_is_bound_to_its_group(fresh):
    logs, now = fresh, now_ms()
    for group in ("a", "b"):
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        put(logs, group, "s", [(now, f"{group} 1"), (now + 1, f"{group} 2")])
    token = logs.filter_log_events(logGroupName="a", limit=1)["nextToken"]
    assert messages(logs.filter_log_events(logGroupName="a", nextToken=token)["events"]) == ["a 2"]
    assert error_of(logs.filter_log_events, logGroupName="b", nextToken=token) == INVALID_TOKEN

    # The same group name, a new life: the token of the first life is no longer valid.
    logs.delete_log_group(logGroupName="a")
    logs.create_log_group(logGroupName="a")
    assert error_of(logs.filter_log_events, logGroupName="a", nextToken=token) == INVALID_TOKEN


def test_stream_listing_token_is_bound_to_its_group(fresh):
    logs = fresh
    for group in ("a", "b"):
        logs.create_log_group(logGroupName=group)
        for name in ("s1", "s2"):
            logs.create_log_stream(logGroupName=group, logStreamName=name)
    token = logs.describe_log_streams(logGroupName="a", limit=1)["nextToken"]
    assert error_of(logs.describe_log_streams, logGroupName="b", nextToken=token) == INVALID_TOKEN


def test_event_token_of_a_deleted_stream_is_refused_by_its_namesake(fresh):
    logs, now = fresh, now_ms()
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    put(logs, "g", "s", [(now, "first life")])
    page = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True)
    logs.delete_log_stream(logGroupName="g", logStreamName="s")
    logs.create_log_stream(logGroupName="g", logStreamName="s")
    put(logs, "g", "s", [(now, "second life")])
    for token in (page["nextForwardToken"], page["nextBackwardToken"]):
        assert error_of(logs.get_log_events, logGroupName="g", logStreamName="s",
                        nextToken=token, startFromHead=True) == INVALID_TOKEN


def test_event_ids_keep_rising_after_the_newest_events_are_deleted_and_the_server_restarts(tmp_path):
    """A saved forward token resumes at (timestamp, event id). Ids must never go back, or events
    appended after a restart at the token's timestamp would sort before it and be skipped."""
    server = ServerProcess(tmp_path / "data").start()
    logs, now = make_client("logs", server.endpoint), now_ms()
    try:
        logs.create_log_group(logGroupName="g")
        for stream in ("kept", "newest"):
            logs.create_log_stream(logGroupName="g", logStreamName=stream)
        put(logs, "g", "kept", [(now, "kept 1")])
        put(logs, "g", "newest", [(now, f"newest {i}") for i in range(50)])
        page = logs.filter_log_events(logGroupName="g", limit=2)  # kept 1, newest 0
        logs.delete_log_stream(logGroupName="g", logStreamName="newest")
        server.stop()
        server.start()
        logs = make_client("logs", server.endpoint)
        put(logs, "g", "kept", [(now, "kept 2")])
        rest = logs.filter_log_events(logGroupName="g", nextToken=page["nextToken"])
        assert messages(rest["events"]) == ["kept 2"]
    finally:
        server.stop()


@pytest.mark.parametrize("kind, key", [
    ("filter", ["f", 2**63, 0]),          # beyond SQLite's integers
    ("filter", ["f", "1", 0]),            # a number as text
    ("filter", ["f", 1]),                 # too short
    ("log-streams", 7),                   # a name that is not text
    ("log-streams-by-time", [1, 2**63]),
])
def test_a_made_up_token_with_valid_check_digits_is_invalid(fresh, kind, key):
    """The check digits are a public hash: anyone can make a token that passes them. Its key must
    still have the listing's shape, or the answer is the invalid-token error, never a 500."""
    from sagewatch.services.pagination import page_token

    logs = fresh
    logs.create_log_group(logGroupName="a")  # the first group of a fresh server: id 1
    logs.create_log_stream(logGroupName="a", logStreamName="s")
    token = page_token(f"{kind}@1", tuple(key) if isinstance(key, list) else key)
    call = (logs.filter_log_events if kind == "filter" else
            lambda **kw: logs.describe_log_streams(
                orderBy="LastEventTime" if kind.endswith("time") else "LogStreamName", **kw))
    assert error_of(call, logGroupName="a", nextToken=token) == INVALID_TOKEN


def test_a_made_up_event_token_beyond_64_bits_is_invalid(fresh):
    from sagewatch.services.logs.tokens import _check

    logs = fresh
    logs.create_log_group(logGroupName="a")
    logs.create_log_stream(logGroupName="a", logStreamName="s")  # stream id 1 on a fresh server
    huge = 10**20 - 1
    token = f"f/{huge:020d}{0:020d}{_check('f', huge, 0, 1):016d}/s"
    assert error_of(logs.get_log_events, logGroupName="a", logStreamName="s", nextToken=token,
                    startFromHead=True) == INVALID_TOKEN
