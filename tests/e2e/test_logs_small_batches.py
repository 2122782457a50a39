"""A job's log stream written as hundreds of tiny PutLogEvents batches (as sagewatch's agent ships
them), then merged in the store: every read through boto3 answers exactly as before the merge,
and every token handed out before it resumes at the same event.

The merge runs on the server's own database file from this test process (a second SQLite writer,
as a second node would be; the server's own merge duty may run too), while the server keeps serving: the server learns of it only by
finding the blocks it lists changed, which is the hard case for its reads and its block cache.
"""

from __future__ import annotations

import time

from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.logs import SQLiteLogStore

from .helpers import now_ms

BATCHES = 400
EVENTS_PER_BATCH = 5
PAGE = 37  # pages end in the middle of blocks, before and after the merge


def merge_everything(server) -> int:
    database = Database(server.data_dir / "sagewatch.db")
    try:
        store = SQLiteLogStore(database)
        merged = 0
        while done := store.merge_small_blocks(256):
            merged += done
        return merged
    finally:
        database.close()


def stream_blocks(server, group: str, stream: str) -> int:
    database = Database(server.data_dir / "sagewatch.db")
    try:
        return database.execute(
            "SELECT COUNT(*) FROM log_blocks b JOIN log_streams s ON s.id = b.stream_id "
            "JOIN log_groups g ON g.id = s.group_id WHERE g.name = ? AND s.name = ?",
            (group, stream)).fetchone()[0]
    finally:
        database.close()


def write_tiny_batches(logs, group: str, stream: str, start: int, first_line: int, batches: int) -> None:
    line = first_line
    for batch in range(batches):
        events = []
        for _ in range(EVENTS_PER_BATCH):
            kind = ("train", "val", "WARN")[line % 3]
            events.append({"timestamp": start + line // 2, "message": f"epoch {line // 50} {kind} loss={1 / (line + 1):.6f}"})
            line += 1
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def pages(logs, group: str, stream: str, forward: bool) -> list[tuple[str, list]]:
    """Every page of the stream in one direction: (the token that asked for it, its events)."""
    kwargs = {"logGroupName": group, "logStreamName": stream, "limit": PAGE, "startFromHead": forward}
    token, out = None, []
    while True:
        response = logs.get_log_events(**kwargs)
        out.append((token, response["events"]))
        following = response["nextForwardToken" if forward else "nextBackwardToken"]
        if following == token:
            return out
        token = kwargs["nextToken"] = following


def filter_pages(logs, group: str, pattern: str) -> list[tuple[str | None, list]]:
    kwargs = {"logGroupName": group, "filterPattern": pattern, "limit": PAGE}
    out = []
    while True:
        response = logs.filter_log_events(**kwargs)
        out.append((kwargs.get("nextToken"), response["events"]))
        if "nextToken" not in response:
            return out
        kwargs["nextToken"] = response["nextToken"]


def test_reads_and_saved_tokens_are_the_same_after_merging(server, logs, group, stream):
    start = now_ms() - 600_000
    write_tiny_batches(logs, group, stream, start, 0, BATCHES)
    stored = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"]
    forward, backward = pages(logs, group, stream, True), pages(logs, group, stream, False)
    filtered = filter_pages(logs, group, "WARN")
    # A reader at the end of the stream, as an SDK tailing the job holds it.
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                               nextToken=forward[-1][0])["nextForwardToken"]
    assert sum(len(events) for _, events in forward) == BATCHES * EVENTS_PER_BATCH

    # The server's own merge duty (every 10 s) may be merging too: a merge that finds its blocks
    # merged by the other writer leaves them, so merge until the stream is down to its final
    # blocks (2,000 events: one block, or two at most).
    deadline = time.monotonic() + 30
    while merge_everything(server) or stream_blocks(server, group, stream) > 2:
        assert time.monotonic() < deadline, stream_blocks(server, group, stream)
        time.sleep(0.05)

    # Every saved token, in both directions, reads the same page as before.
    for token, events in forward[1:] + backward[1:]:
        direction = token[0] == "f"
        again = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=PAGE,
                                    nextToken=token, startFromHead=direction)
        assert again["events"] == events, token
    assert pages(logs, group, stream, True) == forward
    assert pages(logs, group, stream, False) == backward
    for token, events in filtered[1:]:
        again = logs.filter_log_events(logGroupName=group, filterPattern="WARN", limit=PAGE,
                                       nextToken=token)
        assert again["events"] == events  # eventId included: ids survive the merge
    assert filter_pages(logs, group, "WARN") == filtered
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == stored

    # The job goes on printing; the tailing reader gets exactly the new lines, merged or not.
    write_tiny_batches(logs, group, stream, start, BATCHES * EVENTS_PER_BATCH, 40)
    merge_everything(server)
    write_tiny_batches(logs, group, stream, start, (BATCHES + 40) * EVENTS_PER_BATCH, 10)
    new = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True,
                              nextToken=tail)["events"]
    assert len(new) == 50 * EVENTS_PER_BATCH
    assert [e["message"] for e in new] == [
        e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream,
                                                  startFromHead=False, limit=len(new))["events"]]
    assert stream_blocks(server, group, stream) <= 12


def test_deleting_a_merged_stream_frees_its_bytes(server, logs, group, stream):
    write_tiny_batches(logs, group, stream, now_ms() - 60_000, 0, 50)
    logs.create_log_stream(logGroupName=group, logStreamName="job/algo-2")
    write_tiny_batches(logs, group, "job/algo-2", now_ms() - 60_000, 0, 50)
    merge_everything(server)
    one_stream = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] // 2
    logs.delete_log_stream(logGroupName=group, logStreamName=stream)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["storedBytes"] == one_stream
    assert stream_blocks(server, group, stream) == 0
    events = logs.filter_log_events(logGroupName=group)["events"]
    assert {e["logStreamName"] for e in events} == {"job/algo-2"} and len(events) == 250
