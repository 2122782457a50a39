"""The alarm action that stops a job: ``arn:aws:automate:<region>:sagemaker:stop``.

A documented sagewatch extension. CloudWatch's own alarm actions include
``arn:aws:automate:<region>:ec2:stop`` (stop the instance named by the alarm's InstanceId
dimension); this is the same idea for SageMaker jobs, carried out through the alarm engine's
action seam (services/cloudwatch/alarms.AlarmActions). The job is the one the alarm's metric
names by dimension:

- ``TrainingJobName`` (the algorithm metrics of MetricDefinitions, reference §2.3),
- ``ProcessingJobName``,
- ``Host = <job>/algo-<n>`` in ``/aws/sagemaker/TrainingJobs`` or ``/aws/sagemaker/ProcessingJobs``
  (the instance metrics, reference §2.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ... import arns
from ..cloudwatch.alarms import StateChange
from .jobs import PROCESSING_JOB, TRAINING_JOB

HOST_NAMESPACES = {
    "/aws/sagemaker/TrainingJobs": TRAINING_JOB,
    "/aws/sagemaker/ProcessingJobs": PROCESSING_JOB,
}
NAME_DIMENSIONS = {"TrainingJobName": TRAINING_JOB, "ProcessingJobName": PROCESSING_JOB}


def stop_action_arn(region: str) -> str:
    # EC2's alarm actions have this shape: arn:<partition>:automate:<region>:ec2:stop, the
    # service in the account's place (arns.build puts the region's partition first).
    return arns.build("automate", "stop", region, "sagemaker")


def jobs_named_by(change: StateChange) -> list[tuple[str, str]]:
    """(kind, job name) of every job the alarm's metrics name, in order, without repeats."""
    return jobs_in_metrics(change.alarm.metric_keys)


def jobs_in_metrics(metric_keys: Iterable[tuple[str, str, Iterable[tuple[str, str]]]]) -> list[tuple[str, str]]:
    """(kind, job name) of every job metrics name by dimension, in order, without repeats;
    ``metric_keys``: (namespace, metric name, dimension pairs), as an alarm's ``metric_keys``
    (also read from an alarm state change event by the EventBridge StopJob target)."""
    found: list[tuple[str, str]] = []
    for namespace, _metric, dimensions in metric_keys:
        for dimension, value in dimensions:
            job = None
            if dimension in NAME_DIMENSIONS:
                job = (NAME_DIMENSIONS[dimension], value)
            elif dimension == "Host" and namespace in HOST_NAMESPACES and "/" in value:
                job = (HOST_NAMESPACES[namespace], value.rsplit("/", 1)[0])
            if job is not None and job not in found:
                found.append(job)
    return found


class StopJobAction:
    """Registered with ``AlarmActions.register(action.accepts, action)``."""

    def __init__(self, region: str, stop_job: Callable[[str, str], str]) -> None:
        """``stop_job(kind, name)`` stops a job as StopTrainingJob / StopProcessingJob do and
        returns what happened in words; it raises when the job cannot be stopped."""
        self.arn = stop_action_arn(region)
        self.stop_job = stop_job

    def accepts(self, arn: str) -> bool:
        return arn == self.arn

    def __call__(self, arn: str, change: StateChange) -> str:
        jobs = jobs_named_by(change)
        if not jobs:
            raise ValueError(
                "The alarm's metric names no job: the sagemaker:stop action needs a "
                "TrainingJobName, ProcessingJobName or Host dimension")
        return "; ".join(self.stop_job(kind, name) for kind, name in jobs)
