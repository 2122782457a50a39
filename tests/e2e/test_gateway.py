"""The gateway as AWS's JSON 1.1 front end behaves: request framing and decoding errors, unknown
operations, gzip-encoded bodies, request ids, and the shape of error bodies. These send raw HTTP
so that nothing in boto3 smooths over what the server does."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from botocore.exceptions import ClientError

from .helpers import error_of, logs_request, now_ms, raw_request

JSON_11 = "application/x-amz-json-1.1"


def body_of(raw: bytes) -> dict:
    return json.loads(raw)


def error_type(raw: bytes) -> str:
    """The error code as clients read it: '__type' after any 'namespace#'."""
    return body_of(raw)["__type"].rsplit("#", 1)[-1]


def assert_request_id(headers: dict[str, str]) -> str:
    request_id = headers.get("x-amzn-requestid")
    assert request_id, headers
    uuid.UUID(request_id)
    return request_id


def test_success_response_framing(server, unique):
    status, headers, raw = logs_request(server.endpoint, "CreateLogGroup", {"logGroupName": f"/gw/{unique}"})
    assert status == 200
    assert headers["content-type"] == JSON_11
    assert_request_id(headers)
    assert body_of(raw) == {}

    status, headers, raw = logs_request(server.endpoint, "DescribeLogGroups",
                                        {"logGroupNamePrefix": f"/gw/{unique}"})
    assert status == 200 and headers["content-type"] == JSON_11
    assert [g["logGroupName"] for g in body_of(raw)["logGroups"]] == [f"/gw/{unique}"]


def test_empty_body_means_no_parameters(server):
    status, _, raw = logs_request(server.endpoint, "DescribeLogGroups", b"")
    assert status == 200
    assert "logGroups" in body_of(raw)


def test_error_body_is_bare_type_and_lowercase_message(server, unique):
    status, headers, raw = logs_request(server.endpoint, "DeleteLogGroup",
                                        {"logGroupName": f"/gw/{unique}/missing"})
    assert status == 400
    assert headers["content-type"] == JSON_11
    assert_request_id(headers)
    assert body_of(raw) == {"__type": "ResourceNotFoundException",
                            "message": "The specified log group does not exist."}


@pytest.mark.parametrize("body", [b"{not json", b'{"logGroupName": "x"', b"\xff\xfe", b"[1, 2]", b'"text"'])
def test_malformed_json_is_a_serialization_exception(server, body):
    status, headers, raw = logs_request(server.endpoint, "CreateLogGroup", body)
    assert status == 400
    assert headers["content-type"] == JSON_11
    assert error_type(raw) == "SerializationException"
    assert_request_id(headers)


@pytest.mark.parametrize("payload", [
    {"limit": "10"},                            # a string where an integer goes
    {"limit": 1.5},                             # a fraction where an integer goes
    {"logGroupNamePrefix": 42},                 # a number where a string goes
    {"logGroupIdentifiers": "not-a-list"},      # a string where a list goes
])
def test_wrong_member_type_is_a_serialization_exception(server, payload):
    status, headers, raw = logs_request(server.endpoint, "DescribeLogGroups", payload)
    assert status == 400
    assert error_type(raw) == "SerializationException"
    assert_request_id(headers)


def test_wrong_type_inside_a_list_of_structures(server, logs, group, stream):
    status, _, raw = logs_request(server.endpoint, "PutLogEvents", {
        "logGroupName": group, "logStreamName": stream,
        "logEvents": [{"timestamp": now_ms(), "message": "ok"}, {"timestamp": "soon", "message": "x"}]})
    assert status == 400
    assert error_type(raw) == "SerializationException"
    assert logs.get_log_events(logGroupName=group, logStreamName=stream)["events"] == []


@pytest.mark.parametrize("payload", [
    {"logGroupIdentifiers": ["g", None]},                 # a null in a list of strings
    {"logGroupName": "g", "tags": {"team": None}},        # a null value in a map
])
def test_null_in_a_list_or_map_is_a_serialization_exception(server, payload):
    # Smithy's malformed-request tests: a dense list (or map) holding null is a 400
    # SerializationException; no list or map of these models is sparse.
    operation = "DescribeLogGroups" if "logGroupIdentifiers" in payload else "CreateLogGroup"
    status, _, raw = logs_request(server.endpoint, operation, payload)
    assert status == 400
    assert error_type(raw) == "SerializationException"


def test_null_in_a_list_of_structures(server, logs, group, stream):
    status, _, raw = logs_request(server.endpoint, "PutLogEvents", {
        "logGroupName": group, "logStreamName": stream,
        "logEvents": [{"timestamp": now_ms(), "message": "ok"}, None]})
    assert status == 400
    assert error_type(raw) == "SerializationException"
    assert logs.get_log_events(logGroupName=group, logStreamName=stream)["events"] == []


@pytest.mark.parametrize("metric_data", [
    [{"MetricName": "m", "Value": 1.0}, None],                                  # a null datum
    [{"MetricName": "m", "Value": 1.0, "Dimensions": [None]}],                   # a null dimension
    [{"MetricName": "m", "Values": [1.0, None], "Counts": [1.0, 1.0]}],          # a null value
])
def test_null_datum_parts_are_a_serialization_exception_and_store_nothing(server, unique, metric_data):
    namespace = f"Gateway/{unique}"
    headers = {"Content-Type": "application/x-amz-json-1.0",
               "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}
    status, _, raw = raw_request(server.endpoint, json.dumps({"Namespace": namespace, "MetricData": metric_data})
                                 .encode(), headers)
    assert status == 400
    assert error_type(raw) == "SerializationException"
    status, _, raw = raw_request(server.endpoint, json.dumps({"Namespace": namespace}).encode(),
                                 {**headers, "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"})
    assert status == 200 and body_of(raw).get("Metrics", []) == []


def test_missing_required_member(server):
    status, _, raw = logs_request(server.endpoint, "CreateLogGroup", {})
    assert status == 400
    assert body_of(raw) == {
        "__type": "InvalidParameterException",
        "message": "1 validation error detected: Value null at 'logGroupName' failed to satisfy "
                   "constraint: Member must not be null",
    }


def test_unknown_members_are_ignored(server, logs, unique):
    status, _, _ = logs_request(server.endpoint, "CreateLogGroup",
                                {"logGroupName": f"/gw/{unique}", "notAMember": {"x": [1, 2]}})
    assert status == 200
    assert logs.describe_log_groups(logGroupNamePrefix=f"/gw/{unique}")["logGroups"]


@pytest.mark.parametrize("target", [
    "Logs_20140328.NoSuchOperation",
    "Logs_20140328.createLogGroup",        # operation names are case-sensitive
    "NoSuchService_20200101.CreateLogGroup",
    "CreateLogGroup",
])
def test_unknown_operation(server, target):
    status, headers, raw = raw_request(server.endpoint, b"{}", {
        "Content-Type": JSON_11, "X-Amz-Target": target})
    assert status == 400
    # Exactly what AWS Logs answered for an operation it does not have (aws/aws-sdk-net#1536).
    assert body_of(raw) == {"__type": "UnknownOperationException"}
    assert_request_id(headers)


def test_gzip_encoded_request_body(server, logs, unique):
    name = f"/gw/{unique}"
    status, headers, _ = logs_request(server.endpoint, "CreateLogGroup",
                                      gzip.compress(json.dumps({"logGroupName": name}).encode()),
                                      **{"Content-Encoding": "gzip"})
    assert status == 200
    assert_request_id(headers)
    logs.create_log_stream(logGroupName=name, logStreamName="s")

    now = now_ms()
    events = [{"timestamp": now, "message": f"compressed event {i} " + "z" * 200} for i in range(500)]
    payload = gzip.compress(json.dumps({"logGroupName": name, "logStreamName": "s",
                                        "logEvents": events}).encode())
    # Upper case, as some SDKs send it.
    status, _, raw = logs_request(server.endpoint, "PutLogEvents", payload, **{"Content-Encoding": "GZIP"})
    assert status == 200, raw
    stored = logs.get_log_events(logGroupName=name, logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in stored] == [e["message"] for e in events]


def test_corrupt_gzip_body(server):
    status, headers, raw = logs_request(server.endpoint, "DescribeLogGroups", b"\x1f\x8bnot really gzip",
                                        **{"Content-Encoding": "gzip"})
    assert status == 400
    assert error_type(raw) == "SerializationException"
    assert_request_id(headers)


def test_every_response_has_its_own_request_id(server, logs, raw_logs, group):
    ids = set()
    responses = [
        logs_request(server.endpoint, "DescribeLogGroups", {}),                       # success
        logs_request(server.endpoint, "DeleteLogGroup", {"logGroupName": group + "/no"}),  # not found
        logs_request(server.endpoint, "DescribeLogGroups", {"limit": 0}),            # validation
        logs_request(server.endpoint, "DescribeLogGroups", b"{"),                    # serialization
        raw_request(server.endpoint, b"{}", {"X-Amz-Target": "Logs_20140328.Nope"}),  # unknown op
    ]
    for status, headers, _ in responses:
        ids.add(assert_request_id(headers))
    assert len(ids) == len(responses)

    # boto3 reads it into ResponseMetadata, on success and on error.
    ok = logs.describe_log_groups(limit=1)
    assert ok["ResponseMetadata"]["RequestId"] == ok["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    with pytest.raises(ClientError) as info:
        logs.delete_log_group(logGroupName=group + "/no")
    assert uuid.UUID(info.value.response["ResponseMetadata"]["RequestId"])


def test_boto3_maps_error_codes_to_exception_classes(logs, group, stream):
    with pytest.raises(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.delete_log_stream(logGroupName=group, logStreamName="nope")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken="bad")
    assert error_of(logs.describe_log_streams, logGroupName=group, logGroupIdentifier=group)[0] == (
        "ValidationException")
