"""The embedded database: one SQLite file in WAL mode, shared by the per-service stores.

Durability: every write method of the stores commits before it returns, and in WAL mode a
commit survives a crash of the process (kill -9). To survive a power cut as well, the gateway
acknowledges a request that wrote only once the write-ahead log has been fsynced after its
commit; one fsync serves every request waiting (group commit, ``durability.py``). A
transaction that was not committed is rolled back on the next open.

Concurrency: readers each use their own connection (one per thread), which WAL lets run beside
the writer; writes go through one lock, since SQLite allows one writer at a time anyway and
waiting on a lock is cheaper than retrying on SQLITE_BUSY.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ..migrations import migration_files, split_statements
from .durability import WalSync


class Database:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.wal_sync = WalSync(self.path)
        self._migrate()

    @property
    def connection(self) -> sqlite3.Connection:
        """This thread's connection (for reads, and inside ``write()``)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # and group commit: see durability.py
            connection.execute("PRAGMA busy_timeout=30000")
            # The log is copied into the database by ``checkpoint()``, a background duty, rather
            # than by whichever commit happens to cross SQLite's 1,000-page mark (a request that
            # then waits for the copy and two fsyncs). This is only the backstop.
            connection.execute("PRAGMA wal_autocheckpoint=16384")
            connection.execute("PRAGMA cache_size=-32000")  # 32 MB per connection
            # Reads map the file instead of copying pages through read(): scanning log blocks
            # (FilterLogEvents over a million events) is ~25 % faster. Writes are unaffected.
            connection.execute("PRAGMA mmap_size=1073741824")
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection

    def execute(self, sql: str, args=()) -> sqlite3.Cursor:
        return self.connection.execute(sql, args)

    def write(self) -> "_WriteTransaction":
        """A transaction on this thread's connection, holding the write lock; commits on exit."""
        return _WriteTransaction(self.connection, self._write_lock, self.wal_sync)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database (SQLite syncs both), without blocking
        writers; they go on appending to the log meanwhile."""
        self.connection.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        self.wal_sync.stop()
        with self._connections_lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()

    def _migrate(self) -> None:
        with self.write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            for version, sql in migration_files(__package__):
                if version > current:
                    for statement in split_statements(sql):
                        db.execute(statement)
                    db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))


class _WriteTransaction:
    def __init__(self, db: sqlite3.Connection, lock: threading.Lock, wal_sync: WalSync) -> None:
        self.db = db
        self.lock = lock
        self.wal_sync = wal_sync

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self.db.execute("COMMIT")
                self.wal_sync.committed()
            else:
                self.db.execute("ROLLBACK")
        finally:
            self.lock.release()
