"""Crash safety: kill -9 the server while PutLogEvents writers are busy, right after an
acknowledgement, then restart it on the same data directory. Every acknowledged event must be
there exactly once and in order; a batch that was in flight at the kill is either all there or not
there at all; the derived numbers (storedBytes, last event time) agree with the events."""

from __future__ import annotations

import threading

from ..server import make_client
from ..server import ServerProcess
from .helpers import now_ms, read_forward

BATCH = 40          # events per PutLogEvents call
KILL_AFTER = 60     # acknowledged batches (all writers together) before the kill
OWN_WRITERS = 4     # each writes to a stream of its own
SHARED_WRITERS = 2  # both write to one shared stream


def batch_messages(writer: int, index: int) -> list[str]:
    return [f"w{writer}-b{index:04d}-e{j:02d}" for j in range(BATCH)]


class Writer(threading.Thread):
    def __init__(self, endpoint: str, group: str, stream: str, number: int, base: int,
                 on_ack) -> None:
        super().__init__(daemon=True)
        self.client = make_client("logs", endpoint, connect_timeout=5, read_timeout=30)
        self.group, self.stream, self.number, self.base = group, stream, number, base
        self.on_ack = on_ack
        self.acknowledged = 0  # batches 0 .. acknowledged-1 were answered 200
        self.failure: Exception | None = None

    def run(self) -> None:
        index = 0
        while True:
            events = [{"timestamp": self.base + index, "message": m}
                      for m in batch_messages(self.number, index)]
            try:
                response = self.client.put_log_events(
                    logGroupName=self.group, logStreamName=self.stream, logEvents=events)
            except Exception as error:  # the server is gone: this batch was in flight
                self.failure = error
                return
            assert "rejectedLogEventsInfo" not in response
            self.acknowledged = index + 1
            index += 1
            if not self.on_ack():
                return


def test_acknowledged_events_survive_kill_9(tmp_path):
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    group = "/durability/test"
    base = now_ms() - 3_600_000
    try:
        setup = make_client("logs", server.endpoint)
        setup.create_log_group(logGroupName=group)
        own = [f"own-{i}" for i in range(OWN_WRITERS)]
        for name in own + ["shared"]:
            setup.create_log_stream(logGroupName=group, logStreamName=name)

        lock = threading.Lock()
        acks = {"count": 0}
        enough = threading.Event()

        def on_ack() -> bool:
            with lock:
                acks["count"] += 1
                if acks["count"] >= KILL_AFTER:
                    enough.set()
            return True  # keep writing until the server dies

        writers = [Writer(server.endpoint, group, own[i], i, base, on_ack) for i in range(OWN_WRITERS)]
        writers += [Writer(server.endpoint, group, "shared", OWN_WRITERS + i, base, on_ack)
                    for i in range(SHARED_WRITERS)]
        for writer in writers:
            writer.start()
        assert enough.wait(60), "writers did not get enough acknowledgements"
        server.kill()  # SIGKILL, right after the KILL_AFTER-th acknowledgement
        for writer in writers:
            writer.join(60)
            assert not writer.is_alive()
            assert writer.failure is not None  # every writer was cut off mid-stream
    finally:
        server.stop()

    assert sum(w.acknowledged for w in writers) >= KILL_AFTER

    restarted = ServerProcess(data).start()
    try:
        logs = make_client("logs", restarted.endpoint)
        stored = {name: [e["message"] for e in read_forward(logs, group, name)] for name in own + ["shared"]}

        for writer in writers:
            stream = stored[writer.stream]
            mine = [m for m in stream if m.startswith(f"w{writer.number}-")]
            acknowledged = [m for i in range(writer.acknowledged) for m in batch_messages(writer.number, i)]
            in_flight = batch_messages(writer.number, writer.acknowledged)
            # Every acknowledged event exactly once, in order; the one batch in flight at the
            # kill is wholly there or wholly absent; nothing else.
            assert mine in (acknowledged, acknowledged + in_flight), (
                f"writer {writer.number}: {len(mine)} events stored, "
                f"{len(acknowledged)} acknowledged")

        # Derived numbers were written in the same transactions as the events.
        total_bytes = sum(len(m) + 26 for messages in stored.values() for m in messages)
        described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]
        assert described["storedBytes"] == total_bytes
        streams = {s["logStreamName"]: s for s in logs.describe_log_streams(logGroupName=group)["logStreams"]}
        for name, messages in stored.items():
            last_batch = max(int(m.split("-b")[1][:4]) for m in messages)
            assert streams[name]["firstEventTimestamp"] == base
            assert streams[name]["lastEventTimestamp"] == base + last_batch

        # The restarted server goes on: a new batch lands after everything, ids do not collide.
        logs.put_log_events(logGroupName=group, logStreamName="shared",
                            logEvents=[{"timestamp": base + 10_000, "message": "after restart"}])
        after = [e["message"] for e in read_forward(logs, group, "shared")]
        assert after == stored["shared"] + ["after restart"]
        events = logs.filter_log_events(logGroupName=group, logStreamNames=["shared"])["events"]
        assert len({e["eventId"] for e in events}) == len(after)
    finally:
        restarted.stop()
