"""Small helpers shared by the end-to-end tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlparse

import pytest
from botocore.exceptions import ClientError

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
LOGS_TARGET = "Logs_20140328"


def now_ms() -> int:
    return int(time.time() * 1000)


def error_of(call, **kwargs) -> tuple[str, str, int]:
    """(code, message, HTTP status) of the error a boto3 call must raise."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def put(logs, group: str, stream: str, events: list[tuple[int, str]]) -> dict:
    """PutLogEvents with (timestamp, message) pairs."""
    return logs.put_log_events(
        logGroupName=group, logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def messages(events: list[dict]) -> list[str]:
    return [e["message"] for e in events]


def read_forward(logs, group: str, stream: str, **kwargs) -> list[dict]:
    """Every event of a stream, head to tail, following nextForwardToken until it repeats."""
    events, token = [], None
    for _ in range(10_000):
        args = dict(kwargs, nextToken=token) if token else kwargs
        page = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, **args)
        events += page["events"]
        if page["nextForwardToken"] == token:
            return events
        token = page["nextForwardToken"]
    raise AssertionError("GetLogEvents forward pagination did not end")


def filter_all(logs, **kwargs) -> tuple[list[dict], int]:
    """Every event FilterLogEvents returns, following nextToken; also the number of pages."""
    events, pages, token = [], 0, None
    while True:
        args = dict(kwargs, nextToken=token) if token else kwargs
        page = logs.filter_log_events(**args)
        pages += 1
        events += page["events"]
        token = page.get("nextToken")
        if token is None:
            return events, pages
        assert pages < 10_000, "FilterLogEvents pagination did not end"


def raw_request(endpoint: str, body: bytes, headers: dict[str, str], method: str = "POST",
                path: str = "/") -> tuple[int, dict[str, str], bytes]:
    """One HTTP request with exactly these bytes and headers: (status, lower-cased headers, body)."""
    url = urlparse(endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def logs_request(endpoint: str, operation: str, body: bytes | dict | None, **extra_headers):
    """A Logs JSON 1.1 request as the SDKs frame it (unsigned: sagewatch does not check signatures)."""
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"{LOGS_TARGET}.{operation}",
        **extra_headers,
    }
    return raw_request(endpoint, body or b"", headers)
