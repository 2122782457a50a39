"""SageMaker jobs (training and processing): the record of one job, and what the SageMaker
service and the job controller need of its storage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# The statuses of a job that is still running (or being stopped): what a restarted server
# re-adopts (botocore:sagemaker TrainingJobStatus / ProcessingJobStatus; reference §4.1).
UNFINISHED_STATUSES = ("InProgress", "Stopping")


@dataclass
class JobRecord:
    kind: str                 # "TrainingJob" | "ProcessingJob"
    name: str
    arn: str                  # arn:aws:sagemaker:<region>:<acct>:training-job/<name lower-cased>
    request: dict             # the validated Create* input members (timestamps as epoch floats)
    status: str               # InProgress | Completed | Failed | Stopping | Stopped
    secondary_status: str | None            # training only
    transitions: list[dict]   # [{"Status", "StartTime", "EndTime" (absent while open), "StatusMessage"}]
    creation_time: float
    last_modified_time: float
    start_time: float | None = None         # TrainingStartTime / ProcessingStartTime
    end_time: float | None = None
    failure_reason: str | None = None
    exit_message: str | None = None         # processing
    model_artifacts: str | None = None      # S3ModelArtifacts
    final_metrics: dict[str, tuple[float, float]] = field(default_factory=dict)  # name -> (value, time)
    runtime: dict = field(default_factory=dict)  # the controller's private state (JSON)


class JobStore:
    def create(self, job: JobRecord, tags: dict[str, str]) -> None:
        """Store a new job and its tags in one transaction; raises store.Conflict when a job of
        the same kind has the name (in any case)."""
        ...

    def get(self, kind: str, name: str) -> JobRecord | None:
        """The job of ``kind`` named ``name`` (in any case), or None."""
        ...

    def update(self, kind: str, name: str, change: Callable[[JobRecord], None]) -> JobRecord:
        """Read the job, apply ``change`` to it and write it back, in one write transaction;
        returns the new record. Raises store.Gone when there is no such job."""
        ...

    def list(self, kind: str) -> list[JobRecord]:
        """Every job of ``kind`` (the service filters, sorts and pages)."""
        ...

    def unfinished(self) -> list[JobRecord]:
        """Every job, of any kind, whose status is InProgress or Stopping."""
        ...

    def record_final_metrics(self, kind: str, name: str, values: dict[str, tuple[float, float]]) -> None:
        """Keep, per metric, the value with the latest timestamp among those stored and these
        (FinalMetricDataList). A job that no longer exists is ignored."""
        ...
