"""Delivery: the one thread that sends log events and metric samples to the server, in order,
until everything is acknowledged.

Log events:
- a batch is taken from the outbox when the oldest waiting event has waited ``LINGER_SECONDS``
  (so a line is readable well within 200 ms of being printed while requests stay few: about
  twelve a second however fast the command prints; at 50 ms, twenty a second cost the agent
  0.5 % of a core more, measured), or as soon as a full request's worth is waiting;
- a batch respects every PutLogEvents limit (aws-behaviour.md §6.2): at most 10,000 events and
  1,048,576 bytes counting 26 bytes per event, in chronological order, spanning at most 24 hours;
- the group and the stream are created before the first batch (CreateLogGroup, CreateLogStream;
  ResourceAlreadyExistsException means someone did it first, which is fine), and again whenever
  PutLogEvents answers ResourceNotFoundException (PutLogEvents does not create them, §6.2);
- a batch is kept until the server acknowledges it: no answer (the server is down, restarting,
  or the connection broke), a 5xx, or throttling is retried, with a backoff doubling from 50 ms
  to at most 1 s, forever. A batch the server stored but could not acknowledge (killed between
  its commit and its answer) is therefore sent twice: delivery is at least once;
- an answer that no retry can change (a 4xx other than the above, which would be a bug of the
  agent's batching) drops the batch with a message on the agent's stderr, counted in
  ``stats["rejected_events"]``; so do events PutLogEvents refuses in ``rejectedLogEventsInfo``
  (older than 14 days or the retention, more than 2 hours ahead, §6.2).

Metric samples (telemetry.py) go out as PutMetricData when the oldest waited
``METRICS_FLUSH_SECONDS``, each second its own datum (StorageResolution 1, so alarms and
GetMetricStatistics see 1-second data, aws-behaviour.md §7.1), at most 1,000 datums a request
(§7.1). Batching five seconds a request keeps the cost at one request per five seconds per
instance; the delay is well under the 1-minute period SageMaker's own instance metrics use
(§2.1).
"""

from __future__ import annotations

import sys
import threading
import time

import orjson

from .spool import MAX_BATCH_BYTES, MAX_BATCH_EVENTS, Batch, Outbox
from .telemetry import MetricSamples
from .wire import CLOUDWATCH, LOGS, Client, Unreachable

LINGER_SECONDS = 0.08
METRICS_FLUSH_SECONDS = 5.0
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000   # PutLogEvents: a batch spans at most 24 hours (§6.2)
# PutMetricData: at most 1,000 datums a request (aws-behaviour.md §7.1).
MAX_DATUMS = 1000
BACKOFF_FIRST_SECONDS = 0.05
BACKOFF_MAX_SECONDS = 1.0
RETRYABLE_CODES = {"ThrottlingException", "Throttling", "ServiceUnavailableException",
                   "ServiceUnavailable", "InternalFailure", "InternalServiceFault",
                   "RequestTimeout", "RequestTimeoutException"}


class Delivery(threading.Thread):
    def __init__(self, client: Client, outbox: Outbox, metrics: MetricSamples | None, *,
                 log_group: str, log_stream: str, metric_namespace: str, metric_host: str,
                 wake: threading.Event) -> None:
        super().__init__(name="sagewatch-agent-delivery", daemon=True)
        self.client = client
        self.outbox = outbox
        self.metrics = metrics
        self.log_group = log_group
        self.log_stream = log_stream
        self.metric_namespace = metric_namespace
        self.metric_host = metric_host
        self.wake = wake
        self.stream_ready = False
        self.stats = {"requests": 0, "events_delivered": 0, "batches": 0, "retries": 0,
                      "rejected_events": 0, "datums_delivered": 0, "unreachable": 0}
        self._complained_at = 0.0

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> None:
        logs: Batch | None = None
        samples: list | None = None
        failures = 0
        while True:
            self.wake.clear()
            now = time.monotonic()
            if logs is None and self._logs_due(now):
                logs = self.outbox.take(MAX_BATCH_EVENTS, MAX_BATCH_BYTES, MAX_BATCH_SPAN_MS)
            if samples is None and self.metrics is not None and self.metrics.due(now, METRICS_FLUSH_SECONDS):
                samples = self.metrics.take(MAX_DATUMS)
            if logs is None and not samples:
                samples = None
                if self._finished():
                    return
                self.wake.wait(self._sleep_for(now))
                continue
            delivered = True
            if logs is not None:
                if self._put_logs(logs):
                    logs = None
                else:
                    delivered = False
            if delivered and samples:
                if self._put_metrics(samples):
                    samples = None
                else:
                    delivered = False
            if delivered:
                failures = 0
            else:
                self.stats["retries"] += 1
                time.sleep(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** failures))
                failures += 1

    def _logs_due(self, now: float) -> bool:
        box = self.outbox
        if box.pending_events == 0:
            return False
        if box.closed or box.full:
            return True
        oldest = box.oldest_put
        return oldest is not None and now - oldest >= LINGER_SECONDS

    def _sleep_for(self, now: float) -> float:
        waits = [1.0]
        if self.outbox.pending_events and self.outbox.oldest_put is not None:
            waits.append(self.outbox.oldest_put + LINGER_SECONDS - now)
        if self.metrics is not None:
            waits.append(self.metrics.next_due(now, METRICS_FLUSH_SECONDS))
        return max(0.001, min(waits))

    def _finished(self) -> bool:
        if not self.outbox.closed or self.outbox.pending_events:
            return False
        return self.metrics is None or (self.metrics.closed and not self.metrics.pending)

    # -- logs -----------------------------------------------------------------------------

    def _put_logs(self, batch: Batch) -> bool:
        """True when the batch is done with (acknowledged, or refused for good)."""
        if not self.stream_ready and not self._create_stream():
            return False
        answer = self._call(LOGS, "PutLogEvents", put_log_events_body(self.log_group, self.log_stream, batch))
        if answer is None:
            return False
        code = answer.error_code
        if code is None:
            rejected = answer.body.get("rejectedLogEventsInfo")
            if rejected:
                refused = _refused_count(rejected, batch.events)
                self.stats["rejected_events"] += refused
                self._complain(f"PutLogEvents refused {refused} of {batch.events} events: {rejected}")
            self.stats["batches"] += 1
            self.stats["events_delivered"] += batch.events
            return True
        if code == "ResourceNotFoundException":
            self.stream_ready = False  # deleted meanwhile, or the server lost it: create again
            return False
        if self._retryable(answer):
            return False
        self.stats["rejected_events"] += batch.events
        self._complain(f"PutLogEvents refused a batch of {batch.events} events for good: "
                       f"{code}: {answer.message}", force=True)
        return True

    def _create_stream(self) -> bool:
        for operation, params in (
            ("CreateLogGroup", {"logGroupName": self.log_group}),
            ("CreateLogStream", {"logGroupName": self.log_group, "logStreamName": self.log_stream}),
        ):
            answer = self._call(LOGS, operation, params)
            if answer is None:
                return False
            code = answer.error_code
            if code not in (None, "ResourceAlreadyExistsException"):
                self._complain(f"{operation}: {code}: {answer.message}")
                return False
        self.stream_ready = True
        return True

    # -- metrics --------------------------------------------------------------------------

    def _put_metrics(self, samples: list) -> bool:
        dimensions = [{"Name": "Host", "Value": self.metric_host}]
        datums = [{"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": value,
                   "Unit": "Percent", "StorageResolution": 1}
                  for at, name, value in samples]
        answer = self._call(CLOUDWATCH, "PutMetricData",
                            {"Namespace": self.metric_namespace, "MetricData": datums})
        if answer is None:
            return False
        if answer.error_code is None:
            self.stats["datums_delivered"] += len(datums)
            return True
        if self._retryable(answer):
            return False
        self._complain(f"PutMetricData refused {len(datums)} datums for good: "
                       f"{answer.error_code}: {answer.message}", force=True)
        return True

    # -- plumbing -------------------------------------------------------------------------

    def _call(self, protocol, operation, params):
        self.stats["requests"] += 1
        try:
            return self.client.call(protocol, operation, params)
        except Unreachable as error:
            self.stats["unreachable"] += 1
            self._complain(f"{operation}: server unreachable ({error}); retrying")
            return None

    @staticmethod
    def _retryable(answer) -> bool:
        return answer.status >= 500 or answer.status == 429 or answer.error_code in RETRYABLE_CODES

    def _complain(self, text: str, force: bool = False) -> None:
        """A line on the agent's own stderr; repeated troubles at most every 10 s."""
        now = time.monotonic()
        if force or now - self._complained_at >= 10:
            self._complained_at = now
            print(f"sagewatch-agent: {text}", file=sys.stderr, flush=True)


def _refused_count(info: dict, events: int) -> int:
    too_old = max(info.get("tooOldLogEventEndIndex", 0), info.get("expiredLogEventEndIndex", 0))
    too_new = events - info.get("tooNewLogEventStartIndex", events)
    return too_old + too_new


def put_log_events_body(group: str, stream: str, batch: Batch) -> bytes:
    """The PutLogEvents request body. A dict per event serialized by orjson costs about 0.1 us
    an event (measured: 1.1 ms for 10,000); cutting one orjson list of messages apart at its
    separators instead was three times dearer, so the plain way it is."""
    return orjson.dumps({"logGroupName": group, "logStreamName": stream, "logEvents": [
        {"timestamp": ms, "message": message} for ms, messages in batch.runs for message in messages
    ]})
