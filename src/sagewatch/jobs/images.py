"""What an image runs as on this machine.

No image registry is assumed reachable, so an image URI is resolved, in this order:

(0) with the docker runner selected, an engine reachable and the image present in it: the image
    itself, in a container (jobs/runners/docker.py). Any other image fails there and then, unless
    the configuration maps it (``[jobs.images]``, which then goes on to (a) and (b)): the docker
    runner runs the image a job names, as SageMaker and its local mode do, never a host stand-in
    the operator did not ask for;
(a) script mode (training only): hyperparameter ``sagemaker_program`` (+
    ``sagemaker_submit_directory``) — whatever the image, the script runs with the host's Python
    the way the SageMaker training toolkit runs it inside a framework image (jobs/toolkit.py,
    jobs/script_mode.py);
(b) an image mapped in the configuration (``[jobs.images]``: glob -> command, or "host"), then
    the built-in mappings (``DEFAULT_IMAGES``: the framework images the SageMaker Python SDK's
    processors use run their ContainerEntrypoint on the host);
otherwise the job fails before any instance starts, with no log stream, as on SageMaker when an
image cannot be pulled (reference §3.1 FailureReason formats).

A mapped command stands for the image's ENTRYPOINT. ContainerEntrypoint / ContainerArguments
combine with it as ``docker run`` combines them with an image (reference §3.1, §3.3): an
entrypoint replaces it, arguments follow it, and a training image with neither gets ``train``.
"host" maps an image to nothing: its ContainerEntrypoint runs as a host command.

A host command's ``python`` / ``python3`` (any ``pythonX.Y``) is the configured Python
(``jobs.python``). With a private /opt/ml the command runs inside it (jobs/namespace.py);
without one, its arguments that are /opt/ml paths are rewritten to the instance's tree.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import namespace, toolkit
from .namespace import OPT_ML
from .runners import docker as docker_runner


# reference §3.1: the FailureReason of a job whose image cannot be pulled
# (sagemaker-python-sdk #1968; Hands-On-Machine-Learning-Using-Amazon-SageMaker #2); the docker
# runner gives the same when the engine does not hold the image.
UNKNOWN_IMAGE = docker_runner.IMAGE_UNAVAILABLE
# The docker runner is selected but no engine answers ``docker info``: the fault is the
# server's, not the job's, so it reads as SageMaker's service errors do ("InternalServerError: …",
# reference §3.1 FailureReason formats).
NO_ENGINE = ("InternalServerError: the docker runner found no Docker engine (docker info did not "
             "answer); start one or choose the process runner (docs/docker.md).")
# reference §3.1: the FailureReason of a container whose command cannot be executed
# (amazon-sagemaker-examples #3650), with the missing executable's name.
NOT_EXECUTABLE = ('ClientError: Artifact upload failed:API error (400): OCI runtime create failed: '
                  'container_linux.go:380: starting container process caused: exec: "{name}": '
                  'executable file not found in $PATH: unknown')

# The framework images of the SageMaker Python SDK's estimators and processors (ECR repository
# names from the SDK's image_uri_config; e.g. SKLearnProcessor -> sagemaker-scikit-learn,
# PyTorchProcessor -> pytorch-training): their ContainerEntrypoint (``python3
# /opt/ml/processing/input/code/x.py``, or ``/bin/bash …/runproc.sh``) runs on the host.
DEFAULT_IMAGES: dict[str, str] = {
    pattern: "host" for pattern in (
        "*sagemaker-scikit-learn:*", "*pytorch-training:*", "*pytorch-inference:*",
        "*tensorflow-training:*", "*tensorflow-inference:*", "*mxnet-training:*",
        "*huggingface-pytorch-training:*", "*huggingface-tensorflow-training:*",
        "*sagemaker-xgboost:*", "*sagemaker-base-python*", "*sagemaker-distribution*",
    )
}

_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
SCRIPT_MODE_WRAPPER = Path(__file__).with_name("script_mode.py")
_ENGINE_CHECK_TTL = 30.0
_engine_checked: dict[str, tuple[float, bool]] = {}


class ImageError(Exception):
    """The image cannot run here; ``str()`` is the job's FailureReason."""

    def __init__(self, failure_reason: str) -> None:
        super().__init__(failure_reason)
        self.failure_reason = failure_reason

    def __str__(self) -> str:
        return self.failure_reason


@dataclass(frozen=True)
class ResolvedImage:
    mode: str                         # "docker" | "script" | "command" (a host command)
    image_uri: str
    argv: tuple[str, ...] = ()        # command: the argv, /opt/ml paths as written
    python: str = sys.executable
    private: namespace.PrivateMount | None = None
    script: toolkit.ScriptMode | None = None
    entrypoint: tuple[str, ...] | None = None   # docker: ContainerEntrypoint
    arguments: tuple[str, ...] = ()             # docker: what follows the image

    @property
    def image(self) -> str | None:
        """The image the docker runner runs; None for a host command."""
        return self.image_uri if self.mode == "docker" else None

    def opt_ml(self, ml_root: Path) -> str:
        """Where the instance sees its tree (jobs/contract.py writes paths for it)."""
        if self.mode == "docker" or self.private is not None:
            return OPT_ML
        return str(ml_root)

    def command_for(self, layout) -> list[str]:
        """The instance's command (InstanceSpec.command) for a jobs/contract.Layout."""
        if self.mode == "docker":
            tail = [self.image_uri, *self.arguments]
            if self.entrypoint:
                # docker run --entrypoint takes one executable; the rest of ContainerEntrypoint
                # goes before ContainerArguments.
                tail = ["--entrypoint", self.entrypoint[0], self.image_uri,
                        *self.entrypoint[1:], *self.arguments]
            return tail
        if self.mode == "script":
            argv = self._script_argv(layout)
            workdir = f"{OPT_ML}/code"
        else:
            argv = [self.python if _PYTHON.match(os.path.basename(self.argv[0])) else self.argv[0],
                    *self.argv[1:]]
            workdir = OPT_ML
        if self.private is not None:
            return self.private.wrap(layout.ml_root, workdir, argv)
        return [layout.seen(arg) for arg in argv]

    def _script_argv(self, layout) -> list[str]:
        # self.argv is the toolkit's command for the script: [python, program, args…] or
        # [/bin/sh, -c, "./program args…"] (jobs/toolkit.program_command).
        failure = f"{OPT_ML}/output/failure"
        wrapper = [self.python, str(SCRIPT_MODE_WRAPPER), "--failure-file", failure]
        if self.script.program.endswith(".py"):
            return [*wrapper, "--command-text", " ".join(self.argv), "--", *self.argv[1:]]
        return [*wrapper, "--", *self.argv]


def _engine_reachable(docker: str) -> bool:
    now = time.monotonic()
    checked = _engine_checked.get(docker)
    if checked is None or now - checked[0] > _ENGINE_CHECK_TTL:
        checked = (now, docker_runner.engine_reachable(docker))
        _engine_checked[docker] = checked
    return checked[1]


def docker_combine(image_entrypoint: list[str], entrypoint, arguments, *, training: bool) -> list[str]:
    """How ``docker run`` combines an image's ENTRYPOINT with --entrypoint and trailing
    arguments, SageMaker's ``train`` included (reference §3.1 Invocation, §3.3)."""
    if entrypoint:
        return [*entrypoint, *(arguments or [])]
    if arguments:
        return [*image_entrypoint, *arguments]
    return [*image_entrypoint, *(["train"] if training else [])]


def _match(image: str, table: dict[str, list[str] | str]) -> list[str] | str | None:
    """The target of the first glob in ``table`` that ``image`` matches."""
    return next((target for pattern, target in table.items() if fnmatch.fnmatchcase(image, pattern)),
                None)


def _configured_mapping(image: str, settings) -> list[str] | str | None:
    """The operator's own mapping of ``image`` ([jobs.images]), not the built-in ones."""
    return _match(image, getattr(settings, "images", None) or {})


def _mapping(image: str, settings) -> list[str] | str | None:
    """The operator's mapping, then the built-in ones."""
    configured = _configured_mapping(image, settings)
    return configured if configured is not None else _match(image, DEFAULT_IMAGES)


def _check_executable(argv: list[str], python: str) -> None:
    name = argv[0]
    if _PYTHON.match(os.path.basename(name)):
        name = python
    if name == OPT_ML or name.startswith(OPT_ML + "/"):
        return  # materialised in the instance's tree before it starts
    if "/" in name:
        found = os.path.isfile(name) and os.access(name, os.X_OK)
    else:
        found = shutil.which(name) is not None
    if not found:
        raise ImageError(NOT_EXECUTABLE.format(name=argv[0]))


def resolve(kind: str, request: dict, settings=None) -> ResolvedImage:
    """Resolve a job's image before anything starts; raises ImageError with its FailureReason.
    ``settings`` is config.JobSettings (None: the defaults)."""
    if settings is None:
        from ..config import JobSettings

        settings = JobSettings()
    python = settings.python or sys.executable
    private = namespace.private_mount(settings.private_opt_ml)
    training = kind == "TrainingJob"
    if training:
        spec = request.get("AlgorithmSpecification") or {}
        image = spec.get("TrainingImage") or spec.get("AlgorithmName") or ""
    else:
        spec = request.get("AppSpecification") or {}
        image = spec.get("ImageUri") or ""
    entrypoint, arguments = spec.get("ContainerEntrypoint"), spec.get("ContainerArguments")

    if settings.runner == "docker" and image:
        docker = settings.docker or docker_runner.docker_executable()
        reachable = _engine_reachable(docker)
        if reachable and docker_runner.image_present(image, docker):
            tail = arguments if (entrypoint or arguments) else (["train"] if training else [])
            return ResolvedImage("docker", image, python=python,
                                 entrypoint=tuple(entrypoint) if entrypoint else None,
                                 arguments=tuple(tail or ()))
        if _configured_mapping(image, settings) is None:
            # The docker runner runs the job's own image: SageMaker pulls it or fails the job with
            # this ClientError and no logs (reference §3.1 FailureReason formats, §1), and its
            # local mode runs even a script-mode job inside the image, never on the host
            # (aws/sagemaker-python-sdk src/sagemaker/local/image.py: train() pulls the image,
            # then docker-compose runs it). Script mode and the built-in framework mappings below
            # would silently run something else; an operator who wants that maps the image in
            # [jobs.images] (docs/docker.md).
            raise ImageError(UNKNOWN_IMAGE if reachable else NO_ENGINE)

    if training:
        script = toolkit.script_mode(request)
        if script is not None:
            user_args = toolkit.to_cmd_args(toolkit.user_hyperparameters(
                toolkit.decoded_hyperparameters(request)))
            return ResolvedImage("script", image, python=python, private=private, script=script,
                                 argv=tuple(toolkit.program_command(script.program, user_args, python)))

    target = _mapping(image, settings) if image else None
    if target is None:
        raise ImageError(UNKNOWN_IMAGE)
    argv = docker_combine([] if target == "host" else list(target), entrypoint, arguments,
                          training=training)
    if not argv:
        # An image mapped to "host" with nothing to run: a container with no command.
        raise ImageError(NOT_EXECUTABLE.format(name=""))
    _check_executable(argv, python)
    return ResolvedImage("command", image, argv=tuple(argv), python=python, private=private)
