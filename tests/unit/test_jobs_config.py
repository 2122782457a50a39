"""Settings from defaults, a TOML file, SAGEWATCH_* variables and explicit overrides."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sagewatch.config import ConfigError, Settings, load_settings

CONFIG = """
port = 4700
data_dir = "/var/lib/sagewatch"

[jobs]
runner = "docker"
python = "/opt/venv/bin/python"
stop_grace_seconds = 30
s3_endpoint_url = "http://127.0.0.1:9000"

[jobs.capacity]
cpus = 2
gpus = [1, 3]

[jobs.instance_types."ml.m5.large"]
vcpus = 1
memory_gib = 2

[jobs.images]
"*/my-algo:*" = ["python", "/srv/algo/train.py"]
"*/shell:*" = "host"
"""


def test_defaults():
    settings = load_settings(environ={})
    assert settings == Settings()
    assert settings.jobs.runner == "process" and settings.jobs.python == sys.executable
    assert settings.jobs.stop_grace_seconds == 120.0
    assert settings.jobs_dir == Path("./sagewatch-data") / "jobs"


def test_file_then_environment_then_overrides(tmp_path):
    path = tmp_path / "sagewatch.toml"
    path.write_text(CONFIG)
    settings = load_settings(path, environ={"SAGEWATCH_JOBS_CPUS": "3", "SAGEWATCH_REGION": "eu-west-1"},
                             port=4800)
    assert settings.port == 4800                       # the command line wins
    assert settings.region == "eu-west-1"              # then the environment
    assert settings.data_dir == Path("/var/lib/sagewatch")
    jobs = settings.jobs
    assert jobs.runner == "docker" and jobs.python == "/opt/venv/bin/python"
    assert jobs.stop_grace_seconds == 30.0
    assert jobs.capacity.cpus == 3 and jobs.capacity.gpus == [1, 3]
    assert jobs.instance_types == {"ml.m5.large": {"vcpus": 1, "memory_gib": 2.0, "gpus": 0}}
    assert jobs.images == {"*/my-algo:*": ["python", "/srv/algo/train.py"], "*/shell:*": "host"}
    assert jobs.s3_endpoint_url == "http://127.0.0.1:9000"
    assert settings.jobs_dir == Path("/var/lib/sagewatch/jobs")


def test_the_config_file_can_come_from_the_environment(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[jobs.capacity]\ngpus = 2\n")
    assert load_settings(environ={"SAGEWATCH_CONFIG": str(path)}).jobs.capacity.gpus == [0, 1]
    assert load_settings(environ={"SAGEWATCH_JOBS_GPUS": ""}).jobs.capacity.gpus == []


@pytest.mark.parametrize("text, message", [
    ("[jobs]\nrunnr = 'process'\n", r"unknown setting\(s\) runnr"),
    ("[jobs]\nrunner = 'kubernetes'\n", "one of process, docker"),
    ("[jobs.capacity]\ncpus = 0\n", "at least 1"),
    ("[jobs.images]\n'x' = 3\n", r"a command \(a list of strings\) or \"host\""),
    ("port = 'x'\n", "expected a number"),
    ("[jobs\n", "not valid TOML"),
])
def test_mistakes_are_named(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})
