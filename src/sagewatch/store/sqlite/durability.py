"""Group commit: commits are made durable by one fsync of the write-ahead log, shared.

With ``synchronous=FULL`` SQLite fsyncs the log inside every COMMIT, so each write request
paid a whole fsync, holding the write lock and (for requests answered on the event loop) the
loop itself. Instead, connections run with ``synchronous=NORMAL`` (in WAL mode a commit is
written to the log, in order, and survives a crash of the process; SQLite still syncs the log
before each checkpoint and the database after it), and the gateway acknowledges a write only
once an fsync of the log that began after its commit has finished. One fsync then covers every
commit made before it started, however many requests wait on it.

Commits are numbered. ``WalSync.wait(n)`` is a future that completes once commit ``n`` is on
disk; a syncer thread, started on the first wait, runs the fsyncs.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future


class WalSync:
    def __init__(self, database_path: str) -> None:
        self.wal_path = database_path + "-wal"
        self._directory = os.path.dirname(os.path.abspath(database_path))
        self._condition = threading.Condition()
        self._committed = 0  # number of the newest commit
        self._synced = 0  # every commit up to this number is on disk
        self._waiting: list[tuple[int, Future]] = []
        self._local = threading.local()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._wal_fd: int | None = None

    def committed(self) -> None:
        """Record a commit (called under the write lock, so numbers follow commit order)."""
        with self._condition:
            self._committed += 1
            self._local.last = self._committed

    def last_commit_of_this_thread(self) -> int:
        """The number of the newest commit this thread made (0: none yet)."""
        return getattr(self._local, "last", 0)

    def wait(self, number: int) -> Future:
        """A future that completes once commit ``number`` (and every one before it) is on disk."""
        future: Future = Future()
        with self._condition:
            if number <= self._synced:
                future.set_result(None)
                return future
            self._waiting.append((number, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sagewatch-wal-sync", daemon=True)
                self._thread.start()
            self._condition.notify()
        return future

    def stop(self) -> None:
        """Finish the fsyncs already asked for, then stop the syncer thread."""
        with self._condition:
            self._stopping = True
            thread, self._thread = self._thread, None
            self._condition.notify()
        if thread is not None:
            thread.join()
        if self._wal_fd is not None:
            os.close(self._wal_fd)
            self._wal_fd = None
        self._stopping = False

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._waiting and not self._stopping:
                    self._condition.wait()
                if not self._waiting:
                    return
                target = self._committed  # this fsync covers every commit made so far
            error: OSError | None = None
            try:
                self._fsync_log()
            except OSError as failure:  # the disk refused: the waiting writes must not be acknowledged
                error = failure
            with self._condition:
                if error is None:
                    self._synced = max(self._synced, target)
                done, still = [], []
                for waiter in self._waiting:
                    (done if error is not None or waiter[0] <= self._synced else still).append(waiter)
                self._waiting = still
            for _, future in done:
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    def _fsync_log(self) -> None:
        if self._wal_fd is not None and os.fstat(self._wal_fd).st_ino != os.stat(self.wal_path).st_ino:
            os.close(self._wal_fd)  # SQLite made a new log file: sync that one
            self._wal_fd = None
        if self._wal_fd is None:
            self._wal_fd = os.open(self.wal_path, os.O_RDONLY)
            # The log itself must be findable after a power cut: sync its directory once.
            directory = os.open(self._directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        os.fsync(self._wal_fd)
