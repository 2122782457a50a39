"""The agent end to end: ``python -m sagewatch.agent -- <command>`` against a real server, read
back with boto3 (GetLogEvents, GetMetricStatistics) and through its state directory."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ..figures import record
from ..server import ServerProcess, free_port, make_client
from .helpers import messages, read_forward

GROUP = "/aws/sagemaker/TrainingJobs"
NAMESPACE = "/aws/sagemaker/TrainingJobs"


STARTED: list["Agent"] = []


@pytest.fixture(autouse=True)
def no_agent_outlives_its_test():
    """An agent whose server is gone retries for ever (it never drops a line), so a test that
    fails half-way must not leave its agent and command running: both are killed here."""
    yield
    while STARTED:
        STARTED.pop().kill()


class Agent:
    """One agent process for one instance ``<job>/algo-1``."""

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.info()["child_pgid"], signal.SIGKILL)
            except (OSError, ValueError, KeyError):
                pass
            self.process.kill()
            self.process.wait()

    def __init__(self, endpoint: str, state_dir: Path, job: str, command: list[str],
                 *options: str) -> None:
        self.job = job
        self.stream = f"{job}/algo-1-{int(time.time())}"
        self.host = f"{job}/algo-1"
        self.state_dir = state_dir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sagewatch.agent", "--endpoint", endpoint, "--region", "us-east-1",
             "--log-group", GROUP, "--log-stream", self.stream, "--metric-namespace", NAMESPACE,
             "--host", self.host, "--state-dir", str(state_dir), *options, "--", *command],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        STARTED.append(self)

    def wait(self, timeout: float = 60) -> dict:
        """The agent's exit.json once it has exited."""
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self.stderr = self.process.stderr.read().decode()
            self.process.stderr.close()
        return json.loads((self.state_dir / "exit.json").read_text())

    def info(self) -> dict:
        return json.loads((self.state_dir / "agent.json").read_text())

    def wait_for_agent_json(self, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while not (self.state_dir / "agent.json").exists():
            assert time.monotonic() < deadline, "no agent.json"
            time.sleep(0.02)
        return self.info()


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.fixture
def job(unique) -> str:
    return f"agent-{unique}"


def test_every_line_of_stdout_and_stderr_arrives_in_the_order_printed(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        import sys
        for i in range(3000):
            print(f"out {i}", flush=True)
            print(f"err {i}", file=sys.stderr, flush=True)
    """))
    info = agent.wait_for_agent_json()
    exit_info = agent.wait()
    assert exit_info["exit_code"] == 0 and exit_info["signal"] is None
    assert info["agent_pid"] == agent.process.pid
    assert info["child_pgid"] == info["child_pid"] != info["agent_pid"]
    assert info["started"] <= exit_info["ended"]
    expected = [line for i in range(3000) for line in (f"out {i}", f"err {i}")]
    events = read_forward(logs, GROUP, agent.stream)
    assert messages(events) == expected
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)
    assert exit_info["delivery"]["events_delivered"] == 6000


def test_a_crash_delivers_its_last_lines_and_traceback(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        print("epoch 1 loss=0.5")
        print("epoch 2 loss=0.4")
        def train():
            raise RuntimeError("CUDA out of memory")
        train()
    """))
    exit_info = agent.wait()
    assert exit_info["exit_code"] == 1
    lines = messages(read_forward(logs, GROUP, agent.stream))
    assert lines[:3] == ["epoch 1 loss=0.5", "epoch 2 loss=0.4", "Traceback (most recent call last):"]
    assert lines[-1] == "RuntimeError: CUDA out of memory"
    assert agent.process.returncode == 1


def test_a_killed_command_reports_its_signal_and_its_last_line_arrives(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, ["sh", "-c", "echo about to die; kill -9 $$"])
    exit_info = agent.wait()
    assert exit_info["exit_code"] is None and exit_info["signal"] == signal.SIGKILL
    assert agent.process.returncode == 128 + signal.SIGKILL
    assert messages(read_forward(logs, GROUP, agent.stream)) == ["about to die"]


def test_exit_codes_are_reported(server, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, ["sh", "-c", "exit 3"])
    assert agent.wait()["exit_code"] == 3
    assert agent.process.returncode == 3


def test_a_command_that_cannot_start_has_no_stream(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, ["/nonexistent/train"])
    exit_info = agent.wait()
    assert exit_info["exit_code"] == 127 and "FileNotFoundError" in exit_info["error"]
    assert logs.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=job)["logStreams"] == []


def test_a_progress_bar_becomes_a_few_events_ending_in_its_final_state(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        import sys, time
        print("before")
        for i in range(51):   # 2.5 s, 20 redraws a second, as tqdm draws (stderr, leading \\r)
            sys.stderr.write(f"\\r{2 * i:3d}%|{'#' * (i // 5):10s}| {i}/50"); sys.stderr.flush()
            time.sleep(0.05)
        sys.stderr.write("\\n")
        print("after")
    """))
    assert agent.wait()["exit_code"] == 0
    lines = messages(read_forward(logs, GROUP, agent.stream))
    assert lines[0] == "before" and lines[-1] == "after"
    bar = lines[1:-1]
    assert bar[-1] == "100%|##########| 50/50"
    # One state a second at most while drawing (2.5 s: 2), then the final one.
    assert 1 <= len(bar) <= 4, bar
    assert all("%|" in state for state in bar)


def test_a_line_longer_than_an_event_is_split(server, logs, job, tmp_path):
    size = 2_500_000
    agent = Agent(server.endpoint, tmp_path, job, python(f"""
        import sys
        sys.stdout.write("short\\n" + "x" * {size} + "\\nend\\n")
    """))
    assert agent.wait()["exit_code"] == 0
    lines = messages(read_forward(logs, GROUP, agent.stream))
    assert lines[0] == "short" and lines[-1] == "end"
    pieces = lines[1:-1]
    assert len(pieces) == 3 and "".join(pieces) == "x" * size
    assert max(len(p) for p in pieces) == 1_048_576 - 26


def test_sigterm_is_forwarded_and_followed_by_sigkill_after_the_grace(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        import signal, time
        signal.signal(signal.SIGTERM, lambda *_: print("got SIGTERM, ignoring it", flush=True))
        print("running", flush=True)
        while True:
            time.sleep(0.05)
    """), "--stop-grace", "1")
    agent.wait_for_agent_json()
    wait_for_lines(logs, agent.stream, 1)
    terminated = time.monotonic()
    agent.process.send_signal(signal.SIGTERM)
    exit_info = agent.wait()
    assert time.monotonic() - terminated >= 1.0
    assert exit_info["signal"] == signal.SIGKILL and exit_info["exit_code"] is None
    assert messages(read_forward(logs, GROUP, agent.stream)) == ["running", "got SIGTERM, ignoring it"]


def test_sigterm_lets_a_command_finish_cleanly_and_reaches_its_children(server, logs, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        import signal, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", (
            "import signal, sys, time\\n"
            "signal.signal(signal.SIGTERM, lambda *_: (sys.stdout.write('child stopping\\\\n'), sys.exit(0)))\\n"
            "print('child up', flush=True)\\n"
            "while True: time.sleep(0.05)\\n")])
        def stop(*_):
            # One write per line: the agent runs commands unbuffered (PYTHONUNBUFFERED), where
            # print() writes the text and its newline apart, and two processes' lines could mix.
            sys.stdout.write("parent stopping\\n")
            sys.exit(child.wait())
        signal.signal(signal.SIGTERM, stop)
        while True:
            time.sleep(0.05)
    """))
    wait_for_lines(logs, agent.stream, 1)
    agent.process.send_signal(signal.SIGTERM)
    exit_info = agent.wait()
    assert exit_info["exit_code"] == 0
    assert sorted(messages(read_forward(logs, GROUP, agent.stream))) == [
        "child stopping", "child up", "parent stopping"]


def test_resource_metrics_arrive_with_the_host_dimension(server, job, tmp_path):
    agent = Agent(server.endpoint, tmp_path, job, python("""
        import time
        block = bytearray(64 * 1024 * 1024)      # memory the tree holds
        end = time.time() + 3
        while time.time() < end:
            pass                                  # one core busy
    """), "--disk-path", str(tmp_path))
    exit_info = agent.wait()
    assert exit_info["exit_code"] == 0 and exit_info["delivery"]["datums_delivered"] >= 3
    cloudwatch = make_client("cloudwatch", server.endpoint)
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE, Dimensions=[{"Name": "Host", "Value": agent.host}])
    assert {m["MetricName"] for m in listed["Metrics"]} == {"CPUUtilization", "MemoryUtilization", "DiskUtilization"}
    now = datetime.datetime.now(datetime.timezone.utc)

    def stats(name: str) -> list[dict]:
        return cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName=name, Dimensions=[{"Name": "Host", "Value": agent.host}],
            StartTime=now - datetime.timedelta(minutes=2), EndTime=now + datetime.timedelta(minutes=1),
            Period=1, Statistics=["Maximum", "SampleCount"])["Datapoints"]

    cpu = stats("CPUUtilization")
    assert cpu and all(p["SampleCount"] == 1 and p["Unit"] == "Percent" for p in cpu)
    # A busy core reads near 100 on an idle machine; a loaded test machine gives it less.
    assert max(p["Maximum"] for p in cpu) > 10
    memory = max(p["Maximum"] for p in stats("MemoryUtilization"))
    assert memory > 0
    disk = max(p["Maximum"] for p in stats("DiskUtilization"))
    assert 0 < disk <= 100


def test_lines_printed_while_the_server_is_down_are_delivered_when_it_starts(tmp_path, job):
    server = ServerProcess(tmp_path / "data", port=free_port())
    agent = Agent(server.endpoint, tmp_path / "state", job, python("""
        for i in range(2000):
            print(f"line {i}")
    """))
    try:
        agent.wait_for_agent_json()
        time.sleep(1.0)
        # The command is done, the agent is not: nothing is delivered, so no exit.json yet.
        assert agent.process.poll() is None
        assert not (tmp_path / "state" / "exit.json").exists()
        server.start()
        exit_info = agent.wait()
        assert exit_info["exit_code"] == 0 and exit_info["delivery"]["unreachable"] > 0
        logs = make_client("logs", server.endpoint)
        assert messages(read_forward(logs, GROUP, agent.stream)) == [f"line {i}" for i in range(2000)]
    finally:
        server.stop()   # the agent, if still running, is killed by no_agent_outlives_its_test


def test_no_line_is_lost_when_the_server_is_killed_mid_stream(tmp_path, job):
    server = ServerProcess(tmp_path / "data", port=free_port()).start()
    count = 20_000
    agent = Agent(server.endpoint, tmp_path / "state", job, python(f"""
        import time
        for i in range({count}):
            print(f"line {{i:06d}}", flush=True)
            if i % 100 == 99:
                time.sleep(0.01)    # about 10,000 lines a second, for 2 seconds
    """))
    try:
        logs = make_client("logs", server.endpoint)
        wait_for_lines(logs, agent.stream, 1000)
        server.kill()
        time.sleep(1.0)
        server.start()
        exit_info = agent.wait()
        assert exit_info["exit_code"] == 0 and exit_info["delivery"]["unreachable"] > 0
        lines = messages(read_forward(logs, GROUP, agent.stream))
        expected = [f"line {i:06d}" for i in range(count)]
        # At least once: a batch stored but not acknowledged when the server died comes again.
        # Drop repeats of what was already seen, and what is left is every line, in order.
        seen, unique_lines = set(), []
        for line in lines:
            if line not in seen:
                seen.add(line)
                unique_lines.append(line)
        assert unique_lines == expected
        duplicates = len(lines) - count
        record("agent kill -9: lines duplicated by a batch in flight", duplicates)
        assert duplicates <= 10_000  # at most the one batch that was in flight
    finally:
        server.stop()   # the agent, if still running, is killed by no_agent_outlives_its_test


def wait_for_lines(logs, stream: str, count: int, timeout: float = 20) -> None:
    """Until the stream holds at least ``count`` events."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True,
                                      limit=count)["events"]
            if len(got) >= count:
                return
        except logs.exceptions.ResourceNotFoundException:
            pass
        time.sleep(0.02)
    raise AssertionError(f"{stream}: fewer than {count} events after {timeout} s")


def test_gpu_metrics_come_from_nvml_when_it_loads(server, job, tmp_path):
    """With --gpus, GPUUtilization and GPUMemoryUtilization join the metrics when NVML loads
    (a machine with an NVIDIA driver); without it the agent says so and the rest still flows."""
    try:
        import pynvml

        pynvml.nvmlInit()
        has_gpu = pynvml.nvmlDeviceGetCount() > 0
        pynvml.nvmlShutdown()
    except Exception:  # noqa: BLE001 - no library, no driver
        has_gpu = False
    agent = Agent(server.endpoint, tmp_path, job, python("import time; time.sleep(2.5)"), "--gpus", "0")
    assert agent.wait()["exit_code"] == 0
    cloudwatch = make_client("cloudwatch", server.endpoint)
    names = {m["MetricName"] for m in cloudwatch.list_metrics(
        Namespace=NAMESPACE, Dimensions=[{"Name": "Host", "Value": agent.host}])["Metrics"]}
    if has_gpu:
        assert {"GPUUtilization", "GPUMemoryUtilization", "CPUUtilization"} <= names
    else:
        assert names == {"CPUUtilization", "MemoryUtilization", "DiskUtilization"}
        assert "no GPU metrics" in agent.stderr
