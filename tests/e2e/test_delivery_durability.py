"""The outbox across kill -9: a process queues deliveries and carries some out, is killed with
SIGKILL in the middle, and a new queue on the same database file finishes the work.

What must hold (services/delivery.py): every acknowledged enqueue is still there; a delivery
whose handler reported it delivered is never sent again; one whose handler was under way at the
kill is sent again after the restart (at-least-once, the documented duplicate); one not yet due
keeps its due time. The end-to-end kill -9 of a server delivering SNS notifications over HTTP is
in the SNS delivery tests; this one owns the queue's own guarantees, on a real process and file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sagewatch.services.delivery import Delivered, DeliveryQueue
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.outbox import SQLiteOutboxStore

DONE, HUNG, LATER = 5, 5, 5  # delivered before the kill, under way at it, not yet due

# The process that is killed. Its handler records each send in `sent` (fsynced, as a receiving
# endpoint would have it) and then either answers Delivered or hangs, as a send whose answer never
# came back before the crash. Once those are in that state it queues batches for ever, printing
# each batch's ids once the batch is acknowledged (committed and the log fsynced, as the gateway
# acknowledges a request).
CHILD = r"""
import os, sys, threading, time
from sagewatch.services.delivery import Delivered, DeliveryQueue
from sagewatch.store.outbox import NewDelivery
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.outbox import SQLiteOutboxStore

path, sent_path, done, hung, later = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
database = Database(path)
store = SQLiteOutboxStore(database)
sent = os.open(sent_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
lock = threading.Lock()
hanging = threading.Semaphore(0)

def acknowledged(ids):
    database.wal_sync.wait(database.wal_sync.last_commit_of_this_thread()).result()
    print(" ".join(map(str, ids)), flush=True)

def handler(delivery):
    with lock:
        os.write(sent, f"{delivery.id}\n".encode())
        os.fsync(sent)
    if delivery.payload["hang"]:
        hanging.release()
        threading.Event().wait()
    return Delivered()

queue = DeliveryQueue(store, workers=hung + 1)
queue.register("test", handler)
queue.start()
items = [NewDelivery("test", "arn:done", {"hang": False}) for _ in range(done)]
items += [NewDelivery("test", "arn:hung", {"hang": True}) for _ in range(hung)]
items += [NewDelivery("test", "arn:later", {"hang": False}, due=time.time() + 3600) for _ in range(later)]
acknowledged(queue.enqueue(items))
for _ in range(hung):
    hanging.acquire()
while store.pending("arn:done"):
    time.sleep(0.01)
print("ready", flush=True)
while True:
    acknowledged(queue.enqueue([NewDelivery("test", "arn:more", {"hang": False}, due=time.time() + 3600)
                                for _ in range(20)]))
"""


def sent_ids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()]


def test_deliveries_survive_kill_9_and_only_unfinished_ones_are_sent_again(tmp_path):
    database_path, sent_path = tmp_path / "sagewatch.db", tmp_path / "sent"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(database_path), str(sent_path), str(DONE), str(HUNG), str(LATER)],
        stdout=subprocess.PIPE, text=True,
    )
    watchdog = threading.Timer(120, child.kill)  # a child that hangs fails the test, not the run
    watchdog.start()
    try:
        first = [int(n) for n in child.stdout.readline().split()]
        assert len(first) == DONE + HUNG + LATER, "the child did not start"
        assert child.stdout.readline() == "ready\n"
        acknowledged = []
        while len(acknowledged) < 200:  # enqueues keep coming when the kill lands
            acknowledged += [int(n) for n in child.stdout.readline().split()]
        os.kill(child.pid, signal.SIGKILL)
        acknowledged += [int(n) for line in child.stdout.read().splitlines() for n in line.split()]
    finally:
        watchdog.cancel()
        child.kill()
        child.wait()
    done, hung, later = first[:DONE], first[DONE:DONE + HUNG], first[DONE + HUNG:]
    before_the_kill = sent_ids(sent_path)
    assert sorted(before_the_kill) == sorted(done + hung)

    database = Database(database_path)
    try:
        store = SQLiteOutboxStore(database)
        assert store.pending("arn:done") == 0
        assert store.pending("arn:hung") == HUNG and store.pending("arn:later") == LATER
        assert store.pending("arn:more") >= len(acknowledged)  # and any batch the kill caught
        assert store.next_due() > time.time() + 3000  # the hung ones are still claimed
        delivered_again = []
        queue = DeliveryQueue(store)
        queue.register("test", lambda d: delivered_again.append(d.id) or Delivered())
        queue.start()  # releases the dead process's claims
        try:
            assert queue.settle(timeout=60)
        finally:
            queue.stop()
        assert sorted(delivered_again) == sorted(hung)
        assert store.pending() == LATER + store.pending("arn:more")
        waiting = {d.id for d in store.claim_due(time.time() + 7200, limit=10_000)}
        assert set(later) | set(acknowledged) <= waiting
        assert store.failures() == []
    finally:
        database.close()
