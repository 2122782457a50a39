"""A reference model of what AWS CloudWatch Logs returns: groups, streams, events, retention, tags.

The model is deliberately naive — dicts and lists, every read a full scan and a sort — so that it
is obviously right; a model-based test drives a real server and this model with the same calls
and compares their answers (tests/e2e/test_logs_model.py).

Every rule here is AWS's, cited beside it: the project's AWS behaviour reference
(aws-behaviour.md, cited as "§6.x") or the botocore model's documentation (botocore:logs:<Shape>). Where AWS leaves a choice open — how full a page is, where a token
points, whether expired events linger — the model takes sagewatch's documented choice
(docs/ARCHITECTURE.md, "Log events") and says so, so that a test can compare exact answers.

Positions. A GetLogEvents or FilterLogEvents token is a cursor between events. The model spells
a position as a key ``(timestamp, sequence)``: the events at or after it are those whose own key
``(timestamp, ingestion sequence)`` is ``>=`` it. Events are ordered by timestamp, then by
ingestion (§6.5: "Ordered by event timestamp, then ingestion time, then PutLogEvents request
id"); the model's sequence numbers follow ingestion, as sagewatch's event ids do.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# §6.2: events more than 2 hours in the future, or older than 14 days, are rejected.
TOO_NEW_MS = 2 * HOUR_MS
TOO_OLD_MS = 14 * DAY_MS
# §6.3 / §6.5: a page holds at most 10,000 events (and 1 MB, which the tests' events never near).
MAX_PAGE_EVENTS = 10_000

Position = tuple[int, int]
START: Position = (0, 0)
END: Position = (2**63 - 1, 0)


class ModelError(Exception):
    """The error AWS answers: its code and message (None where no source gives the message)."""

    def __init__(self, code: str, message: str | None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


# §6.1, from AWS-recorded snapshots.
def group_not_found() -> ModelError:
    return ModelError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_not_found() -> ModelError:
    return ModelError("ResourceNotFoundException", "The specified log stream does not exist.")


def group_exists() -> ModelError:
    return ModelError("ResourceAlreadyExistsException", "The specified log group already exists")


def stream_exists() -> ModelError:
    return ModelError("ResourceAlreadyExistsException", "The specified log stream already exists")


def resource_not_found() -> ModelError:
    # TagResource & co. on a missing log group: the code is ResourceNotFoundException; no source
    # we have records the message, so it is left unchecked.
    return ModelError("ResourceNotFoundException", None)


def invalid_token() -> ModelError:
    # §6.3: "Invalid token → InvalidParameterException 'The specified nextToken is invalid.'"
    return ModelError("InvalidParameterException", "The specified nextToken is invalid.")


@dataclass(frozen=True)
class Event:
    timestamp: int
    sequence: int  # ingestion order
    message: str
    stream: str

    @property
    def key(self) -> Position:
        return (self.timestamp, self.sequence)

    @property
    def after(self) -> Position:
        """The position just past this event."""
        return (self.timestamp, self.sequence + 1)


@dataclass
class Stream:
    name: str
    life: int  # which incarnation: a stream deleted and re-created under its name is a new life
    events: list[Event] = field(default_factory=list)  # in key order
    first_event_timestamp: int | None = None
    # Some events expired. Once events expire, what AWS reports as firstEventTimestamp is not
    # documented (deletion is lazy, §6.1), so the test stops asserting it for this stream.
    lost_events: bool = False


@dataclass
class Group:
    name: str
    life: int
    retention_days: int | None = None
    streams: dict[str, Stream] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EventPage:
    """One GetLogEvents answer: the events (ascending) and where each returned token points."""

    events: list[Event]
    forward: Position
    backward: Position
    # "If you have reached the end of the stream, it returns the same token you passed in" (§6.3):
    # the direction ('f' or 'b') whose returned token must be the one passed in, if any.
    echoes: str | None


@dataclass(frozen=True)
class FilterPage:
    """One FilterLogEvents answer: the events, whether more follow, and where the next starts."""

    events: list[Event]
    more: bool
    resume: Position


def matches_term(term: str | None, message: str) -> bool:
    """A plain filter term (§6.6): case-sensitive; an empty or absent pattern matches all. Whether a
    term matches inside a longer word is unconfirmed (§6.6), so tests use whole words only."""
    return not term or term in message.split()


class LogsModel:
    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self._sequence = itertools.count(1)
        self._lives = itertools.count(1)

    # -- lookups ----------------------------------------------------------------------------------

    def group(self, name: str) -> Group:
        try:
            return self.groups[name]
        except KeyError:
            raise group_not_found() from None

    def stream(self, group_name: str, stream_name: str) -> Stream:
        group = self.group(group_name)
        try:
            return group.streams[stream_name]
        except KeyError:
            raise stream_not_found() from None

    @staticmethod
    def retention_cutoff(group: Group, now: int) -> int:
        """Events older than this are past the group's retention (0: no retention)."""
        return max(now - group.retention_days * DAY_MS, 0) if group.retention_days else 0

    # -- log groups -------------------------------------------------------------------------------

    def create_log_group(self, name: str, tags: dict[str, str] | None = None) -> Group:
        if name in self.groups:
            raise group_exists()
        group = self.groups[name] = Group(name, next(self._lives), tags=dict(tags or {}))
        return group

    def delete_log_group(self, name: str) -> None:
        # botocore:logs:DeleteLogGroup: "permanently deletes all the archived log events"; its
        # tags go with it (a group re-created under the name starts untagged).
        self.group(name)
        del self.groups[name]

    def describe_log_groups(self, prefix: str = "") -> list[Group]:
        # botocore:logs:DescribeLogGroups: "The results are ASCII-sorted by log group name."
        return [self.groups[n] for n in sorted(self.groups) if n.startswith(prefix)]

    def put_retention_policy(self, name: str, days: int, now: int) -> None:
        """Events past the new retention vanish at once. AWS deletes them lazily ("typically takes
        up to 72 hours", §6.1) but never returns them to reads in sagewatch's reading of it
        (ARCHITECTURE.md: "reads never return events past the retention period"); sagewatch drops
        them for good, so they stay gone if the policy is deleted, and so does the model."""
        group = self.group(name)
        group.retention_days = days
        cutoff = self.retention_cutoff(group, now)
        for stream in group.streams.values():
            kept = [e for e in stream.events if e.timestamp >= cutoff]
            if len(kept) != len(stream.events):
                stream.events = kept
                stream.lost_events = True

    def delete_retention_policy(self, name: str) -> None:
        # §6.1: never-expire is DeleteRetentionPolicy; DescribeLogGroups then has no retentionInDays.
        self.group(name).retention_days = None

    # -- tags (TagResource / UntagResource / ListTagsForResource on the group's ARN) ---------------

    def _tagged(self, name: str) -> Group:
        if name not in self.groups:
            raise resource_not_found()
        return self.groups[name]

    def tag_resource(self, name: str, tags: dict[str, str]) -> None:
        # botocore:logs:TagResource: a new key is appended, an existing key's value replaced.
        self._tagged(name).tags.update(tags)

    def untag_resource(self, name: str, keys: list[str]) -> None:
        tags = self._tagged(name).tags
        for key in keys:
            tags.pop(key, None)

    def list_tags_for_resource(self, name: str) -> dict[str, str]:
        return dict(self._tagged(name).tags)

    # -- log streams ------------------------------------------------------------------------------

    def create_log_stream(self, group_name: str, stream_name: str) -> Stream:
        group = self.group(group_name)
        if stream_name in group.streams:
            raise stream_exists()
        stream = group.streams[stream_name] = Stream(stream_name, next(self._lives))
        return stream

    def delete_log_stream(self, group_name: str, stream_name: str) -> None:
        # botocore:logs:DeleteLogStream: "permanently deletes all the archived log events".
        self.stream(group_name, stream_name)
        del self.groups[group_name].streams[stream_name]

    def describe_log_streams(self, group_name: str, prefix: str = "",
                             descending: bool = False) -> list[Stream]:
        # §6.4: ordered by LogStreamName by default, `descending` reverses it.
        group = self.group(group_name)
        names = sorted((n for n in group.streams if n.startswith(prefix)), reverse=descending)
        return [group.streams[n] for n in names]

    # -- log events -------------------------------------------------------------------------------

    def put_log_events(self, group_name: str, stream_name: str, events: list[tuple[int, str]],
                       now: int) -> dict[str, int]:
        """Store the acceptable events of a chronological batch; return rejectedLogEventsInfo
        (empty when nothing was rejected). §6.2: events more than 2 hours in the future, older than
        14 days or older than the retention period are rejected "while processing remaining valid
        events"; tooNewLogEventStartIndex is inclusive, the two end indexes exclusive."""
        group = self.group(group_name)
        stream = self.stream(group_name, stream_name)
        timestamps = [t for t, _ in events]
        assert timestamps == sorted(timestamps), "the model takes chronological batches only"

        too_new_from = len(events)
        while too_new_from > 0 and timestamps[too_new_from - 1] > now + TOO_NEW_MS:
            too_new_from -= 1
        too_old_until = 0
        while too_old_until < too_new_from and timestamps[too_old_until] < now - TOO_OLD_MS:
            too_old_until += 1
        expired_until = too_old_until
        cutoff = self.retention_cutoff(group, now)
        while expired_until < too_new_from and timestamps[expired_until] < cutoff:
            expired_until += 1

        for timestamp, message in events[expired_until:too_new_from]:
            stream.events.append(Event(timestamp, next(self._sequence), message, stream_name))
            if stream.first_event_timestamp is None or timestamp < stream.first_event_timestamp:
                stream.first_event_timestamp = timestamp
        stream.events.sort(key=lambda e: e.key)

        rejected = {}
        if too_new_from < len(events):
            rejected["tooNewLogEventStartIndex"] = too_new_from
        if too_old_until > 0:
            rejected["tooOldLogEventEndIndex"] = too_old_until
        if expired_until > too_old_until:
            rejected["expiredLogEventEndIndex"] = expired_until
        return rejected

    def get_log_events(self, group_name: str, stream_name: str, *, now: int,
                       token: tuple[str, Position] | None = None, start_from_head: bool = False,
                       limit: int = MAX_PAGE_EVENTS) -> EventPage:
        """One GetLogEvents page (§6.3). Without a token, startFromHead=false reads the latest
        events and true the earliest; a token ('f' or 'b', position) reads on from where it points,
        in its own direction.

        AWS allows partial and empty pages; sagewatch fills every page up to the limit, and its
        tokens are positions: forward, just past the last event returned; backward, at the first
        one (ARCHITECTURE.md, "Log events"). The model computes those exact pages. An empty page
        echoes the token passed in (§6.3). A first read from the tail that finds nothing points
        its forward token at the start of the window, so events that arrive later are read (§11.2:
        "a nextForwardToken must be a resumable cursor")."""
        group = self.group(group_name)
        stream = self.stream(group_name, stream_name)
        low: Position = (self.retention_cutoff(group, now), 0)
        if token is not None:
            direction, position = token
            forward = direction == "f"
        else:
            forward = start_from_head
            position = low if forward else END

        if forward:
            start = max(position, low)
            events = [e for e in stream.events if e.key >= start][:limit]
        else:
            events = [e for e in stream.events if low <= e.key < position][-limit:]

        if events:
            return EventPage(events, events[-1].after, events[0].key, None)
        forward_position = position if (forward or token is not None) else low
        echoes = ("f" if forward else "b") if token is not None else None
        return EventPage([], forward_position, position, echoes)

    def filter_log_events(self, group_name: str, *, now: int, stream_names: list[str] | None = None,
                          term: str | None = None, start: Position = START,
                          limit: int = MAX_PAGE_EVENTS) -> FilterPage:
        """One FilterLogEvents page (§6.5), from the position ``start`` on: the matching events of
        the group (or of the named streams; names that do not exist select nothing), in key order.
        sagewatch fills each page up to the limit and its token is the position past the last event
        returned (ARCHITECTURE.md, "Log events"); AWS allows partial pages."""
        group = self.group(group_name)
        low = max(start, (self.retention_cutoff(group, now), 0))
        selected = [s for n, s in group.streams.items() if stream_names is None or n in stream_names]
        events = sorted(
            (e for s in selected for e in s.events if e.key >= low and matches_term(term, e.message)),
            key=lambda e: e.key,
        )
        page = events[:limit]
        return FilterPage(page, len(events) > limit, page[-1].after if page else start)
