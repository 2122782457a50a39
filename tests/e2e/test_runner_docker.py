"""The docker runner against a real Docker engine: containers of locally built images run under
the real agent, and their output is read back from a real server through boto3 — first the runner
driven directly, then whole jobs created through the SageMaker API on a server configured with
the docker runner (controller, image resolution, runner, agent, Describe*, logs, metrics).

These need an engine and the test images (docs/docker.md):

    tests/docker/engine.sh install && tests/docker/engine.sh start && tests/docker/build-images.sh
    make test-docker

They carry the ``docker`` marker, which the default ``make test`` deselects (CI has no engine).
Run on their own, a missing engine or image is a failure, not a skip: these tests exist to show
the runner working, and skipping would show nothing.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import pytest

from sagewatch.jobs.runners.base import InstanceSpec
from sagewatch.jobs.runners.docker import (IMAGE_UNAVAILABLE, DockerRunner, container_name,
                                           engine_reachable, image_present)

from ..server import ServerProcess, make_client
from .jobs import ROLE, messages_of, streams_of, wait_for, wait_processing, wait_training

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


# == Through the API: a server configured with the docker runner ===============================
#
# CreateTrainingJob / CreateProcessingJob through boto3, on a server started with
# SAGEWATCH_JOBS_RUNNER=docker: the controller, jobs/images.py's docker resolution, the runner and
# the agent, read back through DescribeTrainingJob, the log stream and CloudWatch.

# A stop reaches `train` as SIGTERM at once; the grace only bounds a container that ignores it.
STOP_GRACE_SECONDS = 5


@pytest.fixture(scope="module")
def docker_server(engine, tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("sagewatch-docker") / "data", env={
        "SAGEWATCH_JOBS_RUNNER": "docker",
        "SAGEWATCH_JOBS_STOP_GRACE_SECONDS": str(STOP_GRACE_SECONDS)}).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api(docker_server):
    """boto3 clients of the docker-runner server: sagemaker, logs, cloudwatch."""
    return {name: make_client(name, docker_server.endpoint) for name in ("sagemaker", "logs", "cloudwatch")}


def job_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def training_job(name: str, image: str, output: Path, *, hyperparameters: dict | None = None,
                 metric_definitions: list | None = None) -> dict:
    """CreateTrainingJob input for a custom image (no script mode): `docker run image train`."""
    specification = {"TrainingImage": image, "TrainingInputMode": "File"}
    if metric_definitions:
        specification["MetricDefinitions"] = metric_definitions
    return {
        "TrainingJobName": name, "RoleArn": ROLE, "AlgorithmSpecification": specification,
        "HyperParameters": hyperparameters or {},
        "OutputDataConfig": {"S3OutputPath": output.as_uri()},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def test_api_a_training_job_runs_in_its_image_and_everything_reads_back(api, tmp_path):
    sagemaker, logs, cloudwatch = api["sagemaker"], api["logs"], api["cloudwatch"]
    name = job_name("dtrain")
    output = tmp_path / "output"
    request = training_job(name, TRAIN_IMAGE, output, hyperparameters={"behaviour": "complete"},
                           metric_definitions=[{"Name": "train:loss", "Regex": r"loss=([0-9.]+)"},
                                               {"Name": "train:epoch", "Regex": r"epoch=(\d+)"}])
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]

    # Its lines, stdout and stderr, in <job>/algo-1-<epoch seconds> (reference §1), printed by
    # `train` inside the container (hostname algo-1, the contract's files read under /opt/ml).
    [stream] = streams_of(logs, TRAINING_GROUP, name)
    assert stream.startswith(f"{name}/algo-1-") and stream.rsplit("-", 1)[1].isdigit()
    lines = messages_of(logs, TRAINING_GROUP, stream)
    for line in ["argv=['train']", f"job={name} host=algo-1", "hostname-in-container=algo-1",
                 "epoch=2 loss=0.333", "to stderr", "model written"]:
        assert line in lines

    # /opt/ml/model -> <S3OutputPath>/<job>/output/model.tar.gz (reference §3.1).
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == output.as_uri() + f"/{name}/output/model.tar.gz"
    with tarfile.open(output / name / "output" / "model.tar.gz") as archive:
        model = json.load(archive.extractfile("model.json"))
    assert model["hyperparameters"] == {"behaviour": "complete"}

    # MetricDefinitions on the container's lines: the last value of each (reference §2.3).
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert final == {"train:loss": pytest.approx(0.333), "train:epoch": 2}


def test_api_a_processing_job_runs_its_entrypoint_with_arguments_inputs_and_outputs(api, tmp_path):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dproc")
    source, target = tmp_path / "raw", tmp_path / "processed"
    source.mkdir()
    (source / "a.txt").write_text("hello\n")
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE,
        # ContainerEntrypoint replaces the image's ENTRYPOINT, ContainerArguments follow it
        # (reference §3.3): `docker run --entrypoint python3 image /opt/program/process.py --mode upper`.
        AppSpecification={"ImageUri": PROCESS_IMAGE,
                          "ContainerEntrypoint": ["python3", "/opt/program/process.py"],
                          "ContainerArguments": ["--mode", "upper"]},
        ProcessingInputs=[{"InputName": "data", "S3Input": {
            "S3Uri": source.as_uri(), "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
        ProcessingOutputConfig={"Outputs": [{"OutputName": "out", "S3Output": {
            "S3Uri": target.as_uri(), "LocalPath": "/opt/ml/processing/output",
            "S3UploadMode": "EndOfJob"}}]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                               "VolumeSizeInGB": 1}},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    job = wait_processing(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ExitMessage"] == "processed 1 files"  # /opt/ml/output/message
    assert (target / "a.txt").read_text() == "HELLO\n"
    [stream] = streams_of(logs, PROCESSING_GROUP, name)
    assert stream.startswith(f"{name}/algo-1-")
    lines = messages_of(logs, PROCESSING_GROUP, stream)
    assert "argv=['--mode', 'upper']" in lines and f"job={name}" in lines


def test_api_a_processing_job_with_arguments_only_keeps_the_images_entrypoint(api, tmp_path):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dargs")
    sagemaker.create_processing_job(
        ProcessingJobName=name, RoleArn=ROLE,
        AppSpecification={"ImageUri": PROCESS_IMAGE, "ContainerArguments": ["--fail"]},
        ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large",
                                               "VolumeSizeInGB": 1}},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    job = wait_processing(sagemaker, name, timeout=WAIT_SECONDS)
    # process.py exits 2 on --fail, writing no failure file but its message (reference §3.3).
    assert job["ProcessingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: ")
    assert job["ExitMessage"] == "processed 0 files"
    [stream] = streams_of(logs, PROCESSING_GROUP, name)
    assert "argv=['--fail']" in messages_of(logs, PROCESSING_GROUP, stream)


@pytest.mark.parametrize("hyperparameters", [
    {},
    # Script-mode hyperparameters do not turn a missing image into a host script: the docker
    # runner runs the image the job names, or fails as SageMaker does (docs/docker.md).
    {"sagemaker_program": '"train.py"', "sagemaker_submit_directory": '"file:///nonexistent"'},
], ids=["plain", "script-mode"])
def test_api_an_image_the_engine_lacks_fails_with_client_error_and_no_stream(api, tmp_path, hyperparameters):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dabsent")
    # A framework image's name, which the process runner would run as a host command.
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
    assert not image_present(image)
    sagemaker.create_training_job(**training_job(name, image, tmp_path / "out",
                                                 hyperparameters=hyperparameters))
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
    assert job["FailureReason"] == IMAGE_UNAVAILABLE
    assert "ModelArtifacts" not in job or not job["ModelArtifacts"].get("S3ModelArtifacts")
    assert streams_of(logs, TRAINING_GROUP, name) == []


def test_api_a_container_that_cannot_start_fails_with_the_engines_words_and_no_stream(api, tmp_path):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dnotrain")
    sagemaker.create_training_job(**training_job(name, BASE_IMAGE, tmp_path / "out"))
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ")
    assert 'exec: "train": executable file not found in $PATH' in job["FailureReason"]
    assert streams_of(logs, TRAINING_GROUP, name) == []


def test_api_a_failing_container_fails_with_its_failure_file(api, tmp_path):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dfail")
    sagemaker.create_training_job(**training_job(name, TRAIN_IMAGE, tmp_path / "out",
                                                 hyperparameters={"behaviour": "fail"}))
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: ValueError: the test asked this container to fail"
    [stream] = streams_of(logs, TRAINING_GROUP, name)
    assert "failing on purpose" in messages_of(logs, TRAINING_GROUP, stream)


def test_api_stop_training_job_stops_the_container_and_uploads_its_model(api, tmp_path):
    sagemaker, logs = api["sagemaker"], api["logs"]
    name = job_name("dstop")
    output = tmp_path / "out"
    sagemaker.create_training_job(**training_job(name, TRAIN_IMAGE, output,
                                                 hyperparameters={"behaviour": "wait"}))
    [stream] = wait_for(lambda: streams_of(logs, TRAINING_GROUP, name), bool, timeout=WAIT_SECONDS)
    wait_for(lambda: messages_of(logs, TRAINING_GROUP, stream),
             lambda lines: "waiting for SIGTERM" in lines, timeout=WAIT_SECONDS)
    sagemaker.stop_training_job(TrainingJobName=name)
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "Stopping" in [t["Status"] for t in job["SecondaryStatusTransitions"]]
    # SIGTERM reached `train` in the container (docker stop), which wrote its model: a stopped
    # job's model is uploaded too (reference §3.1).
    assert messages_of(logs, TRAINING_GROUP, stream)[-2:] == ["got SIGTERM", "model written"]
    assert (output / name / "output" / "model.tar.gz").exists()


def test_api_max_runtime_stops_the_container_as_max_runtime_exceeded(api, tmp_path):
    sagemaker = api["sagemaker"]
    name = job_name("dmaxrt")
    request = training_job(name, TRAIN_IMAGE, tmp_path / "out", hyperparameters={"behaviour": "wait"})
    request["StoppingCondition"] = {"MaxRuntimeInSeconds": 1}
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_api_two_instances_are_two_containers_with_two_streams(api, tmp_path):
    sagemaker, logs, cloudwatch = api["sagemaker"], api["logs"], api["cloudwatch"]
    name = job_name("dpair")
    # Busy for a second: long enough for the agents to sample each container (one that ends
    # before its agent first looks has no instance metrics, docs/docker.md).
    request = training_job(name, TRAIN_IMAGE, tmp_path / "out",
                           hyperparameters={"behaviour": "busy", "seconds": "1", "megabytes": "16"})
    # ml.t3.medium (2 vCPUs): two of them fit on a 2-core test machine.
    request["ResourceConfig"] = {"InstanceType": "ml.t3.medium", "InstanceCount": 2, "VolumeSizeInGB": 1}
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    streams = streams_of(logs, TRAINING_GROUP, name)
    assert [s.rsplit("-", 1)[0] for s in streams] == [f"{name}/algo-1", f"{name}/algo-2"]
    for index, stream in enumerate(streams, start=1):
        lines = messages_of(logs, TRAINING_GROUP, stream)
        # Each container is its own host: resourceconfig.json's current_host and its hostname.
        assert f"job={name} host=algo-{index}" in lines
        assert f"hostname-in-container=algo-{index}" in lines
    hosts = {d["Value"] for m in cloudwatch.list_metrics(Namespace=TRAINING_GROUP, MetricName="CPUUtilization")["Metrics"]
             for d in m["Dimensions"] if d["Name"] == "Host" and d["Value"].startswith(name)}
    assert hosts == {f"{name}/algo-1", f"{name}/algo-2"}


def test_api_a_busy_container_reports_its_own_cpu_and_memory(api, tmp_path):
    sagemaker, cloudwatch = api["sagemaker"], api["cloudwatch"]
    name = job_name("dbusy")
    sagemaker.create_training_job(**training_job(
        name, TRAIN_IMAGE, tmp_path / "out",
        hyperparameters={"behaviour": "busy", "seconds": "3", "megabytes": "256"}))
    job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    host = [{"Name": "Host", "Value": f"{name}/algo-1"}]
    start = job["TrainingStartTime"] - datetime.timedelta(minutes=1)
    end = job["TrainingEndTime"] + datetime.timedelta(minutes=1)

    def highest(metric: str) -> float:
        points = cloudwatch.get_metric_statistics(
            Namespace=TRAINING_GROUP, MetricName=metric, Dimensions=host, StartTime=start,
            EndTime=end, Period=60, Statistics=["Maximum"])["Datapoints"]
        assert points, metric
        return max(p["Maximum"] for p in points)

    # The container's processes, not the `docker logs` client the agent runs: a busy core reads
    # near 100 on an idle machine (a loaded one gives it less, never the client's ~0), and the
    # 256 MiB it holds is a visible share of the machine's memory.
    assert highest("CPUUtilization") > 10
    total_mib = _memory_total_mib()
    assert highest("MemoryUtilization") > 100 * 200 / total_mib
    assert 0 < highest("DiskUtilization") <= 100


def _memory_total_mib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def test_api_kill_9_of_the_server_mid_job_then_restart_re_adopts_the_container(engine, tmp_path):
    # The container and its agent outlive the server; the restarted server finds them again from
    # the stored handle (the container's name) and can still stop the job through the engine.
    server = ServerProcess(tmp_path / "data", env={"SAGEWATCH_JOBS_RUNNER": "docker",
                                                   "SAGEWATCH_JOBS_STOP_GRACE_SECONDS": "5"}).start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        name = job_name("dsurvive")
        output = tmp_path / "out"
        sagemaker.create_training_job(**training_job(name, TRAIN_IMAGE, output,
                                                     hyperparameters={"behaviour": "wait"}))
        [stream] = wait_for(lambda: streams_of(logs, TRAINING_GROUP, name), bool, timeout=WAIT_SECONDS)
        wait_for(lambda: messages_of(logs, TRAINING_GROUP, stream),
                 lambda lines: "waiting for SIGTERM" in lines, timeout=WAIT_SECONDS)
        server.kill()
        server.start()
        assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] == "InProgress"
        sagemaker.stop_training_job(TrainingJobName=name)
        job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
        assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
        assert messages_of(logs, TRAINING_GROUP, stream)[-2:] == ["got SIGTERM", "model written"]
        assert (output / name / "output" / "model.tar.gz").exists()
        assert subprocess.run(["docker", "ps", "--all", "--quiet", "--filter", f"name={name}"],
                              capture_output=True, text=True, check=True).stdout.strip() == ""
    finally:
        server.stop()


def test_api_an_image_the_configuration_maps_still_runs_on_the_host(engine, tmp_path):
    # The operator's own [jobs.images] entry is an explicit choice: with the docker runner
    # selected (here by the config file), a mapped image the engine lacks runs as the process
    # runner runs it, script mode included.
    config = tmp_path / "sagewatch.toml"
    config.write_text('[jobs]\nrunner = "docker"\n\n[jobs.images]\n"*pytorch-training:*" = "host"\n')
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("import os\nprint('on the host, model dir', os.environ['SM_MODEL_DIR'])\n")
    server = ServerProcess(tmp_path / "data", extra_args=("--config", str(config))).start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        name = job_name("dmapped")
        image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
        sagemaker.create_training_job(**training_job(name, image, tmp_path / "out", hyperparameters={
            "sagemaker_program": '"train.py"', "sagemaker_submit_directory": json.dumps(code.as_uri())}))
        job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        [stream] = streams_of(logs, TRAINING_GROUP, name)
        lines = messages_of(logs, TRAINING_GROUP, stream)
        assert any(line.startswith("on the host, model dir ") for line in lines), lines
    finally:
        server.stop()


def test_api_with_no_engine_answering_a_job_fails_with_the_servers_reason_and_no_stream(tmp_path):
    # `docker info` fails (the CLI here is /bin/false): the fault is the server's, and says so.
    server = ServerProcess(tmp_path / "data", env={"SAGEWATCH_JOBS_RUNNER": "docker",
                                                   "SAGEWATCH_JOBS_DOCKER": "/bin/false"}).start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        name = job_name("dnoengine")
        sagemaker.create_training_job(**training_job(name, TRAIN_IMAGE, tmp_path / "out"))
        job = wait_training(sagemaker, name, timeout=WAIT_SECONDS)
        assert job["TrainingJobStatus"] == "Failed"
        assert job["FailureReason"].startswith("InternalServerError: the docker runner found no Docker engine")
        assert streams_of(logs, TRAINING_GROUP, name) == []
    finally:
        server.stop()
