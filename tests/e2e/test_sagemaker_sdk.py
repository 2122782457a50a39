"""The SageMaker Python SDK (v2 and v3, each in its own virtualenv) against a real sagewatch server.

What the issue asks to show: v2 `Estimator(entry_point=...).fit(logs=True)` and v3
`ModelTrainer(...).train(wait=True, logs=True)` run a script-mode job whose data and code go
through a real S3-compatible server (moto's, started here), and print the job's lines; and v2
`Session().logs_for_job(name, wait=True)` tails a job created through boto3.

The SDK runs in a subprocess (tests/sdk/*.py) with the SDK's virtualenv (Makefile: sdk-venvs) and
an environment built from nothing but: AWS_ENDPOINT_URL (sagewatch), AWS_ENDPOINT_URL_S3 (moto),
region, dummy credentials, PATH and a fresh HOME. The two training scenarios name their bucket in
the SDK's Session (`Session(default_bucket=...)`, as a user of a private S3 would): left to find
its default bucket itself, each SDK looks the account up through STS at a hard-coded
https://sts.<region>.amazonaws.com (v2 sagemaker/session.py generate_default_sagemaker_bucket_name,
v3 sagemaker/core/helper/session_helper.py), which no endpoint variable redirects.

The SDK's waits are slow by design (v2 describes the job every 30 s, reference §11.1), so the three
scenarios start together when the module's first test asks for them and each test waits for its
own; the module takes about as long as the slowest scenario (~50 s), not their sum.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..sdk.s3_server import s3_compatible_server
from ..server import CREDENTIALS, ServerProcess, make_client

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCENARIOS = ROOT / "tests" / "sdk"
REGION = CREDENTIALS["AWS_DEFAULT_REGION"]
# A framework image as users name it; sagewatch runs script mode (v2) and a ContainerEntrypoint
# (v3) on the host whatever the image (docs/jobs.md: image resolution).
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
ROLE = "arn:aws:iam::123456789012:role/SageMakerExecutionRole"
DATA_BUCKET = "sagewatch-sdk-data"
EPOCHS = 4
SCENARIO_TIMEOUT = 300  # seconds; the SDK's own polling makes a scenario take ~15-50 s


@dataclass
class Scenario:
    """One SDK scenario script running in its SDK's virtualenv."""

    name: str
    process: subprocess.Popen
    output_path: Path

    def wait(self) -> tuple[str, dict]:
        """Wait for the scenario; return its whole output and its SCENARIO-RESULT payload."""
        try:
            self.process.wait(SCENARIO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        output = self.output_path.read_text(errors="replace")
        assert self.process.returncode == 0, (
            f"{self.name} exited with {self.process.returncode}:\n{output[-6000:]}")
        results = [line for line in output.splitlines() if line.startswith("SCENARIO-RESULT ")]
        assert results, f"{self.name} printed no SCENARIO-RESULT:\n{output[-6000:]}"
        return output, json.loads(results[-1].removeprefix("SCENARIO-RESULT "))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def sdk_pythons() -> tuple[Path, Path]:
    """The v2 and v3 SDK virtualenvs' pythons, installed on first use by the Makefile (the one
    recipe; up to date, this is a no-op)."""
    subprocess.run(["make", "-s", "-j2", "sdk-venvs"], cwd=ROOT, check=True, timeout=900)
    return ROOT / ".venv-sdk2" / "bin" / "python", ROOT / ".venv-sdk3" / "bin" / "python"


def training_rows() -> str:
    """A small deterministic CSV data set (4 features, 0/1 label in the last column)."""
    rows = []
    for i in range(200):
        features = [((i * 37 + j * 11) % 23 - 11) / 5 for j in range(4)]
        label = 1 if features[0] + 0.5 * features[1] - features[2] > 0 else 0
        rows.append(",".join(f"{x:.2f}" for x in features) + f",{label}")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def s3_endpoint():
    with s3_compatible_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def sdk_server(tmp_path_factory, s3_endpoint):
    # The server's jobs download channels and upload model.tar.gz through the same S3 server.
    server = ServerProcess(tmp_path_factory.mktemp("sdk") / "data",
                           env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": s3_endpoint}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def training_uri(s3_endpoint) -> str:
    s3 = make_client("s3", s3_endpoint)
    s3.create_bucket(Bucket=DATA_BUCKET)
    s3.put_object(Bucket=DATA_BUCKET, Key="numpy/train.csv", Body=training_rows().encode())
    return f"s3://{DATA_BUCKET}/numpy/"


@pytest.fixture(scope="module")
def scenario_home(tmp_path_factory, sdk_server) -> tuple[Path, str]:
    """A fresh HOME (no ~/.aws, no ~/.config/sagemaker) and the bucket the training scenarios
    name in their Session: the one the SDK would name itself, sagemaker-<region>-<account>."""
    home = tmp_path_factory.mktemp("sdk-home")
    account = make_client("sts", sdk_server.endpoint).get_caller_identity()["Account"]
    return home, f"sagemaker-{REGION}-{account}"


def endpoint_environment(sdk_server, s3_endpoint, home: Path) -> dict[str, str]:
    """Only endpoint variables, region and dummy credentials (plus PATH and a clean HOME)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ENDPOINT_URL": sdk_server.endpoint,
        "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def start(name: str, python: Path, script: str, args: list[str], env: dict[str, str],
          workdir: Path) -> Scenario:
    output_path = workdir / f"{name}.out"
    with open(output_path, "wb") as output:
        process = subprocess.Popen([str(python), str(SCENARIOS / script), *args], cwd=workdir,
                                   env=env, stdout=output, stderr=subprocess.STDOUT)
    return Scenario(name, process, output_path)


def create_tailed_job(sagemaker, name: str, output_dir: Path) -> None:
    """A script-mode job through boto3 that prints a line a second for a few seconds, so the
    SDK's tail starts while it runs. Code and output are file:// (a documented sagewatch
    extension)."""
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": "File"},
        # The SDK's script-mode convention: JSON-encoded strings (reference §3.2).
        HyperParameters={
            "sagemaker_program": json.dumps("train_numpy.py"),
            "sagemaker_submit_directory": json.dumps(EXAMPLES.as_uri()),
            "epochs": "6",
            "sleep-per-epoch": "1",
        },
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        OutputDataConfig={"S3OutputPath": output_dir.as_uri()},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory, sdk_server, s3_endpoint, training_uri, scenario_home):
    """Start the three SDK scenarios at once; each test waits for its own."""
    home, bucket = scenario_home
    workdir = tmp_path_factory.mktemp("sdk-scenarios")
    sdk2, sdk3 = sdk_pythons()
    plain = endpoint_environment(sdk_server, s3_endpoint, home)
    training_args = [IMAGE, ROLE, str(EXAMPLES), training_uri, bucket]

    tailed_job = f"sdk-v2-tail-{int(time.time() * 1000)}"
    create_tailed_job(make_client("sagemaker", sdk_server.endpoint), tailed_job,
                      workdir / "tailed-output")
    running = {
        "v2_fit": start("v2_fit", sdk2, "v2_estimator_fit.py", training_args, plain, workdir),
        "v3_train": start("v3_train", sdk3, "v3_model_trainer.py", training_args, plain,
                          workdir),
        "v2_logs_for_job": start("v2_logs_for_job", sdk2, "v2_logs_for_job.py", [tailed_job],
                                 plain, workdir),
    }
    running["tailed_job"] = tailed_job
    yield running
    for scenario in running.values():
        if isinstance(scenario, Scenario):
            scenario.stop()


def epoch_lines(output: str) -> list[int]:
    """The epoch numbers of train_numpy.py's per-epoch lines, in the order the SDK printed them."""
    return [int(n) for n in re.findall(
        r"epoch=(\d+) train_loss=[0-9.]+ train_accuracy=[0-9.]+ validation_loss=[0-9.]+", output)]


def describe(sdk_server, job_name: str) -> dict:
    return make_client("sagemaker", sdk_server.endpoint).describe_training_job(
        TrainingJobName=job_name)


def model_archive_members(s3_endpoint, model_data: str) -> list[str]:
    bucket, _, key = model_data.removeprefix("s3://").partition("/")
    body = make_client("s3", s3_endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        return sorted(member.name.removeprefix("./") for member in archive.getmembers()
                      if member.isfile())


def test_v2_estimator_fit_runs_a_script_mode_job_and_prints_its_lines(scenarios, sdk_server,
                                                                       s3_endpoint, scenario_home):
    output, result = scenarios["v2_fit"].wait()
    _home, bucket = scenario_home

    assert epoch_lines(output) == list(range(1, EPOCHS + 1))
    # The training channel came from the S3 server: the script says where its rows came from.
    assert "from channel training" in output
    assert "Training seconds:" in output  # printed by the SDK from TrainingTimeInSeconds

    job = describe(sdk_server, result["job_name"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["SecondaryStatus"] == "Completed"
    # The SDK's script-mode wiring, as it sent it: code uploaded to the default bucket it created.
    hyperparameters = job["HyperParameters"]
    assert hyperparameters["sagemaker_program"] == '"train_numpy.py"'
    assert hyperparameters["sagemaker_submit_directory"].startswith(f'"s3://{bucket}/')
    assert result["model_data"] == f"s3://{bucket}/{result['job_name']}/output/model.tar.gz"
    assert {"model.json", "model.npz"} <= set(model_archive_members(s3_endpoint,
                                                                    result["model_data"]))
    final = {metric["MetricName"]: metric["Value"] for metric in job["FinalMetricDataList"]}
    assert set(final) == {"validation:loss", "validation:accuracy"}


def test_v3_model_trainer_train_runs_a_job_and_prints_its_lines(scenarios, sdk_server,
                                                                s3_endpoint, scenario_home):
    output, result = scenarios["v3_train"].wait()
    _home, bucket = scenario_home

    assert epoch_lines(output) == list(range(1, EPOCHS + 1))
    assert "from channel training" in output
    # The SDK's own driver ran inside the instance (its sm_train.sh prints this last).
    assert "Training Container Execution Completed" in output

    job = describe(sdk_server, result["job_name"])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["AlgorithmSpecification"]["ContainerEntrypoint"] == ["/bin/bash"]
    channels = {channel["ChannelName"] for channel in job["InputDataConfig"]}
    assert channels == {"training", "code", "sm_drivers"}
    assert result["model_data"].startswith(f"s3://{bucket}/")
    assert {"model.json", "model.npz"} <= set(model_archive_members(s3_endpoint,
                                                                    result["model_data"]))


def test_v2_logs_for_job_tails_a_job_created_through_boto3(scenarios, sdk_server):
    output, _result = scenarios["v2_logs_for_job"].wait()

    assert epoch_lines(output) == list(range(1, 7))
    assert "model written to" in output
    assert "Training seconds:" in output
    assert describe(sdk_server, scenarios["tailed_job"])["TrainingJobStatus"] == "Completed"
