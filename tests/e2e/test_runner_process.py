"""The process runner against a real server: a real command under the real agent, its lines read
back with GetLogEvents, its exit reported from exit.json; stop, kill, a lost agent, and a runner
that only has the handle (a restarted server)."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from sagewatch.jobs.runners.base import InstanceExit, InstanceSpec
from sagewatch.jobs.runners.process import ProcessRunner, start_time as process_started, read_json

# Generous: the agent starts in well under a second; this only bounds a broken run.
DEADLINE_SECONDS = 60


def spec(server, tmp_path: Path, unique: str, code: str, **more) -> InstanceSpec:
    ml_root = tmp_path / "ml"
    ml_root.mkdir(parents=True, exist_ok=True)
    return InstanceSpec(
        job_kind="TrainingJob", job_name=f"runner-{unique}", host="algo-1",
        command=[sys.executable, "-u", "-c", code], env={"INSTANCE_VAR": "from-spec"}, workdir=None,
        ml_root=ml_root, state_dir=tmp_path / "agent",
        log_group=f"/e2e/runner/{unique}", log_stream=f"runner-{unique}/algo-1-{int(time.time())}",
        metric_namespace=f"/e2e/runner/{unique}", metric_host=f"runner-{unique}/algo-1",
        endpoint=server.endpoint, **more)


def wait_for_exit(runner, handle) -> InstanceExit:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        ended = runner.poll(handle)
        if ended is not None:
            return ended
        time.sleep(0.05)
    raise AssertionError(f"the instance did not end; agent.log:\n{(Path(handle['state_dir']) / 'agent.log').read_text()}")


def wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def messages(logs, instance: InstanceSpec) -> list[str]:
    events = logs.get_log_events(logGroupName=instance.log_group, logStreamName=instance.log_stream,
                                 startFromHead=True)["events"]
    return [e["message"] for e in events]


def test_a_command_runs_under_the_agent_and_its_lines_are_readable(server, logs, unique, tmp_path):
    instance = spec(server, tmp_path, unique, (
        "import os, sys\n"
        "print('first line')\n"
        "print('env', os.environ['INSTANCE_VAR'], os.getcwd())\n"
        "print('to stderr', file=sys.stderr)\n"
        "sys.exit(3)\n"))
    runner = ProcessRunner()
    handle = runner.launch(instance)
    assert handle["runner"] == "process" and handle["agent_pid"] > 0
    ended = wait_for_exit(runner, handle)
    assert ended == InstanceExit(exit_code=3, signal=None, agent_lost=False)
    # exit.json means every line was delivered: no waiting for the stream.
    lines = messages(logs, instance)
    assert lines[0] == "first line"
    assert f"env from-spec {instance.ml_root}" in lines      # workdir None: the instance's tree
    assert "to stderr" in lines
    assert (instance.state_dir / "agent.log").exists()


def test_a_new_runner_polls_from_the_handle_alone(server, logs, unique, tmp_path):
    instance = spec(server, tmp_path, unique, "import time\nprint('working', flush=True)\ntime.sleep(1)\n")
    handle = ProcessRunner().launch(instance)
    # Another runner (a restarted server) has only the stored handle.
    adopted = ProcessRunner()
    assert adopted.poll(handle) is None
    assert wait_for_exit(adopted, handle) == InstanceExit(0, None)
    assert messages(logs, instance) == ["working"]


def test_stop_sends_sigterm_to_the_command(server, logs, unique, tmp_path):
    instance = spec(server, tmp_path, unique, (
        "import signal, sys, time\n"
        "def bye(*_):\n"
        "    print('got SIGTERM, saving', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"))
    runner = ProcessRunner()
    handle = runner.launch(instance)
    wait_for_file(instance.state_dir / "agent.json")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while "ready" not in _messages_or_empty(logs, instance):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    runner.stop(handle)
    assert wait_for_exit(runner, handle) == InstanceExit(0, None)
    assert messages(logs, instance)[-1] == "got SIGTERM, saving"


def test_a_stop_right_after_the_launch_stops_the_command(server, unique, tmp_path):
    """Before the agent has set its SIGTERM handler (Python still starting), a signal would end
    it outright and the instance would read as lost; the stop waits until it is ready."""
    instance = spec(server, tmp_path, unique, "import time\ntime.sleep(60)\n")
    runner = ProcessRunner()
    handle = runner.launch(instance)
    runner.stop(handle)
    assert wait_for_exit(runner, handle) == InstanceExit(exit_code=None, signal=signal.SIGTERM)


def test_a_command_that_ignores_sigterm_is_killed_after_the_grace_period(server, unique, tmp_path):
    instance = spec(server, tmp_path, unique, (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('stubborn', flush=True)\n"
        "time.sleep(60)\n"), stop_grace_seconds=0.5)
    runner = ProcessRunner()
    handle = runner.launch(instance)
    wait_for_file(instance.state_dir / "agent.json")
    time.sleep(0.3)  # let the command install its handler
    runner.stop(handle)
    ended = wait_for_exit(runner, handle)
    assert ended.signal == signal.SIGKILL and ended.exit_code is None and not ended.agent_lost


def test_kill_ends_the_command_and_a_dead_agent_is_reported_lost(server, unique, tmp_path):
    instance = spec(server, tmp_path, unique, "import time\nprint('x', flush=True)\ntime.sleep(60)\n")
    runner = ProcessRunner()
    handle = runner.launch(instance)
    wait_for_file(instance.state_dir / "agent.json")
    started = read_json(instance.state_dir / "agent.json")
    runner.kill(handle)
    ended = wait_for_exit(runner, handle)
    # SIGKILL to the agent: it cannot write exit.json, so the instance's end is unknown.
    assert ended.agent_lost
    # The command is gone too (at most a zombie its new parent has yet to reap).
    deadline = time.monotonic() + DEADLINE_SECONDS
    while process_started(started["child_pid"]) is not None:
        assert time.monotonic() < deadline, "the command outlived kill"
        time.sleep(0.02)
    assert ProcessRunner().poll(handle) == ended      # and stays so, for any runner


def _messages_or_empty(logs, instance) -> list[str]:
    try:
        return messages(logs, instance)
    except logs.exceptions.ResourceNotFoundException:
        return []


def test_a_command_that_cannot_start_ends_with_a_client_error_and_no_stream(server, logs, unique, tmp_path):
    instance = spec(server, tmp_path, unique, "")
    instance.command = [str(tmp_path / "no-such-program")]
    runner = ProcessRunner()
    ended = wait_for_exit(runner, runner.launch(instance))
    assert ended.exit_code == 127
    assert ended.failure_reason.startswith("ClientError: The instance's command could not be started: ")
    assert "no-such-program" in ended.failure_reason
    groups = logs.describe_log_groups(logGroupNamePrefix=instance.log_group)["logGroups"]
    assert groups == []  # the agent creates the group and stream on first output: none came
