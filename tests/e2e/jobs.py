"""Helpers for the job tests: job requests in the shapes boto3 sends, and waiting for a status."""

from __future__ import annotations

import json
import time
from pathlib import Path

TERMINAL = ("Completed", "Failed", "Stopped")
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
# Any image: a job with script-mode hyperparameters runs the way the framework images'
# training toolkit runs it (docs/jobs.md).
FRAMEWORK_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311"


def training_request(name: str, script: Path, output: Path, *, hyperparameters: dict | None = None,
                     channels: dict[str, Path] | None = None, metric_definitions=None,
                     instance_count: int = 1, instance_type: str = "ml.m5.large",
                     max_runtime: int | None = None, environment: dict | None = None) -> dict:
    """CreateTrainingJob input for a script-mode job whose code is ``script``'s directory."""
    hps = {"sagemaker_program": json.dumps(script.name),
           "sagemaker_submit_directory": json.dumps(script.parent.as_uri())}
    for key, value in (hyperparameters or {}).items():
        hps[key] = json.dumps(value)
    request = {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": FRAMEWORK_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": hps,
        "OutputDataConfig": {"S3OutputPath": output.as_uri()},
        "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": instance_count,
                           "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": max_runtime or 600},
    }
    if metric_definitions:
        request["AlgorithmSpecification"]["MetricDefinitions"] = metric_definitions
    if channels:
        request["InputDataConfig"] = [
            {"ChannelName": channel,
             "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": path.as_uri(),
                                             "S3DataDistributionType": "FullyReplicated"}}}
            for channel, path in channels.items()]
    if environment:
        request["Environment"] = environment
    return request


def processing_request(name: str, entrypoint: list[str], *, inputs: dict[str, tuple[Path, str]] | None = None,
                       outputs: dict[str, tuple[str, Path]] | None = None, arguments: list[str] | None = None,
                       instance_count: int = 1, image: str | None = None) -> dict:
    request = {
        "ProcessingJobName": name,
        "RoleArn": ROLE,
        "AppSpecification": {"ImageUri": image or (
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"),
            "ContainerEntrypoint": entrypoint},
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": instance_count,
                                                  "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    if arguments:
        request["AppSpecification"]["ContainerArguments"] = arguments
    if inputs:
        request["ProcessingInputs"] = [
            {"InputName": input_name,
             "S3Input": {"S3Uri": source.as_uri(), "LocalPath": local_path, "S3DataType": "S3Prefix",
                         "S3InputMode": "File"}}
            for input_name, (source, local_path) in inputs.items()]
    if outputs:
        request["ProcessingOutputConfig"] = {"Outputs": [
            {"OutputName": output_name,
             "S3Output": {"S3Uri": target.as_uri(), "LocalPath": local_path, "S3UploadMode": "EndOfJob"}}
            for output_name, (local_path, target) in outputs.items()]}
    return request


def wait_for(describe, predicate, timeout: float = 60.0, interval: float = 0.1) -> dict:
    """Describe until ``predicate(response)`` holds; the last response on timeout is an error."""
    deadline = time.monotonic() + timeout
    while True:
        response = describe()
        if predicate(response):
            return response
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last response: {response}")
        time.sleep(interval)


def wait_training(sagemaker, name: str, timeout: float = 60.0) -> dict:
    return wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=name),
                    lambda r: r["TrainingJobStatus"] in TERMINAL, timeout)


def wait_processing(sagemaker, name: str, timeout: float = 60.0) -> dict:
    return wait_for(lambda: sagemaker.describe_processing_job(ProcessingJobName=name),
                    lambda r: r["ProcessingJobStatus"] in TERMINAL, timeout)


def streams_of(logs, group: str, job: str) -> list[str]:
    try:
        response = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=job + "/",
                                             orderBy="LogStreamName")
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [s["logStreamName"] for s in response["logStreams"]]


def messages_of(logs, group: str, stream: str) -> list[str]:
    """Every event of a stream, oldest first, following nextForwardToken to the end."""
    messages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {"startFromHead": True}
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, **kwargs)
        messages += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            return messages
        token = page["nextForwardToken"]
