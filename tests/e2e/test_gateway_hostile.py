"""The gateway's answers to hostile and unusual requests: bodies too large as sent or as
inflated (a gzip bomb), encodings and framings it cannot read, requests in a protocol or with a
method no service answers, error codes no service model lists, error messages that would quote
a huge value, and the spelling of the request id header. Raw HTTP where boto3 cannot send the
request; boto3 where it can. Every answer is judged as the SDKs read it (botocore's own
response parsers), and none may be a 5xx."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import struct
import zlib
from pathlib import Path
from urllib.parse import urlparse

import cbor2
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import create_parser

from sagewatch.aws.gateway import MAX_BODY_BYTES

from .cloudwatch_clients import PROTOCOLS, cloudwatch_data_root, raw_cw_clients  # noqa: F401 (fixtures)
from .helpers import LOGS_TARGET, logs_request, now_ms, raw_request

CW_TARGET = "GraniteServiceVersion20100801"
CW_VERSION = "2010-08-01"
CW_NAMESPACE = "http://monitoring.amazonaws.com/doc/2010-08-01/"
FORM = "application/x-www-form-urlencoded"
# What each protocol's answers say they are (Content-Type).
CONTENT_TYPES = {
    "json": "application/x-amz-json-1.1",  # Logs (and any request naming no service)
    "json-1.0": "application/x-amz-json-1.0",  # CloudWatch
    "cbor": "application/cbor",
    "query": "text/xml",
}


def signed_for(service: str) -> str:
    """An Authorization header whose SigV4 credential scope names ``service`` (sagewatch routes
    query requests by it and checks no signature)."""
    return (f"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


# -- sending: each takes the server's endpoint and answers (status, lower-cased headers, body) --


def logs_json(endpoint: str, operation: str, body: bytes, method: str = "POST", **headers):
    return raw_request(endpoint, body, {"Content-Type": CONTENT_TYPES["json"],
                                        "X-Amz-Target": f"{LOGS_TARGET}.{operation}", **headers}, method=method)


def cw_json(endpoint: str, operation: str, body: bytes):
    return raw_request(endpoint, body, {"Content-Type": CONTENT_TYPES["json-1.0"],
                                        "X-Amz-Target": f"{CW_TARGET}.{operation}"})


def cw_cbor(endpoint: str, operation: str, body: bytes, method: str = "POST", service: str = CW_TARGET):
    return raw_request(endpoint, body, {"Content-Type": "application/cbor", "Smithy-Protocol": "rpc-v2-cbor"},
                       method=method, path=f"/service/{service}/operation/{operation}")


def cw_query(endpoint: str, form: str, method: str = "POST", **headers):
    return raw_request(endpoint, form.encode(), {"Content-Type": FORM, **headers}, method=method)


def sdk_error(protocol: str, answer: tuple[int, dict[str, str], bytes]) -> tuple[str, str]:
    """(code, message) of an error answer as botocore's parser for ``protocol`` reads it."""
    status, headers, body = answer
    botocore_protocol = {"json-1.0": "json"}.get(protocol, PROTOCOLS.get(protocol, protocol))
    parsed = create_parser(botocore_protocol).parse(
        {"status_code": status, "headers": headers, "body": body}, None)
    return parsed["Error"]["Code"], parsed["Error"].get("Message", "")


def assert_answer(answer, protocol: str, status: int, code: str | None, message: str | None = None) -> None:
    """The answer has ``status`` and ``protocol``'s content type and, if it is an error, SDKs
    read ``code`` (and ``message``, if given) from it."""
    got_status, headers, body = answer
    assert (got_status, headers.get("content-type")) == (status, CONTENT_TYPES[protocol]), body[:300]
    if code is not None:
        got_code, got_message = sdk_error(protocol, answer)
        assert got_code == code, body[:300]
        if message is not None:
            assert got_message == message




def gzip_bomb(inflated_mib: int) -> bytes:
    """A well-formed gzip body of ``inflated_mib`` MiB of zeros, about a thousandth its size.

    A MiB of zeros compressed after a full flush is the same few hundred bytes each time (the
    flush resets the compressor), so the stream repeats one compressed MiB rather than spend
    seconds compressing them all; the trailer's CRC and length are the real ones."""
    mib = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)  # raw deflate; gzip framing below
    block = deflate.compress(mib) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(inflated_mib):
        crc = zlib.crc32(mib, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, no mtime
    trailer = struct.pack("<II", crc, (inflated_mib << 20) & 0xFFFFFFFF)
    return header + block * inflated_mib + deflate.flush() + trailer


def exchange(endpoint: str, request: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send exactly these bytes on a fresh socket (a request with "Connection: close"); the
    response's status, its header fields as the server wrote them (names in their own case),
    and its body, read to the connection's end."""
    url = urlparse(endpoint)
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    fields = [(name, value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return int(status_line.split(" ")[1]), fields, body


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


# -- bodies too large ---------------------------------------------------------------------------


def test_gzip_bomb_is_refused_at_the_limit_without_inflating_it(server, logs):
    """The issue's bomb: about 1 MB of gzip that inflates to 1 GiB is answered 413 once the
    inflated part passes the limit; the server's memory never holds much more than the limit."""
    bomb = gzip_bomb(1024)
    assert len(bomb) < 1_100_000
    pid = server.process.pid
    # Start the peak-memory mark afresh (proc(5): writing 5 to clear_refs resets VmHWM to VmRSS).
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    before_kib = memory_kib(pid, "VmRSS")

    answer = logs_json(server.endpoint, "PutLogEvents", bomb, **{"Content-Encoding": "gzip"})

    assert_answer(answer, "json", 413, "RequestEntityTooLarge", f"Request size exceeded {MAX_BODY_BYTES} bytes")
    grown_mib = (memory_kib(pid, "VmHWM") - before_kib) / 1024
    # The inflated body up to the limit, and some slack; inflating it whole would be 1 GiB.
    assert grown_mib < (MAX_BODY_BYTES >> 20) + 32, f"peak memory grew {grown_mib:.0f} MiB"
    assert "logGroups" in logs.describe_log_groups(limit=1)  # and it goes on serving


@pytest.mark.parametrize("protocol", ["json", "json-1.0", "cbor", "query"])
def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read(server, protocol):
    """413 RequestEntityTooLarge "Request size N exceeded LIMIT bytes", as CloudWatch's front end
    answers (aws/aws-sdk-go#4441), in each protocol's error shape; the server answers from the
    head alone (no body is sent here, and none is waited for)."""
    size = MAX_BODY_BYTES + 1
    request_line, headers = {
        "json": (b"POST / ", f"X-Amz-Target: {LOGS_TARGET}.PutLogEvents\r\nContent-Type: {CONTENT_TYPES['json']}"),
        "json-1.0": (b"POST / ", f"X-Amz-Target: {CW_TARGET}.PutMetricData\r\n"
                                 f"Content-Type: {CONTENT_TYPES['json-1.0']}"),
        "cbor": (f"POST /service/{CW_TARGET}/operation/PutMetricData ".encode(),
                 "Content-Type: application/cbor\r\nSmithy-Protocol: rpc-v2-cbor"),
        "query": (b"POST / ", f"Content-Type: {FORM}\r\nAuthorization: {signed_for('monitoring')}"),
    }[protocol]
    status, fields, body = exchange(server.endpoint, request_line + b"HTTP/1.1\r\nHost: sagewatch\r\n"
                                    + headers.encode()
                                    + f"\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
    response_headers = {name.lower(): value for name, value in fields}
    assert_answer((status, response_headers, body), protocol, 413, "RequestEntityTooLarge",
                  f"Request size {size} exceeded {MAX_BODY_BYTES} bytes")
    if protocol == "json-1.0":  # CloudWatch is query-compatible: the header carries the code too
        assert response_headers["x-amzn-query-error"] == "RequestEntityTooLarge;Sender"


def test_a_chunked_body_over_the_limit_is_refused_once_it_passes_it(server):
    """No Content-Length to refuse it by: reading stops when the body passes the limit."""
    mib = b"x" * (1 << 20)
    url = urlparse(server.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.request("POST", "/", body=(mib for _ in range((MAX_BODY_BYTES >> 20) + 1)), encode_chunked=True,
                           headers={"Content-Type": CONTENT_TYPES["json"], "X-Amz-Target": f"{LOGS_TARGET}.PutLogEvents"})
        response = connection.getresponse()
        answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()
    assert_answer(answer, "json", 413, "RequestEntityTooLarge", f"Request size exceeded {MAX_BODY_BYTES} bytes")


@pytest.mark.parametrize("protocol", ["json", "query", "cbor", "logs"])
def test_boto3_reads_the_413_on_every_protocol(logs, raw_cw_clients, protocol):
    """Through boto3: CloudWatch clients gzip PutMetricData bodies (the requestCompression
    trait), so this one arrives small and is refused as it inflates; Logs sends it as is."""
    too_long = "m" * (MAX_BODY_BYTES + 1)
    if protocol == "logs":
        call = lambda: logs.create_log_group(logGroupName=too_long)  # noqa: E731
    else:
        call = lambda: raw_cw_clients[protocol].put_metric_data(  # noqa: E731
            Namespace="hostile", MetricData=[{"MetricName": too_long, "Value": 1.0}])
    with pytest.raises(ClientError) as info:
        call()
    error = info.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("RequestEntityTooLarge", 413)
    assert error["Error"]["Message"].startswith("Request size ")
    assert error["Error"]["Message"].endswith(f"exceeded {MAX_BODY_BYTES} bytes")


# -- the request id header ----------------------------------------------------------------------


@pytest.mark.parametrize("request_line, headers, body", [
    pytest.param(b"POST /", f"X-Amz-Target: {LOGS_TARGET}.DescribeLogGroups\r\nContent-Type: {CONTENT_TYPES['json']}",
                 b"{}", id="json"),
    pytest.param(b"POST /", f"X-Amz-Target: {LOGS_TARGET}.NoSuchOperation\r\nContent-Type: {CONTENT_TYPES['json']}",
                 b"{}", id="json-error"),
    pytest.param(f"POST /service/{CW_TARGET}/operation/ListMetrics".encode(),
                 "Content-Type: application/cbor\r\nSmithy-Protocol: rpc-v2-cbor", b"\xa0", id="cbor"),
    pytest.param(b"POST /", f"Content-Type: {FORM}", f"Action=ListMetrics&Version={CW_VERSION}".encode(), id="query"),
])
def test_the_request_id_header_is_spelled_as_aws_spells_it(server, request_line, headers, body):
    """x-amzn-RequestId, exactly: header names are compared case-sensitively here, on the bytes
    the server wrote. The gateway gives the name so; the HTTP server must keep it (uvicorn's
    h11 protocol does; its httptools protocol lower-cases every name)."""
    _, fields, _ = exchange(server.endpoint, request_line + b" HTTP/1.1\r\nHost: sagewatch\r\n" + headers.encode()
                            + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    names = [name for name, _ in fields]
    assert "x-amzn-RequestId" in names, names


# -- error codes no model lists -----------------------------------------------------------------


def test_errors_the_model_lists_carry_the_shape_id_others_a_bare_code(server, unique):
    """JSON 1.0 and CBOR errors name the error's shape id; the front end's own errors, which
    no shape of the service describes, carry their bare code (as AWS Logs sends
    {"__type":"UnknownOperationException"}), never a shape id the model does not have."""
    alarm = f"hostile-{unique}"  # no such alarm: ResourceNotFound, a shape of the model
    modelled = json.dumps({"AlarmName": alarm, "StateValue": "OK", "StateReason": "r"}).encode()

    status, headers, body = cw_json(server.endpoint, "SetAlarmState", modelled)
    assert (status, json.loads(body)["__type"]) == (404, "com.amazonaws.cloudwatch#ResourceNotFound")
    status, headers, body = cw_json(server.endpoint, "NoSuchOperation", b"{}")
    assert (status, json.loads(body)) == (400, {"__type": "UnknownOperationException"})
    assert headers["x-amzn-query-error"] == "UnknownOperationException;Sender"

    status, _, body = cw_cbor(server.endpoint, "SetAlarmState", cbor2.dumps(json.loads(modelled)))
    assert (status, cbor2.loads(body)["__type"]) == (404, "com.amazonaws.cloudwatch#ResourceNotFound")
    status, headers, body = cw_cbor(server.endpoint, "ListMetrics", b"\xff")
    assert (status, cbor2.loads(body)) == (400, {"__type": "SerializationException",
                                                 "message": "Invalid CBOR in request body"})
    assert headers["x-amzn-query-error"] == "SerializationException;Sender"


# -- requests in a protocol, or with a method, that no service answers ------------------------


LOGS_IN_QUERY_FORM = "Action=DescribeLogGroups&Version=2014-03-28"
UNKNOWN = "UnknownOperationException"


@pytest.mark.parametrize("send, protocol, status, code", [
    # Logs speaks JSON only: a Logs call in query form or on a CBOR path is no Logs call.
    pytest.param(lambda url: cw_query(url, LOGS_IN_QUERY_FORM, Authorization=signed_for("logs")),
                 "query", 404, UNKNOWN, id="logs-in-query-form"),
    pytest.param(lambda url: cw_query(url, LOGS_IN_QUERY_FORM), "query", 404, UNKNOWN,
                 id="logs-version-in-query-form"),
    pytest.param(lambda url: cw_cbor(url, "DescribeLogGroups", b"\xa0", service=LOGS_TARGET),
                 "cbor", 404, UNKNOWN, id="logs-on-a-cbor-path"),
    pytest.param(lambda url: cw_cbor(url, "ListMetrics", b"\xa0", service="NoSuchService"),
                 "cbor", 404, UNKNOWN, id="no-service-on-a-cbor-path"),
    pytest.param(lambda url: cw_query(url, "Action=ListMetrics"), "query", 404, UNKNOWN,
                 id="query-naming-no-service"),
    # The JSON and CBOR protocols are POST only; the query protocol is GET or POST.
    *[pytest.param(lambda url, m=m: logs_json(url, "DescribeLogGroups", b"{}", method=m),
                   "json", 404, UNKNOWN, id=f"json-{m}") for m in ("GET", "PUT", "DELETE", "PATCH", "OPTIONS")],
    *[pytest.param(lambda url, m=m: cw_cbor(url, "ListMetrics", b"\xa0", method=m),
                   "cbor", 404, UNKNOWN, id=f"cbor-{m}") for m in ("GET", "PUT")],
    *[pytest.param(lambda url, m=m: cw_query(url, f"Action=ListMetrics&Version={CW_VERSION}", method=m),
                   "query", 404, UNKNOWN, id=f"query-{m}") for m in ("PUT", "DELETE")],
    # Requests that reach a service but name none of its operations.
    pytest.param(lambda url: cw_query(url, f"Action=NoSuchAction&Version={CW_VERSION}"),
                 "query", 400, "InvalidAction", id="query-unknown-action"),
    pytest.param(lambda url: cw_query(url, f"Version={CW_VERSION}"), "query", 400, "MissingAction",
                 id="query-no-action"),
    pytest.param(lambda url: raw_request(url, b"{}", {"Content-Type": CONTENT_TYPES["json"],
                                                      "Authorization": signed_for("logs")}),
                 "json", 400, UNKNOWN, id="json-without-target"),
])
def test_requests_no_service_answers_are_refused_in_their_protocol(server, send, protocol, status, code):
    answer = send(server.endpoint)
    assert_answer(answer, protocol, status, code)
    assert b'xmlns="None"' not in answer[2]


def test_query_errors_name_the_action_and_version(server):
    """InvalidAction words it as AWS's query front end does (s3proxy mirrors it for STS)."""
    answer = cw_query(server.endpoint, f"Action=NoSuchAction&Version={CW_VERSION}")
    assert_answer(answer, "query", 400, "InvalidAction", f"Could not find operation NoSuchAction for version {CW_VERSION}")
    assert f'<ErrorResponse xmlns="{CW_NAMESPACE}">'.encode() in answer[2]


def test_a_refused_method_does_nothing(server, logs, unique):
    """A CreateLogGroup sent with PUT is not a CreateLogGroup: no group is created."""
    name = f"/hostile/{unique}"
    answer = logs_json(server.endpoint, "CreateLogGroup", json.dumps({"logGroupName": name}).encode(), method="PUT")
    assert_answer(answer, "json", 404, UNKNOWN)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []


def test_health_and_query_get_still_answer(server):
    status, _, body = raw_request(server.endpoint, b"", {}, method="GET", path="/_sagewatch/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    status, headers, body = raw_request(server.endpoint, b"", {}, method="GET",
                                        path=f"/?Action=ListMetrics&Version={CW_VERSION}&Namespace=hostile/none")
    assert (status, headers["content-type"]) == (200, "text/xml")
    assert body.startswith(f'<ListMetricsResponse xmlns="{CW_NAMESPACE}">'.encode())


# -- error messages that would quote a huge value -----------------------------------------------


def test_a_huge_invalid_value_gets_a_bounded_answer(server, group, stream):
    """A value as large as a body may carry (the issue's was 9 MB, now over the body limit) and
    invalid: the answer quotes a bounded part of it and still names the rule."""
    huge = "!" * (MAX_BODY_BYTES - (64 << 10))
    status, _, body = logs_request(server.endpoint, "PutLogEvents", {
        "logGroupName": group, "logStreamName": stream, "entity": {"keyAttributes": {"Type": huge}},
        "logEvents": [{"timestamp": now_ms(), "message": "m"}]})
    assert status == 400 and len(body) < 64 * 1024, (status, len(body))
    error = json.loads(body)
    assert error["__type"] == "InvalidParameterException"
    assert error["message"].endswith("failed to satisfy constraint: Member must have length less than or equal to 512")


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
def test_a_huge_invalid_value_gets_a_bounded_message_on_every_protocol(raw_cw_clients, protocol):
    with pytest.raises(ClientError) as info:
        raw_cw_clients[protocol].list_metrics(Namespace="a" * (MAX_BODY_BYTES - (64 << 10)))
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert len(error["Message"]) <= 8192
    assert error["Message"].endswith("Member must have length less than or equal to 255"), error["Message"][-300:]


# -- unusual but well-formed requests: a 4xx in the protocol's shape, never a 5xx -------------


DEEP = 100_000  # levels of nesting
SERIALIZATION = "SerializationException"
GZIP = {"Content-Encoding": "gzip"}


@pytest.mark.parametrize("body, headers, status, code", [
    pytest.param(b"", {}, 200, None, id="empty-body"),
    pytest.param(b"null", {}, 400, SERIALIZATION, id="null"),
    pytest.param(b"[]", {}, 400, SERIALIZATION, id="array"),
    pytest.param(b"3", {}, 400, SERIALIZATION, id="number"),
    pytest.param(b'"x"', {}, 400, SERIALIZATION, id="string"),
    pytest.param(b'{"logGroupNamePrefix": "\xff\xfe"}', {}, 400, SERIALIZATION, id="not-utf8"),
    pytest.param(b"[" * DEEP + b"]" * DEEP, {}, 400, SERIALIZATION, id="deep-array"),
    pytest.param(b'{"a":' * DEEP + b"1" + b"}" * DEEP, {}, 400, SERIALIZATION, id="deep-object"),
    pytest.param(b'{"logGroupIdentifiers":' + b"[" * DEEP + b"]" * DEEP + b"}", {}, 400, SERIALIZATION,
                 id="deep-member"),
    pytest.param(b'{"limit": 1, "limit": 2}', {}, 200, None, id="duplicate-keys"),
    # Content encodings: gzip (x-gzip) and identity only, and gzip must be whole.
    pytest.param(gzip.compress(b"{}")[:-5], GZIP, 400, SERIALIZATION, id="gzip-truncated"),
    pytest.param(gzip.compress(b"{}") + b"garbage", GZIP, 400, SERIALIZATION, id="gzip-trailing-garbage"),
    pytest.param(b"{}", GZIP, 400, SERIALIZATION, id="gzip-claimed"),
    pytest.param(gzip.compress(b'{"lim') + gzip.compress(b'it": 1}') + b"\0\0", GZIP, 200, None,
                 id="gzip-two-members-and-padding"),
    pytest.param(b"", GZIP, 200, None, id="gzip-empty"),
    pytest.param(gzip.compress(b"{}"), {"Content-Encoding": "X-GZIP, identity"}, 200, None, id="x-gzip-identity"),
    *[pytest.param(b"{}", {"Content-Encoding": coding}, 400, SERIALIZATION, id=f"encoding-{coding}")
      for coding in ("br", "deflate", "gzip, br", "zstd")],
])
def test_unusual_json_bodies(server, body, headers, status, code):
    assert_answer(logs_json(server.endpoint, "DescribeLogGroups", body, **headers), "json", status, code)


@pytest.mark.parametrize("target", ["", ".", f"{LOGS_TARGET}.", f"{LOGS_TARGET}..DescribeLogGroups",
                                    "\xff\xfe.\xe9", "a" * 8000])
def test_garbled_targets_are_unknown_operations(server, target):
    answer = raw_request(server.endpoint, b"{}", {"Content-Type": CONTENT_TYPES["json"], "X-Amz-Target": target})
    assert_answer(answer, "json", 400, "UnknownOperationException")


DATE_START_TIME = b"\xa1\x69StartTime\xc1"  # a CBOR map {"StartTime": tag 1 (a date) of what follows}


@pytest.mark.parametrize("operation, body, status, code", [
    pytest.param("ListMetrics", b"", 200, None, id="empty-body"),
    pytest.param("ListMetrics", b"\xff\x00", 400, SERIALIZATION, id="invalid"),
    pytest.param("ListMetrics", cbor2.dumps({"Namespace": "n"})[:-1], 400, SERIALIZATION, id="truncated"),
    pytest.param("ListMetrics", cbor2.dumps({}) + b"\x00", 400, SERIALIZATION, id="data-after-the-document"),
    pytest.param("ListMetrics", cbor2.dumps([1]), 400, SERIALIZATION, id="array"),
    pytest.param("ListMetrics", cbor2.dumps(None), 400, SERIALIZATION, id="null"),
    pytest.param("ListMetrics", b"\x81" * DEEP + b"\x00", 400, SERIALIZATION, id="deep"),
    pytest.param("ListMetrics", cbor2.dumps({"Namespace": b"n"}), 400, SERIALIZATION, id="bytes-for-a-string"),
    pytest.param("ListMetrics", cbor2.dumps({"Namespace": {1: 2}}), 400, SERIALIZATION, id="map-for-a-string"),
    pytest.param("ListMetrics", cbor2.dumps({"Namespace": 2 ** 100}), 400, SERIALIZATION, id="bignum"),
    pytest.param("GetMetricStatistics", DATE_START_TIME + b"\xfb\x7f\xef\xff\xff\xff\xff\xff\xff", 400,
                 SERIALIZATION, id="date-max-double"),
    pytest.param("GetMetricStatistics", DATE_START_TIME + b"\xfb\x7f\xf8\x00\x00\x00\x00\x00\x00", 400,
                 SERIALIZATION, id="date-nan"),
    pytest.param("GetMetricStatistics", DATE_START_TIME + b"\x3b\x7f\xff\xff\xff\xff\xff\xff\xff", 400,
                 SERIALIZATION, id="date-min-int64"),
    pytest.param("GetMetricStatistics", DATE_START_TIME + b"\x61x", 400, SERIALIZATION, id="date-text"),
])
def test_unusual_cbor_bodies(server, operation, body, status, code):
    assert_answer(cw_cbor(server.endpoint, operation, body), "cbor", status, code)


@pytest.mark.parametrize("fields, status, code", [
    # List indexes order the members: botocore numbers them from 1; others are read in order.
    pytest.param("Dimensions.member.0.Name=a&Dimensions.member.0.Value=b", 200, None, id="member-0"),
    pytest.param("Dimensions.member.99999999.Name=a", 200, None, id="member-99999999"),
    pytest.param("Dimensions.member." + "9" * 5000 + ".Name=a", 200, None, id="member-5000-digits"),
    pytest.param("Dimensions.member.%C2%B2.Name=a", 400, SERIALIZATION, id="member-superscript-2"),
    pytest.param("Dimensions.member.-1.Name=a", 400, SERIALIZATION, id="member-negative"),
    pytest.param("Dimensions.member.one.Name=a", 400, SERIALIZATION, id="member-word"),
    # Keys naming no member are ignored, however deep.
    pytest.param("a." * DEEP + "b=1", 200, None, id="deep-unknown-member"),
    pytest.param("Dimensions=x&Dimensions.member.1.Name=a", 200, None, id="member-and-scalar"),
    pytest.param("Namespace=%ff%fe", 200, None, id="not-utf8"),
    pytest.param("Namespace=%zz", 400, SERIALIZATION, id="bad-percent-escape"),
    pytest.param("Namespace=%2", 400, SERIALIZATION, id="cut-percent-escape"),
    pytest.param("&" * 600_000, 400, SERIALIZATION, id="600000-fields"),
    pytest.param("RecentlyActive=" + "9" * 5000, 400, "ValidationError", id="5000-digit-enum"),
])
def test_unusual_query_forms(server, fields, status, code):
    answer = cw_query(server.endpoint, f"Action=ListMetrics&Version={CW_VERSION}&{fields}")
    assert_answer(answer, "query", status, code)


def test_a_5000_digit_integer_is_a_serialization_exception(server):
    answer = cw_query(server.endpoint, f"Action=DescribeAlarms&Version={CW_VERSION}&MaxRecords=" + "9" * 5000)
    assert_answer(answer, "query", 400, SERIALIZATION)
