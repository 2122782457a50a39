"""Review of Step 4: what an instance leaves in its /opt/ml is read from its tree only.

The instance owns its tree; with the docker runner a container's root writes it, and a symbolic
link it leaves there resolves on this machine. Reading output/failure, output/message, the model
directory or a processing output through such a link put this machine's files into the job's
FailureReason, ExitMessage or uploaded artifacts."""

from __future__ import annotations

import io
import tarfile

from sagewatch.jobs import data
from sagewatch.jobs.controller import NO_FAILURE_FILE_REASON, JobController

from .test_jobs_data import layout_for, processing_job, training_job

SECRET = "host-secret-4242"


def _host_secret(tmp_path):
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "failure").write_text(SECRET)
    (outside / "message").write_text(SECRET)
    (outside / "weights.bin").write_text(SECRET)
    return outside


def test_a_failure_file_linked_out_of_the_tree_is_not_read(tmp_path):
    outside = _host_secret(tmp_path)
    ml_root = tmp_path / "ml"
    (ml_root / "output").mkdir(parents=True)
    (ml_root / "output" / "failure").symlink_to(outside / "failure")
    assert JobController._failure_reason([{"ml_root": str(ml_root)}]) == NO_FAILURE_FILE_REASON


def test_an_output_directory_linked_out_of_the_tree_gives_no_exit_message(tmp_path):
    outside = _host_secret(tmp_path)
    ml_root = tmp_path / "ml"
    ml_root.mkdir()
    (ml_root / "output").symlink_to(outside, target_is_directory=True)
    assert JobController._exit_message([{"ml_root": str(ml_root)}]) is None
    assert JobController._failure_reason([{"ml_root": str(ml_root)}]) == NO_FAILURE_FILE_REASON


def test_files_written_in_the_tree_are_still_read(tmp_path):
    ml_root = tmp_path / "ml"
    (ml_root / "output").mkdir(parents=True)
    (ml_root / "output" / "failure").write_text("boom")
    (ml_root / "output" / "message").write_text("done")
    assert JobController._failure_reason([{"ml_root": str(ml_root)}]) == "AlgorithmError: boom"
    assert JobController._exit_message([{"ml_root": str(ml_root)}]) == "done"


def test_a_model_directory_linked_out_of_the_tree_is_not_archived(tmp_path):
    outside = _host_secret(tmp_path)
    job = training_job({"OutputDataConfig": {"S3OutputPath": f"file://{tmp_path}/out"}})
    layout = layout_for(job, tmp_path / "job")
    (layout.ml_root / "model").rmdir()
    (layout.ml_root / "model").symlink_to(outside, target_is_directory=True)
    (layout.ml_root / "output" / "data").rmdir()
    (layout.ml_root / "output" / "data").symlink_to(outside, target_is_directory=True)
    uri = data.upload_outputs("TrainingJob", job.request, [layout.ml_root])
    with tarfile.open(fileobj=io.BytesIO(data.Storage().read_bytes(uri))) as tar:
        assert tar.getnames() == []
    assert not (tmp_path / "out" / job.name / "output" / "output.tar.gz").exists()


def test_a_processing_output_linked_out_of_the_tree_is_not_uploaded(tmp_path):
    outside = _host_secret(tmp_path)
    job = processing_job({"ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "o", "S3Output": {"S3Uri": f"file://{tmp_path}/results",
                                         "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}})
    layout = layout_for(job, tmp_path / "job")
    (layout.ml_root / "processing" / "out").rmdir()
    (layout.ml_root / "processing" / "out").symlink_to(outside, target_is_directory=True)
    data.upload_outputs("ProcessingJob", job.request, [layout.ml_root])
    assert not (tmp_path / "results").exists()
