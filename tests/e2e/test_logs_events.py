"""PutLogEvents (every quota rule) and GetLogEvents (windows, both directions, resumable tokens,
page limits), and the two ways the SageMaker SDK tails a job's logs (reference §11), replayed
call for call with boto3."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from .helpers import DAY_MS, HOUR_MS, error_of, messages, now_ms, put, read_forward

MIB = 1_048_576
INVALID_TOKEN = ("InvalidParameterException", "The specified nextToken is invalid.", 400)


def get(logs, group, stream, **kwargs) -> dict:
    return logs.get_log_events(logGroupName=group, logStreamName=stream, **kwargs)


# -- PutLogEvents ----------------------------------------------------------------------------------


def test_put_then_get(logs, group, stream):
    now = now_ms()
    before = now_ms()
    response = put(logs, group, stream, [(now - 2, "first"), (now - 1, "second"), (now, "third")])
    after = now_ms()
    assert set(response) - {"ResponseMetadata"} == {"nextSequenceToken"}
    assert re.fullmatch(r"\d+", response["nextSequenceToken"])

    events = get(logs, group, stream)["events"]
    assert [(e["timestamp"], e["message"]) for e in events] == [
        (now - 2, "first"), (now - 1, "second"), (now, "third")]
    for event in events:
        assert set(event) == {"timestamp", "message", "ingestionTime"}
        assert before - 1000 <= event["ingestionTime"] <= after + 1000


def test_sequence_token_is_ignored(logs, group, stream):
    # "The sequence token is now ignored": any token, stale or made up, is accepted.
    now = now_ms()
    for token in ("made-up", "49039859213542876528731465470186117004", "made-up"):
        logs.put_log_events(logGroupName=group, logStreamName=stream, sequenceToken=token,
                            logEvents=[{"timestamp": now, "message": token}])
    assert messages(get(logs, group, stream)["events"]) == [
        "made-up", "49039859213542876528731465470186117004", "made-up"]


def test_unicode_messages_round_trip(logs, group, stream):
    text = "🙀 - 参よ - 日本語 \u00e9\u0301 \x01 tab\there"
    put(logs, group, stream, [(now_ms(), text)])
    assert messages(get(logs, group, stream)["events"]) == [text]


def test_events_out_of_order_reject_the_whole_batch(logs, group, stream):
    now = now_ms()
    assert error_of(put, logs=logs, group=group, stream=stream,
                    events=[(now, "Message 0"), (now - 2 * DAY_MS, "Message 1")]) == (
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
        400,
    )
    assert get(logs, group, stream)["events"] == []


def test_equal_timestamps_keep_their_order(logs, group, stream):
    now = now_ms()
    put(logs, group, stream, [(now, f"a{i}") for i in range(5)])
    put(logs, group, stream, [(now - 1, "earlier, sent later"), (now, "b0"), (now, "b1")])
    assert messages(read_forward(logs, group, stream)) == [
        "earlier, sent later", "a0", "a1", "a2", "a3", "a4", "b0", "b1"]


def test_parallel_batches_to_one_stream_are_all_accepted(logs, group, stream):
    # No sequence tokens: two writers may interleave batches on one stream.
    now = now_ms()
    put(logs, group, stream, [(now, "writer 1, batch 1")])
    put(logs, group, stream, [(now + 1, "writer 2, batch 1")])
    put(logs, group, stream, [(now + 2, "writer 1, batch 2")])
    assert len(read_forward(logs, group, stream)) == 3


def test_batch_of_exactly_one_mib_is_accepted(logs, group, stream):
    # 4 events x (262,118 bytes + 26 bytes of overhead) = 1,048,576 bytes; one of them is made of
    # two-byte characters, so the size must be counted in UTF-8 bytes, not characters.
    now = now_ms()
    body = 262_118
    batch = [(now, "a" * body), (now, "é" * (body // 2)), (now, "c" * body), (now, "d" * body)]
    response = put(logs, group, stream, batch)
    assert "rejectedLogEventsInfo" not in response
    assert [len(m) for m in messages(read_forward(logs, group, stream))] == [body, body // 2, body, body]


def test_batch_one_byte_over_one_mib_is_rejected(logs, group, stream):
    now = now_ms()
    body = 262_118
    batch = [(now, "a" * body), (now, "é" * (body // 2)), (now, "c" * body), (now, "d" * (body + 1))]
    assert error_of(put, logs=logs, group=group, stream=stream, events=batch) == (
        "InvalidParameterException", f"Upload too large: {MIB + 1} bytes exceeds limit of {MIB}", 400)
    assert get(logs, group, stream)["events"] == []


def test_single_event_over_the_limit(logs, group, stream):
    # The largest possible event is 1,048,576 - 26 bytes of message. (AWS's wording, from the days
    # of the 256 KB limit: "Log event too large: 262592 bytes exceeds limit of 262144".)
    put(logs, group, stream, [(now_ms(), "x" * (MIB - 26))])
    assert error_of(put, logs=logs, group=group, stream=stream,
                    events=[(now_ms(), "x" * (MIB - 25))]) == (
        "InvalidParameterException", f"Log event too large: {MIB + 1} bytes exceeds limit of {MIB}", 400)


def test_ten_thousand_events_are_accepted_and_one_more_is_not(logs, raw_logs, group, stream):
    now = now_ms()
    put(logs, group, stream, [(now, f"e{i}") for i in range(10_000)])
    events = get(logs, group, stream, startFromHead=True)["events"]
    assert messages(events) == [f"e{i}" for i in range(10_000)]

    code, message, status = error_of(
        raw_logs.put_log_events, logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": now, "message": "m"}] * 10_001)
    assert (code, status) == ("InvalidParameterException", 400)
    assert re.fullmatch(
        r"1 validation error detected: Value '\[.*\]' at 'logEvents' failed to satisfy constraint: "
        r"Member must have length less than or equal to 10000", message, re.DOTALL)
    assert len(get(logs, group, stream, startFromHead=True)["events"]) == 10_000


def test_empty_batch(raw_logs, group, stream):
    assert error_of(raw_logs.put_log_events, logGroupName=group, logStreamName=stream, logEvents=[]) == (
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
        400,
    )


def test_empty_messages_and_missing_timestamp(raw_logs, group, stream):
    now = now_ms()
    assert error_of(raw_logs.put_log_events, logGroupName=group, logStreamName=stream, logEvents=[
        {"timestamp": now, "message": ""}, {"timestamp": now, "message": "fine"},
        {"timestamp": now, "message": ""}]) == (
        "InvalidParameterException",
        "2 validation errors detected: Value '' at 'logEvents.1.member.message' failed to satisfy "
        "constraint: Member must have length greater than or equal to 1; Value '' at "
        "'logEvents.3.member.message' failed to satisfy constraint: Member must have length "
        "greater than or equal to 1",
        400,
    )
    assert error_of(raw_logs.put_log_events, logGroupName=group, logStreamName=stream,
                    logEvents=[{"message": "no timestamp"}]) == (
        "InvalidParameterException",
        "1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to "
        "satisfy constraint: Member must not be null",
        400,
    )


def test_batch_spanning_exactly_24_hours_is_accepted(logs, group, stream):
    now = now_ms()
    response = put(logs, group, stream, [(now - DAY_MS, "a day ago"), (now, "now")])
    assert "rejectedLogEventsInfo" not in response
    assert messages(read_forward(logs, group, stream)) == ["a day ago", "now"]


def test_batch_spanning_more_than_24_hours_is_rejected(logs, group, stream):
    now = now_ms()
    assert error_of(put, logs=logs, group=group, stream=stream,
                    events=[(now - DAY_MS - 1, "a day and a millisecond ago"), (now, "now")]) == (
        "InvalidParameterException",
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        400,
    )
    assert get(logs, group, stream)["events"] == []


def test_too_old_and_too_new_events_are_rejected_the_rest_stored(logs, group, stream):
    now = now_ms()
    batch = [
        (now - 15 * DAY_MS, "15 days old"),
        (now - 14 * DAY_MS - 10 * 60_000, "14 days and 10 minutes old"),
        (now - 14 * DAY_MS + 10 * 60_000, "just under 14 days old"),
        (now, "now"),
        (now + 2 * HOUR_MS - 10 * 60_000, "just under 2 hours ahead"),
        (now + 2 * HOUR_MS + 10 * 60_000, "2 hours and 10 minutes ahead"),
        (now + DAY_MS, "a day ahead"),
    ]
    # Sent in two batches: together the accepted events would span 14 days, breaking the
    # 24-hour rule. First the old side, then the new side.
    response = put(logs, group, stream, batch[:3])
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    response = put(logs, group, stream, batch[3:])
    assert response["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 2}
    assert messages(read_forward(logs, group, stream)) == [
        "just under 14 days old", "now", "just under 2 hours ahead"]


def test_span_rule_counts_only_the_accepted_events(logs, group, stream):
    now = now_ms()
    response = put(logs, group, stream, [(now - 20 * DAY_MS, "too old"), (now - HOUR_MS, "ok"),
                                         (now, "ok too"), (now + 5 * DAY_MS, "too new")])
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3}
    assert messages(read_forward(logs, group, stream)) == ["ok", "ok too"]


def test_all_events_rejected_is_still_a_success(logs, group, stream):
    now = now_ms()
    response = put(logs, group, stream, [(now - 30 * DAY_MS, "old"), (now - 29 * DAY_MS, "old too")])
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    assert "nextSequenceToken" in response
    assert get(logs, group, stream)["events"] == []


def test_too_old_expired_and_too_new_together(logs, group, stream):
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    response = put(logs, group, stream, [
        (now - 15 * DAY_MS, "too old"), (now - 2 * DAY_MS, "expired"), (now - HOUR_MS, "kept"),
        (now + 3 * HOUR_MS, "too new")])
    assert response["rejectedLogEventsInfo"] == {
        "tooOldLogEventEndIndex": 1, "expiredLogEventEndIndex": 2, "tooNewLogEventStartIndex": 3}
    assert messages(read_forward(logs, group, stream)) == ["kept"]


def test_put_to_missing_group_or_stream(logs, group, unique):
    event = [(now_ms(), "x")]
    assert error_of(put, logs=logs, group=f"/missing/{unique}", stream="s", events=event) == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)
    assert error_of(put, logs=logs, group=group, stream="invalid-stream", events=event) == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400)


# -- GetLogEvents ------------------------------------------------------------------------------


@pytest.fixture
def ten(logs, group, stream) -> int:
    """Ten events e0..e9 one millisecond apart; returns the first timestamp."""
    start = now_ms() - 1000
    put(logs, group, stream, [(start + i, f"e{i}") for i in range(10)])
    return start


def test_default_reads_the_latest_events_first(logs, group, stream, ten):
    page = get(logs, group, stream, limit=3)
    assert messages(page["events"]) == ["e7", "e8", "e9"]  # the newest, oldest first

    seen, token = [messages(page["events"])], page["nextBackwardToken"]
    while True:
        page = get(logs, group, stream, limit=3, nextToken=token)
        if page["nextBackwardToken"] == token:
            assert page["events"] == []
            break
        seen.insert(0, messages(page["events"]))
        token = page["nextBackwardToken"]
    assert seen == [["e0"], ["e1", "e2", "e3"], ["e4", "e5", "e6"], ["e7", "e8", "e9"]]
    # At the head, the same token keeps coming back.
    assert get(logs, group, stream, limit=3, nextToken=token)["nextBackwardToken"] == token


def test_start_from_head_pages_forward_and_the_end_token_repeats(logs, group, stream, ten):
    pages, token = [], None
    while True:
        args = {"nextToken": token} if token else {}
        page = get(logs, group, stream, startFromHead=True, limit=4, **args)
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        pages.append(messages(page["events"]))
        token = page["nextForwardToken"]
    assert pages == [["e0", "e1", "e2", "e3"], ["e4", "e5", "e6", "e7"], ["e8", "e9"]]
    again = get(logs, group, stream, startFromHead=True, nextToken=token)
    assert again["events"] == [] and again["nextForwardToken"] == token


def test_tokens_are_never_null_and_look_like_aws_tokens(logs, group, stream, ten):
    for kwargs in ({}, {"startFromHead": True}, {"startTime": 0, "endTime": 1}):
        page = get(logs, group, stream, **kwargs)
        assert re.fullmatch(r"f/\d{56}/s", page["nextForwardToken"])
        assert re.fullmatch(r"b/\d{56}/s", page["nextBackwardToken"])


def test_backward_token_of_a_forward_page(logs, group, stream, ten):
    first = get(logs, group, stream, startFromHead=True, limit=4)
    second = get(logs, group, stream, startFromHead=True, limit=4, nextToken=first["nextForwardToken"])
    assert messages(second["events"]) == ["e4", "e5", "e6", "e7"]
    back = get(logs, group, stream, limit=2, nextToken=second["nextBackwardToken"])
    assert messages(back["events"]) == ["e2", "e3"]
    forward_again = get(logs, group, stream, startFromHead=True, limit=3,
                        nextToken=back["nextForwardToken"])
    assert messages(forward_again["events"]) == ["e4", "e5", "e6"]


def test_start_time_is_inclusive_end_time_exclusive(logs, group, stream, ten):
    window = {"startTime": ten + 3, "endTime": ten + 7}
    assert messages(get(logs, group, stream, startFromHead=True, **window)["events"]) == [
        "e3", "e4", "e5", "e6"]
    assert messages(get(logs, group, stream, **window)["events"]) == ["e3", "e4", "e5", "e6"]
    assert messages(get(logs, group, stream, limit=2, **window)["events"]) == ["e5", "e6"]
    assert messages(get(logs, group, stream, startFromHead=True, startTime=ten + 8)["events"]) == [
        "e8", "e9"]
    assert messages(get(logs, group, stream, endTime=ten + 2)["events"]) == ["e0", "e1"]
    assert get(logs, group, stream, startTime=ten + 5, endTime=ten + 5)["events"] == []


def test_window_is_kept_while_paging(logs, group, stream, ten):
    window = {"startTime": ten + 2, "endTime": ten + 8}
    events = read_forward(logs, group, stream, limit=2, **window)
    assert messages(events) == ["e2", "e3", "e4", "e5", "e6", "e7"]


def test_saved_forward_token_returns_events_appended_later(logs, group, stream, ten):
    end = read_forward(logs, group, stream)
    assert len(end) == 10
    token = get(logs, group, stream, startFromHead=True, startTime=ten + 9)["nextForwardToken"]
    assert get(logs, group, stream, startFromHead=True, nextToken=token)["events"] == []

    # Appended later, one of them at the same millisecond as the last event read.
    put(logs, group, stream, [(ten + 9, "same millisecond as e9"), (ten + 20, "later")])
    page = get(logs, group, stream, startFromHead=True, nextToken=token)
    assert messages(page["events"]) == ["same millisecond as e9", "later"]
    end_token = page["nextForwardToken"]
    assert get(logs, group, stream, startFromHead=True, nextToken=end_token)["nextForwardToken"] == end_token


def test_forward_token_from_a_tail_read_of_an_empty_stream(logs, group, stream):
    # Read the newest events of a stream that has none yet, keep its forward token, and follow it
    # once events arrive: nothing may be lost.
    token = get(logs, group, stream)["nextForwardToken"]
    assert get(logs, group, stream, startFromHead=True, nextToken=token)["events"] == []
    now = now_ms()
    put(logs, group, stream, [(now - 5000, "arrived later"), (now, "and another")])
    assert messages(get(logs, group, stream, startFromHead=True, nextToken=token)["events"]) == [
        "arrived later", "and another"]


def test_forward_token_from_a_tail_read_follows_new_events(logs, group, stream, ten):
    page = get(logs, group, stream, limit=2)
    assert messages(page["events"]) == ["e8", "e9"]
    put(logs, group, stream, [(ten + 50, "new")])
    follow = get(logs, group, stream, startFromHead=True, nextToken=page["nextForwardToken"])
    assert messages(follow["events"]) == ["new"]


def test_equal_timestamps_paged_one_at_a_time(logs, group, stream):
    now = now_ms()
    put(logs, group, stream, [(now, f"same-{i}") for i in range(5)])
    forward = read_forward(logs, group, stream, limit=1)
    assert messages(forward) == [f"same-{i}" for i in range(5)]

    backward, token = [], None
    for _ in range(10):
        args = {"nextToken": token} if token else {}
        page = get(logs, group, stream, limit=1, **args)
        if token is not None and page["nextBackwardToken"] == token:
            break
        backward = messages(page["events"]) + backward
        token = page["nextBackwardToken"]
    assert backward == [f"same-{i}" for i in range(5)]


def test_response_is_capped_at_one_mib(logs, group, stream):
    now = now_ms()
    body = "x" * 1000
    for batch in range(2):
        put(logs, group, stream, [(now - 2000 + batch * 1000 + i, f"{batch}-{i:03d}-{body}")
                                  for i in range(700)])
    expected = [f"{b}-{i:03d}-{body}" for b in range(2) for i in range(700)]

    for kwargs in ({"startFromHead": True}, {"startFromHead": True, "limit": 10_000}, {}):
        page = get(logs, group, stream, **kwargs)
        size = sum(len(e["message"].encode()) + 26 for e in page["events"])
        assert 0 < len(page["events"]) < 1400
        assert size <= MIB
        assert size > MIB - 1100  # and it is as full as it can be
    head = messages(get(logs, group, stream, startFromHead=True)["events"])
    tail = messages(get(logs, group, stream)["events"])
    assert head == expected[: len(head)]
    assert tail == expected[-len(tail):]
    assert messages(read_forward(logs, group, stream)) == expected


@pytest.mark.parametrize("limit, constraint", [
    (10_001, "Member must have value less than or equal to 10000"),
    (0, "Member must have value greater than or equal to 1"),
])
def test_limit_out_of_range(raw_logs, group, stream, limit, constraint):
    assert error_of(raw_logs.get_log_events, logGroupName=group, logStreamName=stream, limit=limit) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: {constraint}",
        400,
    )


def test_negative_start_time(raw_logs, group, stream):
    assert error_of(raw_logs.get_log_events, logGroupName=group, logStreamName=stream,
                    startTime=-6795364578871) == (
        "InvalidParameterException",
        "1 validation error detected: Value '-6795364578871' at 'startTime' failed to satisfy "
        "constraint: Member must have value greater than or equal to 0",
        400,
    )


@pytest.mark.parametrize("token", [
    "invalid-token",
    "f/00000000000000000000000000000000000000000000000000000000/s",
    "x/12345678901234567890123456789012345678901234567890123456/s",
])
def test_invalid_token(logs, group, stream, ten, token):
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName=stream, nextToken=token) == INVALID_TOKEN


def test_tampered_token(logs, group, stream, ten):
    token = get(logs, group, stream, startFromHead=True, limit=2)["nextForwardToken"]
    digits = token[2:-2]
    tampered = f"f/{digits[:19]}{(int(digits[19]) + 1) % 10}{digits[20:]}/s"
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName=stream,
                    nextToken=tampered) == INVALID_TOKEN


def test_group_by_identifier(logs, group, stream, ten):
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    for identifier in (group, arn):
        events = logs.get_log_events(logGroupIdentifier=identifier, logStreamName=stream)["events"]
        assert len(events) == 10
    assert error_of(logs.get_log_events, logGroupName=group, logGroupIdentifier=arn,
                    logStreamName=stream) == (
        "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.", 400)


def test_get_from_missing_group_or_stream(logs, group, unique):
    assert error_of(logs.get_log_events, logGroupName=f"/missing/{unique}", logStreamName="s") == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)
    assert error_of(logs.get_log_events, logGroupName=group, logStreamName="missing") == (
        "ResourceNotFoundException", "The specified log stream does not exist.", 400)


# -- the SageMaker SDK's tail loops (reference §11), replayed with boto3 ---------------------------


class SdkV2Tail:
    """SageMaker Python SDK v2 (`Session.logs_for_job` → `_flush_log_streams`,
    `sagemaker.logs.multi_stream_iter`, `sagemaker.logs.log_stream`), call for call: list the
    job's streams (re-issuing the same request *without* the token while one is returned), then
    per stream call GetLogEvents with startTime = last timestamp seen and startFromHead=True
    until a page comes back empty, skipping the events already printed at that timestamp."""

    CALL_BUDGET = 200  # a server that never ends a loop fails the test instead of hanging it

    def __init__(self, logs, group: str, job: str, instance_count: int) -> None:
        self.logs, self.group, self.job, self.instance_count = logs, group, job, instance_count
        self.stream_names: list[str] = []
        self.positions: dict[str, tuple[int, int]] = {}  # stream -> (timestamp, skip)
        self.calls = 0

    def _call(self, method, **kwargs):
        self.calls += 1
        assert self.calls < self.CALL_BUDGET, "the SDK v2 loop would never end"
        return method(**kwargs)

    def poll(self) -> list[str]:
        if len(self.stream_names) < self.instance_count:
            listing = dict(logGroupName=self.group, logStreamNamePrefix=self.job + "/",
                           orderBy="LogStreamName")
            try:
                response = self._call(self.logs.describe_log_streams,
                                      limit=min(self.instance_count, 50), **listing)
                self.stream_names = [s["logStreamName"] for s in response["logStreams"]]
                while "nextToken" in response:
                    response = self._call(self.logs.describe_log_streams, limit=50, **listing)
                    self.stream_names += [s["logStreamName"] for s in response["logStreams"]]
                for name in self.stream_names:
                    self.positions.setdefault(name, (0, 0))
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
        printed = []
        for index, event in self._merged():
            printed.append(event["message"])
            name = self.stream_names[index]
            timestamp, skip = self.positions[name]
            self.positions[name] = ((timestamp, skip + 1) if event["timestamp"] == timestamp
                                    else (event["timestamp"], 1))
        return printed

    def _merged(self):
        iterators = [self._stream(n, *self.positions[n]) for n in self.stream_names]
        heads = [next(it, None) for it in iterators]
        while any(h is not None for h in heads):
            index = min((i for i, h in enumerate(heads) if h is not None),
                        key=lambda i: heads[i]["timestamp"])
            yield index, heads[index]
            heads[index] = next(iterators[index], None)

    def _stream(self, name: str, start_time: int, skip: int):
        token, count = None, 1
        while count > 0:
            args = {"nextToken": token} if token is not None else {}
            response = self._call(self.logs.get_log_events, logGroupName=self.group,
                                  logStreamName=name, startTime=start_time, startFromHead=True, **args)
            token = response["nextForwardToken"]
            events = response["events"]
            count = len(events)
            if count > skip:
                events, skip = events[skip:], 0
            else:
                events, skip = [], skip - count
            yield from events


def test_sdk_v2_tail_loop(logs, unique):
    group, job = f"/aws/sagemaker/TrainingJobs-{unique}", "train-job"
    tail = SdkV2Tail(logs, group, job, instance_count=2)
    assert tail.poll() == []  # no log group yet: ResourceNotFoundException is swallowed

    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}/algo-1-1700000000")
    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}-other/algo-1-1700000000")
    t = now_ms() - 60_000
    put(logs, group, f"{job}/algo-1-1700000000", [(t, "1: a"), (t + 10, "1: b"), (t + 10, "1: c")])
    put(logs, group, f"{job}-other/algo-1-1700000000", [(t, "another job")])
    assert tail.poll() == ["1: a", "1: b", "1: c"]
    assert tail.stream_names == [f"{job}/algo-1-1700000000"]

    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}/algo-2-1700000000")
    put(logs, group, f"{job}/algo-2-1700000000", [(t + 5, "2: a"), (t + 20, "2: b")])
    # Same millisecond as the last event already printed from algo-1.
    put(logs, group, f"{job}/algo-1-1700000000", [(t + 10, "1: d"), (t + 30, "1: e")])
    calls_before = tail.calls
    assert tail.poll() == ["2: a", "1: d", "2: b", "1: e"]
    assert tail.stream_names == [f"{job}/algo-1-1700000000", f"{job}/algo-2-1700000000"]
    assert tail.calls - calls_before <= 10

    assert tail.poll() == []  # the extra poll after the job ends: nothing new, and it terminates
    put(logs, group, f"{job}/algo-2-1700000000", [(t + 30, "2: c")])
    assert tail.poll() == ["2: c"]


def test_sdk_v2_stream_listing_terminates_with_more_streams_than_instances(logs, group):
    # Transform jobs also have '<job>/<instance>/data-log' streams under the same prefix.
    for name in ("job/i-1-1", "job/i-1-1/data-log", "job/i-2-1"):
        logs.create_log_stream(logGroupName=group, logStreamName=name)
        put(logs, group, name, [(now_ms(), name)])
    tail = SdkV2Tail(logs, group, "job", instance_count=2)
    printed = tail.poll()
    assert set(printed) == {"job/i-1-1", "job/i-1-1/data-log", "job/i-2-1"}


class SdkV3Tail:
    """sagemaker-core's MultiLogStreamHandler / LogStreamHandler: list the streams following
    nextToken until there are as many as instances, then per stream keep the last
    nextForwardToken across polls and call GetLogEvents(startFromHead=True, nextToken=saved) until
    a page has no events."""

    def __init__(self, logs, group: str, job: str, expected: int) -> None:
        self.logs, self.group, self.job, self.expected = logs, group, job, expected
        self.streams: list[str] = []
        self.tokens: dict[str, str] = {}
        self.calls = 0

    def ready(self) -> bool:
        if len(self.streams) >= self.expected:
            return True
        try:
            names, token = [], None
            while True:
                args = {"nextToken": token} if token else {}
                response = self.logs.describe_log_streams(
                    logGroupName=self.group, logStreamNamePrefix=self.job + "/",
                    orderBy="LogStreamName", **args)
                names += [s["logStreamName"] for s in response["logStreams"]]
                token = response.get("nextToken")
                if not token:
                    break
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return False
            raise
        if len(names) >= self.expected:
            self.streams = names
            return True
        return False

    def poll(self) -> list[str]:
        if not self.ready():
            return []
        printed = []
        for name in self.streams:
            while True:
                self.calls += 1
                assert self.calls < 200, "the SDK v3 loop would never end"
                args = {"nextToken": self.tokens[name]} if name in self.tokens else {}
                response = self.logs.get_log_events(logGroupName=self.group, logStreamName=name,
                                                    startFromHead=True, **args)
                self.tokens[name] = response["nextForwardToken"]
                if not response["events"]:
                    break
                printed += [e["message"] for e in response["events"]]
        return printed


def test_sdk_v3_saved_token_loop(logs, unique):
    group, job = f"/aws/sagemaker/TrainingJobs-{unique}", "job-v3"
    tail = SdkV3Tail(logs, group, job, expected=2)
    assert tail.poll() == []  # no group yet

    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}/algo-1-1")
    assert tail.poll() == []  # one stream of two: not ready
    logs.create_log_stream(logGroupName=group, logStreamName=f"{job}/algo-2-1")
    assert tail.poll() == []  # ready, nothing written yet

    t = now_ms() - 60_000
    put(logs, group, f"{job}/algo-1-1", [(t + i, f"1-{i}") for i in range(3)])
    put(logs, group, f"{job}/algo-2-1", [(t + i, f"2-{i}") for i in range(2)])
    assert tail.poll() == ["1-0", "1-1", "1-2", "2-0", "2-1"]
    assert tail.poll() == []

    put(logs, group, f"{job}/algo-1-1", [(t + 2, "1-2 again"), (t + 100, "1-later")])
    put(logs, group, f"{job}/algo-2-1", [(t + 200, "2-later")])
    assert tail.poll() == ["1-2 again", "1-later", "2-later"]
    assert tail.poll() == []


def test_sdk_v3_loop_over_many_pages(logs, group, stream):
    t = now_ms() - 60_000
    for batch in range(3):
        put(logs, group, stream, [(t + batch, f"{batch}-{i}") for i in range(4000)])
    tail = SdkV3Tail(logs, group, "job", expected=1)
    printed = tail.poll()
    assert printed == [f"{b}-{i}" for b in range(3) for i in range(4000)]
    assert tail.calls == 3  # 10,000 + 2,000 + the empty page
