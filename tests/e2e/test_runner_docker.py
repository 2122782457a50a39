"""The docker runner against a real Docker engine: containers of locally built images run under
the real agent, and their output is read back from a real server through boto3.

These need an engine and the test images (docs/docker.md):

    tests/docker/engine.sh install && tests/docker/engine.sh start && tests/docker/build-images.sh
    make test-docker

They carry the ``docker`` marker, which the default ``make test`` deselects (CI has no engine).
Run on their own, a missing engine or image is a failure, not a skip: these tests exist to show
the runner working, and skipping would show nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sagewatch.jobs.runners.base import InstanceSpec
from sagewatch.jobs.runners.docker import (IMAGE_UNAVAILABLE, DockerRunner, container_name,
                                           engine_reachable, image_present)

pytestmark = pytest.mark.docker

BASE_IMAGE = "sagewatch-test/base:bookworm"
TRAIN_IMAGE = "sagewatch-test/train:latest"
PROCESS_IMAGE = "sagewatch-test/process:latest"
TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"
# A bound on waiting, so a broken runner fails instead of hanging; a container here runs in
# well under a second (docs/docker.md).
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def engine():
    if not engine_reachable():
        pytest.fail("no Docker engine answers: run tests/docker/engine.sh start (docs/docker.md)")
    missing = [i for i in (BASE_IMAGE, TRAIN_IMAGE, PROCESS_IMAGE) if not image_present(i)]
    if missing:
        pytest.fail(f"test images missing ({', '.join(missing)}): run tests/docker/build-images.sh")
    return DockerRunner()


def instance(tmp_path: Path, server, *, kind: str = "TrainingJob", tail: list[str],
             image: str, hyperparameters: dict | None = None, grace: float = 120.0,
             env: dict | None = None) -> InstanceSpec:
    """One instance of a fresh job: its /opt/ml tree (the files these images read) and spec."""
    job = f"docker-{uuid.uuid4().hex[:10]}"
    ml_root = tmp_path / job / "ml"
    if kind == "TrainingJob":
        config = ml_root / "input" / "config"
        config.mkdir(parents=True)
        (config / "hyperparameters.json").write_text(json.dumps(hyperparameters or {}))
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
        (ml_root / "model").mkdir()
        (ml_root / "output").mkdir()
        group = TRAINING_GROUP
    else:
        (ml_root / "config").mkdir(parents=True)
        (ml_root / "config" / "processingjobconfig.json").write_text(
            json.dumps({"ProcessingJobName": job}))
        (ml_root / "processing" / "input" / "data").mkdir(parents=True)
        (ml_root / "processing" / "input" / "data" / "a.txt").write_text("hello\n")
        group = PROCESSING_GROUP
    return InstanceSpec(
        job_kind=kind, job_name=job, host="algo-1", command=tail,
        env={"TRAINING_JOB_NAME": job, **(env or {})} if kind == "TrainingJob" else dict(env or {}),
        workdir=None, ml_root=ml_root, state_dir=tmp_path / job / "agent",
        log_group=group, log_stream=f"{job}/algo-1-{int(time.time())}",
        metric_namespace=group, metric_host=f"{job}/algo-1",
        stop_grace_seconds=grace, image=image, endpoint=server.endpoint)


def wait_for_exit(runner: DockerRunner, handle: dict):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        ended = runner.poll(handle)
        if ended is not None:
            return ended
        time.sleep(0.05)
    runner.kill(handle)
    raise AssertionError(f"instance did not end within {WAIT_SECONDS} s: {handle}")


def messages(logs, spec: InstanceSpec) -> list[str]:
    events = logs.get_log_events(logGroupName=spec.log_group, logStreamName=spec.log_stream,
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def wait_for_line(logs, spec: InstanceSpec, line: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if line in messages(logs, spec):
                return
        except logs.exceptions.ResourceNotFoundException:
            pass  # the group and stream appear with the first line (reference §1)
        time.sleep(0.05)
    raise AssertionError(f"{line!r} never reached {spec.log_stream}")


def streams_of_job(logs, spec: InstanceSpec) -> list[str]:
    try:
        found = logs.describe_log_streams(logGroupName=spec.log_group,
                                          logStreamNamePrefix=f"{spec.job_name}/")["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []  # no group yet: nothing was ever written
    return [s["logStreamName"] for s in found]


def container_exists(spec: InstanceSpec) -> bool:
    listed = subprocess.run(["docker", "ps", "--all", "--quiet", "--filter",
                             f"name=^{container_name(spec)}$"], capture_output=True, text=True,
                            check=True)
    return bool(listed.stdout.strip())


# -- training: `docker run image train` (reference §3.1) ---------------------------------------

def test_a_training_container_gets_train_prints_to_its_stream_and_writes_its_model(
        engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=TRAIN_IMAGE, tail=[TRAIN_IMAGE, "train"],
                    hyperparameters={"behaviour": "complete", "epochs": "3"})
    handle = engine.launch(spec)
    ended = wait_for_exit(engine, handle)
    assert (ended.exit_code, ended.signal, ended.agent_lost) == (0, None, False)
    lines = messages(logs, spec)
    # stdout and stderr both reach the stream, through the agent.
    for line in ["argv=['train']", f"job={spec.job_name} host=algo-1",
                 "hostname-in-container=algo-1", "epoch=2 loss=0.333", "to stderr",
                 "model written"]:
        assert line in lines
    model = json.loads((spec.ml_root / "model" / "model.json").read_text())
    assert model["hyperparameters"] == {"behaviour": "complete", "epochs": "3"}
    assert not container_exists(spec)  # removed once its status was recorded


def test_a_container_that_fails_exits_1_with_its_failure_file_and_its_lines(
        engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=TRAIN_IMAGE, tail=[TRAIN_IMAGE, "train"],
                    hyperparameters={"behaviour": "fail"})
    ended = wait_for_exit(engine, engine.launch(spec))
    assert (ended.exit_code, ended.agent_lost) == (1, False)
    assert (spec.ml_root / "output" / "failure").read_text() == (
        "ValueError: the test asked this container to fail")
    assert "failing on purpose" in messages(logs, spec)


def test_an_exit_status_other_than_1_is_the_instances(engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=TRAIN_IMAGE, tail=[TRAIN_IMAGE, "train"],
                    hyperparameters={"behaviour": "crash"})
    handle = engine.launch(spec)
    assert wait_for_exit(engine, handle).exit_code == 3
    # Asked again (a restarted server re-adopting the job), the answer is the same, though the
    # container is gone.
    assert DockerRunner().poll(handle).exit_code == 3


# -- containers that never start: no stream, a ClientError (reference §1, §3.1) -----------------

def test_an_image_the_engine_does_not_hold_fails_before_start_with_no_stream(
        engine, server, logs, tmp_path):
    image = f"sagewatch-test/absent-{uuid.uuid4().hex[:8]}:latest"
    spec = instance(tmp_path, server, image=image, tail=[image, "train"])
    handle = engine.launch(spec)
    ended = wait_for_exit(engine, handle)
    assert ended.exit_code != 0
    assert ended.failure_reason == IMAGE_UNAVAILABLE
    assert streams_of_job(logs, spec) == []
    assert not (spec.state_dir / "agent.json").exists()  # no agent was started
    assert not container_exists(spec)


def test_an_entrypoint_that_does_not_exist_fails_with_the_engines_words_and_no_stream(
        engine, server, logs, tmp_path):
    # The base image has no `train`: AWS answers `ClientError: … exec: "train": executable file
    # not found in $PATH: unknown` and the job has no logs (reference §3.1, §1).
    spec = instance(tmp_path, server, image=BASE_IMAGE, tail=[BASE_IMAGE, "train"])
    ended = wait_for_exit(engine, engine.launch(spec))
    assert ended.exit_code == 127
    assert ended.failure_reason.startswith("ClientError: ")
    assert 'exec: "train": executable file not found in $PATH' in ended.failure_reason
    assert streams_of_job(logs, spec) == []
    assert not container_exists(spec)


# -- stopping: docker stop -t <grace> (reference §3.1 Stop) --------------------------------------

def test_stop_sends_sigterm_to_the_container_which_ends_cleanly(engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=TRAIN_IMAGE, tail=[TRAIN_IMAGE, "train"],
                    hyperparameters={"behaviour": "wait"})
    handle = engine.launch(spec)
    wait_for_line(logs, spec, "waiting for SIGTERM")
    engine.stop(handle)
    ended = wait_for_exit(engine, handle)
    assert ended.exit_code == 0
    lines = messages(logs, spec)
    assert lines[-2:] == ["got SIGTERM", "model written"]
    assert (spec.ml_root / "model" / "model.json").exists()


def test_stop_kills_a_container_that_ignores_sigterm_after_the_grace_period(
        engine, server, logs, tmp_path):
    script = "trap '' TERM; echo ignoring SIGTERM; while :; do sleep 0.1; done"
    spec = instance(tmp_path, server, image=BASE_IMAGE, grace=1,
                    tail=["--entrypoint", "sh", BASE_IMAGE, "-c", script])
    handle = engine.launch(spec)
    wait_for_line(logs, spec, "ignoring SIGTERM")
    engine.stop(handle)
    # SIGKILL after 1 s: the engine reports 128 + 9, as `docker run` would.
    assert wait_for_exit(engine, handle).exit_code == 137
    assert not container_exists(spec)


def test_kill_removes_the_container_and_its_agent(engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=TRAIN_IMAGE, tail=[TRAIN_IMAGE, "train"],
                    hyperparameters={"behaviour": "wait"})
    handle = engine.launch(spec)
    wait_for_line(logs, spec, "waiting for SIGTERM")
    engine.kill(handle)
    ended = wait_for_exit(engine, handle)
    assert ended.exit_code != 0 or ended.agent_lost
    assert not container_exists(spec)


# -- processing: the image's ENTRYPOINT, no `train` (reference §3.3) -----------------------------

def test_a_processing_container_runs_its_entrypoint_with_the_arguments(
        engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, kind="ProcessingJob", image=PROCESS_IMAGE,
                    tail=[PROCESS_IMAGE, "--mode", "upper"])
    ended = wait_for_exit(engine, engine.launch(spec))
    assert ended.exit_code == 0
    lines = messages(logs, spec)
    assert "argv=['--mode', 'upper']" in lines
    assert f"job={spec.job_name}" in lines
    assert (spec.ml_root / "processing" / "output" / "a.txt").read_text() == "HELLO\n"
    assert (spec.ml_root / "output" / "message").read_text() == "processed 1 files"


def test_the_instances_environment_reaches_the_container(engine, server, logs, tmp_path):
    spec = instance(tmp_path, server, image=BASE_IMAGE,
                    env={"SAGEWATCH_TEST_VALUE": "a value with spaces; and $symbols"},
                    tail=["--entrypoint", "sh", BASE_IMAGE, "-c",
                          'echo "value=$SAGEWATCH_TEST_VALUE"; echo "job=$TRAINING_JOB_NAME"'])
    assert wait_for_exit(engine, engine.launch(spec)).exit_code == 0
    lines = messages(logs, spec)
    assert "value=a value with spaces; and $symbols" in lines
    assert f"job={spec.job_name}" in lines
