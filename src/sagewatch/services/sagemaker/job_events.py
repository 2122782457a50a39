"""The events SageMaker puts on the default event bus for its jobs: ``SageMaker Training Job State
Change`` and ``SageMaker Processing Job State Change`` (reference §5.2,
https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html).

``detail`` is the job's Describe*Job answer (the doc: the event "mirrors" it), with:
  * ``Tags`` as a map of key to value (the doc's training and transform examples: ``"Tags": {}``);
    written for processing jobs too, though the doc's processing example (a failed job) shows
    none: rules that select jobs by tag would otherwise find no processing job;
  * every time as epoch milliseconds, a number. AWS's own examples disagree (strings of epoch
    milliseconds for training, numbers for processing, ISO strings for transform; reference §5.2
    marks it unconfirmed); numbers are what the most recent example (processing, 2024) and
    events seen in practice carry, and a number is what an event pattern's ``numeric`` matching
    can compare.
Nothing else is left out or renamed: which Describe members AWS drops is not documented (the
examples are abridged placeholders), so a rule or input transformer that reads any member a
Describe answer has finds it.

One event per status change the job goes through, secondary statuses included: the job
controller tells the listeners of every change of TrainingJobStatus or SecondaryStatus
(jobs.JobStateListeners), and each becomes an event, its detail carrying both. Whether AWS sends
events for secondary changes is unconfirmed (reference §5.2); it says "SageMaker AI may send
multiple events to EventBridge for each state change", so a rule wanting only primary changes
names TrainingJobStatus values, which works either way, while a rule on SecondaryStatus
("Training", "Uploading") works only if they are sent. The created job's first status
(InProgress / Starting) is an event too.

The event is put on the bus right after the change is stored, on the thread that stored it (the
bus stamps its ``time`` then, within milliseconds of the change); a server killed between the
two loses that event (the job's status is not lost, Describe shows it). The bus itself queues
target deliveries durably.
"""

from __future__ import annotations

from collections.abc import Callable

from ...store.jobs import JobRecord
from .jobs import PROCESSING_JOB, TRAINING_JOB

SOURCE = "aws.sagemaker"
DETAIL_TYPES = {
    TRAINING_JOB: "SageMaker Training Job State Change",
    PROCESSING_JOB: "SageMaker Processing Job State Change",
}
# Describe*Job members that are times (botocore:sagemaker DescribeTrainingJobResponse,
# DescribeProcessingJobResponse), and those inside lists of structures.
_TIMES = ("CreationTime", "LastModifiedTime", "TrainingStartTime", "TrainingEndTime",
          "ProcessingStartTime", "ProcessingEndTime")
_NESTED_TIMES = {"SecondaryStatusTransitions": ("StartTime", "EndTime"), "FinalMetricDataList": ("Timestamp",)}


def job_state_change_event(old_status: str | None, job: JobRecord, *, described: dict,
                           tags: dict[str, str]) -> dict:
    """The event of one status change of ``job`` (``old_status`` is the primary status before
    it, None for a job just created: the event carries only the new state, as AWS's does).
    ``described`` is Describe*Job's answer for the job as it now is, ``tags`` its tags."""
    detail = dict(described)
    for member in _TIMES:
        if detail.get(member) is not None:
            detail[member] = epoch_millis(detail[member])
    for member, times in _NESTED_TIMES.items():
        if member in detail:
            detail[member] = [
                {key: epoch_millis(value) if key in times and value is not None else value
                 for key, value in item.items()}
                for item in detail[member]
            ]
    detail["Tags"] = dict(tags)
    return {
        "source": SOURCE,
        "detail-type": DETAIL_TYPES[job.kind],
        "resources": [job.arn],
        "detail": detail,
    }


def epoch_millis(seconds: float) -> int:
    return round(seconds * 1000)


class JobEventSource:
    """The JobStateListeners listener that puts each job status change on the event bus:
    ``job_listeners.add(JobEventSource(sagemaker.describe, tags_of, events.put_service_events))``."""

    def __init__(self, describe: Callable[[JobRecord], dict], tags_of: Callable[[str], dict[str, str]],
                 put_events: Callable[[list[dict]], None]) -> None:
        self.describe = describe
        self.tags_of = tags_of
        self.put_events = put_events

    def __call__(self, old_status: str | None, job: JobRecord) -> None:
        event = job_state_change_event(old_status, job, described=self.describe(job), tags=self.tags_of(job.arn))
        self.put_events([event])
