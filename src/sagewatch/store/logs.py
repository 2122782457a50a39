"""The log store interface: what CloudWatch Logs needs from a database, and nothing more.

Two backends implement each store interface: SQLite (embedded default) and PostgreSQL (shared by several server
nodes). Methods speak in plain values and small records; no SQL, no HTTP, no AWS errors cross
this line. Every write method returns only after the change is durable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import Conflict, Gone  # noqa: F401  (raised by create_* and append methods)


@dataclass(slots=True)
class LogGroup:
    id: int
    name: str
    creation_time: int  # ms since epoch
    retention_days: int | None
    kms_key_id: str | None
    log_group_class: str
    deletion_protection: bool
    stored_bytes: int


@dataclass(slots=True)
class LogStream:
    id: int
    group_id: int
    name: str
    creation_time: int
    first_event_timestamp: int | None
    last_event_timestamp: int | None
    last_ingestion_time: int | None


# One stored log event: (timestamp, event id, stream id, ingestion time, message). The event id
# is assigned at ingestion, increases with it, and breaks timestamp ties in every ordering.
from .log_blocks import EventRow  # noqa: E402

# A necessary condition on an event's message that the store may evaluate before returning rows:
# ("substr", text) | ("and", [conditions]) | ("or", [conditions]).
Prefilter = tuple


class LogStore:
    """What CloudWatch Logs needs; see sqlite/logs.py for the embedded implementation."""

    # -- log groups -----------------------------------------------------------------------------
    def create_log_group(
        self, name: str, creation_time: int, *, kms_key_id: str | None, log_group_class: str,
        deletion_protection: bool, tags: dict[str, str] | None, arn: str,
    ) -> LogGroup: ...
    def get_log_group(self, name: str) -> LogGroup | None: ...
    def list_log_groups(
        self, *, prefix: str | None, contains: str | None, log_group_class: str | None,
        after: str | None, limit: int,
    ) -> list[LogGroup]: ...
    def delete_log_group(self, group: LogGroup, arn: str) -> None: ...
    def set_retention(self, group_id: int, days: int | None) -> None: ...
    def expire_events(self, group_id: int, older_than: int) -> int: ...
    def log_groups_with_retention(self) -> list[LogGroup]: ...

    # -- log streams ----------------------------------------------------------------------------
    def create_log_stream(self, group_id: int, name: str, creation_time: int) -> LogStream:
        """Raises Conflict if the name is taken, Gone if the group was deleted meanwhile."""
    def get_log_stream(self, group_id: int, name: str) -> LogStream | None: ...
    def list_log_streams(
        self, group_id: int, *, prefix: str | None, order_by_last_event: bool, descending: bool,
        after: tuple | None, limit: int,
    ) -> list[LogStream]: ...
    def delete_log_stream(self, stream: LogStream) -> None: ...

    # -- log events -----------------------------------------------------------------------------
    def append_log_events(
        self, stream: LogStream, timestamps: Sequence[int], messages: Sequence[bytes],
        ingestion_time: int, stored_bytes: int,
    ) -> None:
        """Store one batch (chronological, UTF-8 messages) as it was accepted; raises Gone if
        the stream was deleted meanwhile."""
    def read_stream(
        self, stream_id: int, *, start: tuple[int, int], end: tuple[int, int], forward: bool,
        limit: int,
    ) -> list[EventRow]: ...
    def scan_group(
        self, group_id: int, *, stream_ids: Sequence[int] | None, low: tuple[int, int],
        high: tuple[int, int], descending: bool, prefilter: Prefilter | None, batch: int,
    ) -> Iterator[EventRow]:
        """Events of a group with low <= (timestamp, id) < high, in (timestamp, id) order, that
        satisfy the prefilter (a superset of what the caller wants; it filters exactly)."""

    # -- upkeep -----------------------------------------------------------------------------------
    def merge_small_blocks(self, budget: int = 4096) -> int:
        """Merge small adjacent blocks of a stream into larger ones, examining at most
        ``budget`` candidates; returns how many blocks were merged away (0: nothing to do).
        Event ids, timestamps, ingestion times, tokens and storedBytes are unchanged."""
