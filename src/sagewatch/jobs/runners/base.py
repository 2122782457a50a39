"""What every runner offers the controller: launch an instance, poll it, stop it, kill it.

An instance is one host of a job (``algo-1`` … ``algo-N``, reference §3.1 resourceconfig.json).
Whatever runs it, it runs under the agent (``python -m sagewatch.agent``), which ships its output
and resource metrics and writes ``exit.json`` in the instance's state directory once every line is
delivered. So a runner only has to start the agent somewhere and later say whether it ended; a
later runner can place instances on other machines (a Ray cluster) behind the same four calls.

The handle ``launch`` returns is plain JSON, stored in the job's runtime: ``poll``, ``stop`` and
``kill`` work from the handle alone, in a server restarted after a crash as in the one that
launched the instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class InstanceSpec:
    job_kind: str             # "TrainingJob" | "ProcessingJob"
    job_name: str
    host: str                 # "algo-1"
    # For a host command: its argv (the image already resolved, jobs/images.py). For an image run
    # by the docker runner: what follows the options of ``docker run`` (an optional
    # ``--entrypoint X``, the image, its arguments) — see jobs/images.py ResolvedImage.
    command: list[str]
    # The instance's own variables (TRAINING_JOB_NAME, the request's Environment, SM_* …,
    # jobs/contract.py). A runner adds them on top of the environment the instance's machine
    # gives a process (the process runner: the server's; the docker runner: the image's), so the
    # request never carries one machine's PATH or HOME to another.
    env: dict[str, str]
    workdir: str | None       # host path to start in (None: the instance's ml_root)
    ml_root: Path             # this instance's /opt/ml on the host
    state_dir: Path           # the agent's state directory (agent.json, spool, exit.json, agent.log)
    log_group: str
    log_stream: str
    metric_namespace: str
    metric_host: str
    gpus: list[int] = field(default_factory=list)   # physical GPU indices (NVML order)
    stop_grace_seconds: float = 120.0
    image: str | None = None  # set only when the docker runner runs the image itself
    endpoint: str = ""        # the server URL the agent ships to
    region: str = "us-east-1"


@dataclass
class InstanceExit:
    exit_code: int | None     # the command's exit status, None when a signal ended it
    signal: int | None        # the signal that ended the command
    agent_lost: bool = False  # the agent ended (or vanished) without writing exit.json
    # Set when the command never started (no exit status can say so): the job's FailureReason,
    # a ClientError as SageMaker gives a container that cannot start (reference §3.1).
    failure_reason: str | None = None


class Runner(Protocol):
    name: str

    def launch(self, spec: InstanceSpec) -> dict:
        """Start the instance under the agent; returns a JSON-able handle."""

    def poll(self, handle: dict) -> InstanceExit | None:
        """None while the instance runs; how it ended once exit.json is written (all its output
        is then readable), or ``agent_lost`` when its agent is gone without one."""

    def stop(self, handle: dict) -> None:
        """Graceful: SIGTERM to the agent, which sends SIGTERM to the command's process group and
        SIGKILL after the grace period (reference §3.1 Stop)."""

    def kill(self, handle: dict) -> None:
        """At once: SIGKILL to the command's process group and to the agent."""
