"""Amazon CloudWatch Logs: log groups, log streams, log events.

One method per operation of the API reference, in its order of concepts: groups, retention,
tags, streams, events. Inputs arrive validated against the botocore model (types, lengths,
ranges, enums, patterns); this module adds the rules the model cannot express.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from ... import arns
from ...clock import SYSTEM_CLOCK
from ...store import Conflict, Gone
from ...store.logs import LogGroup, LogStore, LogStream
from ...store.tags import TagStore
from .. import tagging
from ..base import Service
from ..errors import AWSError, Failure, coral_path, serialization_error, validation_message
from . import tokens
from .filter_pattern import FilterPatternError, compile_pattern

RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)
MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_RESPONSE_BYTES = 1_048_576
MAX_EVENTS_PER_PAGE = 10_000
MAX_NAME_LENGTH = 512
MAX_EVENT_BYTES = 1_048_576
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
TOO_NEW_MS = 2 * HOUR_MS
TOO_OLD_MS = 14 * DAY_MS
MAX_BATCH_SPAN_MS = DAY_MS
LATEST_FIRST_SINCE_MS = 1_704_067_200_000  # FilterLogEvents startFromHead=false: 2024-01-01
MAX_EVENTS_PER_BATCH = 10_000  # PutLogEvents: "The maximum number of log events in a batch is 10,000"

log = logging.getLogger(__name__)

#: ``listener(group_name, stream_name, events)``: events are (timestamp ms, message) in the order
#: stored, called after they are durable in the store's transaction (a listener that reads the
#: stream finds them).
IngestListener = Callable[[str, str, list[tuple[int, str]]], None]


def utf8_length(text: str) -> int:
    """Bytes of ``text`` in UTF-8 (AWS's sizes count bytes); cheap for ASCII, the usual case."""
    return len(text) if text.isascii() else len(text.encode())


def invalid_parameter(message: str) -> AWSError:
    return AWSError("InvalidParameterException", message)


def group_not_found() -> AWSError:
    return AWSError("ResourceNotFoundException", "The specified log group does not exist.")


def stream_not_found() -> AWSError:
    return AWSError("ResourceNotFoundException", "The specified log stream does not exist.")


def invalid_token() -> AWSError:
    return invalid_parameter("The specified nextToken is invalid.")


class LogsService(Service):
    model_name = "logs"

    def __init__(
        self, store: LogStore, tags: TagStore, *, region: str, account_id: str,
        clock: Callable[[], int] = SYSTEM_CLOCK.now_ms,
    ):
        self.store = store
        self.tags = tags
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self._ingest_listeners: list[IngestListener] = []

    def add_ingest_listener(self, listener: IngestListener) -> None:
        """Be told of every batch of events stored, by PutLogEvents or by ``append_events``
        (SageMaker applies a training job's MetricDefinitions to its log lines this way). A
        listener that raises is logged; the write it was told of stands and is answered."""
        self._ingest_listeners.append(listener)

    def _ingested(self, group_name: str, stream_name: str, events: list[tuple[int, str]]) -> None:
        for listener in self._ingest_listeners:
            try:
                listener(group_name, stream_name, events)
            except Exception:
                log.exception("log ingest listener %r failed on %s %s", listener, group_name, stream_name)

    def invalid_input(self, failures: list[Failure]) -> AWSError:
        if any(f.is_type_error for f in failures):
            return serialization_error(None)
        # A log group or stream name over 512 characters gets its own message, not the generic
        # constraint text (AWS-recorded snapshot, localstack test_logs_groups.snapshot.json).
        if any(coral_path(f.path) in ("logGroupName", "logStreamName")
               and f.constraint == f"Member must have length less than or equal to {MAX_NAME_LENGTH}"
               for f in failures):
            return invalid_parameter(
                f"Invalid LogGroup or LogStream, both must have length less than or equal to "
                f"{MAX_NAME_LENGTH}."
            )
        return invalid_parameter(validation_message(failures))

    # -- names and ARNs -------------------------------------------------------------------------

    def group_arn(self, name: str) -> str:
        return arns.build("logs", f"{GROUP_RESOURCE}{name}", self.region, self.account_id)

    def stream_arn(self, group_name: str, stream_name: str) -> str:
        return f"{self.group_arn(group_name)}:log-stream:{stream_name}"

    def _group(self, name: str) -> LogGroup:
        group = self.store.get_log_group(name)
        if group is None:
            raise group_not_found()
        return group

    def _group_from(self, logGroupName: str | None, logGroupIdentifier: str | None) -> LogGroup:
        """The group named by name or by identifier (a name or an ARN), never both."""
        if logGroupName is not None and logGroupIdentifier is not None:
            # ValidationException, not InvalidParameterException (AWS-recorded snapshot,
            # localstack test_logs_streams.snapshot.json).
            raise AWSError(
                "ValidationException", "LogGroup name and LogGroup ARN are mutually exclusive parameters."
            )
        if logGroupName is None and logGroupIdentifier is None:
            raise invalid_parameter("Should provide either name or ARN of the log group.")
        return self._group(logGroupName or self._name_from_identifier(logGroupIdentifier))

    def _name_from_identifier(self, identifier: str) -> str:
        """A logGroupIdentifier: a name, or the ARN of a group (of any account or Region, as
        linked accounts may name theirs; the lookup finds only ours)."""
        if identifier.startswith("arn:"):
            arn = arns.parse_or_none(identifier)
            if arn is None or arn.service != "logs" or not arn.resource.startswith(GROUP_RESOURCE):
                raise invalid_parameter(f"Invalid log group ARN: {identifier}")
            return _without_any_suffix(arn.resource[len(GROUP_RESOURCE):])
        return identifier

    def _group_from_arn(self, resource_arn: str) -> LogGroup:
        """The group a resourceArn names: a log group of this account and Region, else
        ResourceNotFoundException (the only taggable Logs resource sagewatch has)."""
        name = arns.local_resource(resource_arn, "logs", GROUP_RESOURCE, self.region, self.account_id)
        group = self.store.get_log_group(_without_any_suffix(name)) if name is not None else None
        if group is None:
            raise AWSError("ResourceNotFoundException", "The specified resource does not exist.")
        return group

    def _stream(self, group: LogGroup, name: str) -> LogStream:
        stream = self.store.get_log_stream(group.id, name)
        if stream is None:
            raise stream_not_found()
        return stream

    # -- log groups -------------------------------------------------------------------------------

    def create_log_group(
        self, logGroupName, kmsKeyId=None, tags=None, logGroupClass=None,
        deletionProtectionEnabled=None,
    ):
        if tags:
            tagging.check(tagging.LOGS, tags)
        try:
            self.store.create_log_group(
                logGroupName,
                self.clock(),
                kms_key_id=kmsKeyId,
                log_group_class=logGroupClass or "STANDARD",
                deletion_protection=bool(deletionProtectionEnabled),
                tags=tags,
                arn=self.group_arn(logGroupName),
            )
        except Conflict:
            raise AWSError(
                "ResourceAlreadyExistsException", "The specified log group already exists"
            ) from None
        return {}

    def delete_log_group(self, logGroupName):
        group = self._group(logGroupName)
        if group.deletion_protection:
            raise AWSError(
                "ValidationException",
                "Log group deletion is not allowed while deletion protection is enabled.",
            )
        self.store.delete_log_group(group, self.group_arn(group.name))
        return {}

    def describe_log_groups(
        self, logGroupNamePrefix=None, logGroupNamePattern=None, nextToken=None, limit=None,
        logGroupClass=None, logGroupIdentifiers=None, accountIdentifiers=None,
        includeLinkedAccounts=None,
    ):
        if logGroupNamePrefix is not None and logGroupNamePattern is not None:
            raise invalid_parameter(
                "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters."
            )
        after = self._page_key("log-groups", nextToken)
        limit = limit or 50
        if logGroupIdentifiers is not None:
            names = sorted({self._name_from_identifier(i) for i in logGroupIdentifiers})
            groups = [g for n in names if (after is None or n > after)
                      if (g := self.store.get_log_group(n)) is not None][: limit + 1]
        else:
            groups = self.store.list_log_groups(
                prefix=logGroupNamePrefix,
                contains=logGroupNamePattern or None,
                log_group_class=logGroupClass,
                after=after,
                limit=limit + 1,
            )
        result: dict = {"logGroups": [self._describe_group(g, brief=logGroupNamePattern is not None)
                                      for g in groups[:limit]]}
        if len(groups) > limit:
            result["nextToken"] = tokens.page_token("log-groups", groups[limit - 1].name)
        return result

    def list_log_groups(
        self, logGroupNamePattern=None, logGroupClass=None, includeLinkedAccounts=None,
        accountIdentifiers=None, nextToken=None, limit=None, dataSources=None,
        fieldIndexNames=None, logGroupTags=None,
    ):
        # There are no linked accounts here, so includeLinkedAccounts/accountIdentifiers change
        # nothing; no group has data sources or field indexes, so a filter on them leaves none
        # ("the results include log groups that satisfy all filters": ListLogGroups reference).
        if dataSources or fieldIndexNames:
            return {"logGroups": []}
        after = self._page_key("list-log-groups", nextToken)
        limit = limit or 50
        name_matches = _name_pattern(logGroupNamePattern)
        found: list[LogGroup] = []
        while len(found) <= limit:
            page = self.store.list_log_groups(prefix=None, contains=None,
                                              log_group_class=logGroupClass, after=after,
                                              limit=limit + 1)
            found += [g for g in page if name_matches(g.name) and self._tagged(g, logGroupTags)]
            if len(page) <= limit:
                break
            after = page[-1].name
        result: dict = {"logGroups": [
            {"logGroupName": g.name, "logGroupArn": self.group_arn(g.name),
             "logGroupClass": g.log_group_class}
            for g in found[:limit]
        ]}
        if len(found) > limit:
            result["nextToken"] = tokens.page_token("list-log-groups", found[limit - 1].name)
        return result

    def _tagged(self, group: LogGroup, tag_filters: list[dict] | None) -> bool:
        """Whether a group has every filter's key, with one of its values when it names any
        (filters AND together: ListLogGroups reference, logGroupTags)."""
        if not tag_filters:
            return True
        tags = self.tags.get_tags(self.group_arn(group.name))
        return all(
            f["key"] in tags and (not f.get("values") or tags[f["key"]] in f["values"])
            for f in tag_filters
        )

    def _describe_group(self, group: LogGroup, *, brief: bool = False) -> dict:
        arn = self.group_arn(group.name)
        described = {
            "logGroupName": group.name, "creationTime": group.creation_time, "metricFilterCount": 0,
            "arn": arn + ":*", "logGroupClass": group.log_group_class, "logGroupArn": arn,
        }
        if brief:
            # With a name pattern AWS leaves out storedBytes, deletionProtectionEnabled (and, per
            # its docs, more): the recorded response has exactly these six members
            # (localstack test_logs_groups.snapshot.json, test_describe_log_groups_with_pattern).
            return described
        described.update(storedBytes=group.stored_bytes,
                         deletionProtectionEnabled=group.deletion_protection)
        if group.retention_days is not None:
            described["retentionInDays"] = group.retention_days
        if group.kms_key_id:
            described["kmsKeyId"] = group.kms_key_id
        return described

    def _page_key(self, kind: str, token: str | None, shape: type | tuple[type, ...] = str):
        """The key a listing token of ``kind`` carries, of ``shape`` (see parse_page_token)."""
        if token is None:
            return None
        try:
            return tokens.parse_page_token(kind, token, shape)
        except tokens.InvalidToken:
            raise invalid_token() from None

    # -- retention --------------------------------------------------------------------------------

    def put_retention_policy(self, logGroupName, retentionInDays):
        if retentionInDays not in RETENTION_DAYS:
            failure = Failure(
                "retentionInDays", retentionInDays,
                "Member must satisfy enum value set: [" + ", ".join(map(str, RETENTION_DAYS)) + "]",
            )
            raise invalid_parameter(validation_message([failure]))
        group = self._group(logGroupName)
        self.store.set_retention(group.id, retentionInDays)
        self.store.expire_events(group.id, self.clock() - retentionInDays * DAY_MS)
        return {}

    def delete_retention_policy(self, logGroupName):
        self.store.set_retention(self._group(logGroupName).id, None)
        return {}

    def enforce_retention(self) -> int:
        """Delete events older than their group's retention (run periodically by the server)."""
        now = self.clock()
        return sum(
            self.store.expire_events(g.id, now - g.retention_days * DAY_MS)
            for g in self.store.log_groups_with_retention()
        )

    # -- tags -------------------------------------------------------------------------------------

    def tag_resource(self, resourceArn, tags):
        group = self._group_from_arn(resourceArn)
        tagging.add(tagging.LOGS, self.tags, self.group_arn(group.name), tags)
        return {}

    def untag_resource(self, resourceArn, tagKeys):
        group = self._group_from_arn(resourceArn)
        tagging.remove(tagging.LOGS, self.tags, self.group_arn(group.name), tagKeys)
        return {}

    def list_tags_for_resource(self, resourceArn):
        group = self._group_from_arn(resourceArn)
        return {"tags": self.tags.get_tags(self.group_arn(group.name))}

    def tag_log_group(self, logGroupName, tags):
        tagging.add(tagging.LOGS, self.tags, self.group_arn(self._group(logGroupName).name), tags)
        return {}

    def untag_log_group(self, logGroupName, tags):
        tagging.remove(tagging.LOGS, self.tags, self.group_arn(self._group(logGroupName).name), tags)
        return {}

    def list_tags_log_group(self, logGroupName):
        return {"tags": self.tags.get_tags(self.group_arn(self._group(logGroupName).name))}

    # -- log streams ------------------------------------------------------------------------------

    def create_log_stream(self, logGroupName, logStreamName):
        group = self._group(logGroupName)
        try:
            self.store.create_log_stream(group.id, logStreamName, self.clock())
        except Conflict:
            raise AWSError(
                "ResourceAlreadyExistsException", "The specified log stream already exists"
            ) from None
        except Gone:
            raise group_not_found() from None
        return {}

    def delete_log_stream(self, logGroupName, logStreamName):
        group = self._group(logGroupName)
        self.store.delete_log_stream(self._stream(group, logStreamName))
        return {}

    def describe_log_streams(
        self, logGroupName=None, logGroupIdentifier=None, logStreamNamePrefix=None, orderBy=None,
        descending=None, nextToken=None, limit=None,
    ):
        by_last_event = orderBy == "LastEventTime"
        if by_last_event and logStreamNamePrefix is not None:
            raise invalid_parameter(
                "Cannot order by LastEventTime with a logStreamNamePrefix."
            )
        group = self._group_from(logGroupName, logGroupIdentifier)
        kind = _of_group("log-streams-by-time" if by_last_event else "log-streams", group)
        after = self._page_key(kind, nextToken, (int, int) if by_last_event else str)
        limit = limit or 50
        streams = self.store.list_log_streams(
            group.id,
            prefix=logStreamNamePrefix,
            order_by_last_event=by_last_event,
            descending=bool(descending),
            after=after,
            limit=limit + 1,
        )
        result: dict = {"logStreams": [self._describe_stream(group, s) for s in streams[:limit]]}
        # The SageMaker SDK loops while nextToken is present: only a page with more after it
        # may carry one.
        if len(streams) > limit:
            last = streams[limit - 1]
            key = (last.last_event_timestamp or 0, last.id) if by_last_event else last.name
            result["nextToken"] = tokens.page_token(kind, key)
        return result

    def _describe_stream(self, group: LogGroup, stream: LogStream) -> dict:
        described = {
            "logStreamName": stream.name,
            "creationTime": stream.creation_time,
            "arn": self.stream_arn(group.name, stream.name),
            "storedBytes": 0,  # AWS: "no longer supported for log streams, always zero"
        }
        if stream.first_event_timestamp is not None:
            described["firstEventTimestamp"] = stream.first_event_timestamp
            described["lastEventTimestamp"] = stream.last_event_timestamp
        if stream.last_ingestion_time is not None:
            described["lastIngestionTime"] = stream.last_ingestion_time
        return described

    # -- log events -------------------------------------------------------------------------------

    def put_log_events(self, logGroupName, logStreamName, logEvents, sequenceToken=None, entity=None):
        now = self.clock()
        group = self._group(logGroupName)
        stream = self._stream(group, logStreamName)

        timestamps = [event["timestamp"] for event in logEvents]
        if any(later < earlier for earlier, later in zip(timestamps, timestamps[1:])):
            raise invalid_parameter(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        encoded = [event["message"].encode("utf-8") for event in logEvents]
        batch_bytes = 0
        for message in encoded:
            event_bytes = len(message) + EVENT_OVERHEAD_BYTES
            if event_bytes > MAX_EVENT_BYTES:
                # AWS's wording from when the limit was 256 KB ("Log event too large: 262592 bytes
                # exceeds limit of 262144"); the size counts the 26 bytes of overhead.
                raise invalid_parameter(
                    f"Log event too large: {event_bytes} bytes exceeds limit of {MAX_EVENT_BYTES}"
                )
            batch_bytes += event_bytes
        if batch_bytes > MAX_BATCH_BYTES:
            raise invalid_parameter(
                f"Upload too large: {batch_bytes} bytes exceeds limit of {MAX_BATCH_BYTES}"
            )

        # Events are in order, so the rejected ones are a prefix (too old / expired) and a
        # suffix (too new) of the batch.
        too_new_from = len(timestamps)
        while too_new_from > 0 and timestamps[too_new_from - 1] > now + TOO_NEW_MS:
            too_new_from -= 1
        too_old_until = 0
        while too_old_until < too_new_from and timestamps[too_old_until] < now - TOO_OLD_MS:
            too_old_until += 1
        expired_until = too_old_until
        if group.retention_days is not None:
            cutoff = now - group.retention_days * DAY_MS
            while expired_until < too_new_from and timestamps[expired_until] < cutoff:
                expired_until += 1

        accepted = slice(expired_until, too_new_from)
        if too_new_from > expired_until and (
            timestamps[too_new_from - 1] - timestamps[expired_until] > MAX_BATCH_SPAN_MS
        ):
            raise invalid_parameter(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
            )
        if too_new_from > expired_until:
            messages = encoded[accepted]
            stored = (
                batch_bytes if len(messages) == len(encoded)
                else sum(len(m) + EVENT_OVERHEAD_BYTES for m in messages)
            )
            try:
                self.store.append_log_events(stream, timestamps[accepted], messages, now, stored)
            except Gone:
                raise stream_not_found() from None
            if self._ingest_listeners:
                self._ingested(group.name, stream.name,
                               [(e["timestamp"], e["message"]) for e in logEvents[accepted]])

        result: dict = {"nextSequenceToken": f"{now:056d}"}
        rejected = {}
        if too_new_from < len(logEvents):
            rejected["tooNewLogEventStartIndex"] = too_new_from
        if too_old_until > 0:
            rejected["tooOldLogEventEndIndex"] = too_old_until
        if expired_until > too_old_until:
            rejected["expiredLogEventEndIndex"] = expired_until
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    def append_events(self, group_name: str, stream_name: str, events: Sequence[tuple[int, str]]) -> None:
        """Store events written by sagewatch itself (a job's own lines), creating the group and
        the stream if missing; ingest listeners are told as for PutLogEvents.

        Trusted input, so nothing is refused: events are put in chronological order and split
        into batches PutLogEvents would accept (10,000 events, 1 MB, a 24-hour span; API
        reference), and a message over the 1 MB event limit is cut to fit, as the CloudWatch
        agent truncates oversized events rather than dropping them."""
        if not events:
            return
        ordered = sorted(events, key=lambda event: event[0])  # stable: equal times keep their order
        now = self.clock()
        batch: list[tuple[int, str, bytes]] = []
        batch_bytes = 0
        for timestamp, message in ordered:
            encoded = message.encode("utf-8")
            if len(encoded) + EVENT_OVERHEAD_BYTES > MAX_EVENT_BYTES:
                encoded = encoded[:MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES]
                message = encoded.decode("utf-8", "ignore")  # no half character at the cut
                encoded = message.encode("utf-8")
            size = len(encoded) + EVENT_OVERHEAD_BYTES
            if batch and (len(batch) == MAX_EVENTS_PER_BATCH or batch_bytes + size > MAX_BATCH_BYTES
                          or timestamp - batch[0][0] > MAX_BATCH_SPAN_MS):
                self._append_batch(group_name, stream_name, batch, batch_bytes, now)
                batch, batch_bytes = [], 0
            batch.append((timestamp, message, encoded))
            batch_bytes += size
        self._append_batch(group_name, stream_name, batch, batch_bytes, now)

    def _append_batch(self, group_name: str, stream_name: str, batch: list[tuple[int, str, bytes]],
                      batch_bytes: int, now: int) -> None:
        timestamps = [event[0] for event in batch]
        messages = [event[2] for event in batch]
        for _ in range(_ATTEMPTS):
            stream = self._stream_made(group_name, stream_name, now)
            try:
                self.store.append_log_events(stream, timestamps, messages, now, batch_bytes)
                break
            except Gone:  # deleted since it was looked up: made again, as a first write makes it
                continue
        else:
            raise RuntimeError(f"log stream {group_name} {stream_name} keeps being deleted")
        if self._ingest_listeners:
            self._ingested(group_name, stream_name, [(event[0], event[1]) for event in batch])

    def _stream_made(self, group_name: str, stream_name: str, now: int) -> LogStream:
        """The stream, with its group, made if missing (a concurrent maker of either wins)."""
        for _ in range(_ATTEMPTS):
            group = self.store.get_log_group(group_name)
            if group is None:
                try:
                    group = self.store.create_log_group(
                        group_name, now, kms_key_id=None, log_group_class="STANDARD",
                        deletion_protection=False, tags=None, arn=self.group_arn(group_name),
                    )
                except Conflict:
                    continue
            stream = self.store.get_log_stream(group.id, stream_name)
            if stream is not None:
                return stream
            try:
                return self.store.create_log_stream(group.id, stream_name, now)
            except (Conflict, Gone):
                continue
        raise RuntimeError(f"log stream {group_name} {stream_name} could not be made")

    def get_log_events(
        self, logStreamName, logGroupName=None, logGroupIdentifier=None, startTime=None,
        endTime=None, nextToken=None, limit=None, startFromHead=None, unmask=None,
    ):
        group = self._group_from(logGroupName, logGroupIdentifier)
        stream = self._stream(group, logStreamName)
        limit = limit or MAX_EVENTS_PER_PAGE

        # The window: startTime inclusive, endTime exclusive, nothing past the retention period.
        low = (max(startTime or 0, self._retention_cutoff(group)), 0)
        high = (endTime, 0) if endTime is not None else (tokens.END_OF_TIME, 0)

        if nextToken is not None:
            try:
                direction, position = tokens.parse_event_token(nextToken, stream.id)
            except tokens.InvalidToken:
                raise invalid_token() from None
            forward = direction == "f"
        else:
            forward = bool(startFromHead)
            position = low if forward else high

        if forward:
            start = max(position, low)
            rows = self.store.read_stream(stream.id, start=start, end=high, forward=True, limit=limit)
            rows = _fit_response(rows)
        else:
            end = min(position, high)
            rows = self.store.read_stream(stream.id, start=low, end=end, forward=False, limit=limit)
            rows = _fit_response(rows)
            rows.reverse()

        if rows:
            first, last = rows[0], rows[-1]
            forward_token = tokens.event_token("f", (last[0], last[1] + 1), stream.id)
            backward_token = tokens.event_token("b", (first[0], first[1]), stream.id)
        else:
            # Nothing here: the same token comes back, and the other direction starts from the
            # same place. Except for a first read from the tail (no token, startFromHead false)
            # that found nothing: its forward token must see events that arrive later in the
            # window, so it starts at the window's start, not at its end.
            start_here = position if (forward or nextToken is not None) else low
            forward_token = tokens.event_token("f", start_here, stream.id)
            backward_token = tokens.event_token("b", position, stream.id)
            if nextToken is not None:
                forward_token = nextToken if forward else forward_token
                backward_token = nextToken if not forward else backward_token
        return {
            "events": [
                {"timestamp": r[0], "message": r[4], "ingestionTime": r[3]} for r in rows
            ],
            "nextForwardToken": forward_token,
            "nextBackwardToken": backward_token,
        }

    def _retention_cutoff(self, group: LogGroup) -> int:
        if group.retention_days is None:
            return 0
        return max(self.clock() - group.retention_days * DAY_MS, 0)

    def filter_log_events(
        self, logGroupName=None, logGroupIdentifier=None, logStreamNames=None,
        logStreamNamePrefix=None, startTime=None, endTime=None, filterPattern=None,
        nextToken=None, limit=None, interleaved=None, unmask=None, startFromHead=None,
    ):
        if logStreamNames is not None and logStreamNamePrefix is not None:
            raise invalid_parameter(
                "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
        group = self._group_from(logGroupName, logGroupIdentifier)
        try:
            pattern = compile_pattern(filterPattern)
        except FilterPatternError as error:
            raise invalid_parameter(error.for_operation("FilterLogEvents")) from None
        limit = limit or MAX_EVENTS_PER_PAGE

        names = self._stream_names(group)
        stream_ids = None
        if logStreamNames is not None:
            wanted = set(logStreamNames)
            stream_ids = [i for i, n in names.items() if n in wanted]
        elif logStreamNamePrefix is not None:
            stream_ids = [i for i, n in names.items() if n.startswith(logStreamNamePrefix)]
        if stream_ids == []:
            return {"events": [], "searchedLogStreams": []}

        if startFromHead is False and startTime is not None and startTime < LATEST_FIRST_SINCE_MS:
            raise invalid_parameter(
                "startFromHead=false is supported only when startTime is on or after "
                "Jan 1, 2024 00:00:00 UTC."
            )
        low = (max(startTime or 0, self._retention_cutoff(group)), 0)
        # FilterLogEvents' endTime is inclusive ("later than this time are not returned").
        high = (endTime + 1 if endTime is not None else tokens.END_OF_TIME, 0)
        descending = startFromHead is False
        if nextToken is not None:
            # The token's direction wins over startFromHead (API reference).
            direction, timestamp, event_id = self._page_key(_of_group("filter", group), nextToken,
                                                            (str, int, int))
            descending = direction == "b"
            if descending:
                high = min(high, (timestamp, event_id))
            else:
                low = max(low, (timestamp, event_id))

        events, size = [], 0
        last = None
        gone: set[int] = set()
        matches = pattern.matches
        for row in self.store.scan_group(
            group.id, stream_ids=stream_ids, low=low, high=high, descending=descending,
            prefilter=pattern.prefilter, batch=2000,
        ):
            timestamp, event_id, stream_id, ingestion_time, message = row
            if not matches(message):
                continue
            if stream_id not in names:
                # A stream created (and written) since the names were read; one deleted since
                # has no name to give, and its events are gone with it (looked up once).
                if stream_id in gone:
                    continue
                names = self._stream_names(group)
                if stream_id not in names:
                    gone.add(stream_id)
                    continue
            size += utf8_length(message) + EVENT_OVERHEAD_BYTES
            if events and size > MAX_RESPONSE_BYTES:
                break
            events.append({
                "logStreamName": names[stream_id],
                "timestamp": timestamp,
                "message": message,
                "ingestionTime": ingestion_time,
                "eventId": f"{event_id:056d}",
            })
            last = (timestamp, event_id)
            if len(events) >= limit:
                break
        else:
            last = None  # the scan reached the end: no more pages
        result: dict = {"events": events, "searchedLogStreams": []}
        if last is not None:
            # The next page starts just past the last event, in the same direction.
            resume = ["b", last[0], last[1]] if descending else ["f", last[0], last[1] + 1]
            result["nextToken"] = tokens.page_token(_of_group("filter", group), resume)
        return result

    def _stream_names(self, group: LogGroup) -> dict[int, str]:
        return {s.id: s.name for s in self._all_streams(group)}

    def _all_streams(self, group: LogGroup) -> list[LogStream]:
        streams, after = [], None
        while True:
            page = self.store.list_log_streams(
                group.id, prefix=None, order_by_last_event=False, descending=False,
                after=after, limit=10_000,
            )
            streams += page
            if len(page) < 10_000:
                return streams
            after = page[-1].name


GROUP_RESOURCE = "log-group:"  # arn:aws:logs:<region>:<account>:log-group:<name> (aws-behaviour.md §6.1)


def _without_any_suffix(name: str) -> str:
    """A group's name from its ARN's resource: DescribeLogGroups' ``arn`` ends in ``:*``
    (``logGroupArn`` does not), and either may be given back."""
    return name[:-2] if name.endswith(":*") else name


_ATTEMPTS = 5  # tries to make a stream that concurrent deletes keep removing, before giving up


def _name_pattern(pattern: str | None) -> Callable[[str], bool]:
    """ListLogGroups' logGroupNamePattern: up to five alternatives joined by ``|``, each a
    case-sensitive substring, or a prefix when it starts with ``^`` (ListLogGroups reference:
    "Use ^ to match log group names by prefix ... separate them with a |"). The model's pattern
    allows no other regex syntax, so no regex engine is needed."""
    if pattern is None:
        return lambda name: True
    prefixes, parts = [], []
    for alternative in pattern.split("|"):
        (prefixes if alternative.startswith("^") else parts).append(alternative.lstrip("^"))
    prefixes, parts = tuple(prefixes), tuple(parts)
    return lambda name: name.startswith(prefixes) or any(part in name for part in parts)


def _of_group(kind: str, group: LogGroup) -> str:
    """A listing token kind bound to one log group's life: a token from another group, or from
    a deleted group's namesake, fails its check (group ids are never reused)."""
    return f"{kind}@{group.id}"


def _fit_response(rows: list) -> list:
    """Cut a page so the response stays within AWS's 1 MB."""
    size = 0
    for index, row in enumerate(rows):
        size += utf8_length(row[4]) + EVENT_OVERHEAD_BYTES
        if size > MAX_RESPONSE_BYTES and index > 0:
            return rows[:index]
    return rows
