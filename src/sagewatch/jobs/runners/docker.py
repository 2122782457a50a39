"""The docker runner: an instance is a container of the job's image in a local Docker engine.

SageMaker's custom-container path (reference §3.1, §3.3): the image runs with the instance's tree
mounted on /opt/ml; a training image gets ``train`` as its argument unless ContainerEntrypoint is
given, and ContainerEntrypoint / ContainerArguments replace the image's ENTRYPOINT / CMD as
``docker run --entrypoint`` and trailing arguments do (the command tail is built in
jobs/images.py). Jobs whose image resolved to a host command (script mode, a mapped image) run as
the process runner runs them.

An instance starts in three steps, so that a container that cannot start leaves no log stream
(reference §1: "If a job fails and logs do not appear in CloudWatch, it's likely that an error
occurred before the start of training"), and fails with a ``ClientError`` FailureReason (§3.1:
``ClientError: … OCI runtime create failed: … exec: "train": executable file not found in
$PATH: unknown``):

1. ``docker create`` — an image the engine does not hold fails here (``--pull never``: no
   registry is assumed reachable, and none is asked);
2. ``docker start`` — an entrypoint that does not exist fails here, with the engine's message in
   the container's ``State.Error``;
3. only then the agent, whose command is ``docker logs --follow <container>``: it replays the
   container's stdout and stderr from its first byte (the engine keeps them from the start, so
   nothing printed before the agent attached is lost) and ends when the container does. The
   instance's exit status is the container's (``docker inspect``), read when the agent has
   written exit.json, i.e. once every line is delivered. The agent samples CPU and memory of the
   container's main process tree (``--sample-pid``, its host pid from ``docker inspect``), not of
   ``docker logs``.

(``docker run`` under the agent, the first version, put the engine's own start error into the
stream and answered a failed start with exit status 127 — measured, docs/docker.md.)

Stop is ``docker stop -t <grace>`` — what SageMaker documents it does ("the equivalent of
``docker stop``, with a 2-minute timeout", reference §3.1 Stop): SIGTERM to the container's main
process, SIGKILL when the grace period ends. Signalling a ``docker`` client is not enough: the
client forwards SIGTERM, but a SIGKILL ends the client and leaves the container running
(measured, docs/docker.md).

A handle adds ``container`` (its name, derived from the job, so it is found again after a server
restart) and ``stop_grace_seconds`` to the process runner's; a container that could not start has
``start_error`` and ``exit_code`` instead of an agent. The container is removed once its exit
status is recorded in ``<state_dir>/container-exit.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..namespace import OPT_ML
from .base import InstanceExit, InstanceSpec
from .process import ProcessRunner, read_json

ENGINE_CHECK_SECONDS = 10
ENGINE_CALL_SECONDS = 60        # create / start / inspect / rm: the engine answers in well under a second
CONTAINER_EXIT_FILE = "container-exit.json"
# reference §3.1 FailureReason formats: the error class, then the engine's own words.
CLIENT_ERROR = "ClientError: "
# The wording SageMaker uses when it cannot get the image (reference §3.1).
IMAGE_UNAVAILABLE = ("ClientError: Cannot pull algorithm container. Either the image does not "
                     "exist or its permissions are incorrect.")
FAILURE_REASON_CHARS = 1024     # botocore:sagemaker FailureReason max length
START_FAILED_EXIT = 127         # what ``docker run`` answers when the entrypoint cannot be executed


def docker_executable() -> str:
    return shutil.which("docker") or "docker"


def _succeeds(docker: str | None, *args: str) -> bool:
    """``docker <args>`` exits 0 within ENGINE_CHECK_SECONDS."""
    try:
        return subprocess.run([docker or docker_executable(), *args], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=ENGINE_CHECK_SECONDS).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def engine_reachable(docker: str | None = None) -> bool:
    """``docker info`` answers: a daemon is running and this user may talk to it."""
    return _succeeds(docker, "info")


def image_present(image: str, docker: str | None = None) -> bool:
    """The engine holds ``image`` locally (no registry is assumed reachable)."""
    return _succeeds(docker, "image", "inspect", image)


def container_name(spec: InstanceSpec) -> str:
    # Docker names are [a-zA-Z0-9][a-zA-Z0-9_.-]*; job names already fit
    # (botocore:sagemaker TrainingJobName pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}).
    kind = "training" if spec.job_kind == "TrainingJob" else "processing"
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"sagewatch-{kind}-{spec.job_name}-{spec.host}")


def create_command(spec: InstanceSpec, docker: str | None = None) -> list[str]:
    """The ``docker create`` command line for ``spec`` (``spec.command`` is its tail: an optional
    ``--entrypoint X``, the image, its arguments)."""
    argv = [docker or docker_executable(), "create", "--name", container_name(spec),
            # Only images the engine holds: no registry is reachable from here, and a pull
            # attempt would send a request off this machine (docs/docker.md).
            "--pull", "never",
            # The instance's tree is the container's /opt/ml (reference §3.1: "/opt/ml and all
            # subdirectories are reserved").
            "--volume", f"{Path(spec.ml_root).resolve()}:{OPT_ML}",
            # The host's network: the container reaches the sagewatch server and an S3 endpoint
            # on localhost the way a process instance does. (The engine that tests/docker starts
            # has no bridge network at all, docs/docker.md.)
            "--network", "host",
            # The instance's host name, as resourceconfig.json's current_host names it
            # (reference §3.1); Docker allows it with the host's network.
            "--hostname", spec.host]
    for key in sorted(spec.env):
        # The value travels in docker's own environment (``-e KEY`` copies it), not on a
        # command line that any user of the machine can read.
        argv += ["--env", key]
    if spec.gpus:
        argv += ["--gpus", f"device={','.join(str(g) for g in spec.gpus)}"]
    return [*argv, *spec.command]


class DockerRunner(ProcessRunner):
    name = "docker"

    def __init__(self, python: str | None = None, docker: str | None = None,
                 job_python: str | None = None) -> None:
        # python and job_python as ProcessRunner takes them: the host-command jobs this runner
        # starts as the process runner does need the same PATH.
        super().__init__(python or sys.executable, job_python)
        self.docker = docker or docker_executable()
        self._stoppers: list[subprocess.Popen] = []

    # -- launching ------------------------------------------------------------------------------

    def launch(self, spec: InstanceSpec) -> dict:
        if spec.image is None:
            handle = super().launch(spec)
            handle["runner"] = self.name
            return handle
        container = container_name(spec)
        state_dir = Path(spec.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        base = {"runner": self.name, "container": container, "state_dir": str(state_dir),
                "stop_grace_seconds": spec.stop_grace_seconds}
        # A container of this name can only be left from a launch that a crash interrupted
        # (the controller starts such a run over): it is not watched by anyone.
        self._engine("rm", "--force", container)
        created = self._engine_call(create_command(spec, self.docker), env=self.environment(spec))
        if created.returncode != 0:
            return {**base, "start_error": self._create_error(created.stderr, spec.image),
                    "exit_code": created.returncode}
        started = self._engine("start", container)
        if started.returncode != 0:
            state = self._state(container) or {}
            message = state.get("Error") or started.stderr.strip()
            self._engine("rm", "--force", container)
            return {**base, "start_error": (CLIENT_ERROR + message)[:FAILURE_REASON_CHARS],
                    "exit_code": state.get("ExitCode") or START_FAILED_EXIT}
        follow = [self.docker, "logs", "--follow", container]
        handle = self._start(spec, follow, self.environment(spec))
        return {**handle, **base}

    def agent_command(self, spec: InstanceSpec, command: list[str]) -> list[str]:
        argv = super().agent_command(spec, command)
        if spec.image is None:
            return argv
        # The agent's command only relays the container's output; CPUUtilization and
        # MemoryUtilization are of the container's processes (reference §2.1: "the algorithm
        # container"), whose tree starts at its main process, visible from the host by this pid.
        # A container that has already ended has none (0): the agent then samples its own
        # command, the relay, whose figures are near zero.
        pid = (self._state(container_name(spec)) or {}).get("Pid")
        if pid:
            separator = argv.index("--")
            argv[separator:separator] = ["--sample-pid", str(pid)]
        return argv

    @staticmethod
    def _create_error(stderr: str, image: str | None) -> str:
        if "No such image" in stderr:
            return IMAGE_UNAVAILABLE
        return (CLIENT_ERROR + stderr.strip().removeprefix("Error response from daemon: "))[:FAILURE_REASON_CHARS]

    # -- watching -------------------------------------------------------------------------------

    def poll(self, handle: dict) -> InstanceExit | None:
        self._reap_stoppers()
        container = handle.get("container")
        if container is None:
            return super().poll(handle)
        if "start_error" in handle:
            return InstanceExit(exit_code=handle["exit_code"], signal=None,
                                failure_reason=handle["start_error"])
        ended = super().poll(handle)
        if ended is None:
            return None
        if ended.agent_lost:
            self._engine("rm", "--force", container)  # nobody is watching it any more
            return ended
        # The agent's command (docker logs) has ended and every line is delivered: the
        # container has stopped. Its own status is the instance's.
        exit_file = Path(handle["state_dir"]) / CONTAINER_EXIT_FILE
        recorded = read_json(exit_file)
        if recorded is None:
            state = self._state(container)
            if state is None:  # the engine lost it: we cannot say how it ended
                return InstanceExit(exit_code=None, signal=None, agent_lost=True)
            if state.get("Running"):
                return None  # docker logs ended early (the engine restarted): look again
            recorded = {"exit_code": state.get("ExitCode"), "oom_killed": state.get("OOMKilled", False)}
            temporary = exit_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(recorded))
            os.replace(temporary, exit_file)
            self._engine("rm", "--force", container)
        return InstanceExit(exit_code=recorded["exit_code"], signal=None)

    def _state(self, container: str) -> dict | None:
        inspected = self._engine("inspect", "--format", "{{json .State}}", container)
        if inspected.returncode != 0:
            return None
        try:
            return json.loads(inspected.stdout)
        except ValueError:
            return None

    # -- stopping -------------------------------------------------------------------------------

    def stop(self, handle: dict) -> None:
        container = handle.get("container")
        if container is None:
            super().stop(handle)
            return
        if "start_error" in handle:
            return
        grace = handle.get("stop_grace_seconds")
        # In the background: docker stop returns only when the container has ended (up to the
        # grace period), and stop() must not hold up the controller.
        self._stoppers.append(subprocess.Popen(
            [self.docker, "stop", "-t", str(int(grace if grace is not None else 120)), container],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))

    def kill(self, handle: dict) -> None:
        if handle.get("container"):
            self._engine("rm", "--force", handle["container"])
            if "start_error" in handle:
                return
        super().kill(handle)

    def _reap_stoppers(self) -> None:
        self._stoppers = [p for p in self._stoppers if p.poll() is None]

    # -- the engine -----------------------------------------------------------------------------

    def _engine(self, *args: str) -> subprocess.CompletedProcess:
        return self._engine_call([self.docker, *args])

    @staticmethod
    def _engine_call(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=ENGINE_CALL_SECONDS)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 1, "", f"{argv[1]} did not answer in {ENGINE_CALL_SECONDS} s")
        except OSError as error:
            return subprocess.CompletedProcess(argv, 1, "", str(error))
