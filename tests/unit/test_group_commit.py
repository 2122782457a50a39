"""Group commit (store/sqlite/durability.py) over a real SQLite database in a temporary folder.

A write is acknowledged once the write-ahead log has been fsynced after its commit: the wait
for a commit must not end before such an fsync, one fsync serves every commit made before it
began, and a failed fsync must reach every writer waiting on it.
"""

from __future__ import annotations

import os
import threading

import pytest

from sagewatch.store.sqlite.database import Database


@pytest.fixture
def database(tmp_path):
    db = Database(tmp_path / "sagewatch.sqlite3")
    yield db
    db.close()


def _write(db: Database, value: int) -> int:
    with db.write() as connection:
        connection.execute("INSERT INTO schema_version (version) VALUES (?)", (value,))
    return db.wal_sync.last_commit_of_this_thread()


def test_commits_are_numbered_in_order_per_thread(database):
    first = _write(database, 100)
    second = _write(database, 101)
    assert second == first + 1
    seen = []
    thread = threading.Thread(target=lambda: seen.append((database.wal_sync.last_commit_of_this_thread(),
                                                          _write(database, 102))))
    thread.start()
    thread.join()
    assert seen == [(0, second + 1)]  # another thread has its own last commit


def test_a_wait_ends_only_after_an_fsync_of_the_log_that_covers_the_commit(database, monkeypatch):
    fsynced_at: list[int] = []  # the newest commit number when each fsync ran
    real_fsync = os.fsync

    def recording_fsync(fd):
        fsynced_at.append(database.wal_sync._committed)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    commits = [_write(database, 200 + i) for i in range(5)]
    futures = [database.wal_sync.wait(n) for n in commits]
    for future in futures:
        future.result(timeout=10)
    assert fsynced_at and max(fsynced_at) >= commits[-1]
    assert len([n for n in fsynced_at if n]) <= len(commits)  # shared, never more than one each
    # Already on disk: answered at once, without another fsync.
    before = len(fsynced_at)
    assert database.wal_sync.wait(commits[0]).done()
    assert len(fsynced_at) == before


def test_a_failed_fsync_reaches_every_waiting_writer(database, monkeypatch):
    commit = _write(database, 300)

    def failing_fsync(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        database.wal_sync.wait(commit).result(timeout=10)
