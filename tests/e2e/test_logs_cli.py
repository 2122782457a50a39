"""The real aws CLI (`aws logs ...`, from this virtualenv) against the server: every operation
once, the CLI's own pagination (it follows nextToken by itself), and how errors reach the user.
Setup that is not itself under test goes through boto3, which is much faster than the CLI."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from .helpers import now_ms, put

ARN_PREFIX = "arn:aws:logs:us-east-1:000000000000:log-group:"


def parallel(aws, *commands: tuple[str, ...]) -> list:
    """Independent CLI commands at once (each CLI start costs a few hundred milliseconds)."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda command: aws.json(*command), commands))


def test_group_lifecycle_retention_and_tags(aws, logs, unique):
    name = f"/cli/{unique}"
    arn = ARN_PREFIX + name
    assert aws.json("logs", "create-log-group", "--log-group-name", name, "--tags", "team=ml,env=test") is None

    groups = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", name)["logGroups"]
    assert [(g["logGroupName"], g["arn"], g["storedBytes"]) for g in groups] == [(name, arn + ":*", 0)]
    assert "retentionInDays" not in groups[0]

    assert parallel(
        aws,
        ("logs", "put-retention-policy", "--log-group-name", name, "--retention-in-days", "14"),
        ("logs", "tag-log-group", "--log-group-name", name, "--tags", "stage=beta"),
        ("logs", "tag-resource", "--resource-arn", arn, "--tags", "owner=me"),
    ) == [None, None, None]
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]["retentionInDays"] == 14
    everything = {"team": "ml", "env": "test", "stage": "beta", "owner": "me"}
    by_name, by_arn = parallel(aws, ("logs", "list-tags-log-group", "--log-group-name", name),
                               ("logs", "list-tags-for-resource", "--resource-arn", arn))
    assert by_name == by_arn == {"tags": everything}

    parallel(
        aws,
        ("logs", "delete-retention-policy", "--log-group-name", name),
        ("logs", "untag-log-group", "--log-group-name", name, "--tags", "env", "stage"),
        ("logs", "untag-resource", "--resource-arn", arn, "--tag-keys", "team"),
    )
    assert "retentionInDays" not in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"][0]
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"owner": "me"}

    aws("logs", "delete-log-group", "--log-group-name", name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_streams_and_events(aws, logs, unique):
    name = f"/cli/{unique}"
    logs.create_log_group(logGroupName=name)
    aws("logs", "create-log-stream", "--log-group-name", name, "--log-stream-name", "job/algo-1")
    aws("logs", "create-log-stream", "--log-group-name", name, "--log-stream-name", "job/algo-2")
    now = now_ms()
    put(logs, name, "job/algo-2", [(now - 10_000, "from algo-2")])

    events = [{"timestamp": now - 3000 + i, "message": f"line {i}, with spaces"} for i in range(3)]
    events.append({"timestamp": now + 3 * 3_600_000, "message": "too new"})
    response = aws.json("logs", "put-log-events", "--log-group-name", name, "--log-stream-name",
                        "job/algo-1", "--log-events", json.dumps(events))
    assert response["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 3}
    assert "nextSequenceToken" in response

    streams = aws.json("logs", "describe-log-streams", "--log-group-name", name,
                       "--order-by", "LastEventTime", "--descending")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["job/algo-1", "job/algo-2"]
    assert streams[0]["firstEventTimestamp"] == now - 3000
    assert streams[0]["lastEventTimestamp"] == now - 2998

    page = aws.json("logs", "get-log-events", "--log-group-name", name, "--log-stream-name",
                    "job/algo-1", "--start-from-head", "--limit", "2")
    assert [e["message"] for e in page["events"]] == ["line 0, with spaces", "line 1, with spaces"]
    rest = aws.json("logs", "get-log-events", "--log-group-name", name, "--log-stream-name",
                    "job/algo-1", "--start-from-head", "--next-token", page["nextForwardToken"])
    assert [e["message"] for e in rest["events"]] == ["line 2, with spaces"]

    found = aws.json("logs", "filter-log-events", "--log-group-name", name,
                     "--filter-pattern", "?algo ?line", "--start-time", str(now - 10_000),
                     "--end-time", str(now - 2999))
    assert [(e["logStreamName"], e["message"]) for e in found["events"]] == [
        ("job/algo-2", "from algo-2"), ("job/algo-1", "line 0, with spaces"),
        ("job/algo-1", "line 1, with spaces")]

    aws("logs", "delete-log-stream", "--log-group-name", name, "--log-stream-name", "job/algo-2")
    assert [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=name)["logStreams"]] == [
        "job/algo-1"]


def test_cli_follows_next_token_by_itself(aws, logs, unique):
    prefix = f"/cli/{unique}/"
    names = [f"{prefix}{i}" for i in range(5)]
    for name in names:
        logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=names[0], logStreamName="s")
    put(logs, names[0], "s", [(now_ms() - 100 + i, f"event {i}") for i in range(10)])

    everything = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", prefix,
                          "--page-size", "2")
    assert [g["logGroupName"] for g in everything["logGroups"]] == names
    assert "nextToken" not in everything and "NextToken" not in everything

    first = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", prefix,
                     "--page-size", "2", "--max-items", "3")
    assert [g["logGroupName"] for g in first["logGroups"]] == names[:3]
    rest = aws.json("logs", "describe-log-groups", "--log-group-name-prefix", prefix,
                    "--page-size", "2", "--starting-token", first["NextToken"])
    assert [g["logGroupName"] for g in rest["logGroups"]] == names[3:]

    events = aws.json("logs", "filter-log-events", "--log-group-name", names[0], "--page-size", "3")
    assert [e["message"] for e in events["events"]] == [f"event {i}" for i in range(10)]


def test_errors_reach_the_user(aws, logs, unique):
    name = f"/cli/{unique}"
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    now = now_ms()
    cases = [
        (("logs", "delete-log-group", "--log-group-name", f"{name}/missing"),
         "An error occurred (ResourceNotFoundException) when calling the DeleteLogGroup operation: "
         "The specified log group does not exist."),
        (("logs", "create-log-group", "--log-group-name", name),
         "An error occurred (ResourceAlreadyExistsException) when calling the CreateLogGroup "
         "operation: The specified log group already exists"),
        (("logs", "put-log-events", "--log-group-name", name, "--log-stream-name", "s", "--log-events",
          json.dumps([{"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}])),
         "An error occurred (InvalidParameterException) when calling the PutLogEvents operation: "
         "Log events in a single PutLogEvents request must be in chronological order."),
        (("logs", "get-log-events", "--log-group-name", name, "--log-stream-name", "s",
          "--next-token", "invalid-token"),
         "An error occurred (InvalidParameterException) when calling the GetLogEvents operation: "
         "The specified nextToken is invalid."),
    ]
    with ThreadPoolExecutor(len(cases)) as pool:
        results = list(pool.map(lambda case: aws(*case[0], check=False), cases))
    for (_, expected), result in zip(cases, results):
        assert result.returncode != 0, result  # 255 from CLI v1, 254 from v2
        assert result.stderr.strip() == expected
        assert result.stdout == ""
