"""Log streams end to end: create / delete / describe with prefix, both orderings, descending,
pagination, and the event-derived members (first/last event timestamps, lastIngestionTime,
storedBytes)."""

from __future__ import annotations

import pytest

from .helpers import error_of, now_ms, put

ACCOUNT = "000000000000"
REGION = "us-east-1"


def group_arn(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def names(page: dict) -> list[str]:
    return [s["logStreamName"] for s in page["logStreams"]]


def describe_all(logs, group: str, **kwargs) -> tuple[list[str], list[int]]:
    """Every stream name by following nextToken by hand, and each page's size."""
    seen, sizes, token = [], [], None
    while True:
        args = dict(kwargs, nextToken=token) if token else kwargs
        page = logs.describe_log_streams(logGroupName=group, **args)
        seen += names(page)
        sizes.append(len(page["logStreams"]))
        token = page.get("nextToken")
        if token is None:
            return seen, sizes
        assert len(sizes) < 100


def test_create_then_describe(logs, group):
    before = now_ms()
    logs.create_log_stream(logGroupName=group, logStreamName="train/algo-1-1700000000")
    after = now_ms()
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 1
    stream = streams[0]
    assert before - 1000 <= stream.pop("creationTime") <= after + 1000
    # No events yet: no first/last event timestamps and no ingestion time.
    assert stream == {
        "logStreamName": "train/algo-1-1700000000",
        "arn": f"{group_arn(group)}:log-stream:train/algo-1-1700000000",
        "storedBytes": 0,
    }


def test_create_duplicate(logs, group, stream):
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName=stream) == (
        "ResourceAlreadyExistsException", "The specified log stream already exists", 400)


def test_create_in_missing_group(logs, unique):
    assert error_of(logs.create_log_stream, logGroupName=f"/missing/{unique}", logStreamName="s") == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)


@pytest.mark.parametrize("bad", ["with:colon", "with*star"])
def test_create_with_invalid_name(logs, group, bad):
    assert error_of(logs.create_log_stream, logGroupName=group, logStreamName=bad) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{bad}' at 'logStreamName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [^:*]*",
        400,
    )


def test_create_with_name_over_512_characters(raw_logs, group):
    assert error_of(raw_logs.create_log_stream, logGroupName=group, logStreamName="s" * 513) == (
        "InvalidParameterException",
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        400,
    )


def test_same_stream_name_in_two_groups(logs, unique):
    for suffix in ("a", "b"):
        logs.create_log_group(logGroupName=f"/e2e/{unique}/{suffix}")
        logs.create_log_stream(logGroupName=f"/e2e/{unique}/{suffix}", logStreamName="same")
    put(logs, f"/e2e/{unique}/a", "same", [(now_ms(), "only in a")])
    b = logs.get_log_events(logGroupName=f"/e2e/{unique}/b", logStreamName="same")
    assert b["events"] == []


def test_delete_stream(logs, group, stream):
    put(logs, group, stream, [(now_ms(), "x" * 74)])
    logs.create_log_stream(logGroupName=group, logStreamName="other")
    put(logs, group, "other", [(now_ms(), "y" * 10)])
    stored = lambda: logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"]
    assert stored() == 100 + 36

    logs.delete_log_stream(logGroupName=group, logStreamName=stream)
    assert names(logs.describe_log_streams(logGroupName=group)) == ["other"]
    assert stored() == 36
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["y" * 10]
    assert error_of(logs.delete_log_stream, logGroupName=group, logStreamName=stream) == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400)
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName=stream) == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400)

    # Recreated under the same name, the stream is empty.
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    assert logs.get_log_events(logGroupName=group, logStreamName=stream)["events"] == []


def test_delete_stream_in_missing_group(logs, unique):
    assert error_of(logs.delete_log_stream, logGroupName=f"/missing/{unique}", logStreamName="s") == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)


# -- describe: prefix, orderings, pagination -----------------------------------------------------


@pytest.fixture
def job_streams(logs, group) -> list[str]:
    """Seven streams; each gets one event whose time is *not* in name order."""
    created = ["job/algo-3", "job/algo-1", "job/algo-2", "job/algo-1/data-log", "job2/algo-1",
               "other", "Job/upper"]
    now = now_ms()
    # last event time by stream: algo-2 newest ... other oldest
    offsets = {"job/algo-2": 0, "Job/upper": 1, "job/algo-3": 2, "job2/algo-1": 3,
               "job/algo-1": 4, "job/algo-1/data-log": 5, "other": 6}
    for name in created:
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, [(now - 60_000 * offsets[name], f"event of {name}")])
    return created


def test_default_order_is_by_name(logs, group, job_streams):
    assert names(logs.describe_log_streams(logGroupName=group)) == sorted(job_streams)


def test_prefix(logs, group, job_streams):
    page = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="job/")
    assert names(page) == ["job/algo-1", "job/algo-1/data-log", "job/algo-2", "job/algo-3"]
    assert "nextToken" not in page
    assert names(logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="job")) == [
        "job/algo-1", "job/algo-1/data-log", "job/algo-2", "job/algo-3", "job2/algo-1"]
    assert names(logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="nothing")) == []


def test_descending_by_name(logs, group, job_streams):
    page = logs.describe_log_streams(logGroupName=group, orderBy="LogStreamName", descending=True)
    assert names(page) == sorted(job_streams, reverse=True)
    page = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="job/", descending=True)
    assert names(page) == ["job/algo-3", "job/algo-2", "job/algo-1/data-log", "job/algo-1"]


def test_order_by_last_event_time(logs, group, job_streams):
    oldest_first = ["other", "job/algo-1/data-log", "job/algo-1", "job2/algo-1", "job/algo-3",
                    "Job/upper", "job/algo-2"]
    assert names(logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime")) == oldest_first
    newest_first = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                             descending=True)
    assert names(newest_first) == oldest_first[::-1]


def test_last_event_time_order_follows_new_events(logs, group, job_streams):
    put(logs, group, "other", [(now_ms() + 1000, "now the newest")])
    newest = logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime",
                                       descending=True, limit=1)
    assert names(newest) == ["other"]


def test_order_by_last_event_time_with_prefix_is_rejected(logs, group):
    assert error_of(logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime",
                    logStreamNamePrefix="job/") == (
        "InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.", 400)


@pytest.mark.parametrize("kwargs", [
    {},
    {"descending": True},
    {"orderBy": "LastEventTime"},
    {"orderBy": "LastEventTime", "descending": True},
    {"logStreamNamePrefix": "job"},
])
def test_pagination_covers_everything_once(logs, group, job_streams, kwargs):
    whole = names(logs.describe_log_streams(logGroupName=group, **kwargs))
    paged, sizes = describe_all(logs, group, limit=2, **kwargs)
    assert paged == whole
    assert sizes[:-1] == [2] * (len(sizes) - 1) and 1 <= sizes[-1] <= 2


def test_paginator(logs, group, job_streams):
    pages = list(logs.get_paginator("describe_log_streams").paginate(
        logGroupName=group, PaginationConfig={"PageSize": 3}))
    assert [len(p["logStreams"]) for p in pages] == [3, 3, 1]
    assert [n for p in pages for n in names(p)] == sorted(job_streams)


def test_full_last_page_has_no_token(logs, group, job_streams):
    page = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="job/", limit=4)
    assert len(page["logStreams"]) == 4
    assert "nextToken" not in page


def test_token_of_another_ordering_is_invalid(logs, group, job_streams):
    token = logs.describe_log_streams(logGroupName=group, limit=1)["nextToken"]
    assert error_of(logs.describe_log_streams, logGroupName=group, orderBy="LastEventTime",
                    nextToken=token) == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)
    logs.create_log_group(logGroupName=group + "/second")  # so that a token exists
    group_token = logs.describe_log_groups(logGroupNamePrefix=group, limit=1)["nextToken"]
    assert error_of(logs.describe_log_streams, logGroupName=group, nextToken=group_token) == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)


@pytest.mark.parametrize("limit, constraint", [
    (0, "Member must have value greater than or equal to 1"),
    (51, "Member must have value less than or equal to 50"),
])
def test_limit_out_of_range(raw_logs, group, limit, constraint):
    assert error_of(raw_logs.describe_log_streams, logGroupName=group, limit=limit) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: {constraint}",
        400,
    )


def test_unknown_order(raw_logs, group):
    assert error_of(raw_logs.describe_log_streams, logGroupName=group, orderBy="Size") == (
        "InvalidParameterException",
        "1 validation error detected: Value 'Size' at 'orderBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
        400,
    )


# -- group by identifier ---------------------------------------------------------------------------


def test_log_group_identifier_name_or_arn(logs, group, stream):
    by_name = logs.describe_log_streams(logGroupIdentifier=group)
    by_arn = logs.describe_log_streams(logGroupIdentifier=group_arn(group))
    assert names(by_name) == names(by_arn) == [stream]


def test_name_and_identifier_together(logs, group):
    assert error_of(logs.describe_log_streams, logGroupName=group, logGroupIdentifier=group) == (
        "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.", 400)


def test_neither_name_nor_identifier(logs):
    code, _, status = error_of(logs.describe_log_streams)
    assert (code, status) == ("InvalidParameterException", 400)


def test_describe_streams_of_missing_group(logs, unique):
    assert error_of(logs.describe_log_streams, logGroupName=f"/missing/{unique}") == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)


# -- members derived from events -------------------------------------------------------------------


def test_event_timestamps_ingestion_time_and_stored_bytes(logs, group, stream):
    now = now_ms()
    before = now_ms()
    put(logs, group, stream, [(now - 5000, "a" * 10), (now - 4000, "b" * 20)])
    put(logs, group, stream, [(now - 9000, "older, sent later")])
    put(logs, group, stream, [(now - 1000, "é" * 5)])  # 10 bytes in UTF-8
    after = now_ms()

    described = logs.describe_log_streams(logGroupName=group)["logStreams"][0]
    assert described["firstEventTimestamp"] == now - 9000
    assert described["lastEventTimestamp"] == now - 1000
    assert before <= described["lastIngestionTime"] <= after + 1000
    assert described["storedBytes"] == 0  # AWS: "always reported as zero" for streams

    group_bytes = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"]
    assert group_bytes == (10 + 26) + (20 + 26) + (len("older, sent later") + 26) + (10 + 26)
