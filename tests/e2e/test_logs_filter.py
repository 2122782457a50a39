"""FilterLogEvents end to end: stream selection, the time window (endTime inclusive), pagination
over many pages without duplicates or gaps, the 1 MB page cap, and one example of each kind of
filter pattern. (Pattern syntax in depth is covered by the filter-pattern unit tests.)"""

from __future__ import annotations

import pytest

from .helpers import error_of, filter_all, messages, now_ms, put

MIB = 1_048_576


@pytest.fixture
def three_streams(logs, group) -> tuple[int, list[tuple[int, str, str]]]:
    """Streams a, b, c with interleaved events; returns (base time, [(timestamp, stream, message)])
    in the order FilterLogEvents must return them."""
    base = now_ms() - 60_000
    expected = []
    for name, offset in (("a", 0), ("b", 1), ("c", 2)):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        events = [(base + 3 * i + offset, f"{name}{i}") for i in range(10)]
        put(logs, group, name, events)
        expected += [(t, name, m) for t, m in events]
    return base, sorted(expected)


def triples(events: list[dict]) -> list[tuple[int, str, str]]:
    return [(e["timestamp"], e["logStreamName"], e["message"]) for e in events]


def test_every_event_interleaved_by_time(logs, group, three_streams):
    _, expected = three_streams
    response = logs.filter_log_events(logGroupName=group)
    assert triples(response["events"]) == expected
    assert response["searchedLogStreams"] == []
    assert "nextToken" not in response
    event = response["events"][0]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert len({e["eventId"] for e in response["events"]}) == 30


def test_equal_timestamps_across_streams_come_in_ingestion_order(logs, group):
    t = now_ms()
    for name in ("s1", "s2"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    put(logs, group, "s2", [(t, "first in"), (t, "second in")])
    put(logs, group, "s1", [(t, "third in")])
    put(logs, group, "s2", [(t, "fourth in")])
    assert messages(logs.filter_log_events(logGroupName=group)["events"]) == [
        "first in", "second in", "third in", "fourth in"]


def test_log_stream_names(logs, group, three_streams):
    _, expected = three_streams
    response = logs.filter_log_events(logGroupName=group, logStreamNames=["c", "a"])
    assert triples(response["events"]) == [e for e in expected if e[1] in ("a", "c")]
    assert logs.filter_log_events(logGroupName=group, logStreamNames=["nope"])["events"] == []


def test_log_stream_name_prefix(logs, group, three_streams):
    _, expected = three_streams
    logs.create_log_stream(logGroupName=group, logStreamName="b-2")
    put(logs, group, "b-2", [(now_ms(), "in b-2")])
    response = logs.filter_log_events(logGroupName=group, logStreamNamePrefix="b")
    assert messages(response["events"]) == [m for _, s, m in expected if s == "b"] + ["in b-2"]


def test_names_and_prefix_together(logs, group):
    code, _, status = error_of(logs.filter_log_events, logGroupName=group, logStreamNames=["a"],
                               logStreamNamePrefix="a")
    assert (code, status) == ("InvalidParameterException", 400)


def test_time_window_start_and_end_are_inclusive(logs, group, three_streams):
    base, expected = three_streams
    start, end = base + 4, base + 10
    response = logs.filter_log_events(logGroupName=group, startTime=start, endTime=end)
    assert triples(response["events"]) == [e for e in expected if start <= e[0] <= end]
    assert [e[0] for e in triples(response["events"])] == list(range(start, end + 1))
    assert logs.filter_log_events(logGroupName=group, startTime=base + 5, endTime=base + 5)["events"][0][
        "message"] == "c1"
    assert logs.filter_log_events(logGroupName=group, startTime=base + 100)["events"] == []


def test_pagination_over_many_pages_has_no_duplicates_or_gaps(logs, group):
    base = now_ms() - 120_000
    expected = []
    for name in ("x", "y", "z"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
    for i in range(120):
        for j, name in enumerate(("x", "y", "z")):
            # Many events share a timestamp, across streams and within one.
            expected.append((base + i // 2, name, f"{name}-{i}"))
    for name in ("x", "y", "z"):
        put(logs, group, name, [(t, m) for t, s, m in expected if s == name])
    # Ties are broken by ingestion: every x event of a millisecond, then y's, then z's.
    expected.sort(key=lambda e: (e[0], "xyz".index(e[1])))

    events, pages = filter_all(logs, logGroupName=group, limit=7)
    assert pages >= 52
    assert triples(events) == expected
    assert len({e["eventId"] for e in events}) == 360


def test_pagination_with_a_pattern_and_sparse_matches(logs, group, stream):
    base = now_ms() - 120_000
    put(logs, group, stream, [(base + i, f"line {i} {'NEEDLE' if i % 97 == 0 else 'hay'}")
                              for i in range(2000)])
    events, _ = filter_all(logs, logGroupName=group, filterPattern="NEEDLE", limit=3)
    assert messages(events) == [f"line {i} NEEDLE" for i in range(0, 2000, 97)]


def test_paginator(logs, group, three_streams):
    _, expected = three_streams
    pages = list(logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 4}))
    assert [e for p in pages for e in triples(p["events"])] == expected
    assert all(len(p["events"]) <= 4 for p in pages)


def test_page_is_capped_at_one_mib(logs, group, stream):
    base = now_ms() - 60_000
    body = "y" * 1000
    for batch in range(2):
        put(logs, group, stream, [(base + batch * 1000 + i, f"{batch}-{i:03d}-{body}") for i in range(700)])
    first = logs.filter_log_events(logGroupName=group)
    size = sum(len(e["message"]) + 26 for e in first["events"])
    assert 0 < len(first["events"]) < 1400 and size <= MIB and "nextToken" in first
    events, _ = filter_all(logs, logGroupName=group)
    assert messages(events) == [f"{b}-{i:03d}-{body}" for b in range(2) for i in range(700)]


@pytest.fixture
def corpus(logs, group, stream) -> list[str]:
    lines = [
        "ERROR Exiting with ERRORCODE: -1",
        "INFO all good",
        "WARN disk almost full",
        "ERROR timeout while calling s3",
        '{"level": "error", "latency": 120, "user": {"id": 7}, "tags": ["gpu", "spot"]}',
        '{"level": "info", "latency": 20, "user": {"id": 8}, "tags": ["cpu"]}',
        '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
        '127.0.0.1 Prod alice [10/Oct/2000:13:26:15 -0700] "GET /about.html HTTP/1.0" 200 2326',
        "INTERNAL SERVER ERROR on request 5",
    ]
    base = now_ms() - 60_000
    put(logs, group, stream, [(base + i, line) for i, line in enumerate(lines)])
    return lines


@pytest.mark.parametrize("pattern, expected", [
    ("", [0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ('" "', [0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ("ERROR", [0, 3, 8]),                      # a term: case-sensitive substring
    ("ERRORCODE", [0]),
    ("ERROR timeout", [3]),                    # terms are ANDed
    ("?WARN ?timeout", [2, 3]),                # ?a ?b: either
    ("ERROR -timeout", [0, 8]),                # -x: exclude
    ('"INTERNAL SERVER ERROR"', [8]),          # quoted phrase
    ('"SERVER INTERNAL"', []),
    ("%frank|alice%", [6, 7]),                 # %regex%
    ("%^WARN%", [2]),
    ('{ $.level = "error" }', [4]),            # JSON
    ("{ $.latency > 100 }", [4]),
    ("{ $.user.id = 8 }", [5]),
    ('{ $.tags[0] = "gpu" }', [4]),
    ('{ $.level = "i*" }', [5]),
    ('{ ($.latency < 50) || ($.user.id = 7) }', [4, 5]),
    ("{ $.missing NOT EXISTS }", [4, 5]),
    ("[ip, user, username, timestamp, request, status_code = 404, bytes]", [6]),  # space-delimited
    ('[..., status_code = 2*, bytes > 2000]', [7]),
    ('[ip, user = Prod, ...]', [6, 7]),
])
def test_filter_patterns(logs, group, corpus, pattern, expected):
    events = logs.filter_log_events(logGroupName=group, filterPattern=pattern)["events"]
    assert messages(events) == [corpus[i] for i in expected]


@pytest.mark.parametrize("pattern", ['{ $.level = "error"', "[a, b", '{ $.a = }'])
def test_malformed_pattern(logs, group, pattern):
    assert error_of(logs.filter_log_events, logGroupName=group, filterPattern=pattern) == (
        "InvalidParameterException", "Invalid filter pattern", 400)


def test_pattern_over_1024_characters(raw_logs, group):
    code, message, status = error_of(raw_logs.filter_log_events, logGroupName=group,
                                     filterPattern="x" * 1025)
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == (f"1 validation error detected: Value '{'x' * 1025}' at 'filterPattern' failed "
                       "to satisfy constraint: Member must have length less than or equal to 1024")


def test_invalid_token_and_limit(logs, raw_logs, group):
    assert error_of(logs.filter_log_events, logGroupName=group, nextToken="invalid-token") == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)
    logs.create_log_group(logGroupName=group + "/second")  # so that a token exists
    group_token = logs.describe_log_groups(logGroupNamePrefix=group, limit=1)["nextToken"]
    assert error_of(logs.filter_log_events, logGroupName=group, nextToken=group_token) == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)
    assert error_of(raw_logs.filter_log_events, logGroupName=group, limit=10_001) == (
        "InvalidParameterException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: "
        "Member must have value less than or equal to 10000",
        400,
    )


def test_missing_group_and_identifier(logs, group, stream, unique):
    assert error_of(logs.filter_log_events, logGroupName=f"/missing/{unique}") == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)
    put(logs, group, stream, [(now_ms(), "by arn")])
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    assert messages(logs.filter_log_events(logGroupIdentifier=arn)["events"]) == ["by arn"]


def test_latest_first_pages_backwards_and_the_token_keeps_the_direction(logs, group, three_streams):
    base, expected = three_streams
    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": False}
        # On later pages startFromHead=True is ignored: the token's direction wins.
        if token:
            kwargs["startFromHead"] = True
        response = logs.filter_log_events(logGroupName=group, limit=7, startTime=base, **kwargs)
        pages.append(triples(response["events"]))
        token = response.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages[:4]] == [7, 7, 7, 7]
    assert [e for page in pages for e in page] == list(reversed(expected))


def test_latest_first_needs_a_start_time_from_2024_on(logs, group, three_streams):
    code, message, status = error_of(
        logs.filter_log_events, logGroupName=group, startFromHead=False, startTime=1_700_000_000_000
    )
    assert (code, status) == ("InvalidParameterException", 400)
    assert "Jan 1, 2024" in message
