"""Algorithm metrics: a training job's MetricDefinitions applied to its log lines as they arrive.

SageMaker reads the algorithm's stdout and stderr with each MetricDefinition's regex; the first
capture group holds the value, which is published to CloudWatch in the namespace
``/aws/sagemaker/TrainingJobs`` with the dimension ``TrainingJobName``; the last value of each
metric is the job's FinalMetricDataList (reference §2.3; training-metrics.md). Here that is a
Logs ingest listener (LogsService.add_ingest_listener): every batch stored in the group
``/aws/sagemaker/TrainingJobs``, in a stream ``<job>/algo-<n>-<epoch>`` (reference §1), is read
once, right after it is stored.

Regexes run in sagewatch.regex (RE2, linear time, Python's syntax and answers), so a hostile
pattern can never stall ingestion. A value is published at the time of the event that printed it.

Which captures count as numbers: SageMaker publishes numeric captures only (a string capture is
not published: sagemaker-python-sdk #3208, "requires metrics to be integers/numbers"). sagewatch
reads a capture as a number when it is a decimal in plain or scientific notation, surrounded by
nothing but spaces: ``3``, ``-0.25``, ``.5``, ``1e-3``, ``2.5E+04``. ``nan`` and ``inf`` (which
Python's float() would read) are not published: CloudWatch stores no NaN or infinity (a
PutMetricData value must be finite and within ±2^360; reference §7.1), so they could not be
metrics on AWS either; nor are values outside that range.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable

from ...regex import UserRegex, UserRegexError, compile_user_regex
from ...store.jobs import JobStore
from ..cloudwatch.metrics import MetricValue, storable
from .jobs import TRAINING_JOB

log = logging.getLogger(__name__)

LOG_GROUP = "/aws/sagemaker/TrainingJobs"           # reference §1
NAMESPACE = "/aws/sagemaker/TrainingJobs"           # reference §2.3
DIMENSION = "TrainingJobName"                       # reference §2.3

_NUMBER = re.compile(r" *[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)? *")

# Compiled definitions of this many jobs are kept (jobs are never renamed or deleted, so an
# entry never goes stale; the bound only caps memory).
_CACHE_SIZE = 1024


def metric_number(text: str) -> float | None:
    """The value of a captured text, or None when it is not a number CloudWatch can store."""
    if _NUMBER.fullmatch(text) is None:
        return None
    value = float(text)
    if not storable(value):
        return None
    if value == 0 and any(digit in "123456789" for digit in text.lower().split("e")[0]):
        return None  # a nonzero value too small for a double (1e-400), far below CloudWatch's range
    return value


Definitions = list[tuple[str, UserRegex]]


class MetricDefinitions:
    """The ingest listener. ``publish`` is CloudWatchService.put_metric_values."""

    def __init__(self, jobs: JobStore, publish: Callable[[str, list[MetricValue]], None]) -> None:
        self.jobs = jobs
        self.publish = publish
        self._cache: OrderedDict[str, Definitions] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, group_name: str, stream_name: str, events: list[tuple[int, str]]) -> None:
        if group_name != LOG_GROUP or "/" not in stream_name:
            return
        job_name = stream_name.split("/", 1)[0]
        definitions = self._definitions(job_name)
        if not definitions:
            return
        values, last = self.read(job_name, definitions, events)
        if not values:
            return
        self._publish(values)
        self.jobs.record_final_metrics(TRAINING_JOB, job_name, last)

    @staticmethod
    def read(job_name: str, definitions: Definitions, events: list[tuple[int, str]]):
        """The metric values in ``events`` (timestamp ms, message), and the last of each metric
        (name -> (value, timestamp seconds)). Each line of a message is read: a line is what
        SageMaker's regexes are written against."""
        values: list[MetricValue] = []
        last: dict[str, tuple[float, float]] = {}
        dimensions = ((DIMENSION, job_name),)
        for timestamp_ms, message in events:
            timestamp = timestamp_ms / 1000
            for line in message.splitlines() or [message]:
                for name, regex in definitions:
                    match = regex.search(line)
                    if match is None or len(match) < 2 or match[1] is None:
                        continue
                    value = metric_number(match[1])
                    if value is None:
                        continue
                    values.append(MetricValue(name, dimensions, timestamp, value))
                    last[name] = (value, timestamp)
        return values, last

    def _publish(self, values: list[MetricValue]) -> None:
        """All values at once; if CloudWatch refuses the batch (a value too old or too far in
        the future for PutMetricData: a log event may be older than two weeks), each value alone,
        so that one refused value does not take the others with it."""
        try:
            self.publish(NAMESPACE, values)
        except ValueError:
            for value in values:
                try:
                    self.publish(NAMESPACE, [value])
                except ValueError as refused:
                    log.debug("metric value not published: %s", refused)

    def _definitions(self, job_name: str) -> Definitions:
        key = job_name.lower()  # job names are unique regardless of case (store/jobs.py)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        job = self.jobs.get(TRAINING_JOB, job_name)
        if job is None:
            return []  # not a job (yet): nothing cached, so a job created later is seen
        compiled: Definitions = []
        for definition in (job.request.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []:
            try:
                compiled.append((definition["Name"], compile_user_regex(definition["Regex"])))
            except UserRegexError:  # refused at CreateTrainingJob; a stored one cannot be bad
                log.warning("job %s: metric %s has a regex that does not compile", job_name, definition["Name"])
        with self._lock:
            self._cache[key] = compiled
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return compiled
