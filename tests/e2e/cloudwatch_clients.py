"""CloudWatch clients for the end-to-end tests, one per wire protocol, and helpers for them.

CloudWatch's botocore model lists three protocols (smithy-rpc-v2-cbor, json, query); botocore
picks one by its own priority. To force a client onto one protocol we copy the model with
``protocols`` listing only that one into a private data directory and put that directory first
on the session's loader search path (what ``AWS_DATA_PATH`` does), so every request of that
client really travels on the chosen protocol.

Test modules import the fixtures from here:

    from .cloudwatch_clients import cw, cw_json, cw_query, cw_cbor, PROTOCOLS  # noqa: F401
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
from pathlib import Path

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from ..server import CREDENTIALS

# ids: pytest test ids; values: botocore protocol names.
PROTOCOLS = {"json": "json", "query": "query", "cbor": "smithy-rpc-v2-cbor"}
ACCOUNT = "000000000000"
REGION = CREDENTIALS["AWS_DEFAULT_REGION"]
ARN_PREFIX = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:"


def forced_model_dir(root: Path, protocol: str) -> Path:
    """A botocore data directory holding the cloudwatch model with only ``protocol`` listed."""
    loader = botocore.session.get_session().get_component("data_loader")
    model = loader.load_service_model("cloudwatch", "service-2")
    version = model["metadata"]["apiVersion"]
    model["metadata"]["protocol"] = protocol
    model["metadata"]["protocols"] = [protocol]
    target = root / protocol / "cloudwatch" / version
    target.mkdir(parents=True, exist_ok=True)
    (target / "service-2.json").write_text(json.dumps(model))
    return root / protocol


def cloudwatch_client(endpoint: str, protocol: str, data_root: Path, **config):
    """A boto3 CloudWatch client that speaks ``protocol`` (a botocore protocol name)."""
    session = botocore.session.Session()
    session.get_component("data_loader").search_paths.insert(0, str(forced_model_dir(data_root, protocol)))
    client = boto3.Session(botocore_session=session).client(
        "cloudwatch",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}, **config),
    )
    assert client.meta.service_model.protocol == protocol, client.meta.service_model.protocol
    return client


@pytest.fixture(scope="session")
def cloudwatch_data_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("botocore-data")


@pytest.fixture(scope="session")
def cw_clients(server, cloudwatch_data_root) -> dict[str, object]:
    """One client per protocol id (json / query / cbor), botocore's parameter checks on."""
    return {pid: cloudwatch_client(server.endpoint, name, cloudwatch_data_root)
            for pid, name in PROTOCOLS.items()}


@pytest.fixture(scope="session")
def raw_cw_clients(server, cloudwatch_data_root) -> dict[str, object]:
    """Clients with botocore's own parameter validation off, so the server's is what answers."""
    return {pid: cloudwatch_client(server.endpoint, name, cloudwatch_data_root, parameter_validation=False)
            for pid, name in PROTOCOLS.items()}


@pytest.fixture(params=list(PROTOCOLS), ids=list(PROTOCOLS))
def protocol(request) -> str:
    return request.param


@pytest.fixture
def cw(cw_clients, protocol):
    """A CloudWatch client on each of the three protocols in turn (test ids json/query/cbor)."""
    return cw_clients[protocol]


@pytest.fixture
def raw_cw(raw_cw_clients, protocol):
    return raw_cw_clients[protocol]


@pytest.fixture(scope="session")
def cw_json(cw_clients):
    return cw_clients["json"]


@pytest.fixture(scope="session")
def cw_query(cw_clients):
    return cw_clients["query"]


@pytest.fixture(scope="session")
def cw_cbor(cw_clients):
    return cw_clients["cbor"]


# -- helpers ------------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def at(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def minute_floor(seconds: float) -> int:
    return int(seconds // 60 * 60)


def name(prefix: str = "m") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_of(call, **kwargs) -> tuple[str, str | None, int]:
    """(code, message or None, HTTP status) of the error a boto3 call must raise."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message"),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def error_class(client, call, **kwargs) -> str:
    """The botocore exception class name a call raises (InvalidParameterValueException, ...)."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return type(info.value).__name__


def wait_for(check, *, timeout: float = 60.0, interval: float = 0.25, what: str = "condition"):
    """Poll ``check()`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def alarm(client, alarm_name: str) -> dict | None:
    found = client.describe_alarms(AlarmNames=[alarm_name], AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    items = found["MetricAlarms"] + found["CompositeAlarms"]
    return items[0] if items else None


def state_of(client, alarm_name: str) -> str:
    return alarm(client, alarm_name)["StateValue"]


def wait_state(client, alarm_name: str, state: str, timeout: float = 60.0) -> dict:
    return wait_for(
        lambda: (a := alarm(client, alarm_name)) and a["StateValue"] == state and a,
        timeout=timeout, what=f"{alarm_name} to be {state}",
    )


def history(client, alarm_name: str, item_type: str | None = None, **kwargs) -> list[dict]:
    """Every history item of an alarm, oldest first."""
    args = {"AlarmName": alarm_name, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
            "ScanBy": "TimestampAscending", **kwargs}
    if item_type:
        args["HistoryItemType"] = item_type
    items, token = [], None
    while True:
        page = client.describe_alarm_history(**(dict(args, NextToken=token) if token else args))
        items += page["AlarmHistoryItems"]
        token = page.get("NextToken")
        if not token:
            return items


def transitions(client, alarm_name: str) -> list[tuple[str, str]]:
    """(old, new) state of every StateUpdate of an alarm, oldest first."""
    out = []
    for item in history(client, alarm_name, "StateUpdate"):
        data = json.loads(item["HistoryData"])
        out.append((data["oldState"]["stateValue"], data["newState"]["stateValue"]))
    return out


def approx(a: float, b: float, rel: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-12)
