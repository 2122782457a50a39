"""The lifecycle vocabulary of SageMaker jobs, shared by the SageMaker service and the job
controller: the statuses, AWS's status messages, and the two moves every change of a job is made
of (``advance`` to a new secondary status, ``finish`` with a terminal status), plus the listener
seam that carries each status change out (EventBridge in Step 5).

Every function here changes a JobRecord in place; the caller writes it back (JobStore.update).

Statuses and what AWS says of them: botocore:sagemaker TrainingJobStatus, SecondaryStatus,
ProcessingJobStatus, SecondaryStatusTransition; reference aws-behaviour.md §4.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable

from ...store.jobs import JobRecord

log = logging.getLogger(__name__)

TRAINING_JOB = "TrainingJob"
PROCESSING_JOB = "ProcessingJob"

TERMINAL_STATUSES = ("Completed", "Failed", "Stopped")  # both SDKs' terminal set (§4.1)

# StatusMessage per secondary status. Confirmed by a real DescribeTrainingJob (reference §4.2,
# aws CLI 2025) and botocore:sagemaker SecondaryStatusTransition.StatusMessage:
STARTING_MESSAGE = "Preparing the instances for training"
DOWNLOADING_MESSAGE = "Downloading input data"           # SDK output "Downloading - Downloading input data" (§4.2)
TRAINING_MESSAGE = "Training image download completed. Training in progress."
UPLOADING_MESSAGE = "Uploading generated training model"
COMPLETED_MESSAGE = "Training job completed"
FAILED_MESSAGE = "Training job failed"                    # sagemaker-python-sdk #1968 (§4.2)
# A job waiting for capacity (SecondaryStatus Pending: "The training job is waiting for compute
# capacity or compute resource provision", botocore DescribeTrainingJobResponse) carries the
# StatusMessage botocore lists for instances AWS cannot get yet (reference §4.2,
# SecondaryStatusTransition.StatusMessage).
PENDING_MESSAGE = "Insufficient capacity error from EC2 while launching instances, retrying!"
# Stop and max-runtime messages are unconfirmed (§4.2 lists the typical texts, used here).
STOPPING_MESSAGE = "Stopping the training job"
STOPPED_MESSAGE = "Training job stopped"
MAX_RUNTIME_MESSAGE = "Training job runtime exceeded MaxRuntimeInSeconds provided"

MESSAGES = {
    "Starting": STARTING_MESSAGE,
    "Pending": PENDING_MESSAGE,
    "Downloading": DOWNLOADING_MESSAGE,
    "Training": TRAINING_MESSAGE,
    "Uploading": UPLOADING_MESSAGE,
    "Completed": COMPLETED_MESSAGE,
    "Failed": FAILED_MESSAGE,
    "Stopping": STOPPING_MESSAGE,
    "Stopped": STOPPED_MESSAGE,
    "MaxRuntimeExceeded": MAX_RUNTIME_MESSAGE,
}

# StoppingCondition.MaxRuntimeInSeconds when the request has none: "The default value is 1 day"
# (botocore:sagemaker StoppingCondition; reference §3.1 "default 1 day, max 28 days"). Processing
# jobs are given the same default (AWS's is not recorded).
DEFAULT_MAX_RUNTIME_SECONDS = 86400

# FailureReason and ExitMessage hold at most 1024 characters (botocore FailureReason,
# ExitMessage; reference §3.1 "first 1024 characters").
MAX_REASON_CHARS = 1024


def job_time(seconds: float) -> float:
    """A moment as a job's times keep it: to the millisecond, cut down ("CreationTime
    11:10:50.603", reference §4.2). The service and the controller both stamp jobs with it."""
    return math.floor(seconds * 1000) / 1000


def new_job(kind: str, name: str, arn: str, request: dict, now: float) -> JobRecord:
    """A job as Create* leaves it: InProgress; a training job Starting, with one open transition
    (a freshly created job's Describe, reference §4.2)."""
    training = kind == TRAINING_JOB
    return JobRecord(
        kind=kind, name=name, arn=arn, request=request, status="InProgress",
        secondary_status="Starting" if training else None,
        transitions=[_transition("Starting", STARTING_MESSAGE, now)] if training else [],
        creation_time=now, last_modified_time=now,
    )


def _transition(status: str, message: str, now: float) -> dict:
    return {"Status": status, "StartTime": now, "StatusMessage": message}


def _close_open_transition(job: JobRecord, now: float) -> None:
    if job.transitions and job.transitions[-1].get("EndTime") is None:
        job.transitions[-1]["EndTime"] = now


def advance(job: JobRecord, secondary_status: str, message: str | None, now: float) -> None:
    """Move an in-progress job to ``secondary_status``: close the open transition (EndTime now)
    and open a new one. The start of training proper (leaving Starting/Pending/Downloading) is
    the job's TrainingStartTime: AWS's equals the end of Starting (reference §4.2). Processing
    jobs have no secondary status; for them only the start time is kept."""
    job.last_modified_time = now
    if secondary_status not in ("Starting", "Pending") and job.start_time is None:
        job.start_time = now
    if job.kind != TRAINING_JOB:
        return
    _close_open_transition(job, now)
    job.transitions.append(_transition(secondary_status, message or MESSAGES.get(secondary_status, ""), now))
    job.secondary_status = secondary_status


def begin_stopping(job: JobRecord, now: float) -> None:
    """StopTrainingJob / StopProcessingJob: InProgress → Stopping (reference §4.3)."""
    job.status = "Stopping"
    if job.kind == TRAINING_JOB:
        advance(job, "Stopping", STOPPING_MESSAGE, now)
    job.last_modified_time = now


def finish(job: JobRecord, status: str, secondary_status: str | None, message: str | None, now: float,
           failure_reason: str | None = None, exit_message: str | None = None) -> None:
    """End a job: ``status`` Completed / Failed / Stopped (with ``secondary_status`` Completed,
    Failed, Stopped or MaxRuntimeExceeded for training). The final transition opens and closes
    at the same instant, as in AWS's record of a completed job (reference §4.2)."""
    assert status in TERMINAL_STATUSES, status
    job.status = status
    job.end_time = now
    job.last_modified_time = now
    if failure_reason is not None:
        job.failure_reason = failure_reason[:MAX_REASON_CHARS]
    if exit_message is not None:
        job.exit_message = exit_message[:MAX_REASON_CHARS]
    if job.kind == TRAINING_JOB:
        secondary = secondary_status or status
        _close_open_transition(job, now)
        job.transitions.append({"Status": secondary, "StartTime": now, "EndTime": now,
                                "StatusMessage": message or MESSAGES.get(secondary, "")})
        job.secondary_status = secondary


def max_runtime_seconds(job: JobRecord) -> int:
    """How long the job may run before it is stopped (Stopped / MaxRuntimeExceeded)."""
    stopping = job.request.get("StoppingCondition") or {}
    return stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME_SECONDS


def training_seconds(job: JobRecord) -> int | None:
    """TrainingTimeInSeconds / BillableTimeInSeconds: whole seconds from the start of training to
    its end, at least 1 (reference §4.2); None until the job has ended."""
    if job.end_time is None:
        return None
    start = job.start_time if job.start_time is not None else job.end_time
    return max(1, math.ceil(job.end_time - start))


class JobStateListeners:
    """Who hears of each status change of a job (Step 5 puts them on the event bus). A listener
    gets (old status, the job as it now is); one that fails is logged and does not stop the rest."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[str | None, JobRecord], None]] = []
        self._lock = threading.Lock()

    def add(self, listener: Callable[[str | None, JobRecord], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def emit(self, old_status: str | None, job: JobRecord) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(old_status, job)
            except Exception:
                log.exception("job state listener %r failed", listener)
