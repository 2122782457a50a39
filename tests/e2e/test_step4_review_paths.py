"""Review of Step 4: names in a CreateTrainingJob request that become paths stay in the job's tree.

CheckpointConfig.LocalPath (any string in the model) was joined onto the instance's tree
unchecked: /opt/ml/../../x made a directory outside it, and a path outside /opt/ml failed the job
later as an InternalServerError. A ChannelName of ".." (the model's pattern admits it) named
/opt/ml/input itself. Each is now refused at CreateTrainingJob."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from ..server import make_client
from .jobs import FRAMEWORK_IMAGE, ROLE, wait_training


@pytest.fixture(scope="module")
def sagemaker(server):
    return make_client("sagemaker", server.endpoint)


def request(**more) -> dict:
    return {
        "TrainingJobName": f"paths-{uuid.uuid4().hex[:10]}", "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": "unmapped.example/nothing:1", "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "file:///tmp/sagewatch-review-out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 60}, **more}


def refusal(sagemaker, body: dict) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        sagemaker.create_training_job(**body)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


@pytest.mark.parametrize("path", ["/opt/ml/../../tmp/escaped", "/checkpoints", "/opt/mlx"])
def test_a_checkpoint_path_outside_opt_ml_is_refused(sagemaker, path):
    body = request(CheckpointConfig={"S3Uri": "file:///tmp/sagewatch-review-ckpt", "LocalPath": path})
    assert refusal(sagemaker, body) == (
        "ValidationException", f"CheckpointConfig.LocalPath '{path}' must be a path under /opt/ml/")
    with pytest.raises(ClientError):
        sagemaker.describe_training_job(TrainingJobName=body["TrainingJobName"])  # nothing stored


@pytest.mark.parametrize("name", [".", ".."])
def test_a_channel_named_dot_or_dot_dot_is_refused(sagemaker, name):
    body = request(InputDataConfig=[{"ChannelName": name, "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": "file:///tmp", "S3DataDistributionType": "FullyReplicated"}}}])
    assert refusal(sagemaker, body) == (
        "ValidationException", f"ChannelName '{name}' cannot name a directory under /opt/ml/input/data/")


def test_a_checkpoint_path_under_opt_ml_is_accepted(sagemaker):
    body = request(AlgorithmSpecification={"TrainingImage": FRAMEWORK_IMAGE, "TrainingInputMode": "File"},
                   CheckpointConfig={"S3Uri": "file:///tmp/sagewatch-review-ckpt", "LocalPath": "/opt/ml/checkpoints"},
                   InputDataConfig=[{"ChannelName": "train.v1", "DataSource": {"S3DataSource": {
                       "S3DataType": "S3Prefix", "S3Uri": "file:///nonexistent-review-input",
                       "S3DataDistributionType": "FullyReplicated"}}}])
    sagemaker.create_training_job(**body)
    # Accepted; it then fails before any instance starts (the image maps to no command), which
    # is all this test needs of it.
    job = wait_training(sagemaker, body["TrainingJobName"])
    assert job["CheckpointConfig"]["LocalPath"] == "/opt/ml/checkpoints"
    assert job["TrainingJobStatus"] == "Failed" and job["FailureReason"].startswith("ClientError: ")
