"""The process runner: each instance is a process tree on this machine, under the agent.

The agent is started in a session of its own (``start_new_session``), so it outlives the server:
a server that is restarted or killed leaves its instances running and their agents spooling, and
the next server re-adopts them from the handle alone. The agent puts the command in a process
group of its own; ``stop`` signals the agent, which signals that group (design: "The agent").
Whatever the agent itself prints (not the instance's output, which it ships) goes to
``<state_dir>/agent.log``.

A handle is ``{"runner", "agent_pid", "agent_started", "boot_id", "state_dir"}``. The start time
(from /proc) and the boot id tell the agent apart from an unrelated process that got its pid after
it died, or after the machine restarted.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .base import InstanceExit, InstanceSpec

AGENT_MODULE = "sagewatch.agent"
# How long ``stop`` waits for a just-launched agent to be ready for SIGTERM (below). It is ready in
# well under a second; this only bounds an agent that hangs while starting.
AGENT_READY_SECONDS = 30.0


@functools.cache
def _boot_id() -> str:
    # Read once: the machine cannot restart under a running server, and every poll of every
    # running instance (10 a second each) asks for it.
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), or None
    when there is no such process or it is a zombie (it has ended; only its parent can reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its end.
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class ProcessRunner:
    name = "process"

    def __init__(self, python: str = sys.executable, job_python: str | None = None) -> None:
        # The interpreter that runs the agent: the server's own, which has sagewatch installed
        # (a job's configured Python need not have it).
        self.python = python
        # The interpreter jobs run with (config.JobSettings.python).
        self.job_python = job_python or python
        # Agents this server started are its children: poll them so they do not linger as zombies.
        self._children: dict[int, subprocess.Popen] = {}

    # -- launching ------------------------------------------------------------------------------

    def agent_command(self, spec: InstanceSpec, command: list[str]) -> list[str]:
        argv = [
            self.python, "-m", AGENT_MODULE,
            "--endpoint", spec.endpoint, "--region", spec.region,
            "--log-group", spec.log_group, "--log-stream", spec.log_stream,
            "--metric-namespace", spec.metric_namespace, "--host", spec.metric_host,
            "--state-dir", str(spec.state_dir),
            "--stop-grace", f"{spec.stop_grace_seconds:g}",
            # DiskUtilization is of the volume that holds the instance's /opt/ml (reference §2.1).
            "--disk-path", str(spec.ml_root),
        ]
        if spec.gpus:
            argv += ["--gpus", ",".join(str(g) for g in spec.gpus)]
        return [*argv, "--", *command]

    def environment(self, spec: InstanceSpec) -> dict[str, str]:
        """The server's environment with the instance's variables on top (base.InstanceSpec.env).

        Two things a framework image would give its command, given here: the jobs' Python first
        on PATH (the SDK v3's sm_train.sh runs whatever ``python3`` and ``pip3`` PATH finds), and
        PYTHONUNBUFFERED=TRUE, which the SageMaker framework images set (``ENV
        PYTHONUNBUFFERED=TRUE`` in their Dockerfiles) so a script's lines reach the logs as
        printed even when a driver pipes them."""
        environ = {**os.environ, "PYTHONUNBUFFERED": "TRUE"}
        python_bin = os.path.dirname(self.job_python)
        if python_bin:
            environ["PATH"] = os.pathsep.join([python_bin, environ.get("PATH", os.defpath)])
        return {**environ, **spec.env}

    def launch(self, spec: InstanceSpec) -> dict:
        return self._start(spec, spec.command, self.environment(spec))

    def _start(self, spec: InstanceSpec, command: list[str], env: dict[str, str]) -> dict:
        state_dir = Path(spec.state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        cwd = spec.workdir or str(spec.ml_root)
        with open(state_dir / "agent.log", "ab") as agent_log:
            child = subprocess.Popen(
                self.agent_command(spec, command), env=env, cwd=cwd,
                stdin=subprocess.DEVNULL, stdout=agent_log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        self._children[child.pid] = child
        return {"runner": self.name, "agent_pid": child.pid, "agent_started": start_time(child.pid),
                "boot_id": _boot_id(), "state_dir": str(state_dir)}

    # -- watching -------------------------------------------------------------------------------

    def _agent_alive(self, handle: dict) -> bool:
        pid = handle["agent_pid"]
        child = self._children.get(pid)
        if child is not None and child.poll() is not None:
            self._children.pop(pid, None)
            return False
        if handle.get("boot_id") and handle["boot_id"] != _boot_id():
            return False  # the machine restarted: that pid is someone else now
        started = start_time(pid)
        if started is None:
            return False
        return handle.get("agent_started") in (None, started)

    def poll(self, handle: dict) -> InstanceExit | None:
        exit_file = Path(handle["state_dir"]) / "exit.json"
        ended = read_json(exit_file)
        if ended is None:
            if self._agent_alive(handle):
                return None
            # The agent may have written exit.json between the two looks.
            ended = read_json(exit_file)
            if ended is None:
                return InstanceExit(exit_code=None, signal=None, agent_lost=True)
        self._children.pop(handle["agent_pid"], None)
        failure_reason = None
        if ended.get("error"):
            # The agent could not start the command (exit.json "error"; 126/127 as a shell has).
            failure_reason = f"ClientError: The instance's command could not be started: {ended['error']}"
        return InstanceExit(exit_code=ended.get("exit_code"), signal=ended.get("signal"),
                            failure_reason=failure_reason)

    # -- stopping -------------------------------------------------------------------------------

    def _signal_agent(self, handle: dict, signum: int) -> None:
        if self._agent_alive(handle):
            try:
                os.kill(handle["agent_pid"], signum)
            except ProcessLookupError:
                pass

    def stop(self, handle: dict) -> None:
        # A SIGTERM that reaches the agent while Python is still starting it, before it has set
        # its handler, ends it on the spot: no exit.json, and the job fails with the agent lost
        # instead of stopping (a stop right after the launch did so every time). The agent writes
        # agent.json once its handler is set and the command started (or exit.json when the
        # command could not start), so the signal waits for one of them, or for the agent's end.
        state_dir = Path(handle["state_dir"])
        deadline = time.monotonic() + AGENT_READY_SECONDS
        while (not (state_dir / "agent.json").exists() and not (state_dir / "exit.json").exists()
               and self._agent_alive(handle) and time.monotonic() < deadline):
            time.sleep(0.02)
        self._signal_agent(handle, signal.SIGTERM)

    def kill(self, handle: dict) -> None:
        started = read_json(Path(handle["state_dir"]) / "agent.json") or {}
        group, child = started.get("child_pgid"), started.get("child_pid")
        try:
            # Only while the command's leader still leads that group: a group id, like a pid, is
            # reused once everything in it has ended.
            if group and child and os.getpgid(child) == group:
                os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._signal_agent(handle, signal.SIGKILL)
