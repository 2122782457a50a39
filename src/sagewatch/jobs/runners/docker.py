"""The docker runner: an instance is a container of the job's image in a local Docker engine.

SageMaker's custom-container path (reference §3.1, §3.3): the image runs with the instance's tree
mounted on /opt/ml; a training image gets ``train`` as its argument unless ContainerEntrypoint is
given, and ContainerEntrypoint / ContainerArguments replace the image's ENTRYPOINT / CMD as
``docker run --entrypoint`` and trailing arguments do (the command tail is built in
jobs/images.py). The container runs in the foreground of ``docker run`` under the agent, so its
output reaches the log stream the same way a process's does, and ``docker run`` exits with the
container's status.

Stop is ``docker stop -t <grace>`` — what SageMaker documents it does ("the equivalent of
``docker stop``, with a 2-minute timeout", reference §3.1 Stop): SIGTERM to the container's main
process, SIGKILL when the grace period ends. Jobs whose image resolved to a host command (script
mode, a mapped image) run as the process runner runs them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from .base import InstanceExit, InstanceSpec
from .process import ProcessRunner

OPT_ML = "/opt/ml"
ENGINE_CHECK_SECONDS = 10


def docker_executable() -> str:
    return shutil.which("docker") or "docker"


def engine_reachable(docker: str | None = None) -> bool:
    """``docker info`` answers: a daemon is running and this user may talk to it."""
    try:
        return subprocess.run([docker or docker_executable(), "info"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=ENGINE_CHECK_SECONDS).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def image_present(image: str, docker: str | None = None) -> bool:
    """The engine holds ``image`` locally (no registry is assumed reachable)."""
    try:
        return subprocess.run([docker or docker_executable(), "image", "inspect", image],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=ENGINE_CHECK_SECONDS).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def container_name(spec: InstanceSpec) -> str:
    # Docker names are [a-zA-Z0-9][a-zA-Z0-9_.-]*; job names already fit
    # (botocore:sagemaker TrainingJobName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}).
    kind = "training" if spec.job_kind == "TrainingJob" else "processing"
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"sagewatch-{kind}-{spec.job_name}-{spec.host}")


def run_command(spec: InstanceSpec, docker: str | None = None) -> list[str]:
    """The ``docker run`` command line for ``spec`` (``spec.command`` is its tail: an optional
    ``--entrypoint X``, the image, its arguments)."""
    argv = [docker or docker_executable(), "run", "--rm", "--name", container_name(spec),
            # The instance's tree is the container's /opt/ml (reference §3.1: "/opt/ml and all
            # subdirectories are reserved").
            "--volume", f"{Path(spec.ml_root).resolve()}:{OPT_ML}",
            # The host's network: the container reaches the sagewatch server and an S3 endpoint
            # on localhost the way a process instance does.
            "--network", "host"]
    for key in sorted(spec.env):
        # The value travels in docker's own environment (``-e KEY`` copies it), not on a
        # command line that any user of the machine can read.
        argv += ["--env", key]
    if spec.gpus:
        argv += ["--gpus", f"device={','.join(str(g) for g in spec.gpus)}"]
    return [*argv, *spec.command]


class DockerRunner(ProcessRunner):
    name = "docker"

    def __init__(self, python: str | None = None, docker: str | None = None) -> None:
        super().__init__(python or sys.executable)
        self.docker = docker or docker_executable()

    def launch(self, spec: InstanceSpec) -> dict:
        if spec.image is None:
            handle = super().launch(spec)
        else:
            handle = self._start(spec, run_command(spec, self.docker), self.environment(spec))
            handle["container"] = container_name(spec)
            handle["stop_grace_seconds"] = spec.stop_grace_seconds
        handle["runner"] = self.name
        return handle

    def poll(self, handle: dict) -> InstanceExit | None:
        ended = super().poll(handle)
        if ended is not None and ended.agent_lost and handle.get("container"):
            self._remove(handle["container"])  # nobody is watching it any more
        return ended

    def stop(self, handle: dict) -> None:
        container = handle.get("container")
        if container is None:
            super().stop(handle)
            return
        grace = handle.get("stop_grace_seconds")
        subprocess.Popen([self.docker, "stop", "-t", str(int(grace if grace is not None else 120)),
                          container], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)

    def kill(self, handle: dict) -> None:
        if handle.get("container"):
            self._remove(handle["container"])
        super().kill(handle)

    def _remove(self, container: str) -> None:
        try:
            subprocess.run([self.docker, "rm", "--force", container], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=ENGINE_CHECK_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            pass
