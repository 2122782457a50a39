"""Training and Processing jobs that run for real, read back through boto3 as a user would:
status and Describe fields, the log stream, algorithm and instance metrics, artifacts."""

from __future__ import annotations

import json
import os
import signal
import tarfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from ..server import ServerProcess, make_client
from .jobs import (messages_of, processing_request, streams_of, training_request, wait_for,
                   wait_processing, wait_training)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TRAINING_GROUP = "/aws/sagemaker/TrainingJobs"
PROCESSING_GROUP = "/aws/sagemaker/ProcessingJobs"


@pytest.fixture(scope="module")
def sagemaker(server):
    return make_client("sagemaker", server.endpoint)


@pytest.fixture(scope="module")
def cloudwatch(server):
    return make_client("cloudwatch", server.endpoint)


def script(tmp_path: Path, body: str, name: str = "train.py") -> Path:
    code = tmp_path / f"code-{uuid.uuid4().hex[:6]}"
    code.mkdir()
    path = code / name
    path.write_text(textwrap.dedent(body))
    return path


def job_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- a real training job, read back whole -----------------------------------------------------

METRICS = [
    {"Name": "train:loss", "Regex": r"train_loss=([0-9.]+)"},
    {"Name": "validation:loss", "Regex": r"validation_loss=([0-9.]+)"},
    {"Name": "validation:accuracy", "Regex": r"validation_accuracy=([0-9.]+)"},
]


def test_a_training_job_runs_and_everything_reads_back(sagemaker, logs, cloudwatch, tmp_path):
    name = job_name("train")
    data = tmp_path / "data"
    data.mkdir()
    (data / "rows.csv").write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(200)))
    request = training_request(
        name, EXAMPLES / "train_numpy.py", tmp_path / "output",
        hyperparameters={"epochs": 5}, channels={"train": data}, metric_definitions=METRICS)
    arn = sagemaker.create_training_job(**request)["TrainingJobArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name.lower()}"

    job = wait_training(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"])
    assert job["CreationTime"] <= job["TrainingStartTime"] <= job["TrainingEndTime"] <= job["LastModifiedTime"]
    assert job["TrainingTimeInSeconds"] >= 1 and job["BillableTimeInSeconds"] >= 1
    # AWS keeps job times to the millisecond (reference §4.2: "CreationTime 11:10:50.603").
    times = [job[k] for k in ("CreationTime", "TrainingStartTime", "TrainingEndTime", "LastModifiedTime")]
    times += [t[k] for t in job["SecondaryStatusTransitions"] for k in ("StartTime", "EndTime")]
    assert all(t.microsecond % 1000 == 0 for t in times)
    assert job["HyperParameters"] == request["HyperParameters"]
    assert job["ResourceConfig"]["InstanceCount"] == 1

    # The model: <S3OutputPath>/<job>/output/model.tar.gz, holding what the script wrote.
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == (tmp_path / "output").as_uri() + f"/{name}/output/model.tar.gz"
    with tarfile.open(tmp_path / "output" / name / "output" / "model.tar.gz") as archive:
        assert archive.getnames()

    # The log stream: <job>/algo-1-<epoch seconds>, with every epoch's line.
    [stream] = streams_of(logs, TRAINING_GROUP, name)
    assert stream.startswith(f"{name}/algo-1-") and stream.rsplit("-", 1)[1].isdigit()
    lines = messages_of(logs, TRAINING_GROUP, stream)
    assert sum("validation_loss=" in line for line in lines) == 5

    # Algorithm metrics: one per MetricDefinition, dimension TrainingJobName, as the SDK's
    # TrainingJobAnalytics asks for them (reference §11.3); the last values are FinalMetricDataList.
    final = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert set(final) == {"train:loss", "validation:loss", "validation:accuracy"}
    last_val_loss = float([line for line in lines if "validation_loss=" in line][-1]
                          .split("validation_loss=")[1].split()[0])
    assert final["validation:loss"] == pytest.approx(last_val_loss)
    stats = cloudwatch.get_metric_statistics(
        Namespace=TRAINING_GROUP, MetricName="validation:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": name}],
        StartTime=job["TrainingStartTime"].timestamp() - 60, EndTime=job["TrainingEndTime"].timestamp() + 60,
        Period=60, Statistics=["Average", "SampleCount"])
    assert sum(p["SampleCount"] for p in stats["Datapoints"]) == 5

    # Instance metrics: Host=<job>/algo-1 in the job kind's namespace.
    metrics = cloudwatch.list_metrics(Namespace=TRAINING_GROUP,
                                      Dimensions=[{"Name": "Host", "Value": f"{name}/algo-1"}])
    assert {"CPUUtilization", "MemoryUtilization", "DiskUtilization"} <= {
        m["MetricName"] for m in metrics["Metrics"]}

    summaries = sagemaker.list_training_jobs(NameContains=name)["TrainingJobSummaries"]
    assert [(s["TrainingJobName"], s["TrainingJobStatus"]) for s in summaries] == [(name, "Completed")]


def test_a_processing_job_runs_with_inputs_outputs_and_exit_message(sagemaker, logs, tmp_path):
    name = job_name("process")
    source = tmp_path / "raw"
    source.mkdir()
    (source / "numbers.csv").write_text("".join(f"{i},{i * i}\n" for i in range(100)))
    target = tmp_path / "processed"
    request = processing_request(
        name, ["python3", "/opt/ml/processing/input/code/process.py"],
        inputs={"code": (EXAMPLES / "process.py", "/opt/ml/processing/input/code"),
                "data": (source, "/opt/ml/processing/input/data")},
        outputs={"processed": ("/opt/ml/processing/output", target)})
    sagemaker.create_processing_job(**request)
    job = wait_processing(sagemaker, name)
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["ProcessingStartTime"] <= job["ProcessingEndTime"]
    statistics = json.loads((target / "statistics.json").read_text())
    assert statistics, "the processing output was uploaded"
    assert job["ExitMessage"]  # what the script wrote to /opt/ml/output/message
    [stream] = streams_of(logs, PROCESSING_GROUP, name)
    assert stream.startswith(f"{name}/algo-1-")
    assert messages_of(logs, PROCESSING_GROUP, stream)


# -- jobs that go wrong -------------------------------------------------------------------------

def test_an_image_that_cannot_start_fails_with_client_error_and_no_stream(sagemaker, logs, tmp_path):
    name = job_name("noimage")
    request = training_request(name, script(tmp_path, "print('never')\n"), tmp_path / "out")
    request["HyperParameters"] = {}
    request["AlgorithmSpecification"]["TrainingImage"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/no-such-algorithm:latest")
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ")
    assert streams_of(logs, TRAINING_GROUP, name) == []


def test_a_script_that_raises_fails_with_its_traceback(sagemaker, logs, tmp_path):
    name = job_name("raises")
    body = """
        print("loading data", flush=True)
        raise RuntimeError("the data is bad: column 7 is empty")
    """
    sagemaker.create_training_job(**training_request(name, script(tmp_path, body), tmp_path / "out"))
    job = wait_training(sagemaker, name)
    assert job["TrainingJobStatus"] == "Failed" and job["SecondaryStatus"] == "Failed"
    assert job["FailureReason"].startswith("AlgorithmError: ")
    assert "the data is bad: column 7 is empty" in job["FailureReason"]
    [stream] = streams_of(logs, TRAINING_GROUP, name)
    lines = "\n".join(messages_of(logs, TRAINING_GROUP, stream))
    assert "loading data" in lines
    assert "Traceback (most recent call last)" in lines
    assert "RuntimeError: the data is bad: column 7 is empty" in lines


LONG_RUNNING = """
    import time
    for i in range(600):
        print(f"step {i}", flush=True)
        time.sleep(0.1)
"""


def test_stop_sends_sigterm_and_the_job_ends_stopped(sagemaker, logs, tmp_path):
    name = job_name("stop")
    sagemaker.create_training_job(**training_request(name, script(tmp_path, LONG_RUNNING), tmp_path / "out"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=name),
             lambda r: r["SecondaryStatus"] == "Training")
    wait_for(lambda: streams_of(logs, TRAINING_GROUP, name), bool)
    sagemaker.stop_training_job(TrainingJobName=name)
    assert sagemaker.describe_training_job(TrainingJobName=name)["TrainingJobStatus"] in ("Stopping", "Stopped")
    job = wait_training(sagemaker, name)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert "Stopping" in [t["Status"] for t in job["SecondaryStatusTransitions"]]
    # reference §3.1: the model is uploaded for stopped jobs too.
    assert job["ModelArtifacts"]["S3ModelArtifacts"].endswith(f"/{name}/output/model.tar.gz")


def test_max_runtime_stops_the_job_as_max_runtime_exceeded(sagemaker, tmp_path):
    name = job_name("maxrt")
    request = training_request(name, script(tmp_path, LONG_RUNNING), tmp_path / "out", max_runtime=1)
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")


def test_two_instances_have_two_streams_and_two_hosts(sagemaker, logs, cloudwatch, tmp_path):
    name = job_name("pair")
    body = """
        import json, os, time
        config = json.load(open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "resourceconfig.json")))
        print("I am", os.environ["SM_CURRENT_HOST"], "of", config["hosts"], flush=True)
        time.sleep(1.5)
    """
    sagemaker.create_training_job(**training_request(name, script(tmp_path, body), tmp_path / "out",
                                                      instance_count=2, instance_type="ml.t3.medium"))
    job = wait_training(sagemaker, name)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    streams = streams_of(logs, TRAINING_GROUP, name)
    assert [s.rsplit("-", 1)[0] for s in streams] == [f"{name}/algo-1", f"{name}/algo-2"]
    assert len({s.rsplit("-", 1)[1] for s in streams}) == 1, "one epoch for all hosts"
    for index, stream in enumerate(streams, start=1):
        assert f"I am algo-{index} of ['algo-1', 'algo-2']" in messages_of(logs, TRAINING_GROUP, stream)
    hosts = {d["Value"] for m in cloudwatch.list_metrics(Namespace=TRAINING_GROUP, MetricName="CPUUtilization")["Metrics"]
             for d in m["Dimensions"] if d["Name"] == "Host" and d["Value"].startswith(name)}
    assert hosts == {f"{name}/algo-1", f"{name}/algo-2"}


def test_an_alarm_on_validation_loss_stops_the_training_job(sagemaker, cloudwatch, tmp_path):
    name = job_name("diverge")
    body = """
        import time
        for epoch in range(1000):
            print(f"epoch={epoch} val_loss={1.0 + epoch * 0.5}", flush=True)
            time.sleep(0.2)
    """
    request = training_request(name, script(tmp_path, body), tmp_path / "out",
                               metric_definitions=[{"Name": "validation:loss", "Regex": r"val_loss=([0-9.]+)"}])
    sagemaker.create_training_job(**request)
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-diverging", Namespace=TRAINING_GROUP, MetricName="validation:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": name}], Statistic="Maximum",
        Period=10, EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=["arn:aws:automate:us-east-1:sagemaker:stop"])
    job = wait_training(sagemaker, name, timeout=90)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    history = cloudwatch.describe_alarm_history(AlarmName=f"{name}-diverging", HistoryItemType="Action")
    assert any("Successfully executed action" in h["HistorySummary"] for h in history["AlarmHistoryItems"])


# -- capacity ----------------------------------------------------------------------------------

def test_a_job_that_does_not_fit_waits_pending_and_starts_when_capacity_frees(tmp_path):
    config = tmp_path / "sagewatch.toml"
    config.write_text("[jobs.capacity]\ncpus = 2\nmemory_gib = 64\ngpus = []\n")
    server = ServerProcess(tmp_path / "data", extra_args=("--config", str(config))).start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        first, second, third = job_name("first"), job_name("second"), job_name("third")
        body = "import time\nprint('working', flush=True)\ntime.sleep(2)\n"
        for name in (first, second, third):  # ml.m5.large: 2 vCPU, the whole configured machine
            sagemaker.create_training_job(**training_request(name, script(tmp_path, body), tmp_path / "out"))
        waiting = wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=second),
                           lambda r: r["SecondaryStatus"] == "Pending", timeout=10)
        assert waiting["TrainingJobStatus"] == "InProgress"
        assert waiting["SecondaryStatusTransitions"][-1]["StatusMessage"] == (
            "Insufficient capacity error from EC2 while launching instances, retrying!")
        assert sagemaker.describe_training_job(TrainingJobName=first)["SecondaryStatus"] != "Pending"
        # A job stopped while it waits never starts: Stopped, and no stream.
        sagemaker.stop_training_job(TrainingJobName=third)
        stopped = wait_training(sagemaker, third)
        assert (stopped["TrainingJobStatus"], stopped["SecondaryStatus"]) == ("Stopped", "Stopped")
        assert streams_of(logs, TRAINING_GROUP, third) == []
        done_first = wait_training(sagemaker, first)
        done_second = wait_training(sagemaker, second)
        assert done_first["TrainingJobStatus"] == done_second["TrainingJobStatus"] == "Completed"
        assert done_second["TrainingStartTime"] >= done_first["TrainingEndTime"] - __import__("datetime").timedelta(seconds=1)
        assert "Pending" in [t["Status"] for t in done_second["SecondaryStatusTransitions"]]
    finally:
        server.stop()


# -- the server dies mid-job --------------------------------------------------------------------

def test_kill_9_of_the_server_mid_job_then_restart_loses_no_line(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        name = job_name("survive")
        body = """
            import time
            for i in range(400):
                print(f"line {i}", flush=True)
                time.sleep(0.01)
        """
        sagemaker.create_training_job(**training_request(name, script(tmp_path, body), tmp_path / "out"))
        wait_for(lambda: streams_of(logs, TRAINING_GROUP, name), bool)
        server.kill()
        time.sleep(1.0)  # the job goes on printing while no server listens
        server.start()
        job = wait_training(sagemaker, name)
        assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
        [stream] = streams_of(logs, TRAINING_GROUP, name)
        printed = [m for m in messages_of(logs, TRAINING_GROUP, stream) if m.startswith("line ")]
        assert set(printed) == {f"line {i}" for i in range(400)}
    finally:
        server.stop()


def test_a_job_whose_agent_died_while_the_server_was_down_fails_with_a_clear_reason(tmp_path):
    server = ServerProcess(tmp_path / "data").start()
    try:
        sagemaker = make_client("sagemaker", server.endpoint)
        logs = make_client("logs", server.endpoint)
        name = job_name("orphan")
        sagemaker.create_training_job(**training_request(name, script(tmp_path, LONG_RUNNING), tmp_path / "out"))
        wait_for(lambda: streams_of(logs, TRAINING_GROUP, name), bool)
        server.kill()
        # The machine loses the instance while no server watches: its agent and command die.
        started = json.loads(next((tmp_path / "data").rglob(f"{name}/algo-1/agent/agent.json")).read_text())
        os.killpg(started["child_pgid"], signal.SIGKILL)
        os.kill(started["agent_pid"], signal.SIGKILL)
        server.start()
        job = wait_training(sagemaker, name)
        assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Failed", "Failed")
        assert "agent of instance algo-1 stopped without reporting" in job["FailureReason"]
    finally:
        server.stop()


def test_the_gpu_example_runs_as_a_job(sagemaker, logs, cloudwatch, tmp_path):
    """examples/gpu_torch.py as a job on a GPU instance type. With PyTorch and a GPU it completes
    and its GPU metrics read above zero; with PyTorch and no GPU it runs its loop on the CPU
    (--allow-cpu); without PyTorch (CI) the job fails with the script's own reason, in its
    stream and in FailureReason."""
    try:
        import torch  # the job runs with this interpreter (config.JobSettings.python)
    except ImportError:
        torch = None
    gpu = torch is not None and torch.cuda.is_available()
    name = job_name("gpu")
    hyperparameters = {"seconds": 3, "memory-gib": 0.5}
    if torch is not None and not gpu:
        hyperparameters["allow-cpu"] = ""
    request = training_request(name, EXAMPLES / "gpu_torch.py", tmp_path / "out",
                               hyperparameters=hyperparameters, instance_type="ml.g4dn.xlarge")
    sagemaker.create_training_job(**request)
    job = wait_training(sagemaker, name, timeout=120)
    [stream] = streams_of(logs, TRAINING_GROUP, name)
    lines = messages_of(logs, TRAINING_GROUP, stream)
    if torch is None:
        assert job["TrainingJobStatus"] == "Failed"
        assert "PyTorch is not installed in this Python; gpu_torch.py needs it" in lines
        assert job["FailureReason"].startswith("AlgorithmError: ExecuteUserScriptError:")
        return
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert any(line.startswith("step=") for line in lines)
    if gpu:
        start, end = job["TrainingStartTime"].timestamp() - 60, job["TrainingEndTime"].timestamp() + 60
        for metric in ("GPUUtilization", "GPUMemoryUtilization"):
            points = cloudwatch.get_metric_statistics(
                Namespace=TRAINING_GROUP, MetricName=metric, StartTime=start, EndTime=end, Period=60,
                Dimensions=[{"Name": "Host", "Value": f"{name}/algo-1"}], Statistics=["Maximum"])
            assert max(p["Maximum"] for p in points["Datapoints"]) > 0, metric
