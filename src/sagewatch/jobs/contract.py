"""The SageMaker container contract for one instance: its /opt/ml tree and its environment.

Training (reference §3.1): input/config/hyperparameters.json (the request's HyperParameters,
string values exactly as given), resourceconfig.json, inputdataconfig.json; input/data/<channel>;
model/; output/ (data/ for output.tar.gz; ``failure`` is the algorithm's to write); the checkpoint
directory; code/ for script mode. Environment: TRAINING_JOB_NAME, TRAINING_JOB_ARN and the
request's Environment, plus in script mode every SM_* variable the training toolkit sets
(jobs/toolkit.py).

Processing (reference §3.3): config/processingjobconfig.json (the request echoed, with its ARN),
config/resourceconfig.json, every ProcessingInput's and ProcessingOutput's LocalPath under
/opt/ml/processing/, and output/ (``message`` becomes ExitMessage). Environment: the request's.

Every instance gets CUDA_VISIBLE_DEVICES (its GPUs, in NVML order: CUDA_DEVICE_ORDER=PCI_BUS_ID).
The paths written into files and variables are the ones the instance sees: /opt/ml when it has a
private /opt/ml (jobs/namespace.py, or the docker runner), its tree's host path otherwise, with
SAGEMAKER_BASE_DIR pointing there (the toolkit's own override of /opt/ml, reference §3.2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import namespace, toolkit
from .namespace import OPT_ML

# sagemaker-training-toolkit environment.py: "eth0 is the default network interface defined by
# SageMaker"; the instances of a job on this machine talk over the loopback interface.
NETWORK_INTERFACE = "lo"


@dataclass
class Layout:
    """One instance's tree: where it is on the host, where the instance sees it, what to run it with."""

    kind: str
    host: str
    hosts: list[str]
    ml_root: Path                # the tree on the host
    opt_ml: str                  # the tree as the instance sees it: "/opt/ml" or str(ml_root)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None   # host path the command starts in
    channels: dict[str, Path] = field(default_factory=dict)   # training: channel -> host dir

    @property
    def code_dir(self) -> Path:
        return self.ml_root / "code"

    def on_host(self, seen: str) -> Path:
        """The host path of a path the instance sees under /opt/ml (a LocalPath of the request).
        A path that climbs out (/opt/ml/../x) is refused: it would name the host outside the tree."""
        if ".." in seen.split("/"):
            raise ValueError(f"{seen} climbs out of {OPT_ML}")
        if seen == OPT_ML or seen.startswith(OPT_ML + "/"):
            return self.ml_root / seen[len(OPT_ML):].lstrip("/")
        if seen == self.opt_ml or seen.startswith(self.opt_ml.rstrip("/") + "/"):
            return self.ml_root / seen[len(self.opt_ml):].lstrip("/")
        raise ValueError(f"{seen} is not under {OPT_ML}")

    def seen(self, path: str) -> str:
        """A /opt/ml path as this instance sees it."""
        if path == OPT_ML or path.startswith(OPT_ML + "/"):
            return self.opt_ml + path[len(OPT_ML):]
        return path


def instance_shape(kind: str, request: dict) -> tuple[str, int]:
    """(InstanceType, InstanceCount) of a CreateTrainingJob / CreateProcessingJob request."""
    if kind == "TrainingJob":
        resources = request.get("ResourceConfig") or {}
        groups = resources.get("InstanceGroups") or []
        if not resources.get("InstanceType") and groups:
            # A heterogeneous cluster: every group's instances, the first group's type for all.
            return groups[0]["InstanceType"], sum(int(g.get("InstanceCount", 1)) for g in groups)
        return resources.get("InstanceType", "ml.m5.large"), int(resources.get("InstanceCount", 1))
    cluster = (request.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return cluster.get("InstanceType", "ml.m5.large"), int(cluster.get("InstanceCount", 1))


def hosts_of(count: int) -> list[str]:
    # reference §3.1: hosts algo-1 … algo-N, listed sorted.
    return sorted(f"algo-{i + 1}" for i in range(count))


def _write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=None))


def _opt_ml(ml_root: Path, resolved) -> str:
    if resolved is not None:
        return resolved.opt_ml(ml_root)
    return OPT_ML if namespace.private_mount() is not None else str(ml_root)


def _gpu_environment(gpus) -> dict[str, str]:
    return {"CUDA_DEVICE_ORDER": "PCI_BUS_ID",
            "CUDA_VISIBLE_DEVICES": ",".join(str(g) for g in gpus)}


def build(kind: str, job, host: str, hosts: list[str], ml_root: Path, *, gpus=(), cpus: int | None = None,
          resolved=None) -> Layout:
    """Create ``host``'s tree under ``ml_root`` for ``job`` (a store.jobs.JobRecord: kind, name,
    arn, request) and return its layout. ``resolved`` (jobs/images.ResolvedImage) says where the
    instance sees its tree; without it, where the process runner would show it."""
    ml_root = Path(ml_root)
    ml_root.mkdir(parents=True, exist_ok=True)
    layout = Layout(kind=kind, host=host, hosts=list(hosts), ml_root=ml_root,
                    opt_ml=_opt_ml(ml_root, resolved))
    env = _gpu_environment(gpus)
    if layout.opt_ml != OPT_ML:
        env["SAGEMAKER_BASE_DIR"] = layout.opt_ml
    if kind == "TrainingJob":
        _training(layout, job, env, cpus=cpus if cpus is not None else (os.cpu_count() or 1),
                  num_gpus=len(tuple(gpus)))
    else:
        _processing(layout, job, env)
    return layout


# -- training ------------------------------------------------------------------------------------

def resource_config(kind: str, request: dict, host: str, hosts: list[str]) -> dict:
    instance_type, _ = instance_shape(kind, request)
    if kind != "TrainingJob":
        # reference §3.3: processing's resourceconfig.json holds current_host and hosts.
        return {"current_host": host, "hosts": hosts}
    # reference §3.1 and the toolkit's reading of it (environment.py read_resource_config):
    # current_host, hosts, network_interface_name, current_instance_type, current_group_name,
    # instance_groups.
    return {
        "current_host": host,
        "current_instance_type": instance_type,
        "current_group_name": toolkit.HOMOGENEOUS_GROUP,
        "hosts": hosts,
        "instance_groups": [{"instance_group_name": toolkit.HOMOGENEOUS_GROUP,
                             "instance_type": instance_type, "hosts": hosts}],
        "network_interface_name": NETWORK_INTERFACE,
    }


def input_data_config(request: dict) -> dict:
    """reference §3.1: per channel, only the relevant information."""
    default_mode = (request.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File")
    config = {}
    for channel in request.get("InputDataConfig") or []:
        source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        entry = {}
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        entry["TrainingInputMode"] = channel.get("InputMode") or default_mode
        entry["S3DistributionType"] = source.get("S3DataDistributionType", "FullyReplicated")
        entry["RecordWrapperType"] = channel.get("RecordWrapperType", "None")
        config[channel["ChannelName"]] = entry
    return config


def _training(layout: Layout, job, env: dict, *, cpus: int, num_gpus: int) -> None:
    request = job.request
    root = layout.ml_root
    config_dir = root / "input" / "config"
    resources = resource_config("TrainingJob", request, layout.host, layout.hosts)
    channels = input_data_config(request)
    # String values exactly as given: the toolkit decodes them itself (reference §3.1).
    _write_json(config_dir / "hyperparameters.json", dict(request.get("HyperParameters") or {}))
    _write_json(config_dir / "resourceconfig.json", resources)
    _write_json(config_dir / "inputdataconfig.json", channels)
    for name in channels:
        layout.channels[name] = root / "input" / "data" / name
        layout.channels[name].mkdir(parents=True, exist_ok=True)
    for directory in ("model", "output/data", "output/intermediate", "code"):
        (root / directory).mkdir(parents=True, exist_ok=True)
    checkpoint = request.get("CheckpointConfig")
    if checkpoint:
        # botocore:sagemaker CheckpointConfig.LocalPath: default /opt/ml/checkpoints/.
        layout.on_host(checkpoint.get("LocalPath") or "/opt/ml/checkpoints").mkdir(parents=True, exist_ok=True)
    env.update(request.get("Environment") or {})
    # reference §3.1: set by SageMaker in every training container.
    env["TRAINING_JOB_NAME"] = job.name
    env["TRAINING_JOB_ARN"] = job.arn
    if toolkit.script_mode(request) is not None:
        env.update(toolkit.sm_variables(
            request=request, job_name=job.name, host=layout.host, hosts=layout.hosts,
            instance_type=resources["current_instance_type"], resource_config=resources, input_data_config=channels,
            opt_ml=layout.opt_ml, num_cpus=cpus, num_gpus=num_gpus))
        layout.workdir = str(layout.code_dir)   # the toolkit runs the script in /opt/ml/code
    else:
        layout.workdir = str(root)
    layout.env = env


# -- processing ----------------------------------------------------------------------------------

def processing_job_config(job) -> dict:
    """reference §3.3: the CreateProcessingJob request echoed, with ProcessingJobArn."""
    echoed = {key: value for key, value in job.request.items() if key != "Tags"}
    echoed["ProcessingJobArn"] = job.arn
    return echoed


def _processing(layout: Layout, job, env: dict) -> None:
    request = job.request
    root = layout.ml_root
    _write_json(root / "config" / "processingjobconfig.json", processing_job_config(job))
    _write_json(root / "config" / "resourceconfig.json",
                resource_config("ProcessingJob", request, layout.host, layout.hosts))
    for item in request.get("ProcessingInputs") or []:
        local = (item.get("S3Input") or {}).get("LocalPath")
        if local:
            layout.on_host(local).mkdir(parents=True, exist_ok=True)
    for item in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        local = (item.get("S3Output") or {}).get("LocalPath")
        if local:
            layout.on_host(local).mkdir(parents=True, exist_ok=True)
    (root / "output").mkdir(parents=True, exist_ok=True)
    env.update(request.get("Environment") or {})
    layout.workdir = str(root)
    layout.env = env
