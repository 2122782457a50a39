"""The job lifecycle vocabulary (services/sagemaker/jobs.py): transitions as AWS records them."""

from __future__ import annotations

import pytest

from sagewatch.services.sagemaker.jobs import (
    PROCESSING_JOB, TRAINING_JOB, JobStateListeners, advance, begin_stopping, finish, new_job,
    training_seconds,
)


def _training(now=100.0):
    return new_job(TRAINING_JOB, "j", "arn:aws:sagemaker:us-east-1:000000000000:training-job/j", {}, now)


def test_a_new_training_job_is_starting_with_one_open_transition():
    job = _training()
    assert (job.status, job.secondary_status) == ("InProgress", "Starting")
    assert job.transitions == [{"Status": "Starting", "StartTime": 100.0,
                                "StatusMessage": "Preparing the instances for training"}]
    assert (job.creation_time, job.last_modified_time, job.start_time) == (100.0, 100.0, None)


def test_a_successful_job_records_transitions_as_aws_does():
    """The sequence of a real one-instance job (reference §4.2): each transition ends where the
    next begins; the start of training is the end of Starting; the last transition is instant."""
    job = _training()
    advance(job, "Downloading", None, 102.0)
    advance(job, "Training", None, 103.5)
    advance(job, "Uploading", None, 110.0)
    finish(job, "Completed", "Completed", None, 111.25)
    assert [(t["Status"], t["StartTime"], t["EndTime"], t["StatusMessage"]) for t in job.transitions] == [
        ("Starting", 100.0, 102.0, "Preparing the instances for training"),
        ("Downloading", 102.0, 103.5, "Downloading input data"),
        ("Training", 103.5, 110.0, "Training image download completed. Training in progress."),
        ("Uploading", 110.0, 111.25, "Uploading generated training model"),
        ("Completed", 111.25, 111.25, "Training job completed"),
    ]
    assert (job.status, job.secondary_status) == ("Completed", "Completed")
    assert (job.start_time, job.end_time, job.last_modified_time) == (102.0, 111.25, 111.25)
    assert training_seconds(job) == 10  # 9.25 s, in whole seconds up


def test_pending_does_not_start_training():
    job = _training()
    advance(job, "Pending", None, 101.0)
    assert job.start_time is None
    assert job.transitions[-1]["StatusMessage"] == "Insufficient capacity error from EC2 while launching instances, retrying!"
    advance(job, "Training", "custom message", 105.0)
    assert job.start_time == 105.0 and job.transitions[-1]["StatusMessage"] == "custom message"


def test_stop_then_stopped():
    job = _training()
    begin_stopping(job, 101.0)
    assert (job.status, job.secondary_status) == ("Stopping", "Stopping")
    assert job.transitions[-1]["StatusMessage"] == "Stopping the training job"
    finish(job, "Stopped", "Stopped", None, 104.0)
    assert [t["Status"] for t in job.transitions] == ["Starting", "Stopping", "Stopped"]
    assert job.transitions[-1]["StatusMessage"] == "Training job stopped"


def test_a_failure_reason_is_cut_to_1024_characters_and_time_is_at_least_a_second():
    job = _training()
    finish(job, "Failed", "Failed", None, 100.2, failure_reason="ClientError: " + "x" * 2000)
    assert len(job.failure_reason) == 1024 and job.failure_reason.startswith("ClientError: ")
    assert job.transitions[-1]["StatusMessage"] == "Training job failed"
    assert training_seconds(job) == 1
    assert training_seconds(_training()) is None  # not ended


def test_processing_jobs_have_no_secondary_status():
    job = new_job(PROCESSING_JOB, "p", "arn", {}, 5.0)
    assert (job.secondary_status, job.transitions) == (None, [])
    advance(job, "Training", None, 6.0)
    begin_stopping(job, 7.0)
    finish(job, "Stopped", None, None, 8.0, exit_message="m" * 1500)
    assert (job.status, job.secondary_status, job.transitions) == ("Stopped", None, [])
    assert (job.start_time, job.end_time, len(job.exit_message)) == (6.0, 8.0, 1024)


def test_finish_takes_terminal_statuses_only():
    with pytest.raises(AssertionError):
        finish(_training(), "InProgress", None, None, 1.0)


def test_listeners_hear_every_change_and_one_that_fails_does_not_stop_the_rest():
    listeners = JobStateListeners()
    heard = []

    def broken(old, job):
        raise RuntimeError("listener bug")

    listeners.add(broken)
    listeners.add(lambda old, job: heard.append((old, job.status)))
    job = _training()
    listeners.emit(None, job)
    begin_stopping(job, 2.0)
    listeners.emit("InProgress", job)
    assert heard == [(None, "InProgress"), ("InProgress", "Stopping")]


def test_max_runtime_defaults_to_a_day():
    from sagewatch.services.sagemaker.jobs import max_runtime_seconds

    job = _training()
    assert max_runtime_seconds(job) == 86400
    job.request["StoppingCondition"] = {"MaxRuntimeInSeconds": 5}
    assert max_runtime_seconds(job) == 5
