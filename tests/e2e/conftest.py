"""Fixtures for the end-to-end tests: log groups and streams with unique names on the shared server."""

from __future__ import annotations

import pytest

from ..server import make_client


@pytest.fixture(scope="session")
def raw_logs(server):
    """A boto3 client that sends whatever it is given: botocore's own checks are off, so the
    server's validation (and its exact error messages) is what gets tested."""
    return make_client("logs", server.endpoint, parameter_validation=False)


@pytest.fixture
def group(logs, unique) -> str:
    name = f"/e2e/{unique}"
    logs.create_log_group(logGroupName=name)
    return name


@pytest.fixture
def stream(logs, group) -> str:
    name = "job/algo-1"
    logs.create_log_stream(logGroupName=group, logStreamName=name)
    return name
