"""Fixtures shared by all tests: a real server process and clients that talk to it over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from .figures import FIGURES
from .server import ServerProcess, make_client


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("search figures")
        for name, amount in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {amount:,}")


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    process = ServerProcess(tmp_path_factory.mktemp("sagewatch") / "data").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def logs(server):
    return make_client("logs", server.endpoint)


@pytest.fixture
def unique():
    """A short unique suffix, so tests sharing one server never collide."""
    return uuid.uuid4().hex[:10]


class AwsCli:
    """Runs the real aws CLI (from this virtualenv) against a server."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.executable = shutil.which("aws", path=os.path.dirname(sys.executable)) or "aws"

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = self.server.env()
        env.pop("AWS_PROFILE", None)
        result = subprocess.run(
            [self.executable, *args, "--output", "json"],
            capture_output=True, text=True, env=env, timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {result.stderr}")
        return result

    def json(self, *args: str):
        out = self(*args).stdout
        return json.loads(out) if out.strip() else None


@pytest.fixture(scope="session")
def aws(server):
    return AwsCli(server)
