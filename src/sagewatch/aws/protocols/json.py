"""AWS JSON 1.0 / 1.1 (``X-Amz-Target: <prefix>.<Operation>``), model-driven.

Reading: first ``parse_valid`` tries the one-pass reader compiled from the model
(``aws/typed_json.py``), which most well-formed requests satisfy. Otherwise orjson parses the
body; the only values JSON cannot carry natively are timestamps (epoch seconds) and blobs
(base64), so only subtrees of the input shape that contain those are walked. Writing is the
mirror image. Errors are ``{"__type": ..., "message": ...}`` (base.py WireError says which
type and which spelling of message); a service with the awsQueryCompatible trait (CloudWatch)
also gets ``x-amzn-query-error: Code;Sender`` so that clients see the same error codes as on
the query protocol.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt

import orjson
from botocore.model import OperationModel

from ...services.errors import serialization_error
from ..models import ServiceSpec
from ..typed_json import TypedJSONReader
from .base import (
    REQUEST_ID_HEADER,
    Protocol,
    ShapeWalker,
    WireRequest,
    WireResponse,
    parse_timestamp,
    to_epoch_seconds,
    wire_error,
)

# JSON has no literal for these; AWS SDKs send them as strings in float and double members.
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


class JSONProtocol(Protocol):
    name = "json"

    def __init__(self) -> None:
        self.typed = TypedJSONReader()

    # -- requests ---------------------------------------------------------------------------

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: WireRequest) -> dict:
        body = request.body
        if not body.strip():
            return {}
        try:
            params = orjson.loads(body)
        except orjson.JSONDecodeError:
            # AWS answers exactly {"__type":"SerializationException"}, with no message.
            raise serialization_error(None) from None
        if not isinstance(params, dict):
            raise serialization_error(None)
        shape = operation.input_shape
        if shape is not None:
            # Non-finite numbers are rare; only a body that spells one pays for visiting every
            # float member (a 1,000-datum PutMetricData has a thousand).
            spells_non_finite = b"NaN" in body or b"Infinity" in body
            decoder = _decode_with_numbers if spells_non_finite else _decode
            params = decoder(shape)(params)
        return params

    def parse_valid(
        self, spec: ServiceSpec, operation: OperationModel, request: WireRequest, records: bool = False
    ) -> dict | None:
        shape = operation.input_shape
        if shape is None:
            return None
        try:
            return self.typed.read(shape, request.body, records)
        except RecursionError:
            # msgspec recurses into a deeply nested value even where it will skip it (an
            # unknown member a hundred thousand objects deep); the general path refuses it.
            return None

    # -- responses --------------------------------------------------------------------------

    def serialize(self, spec, operation, result, request_id) -> WireResponse:
        shape = operation.output_shape
        if shape is not None and result:
            result = _compile_encoder(shape)(result)
        return WireResponse(
            200,
            orjson.dumps(result or {}),
            {"content-type": _content_type(spec), REQUEST_ID_HEADER: request_id},
        )

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        wire = wire_error(spec, error)
        headers = {"content-type": _content_type(spec), REQUEST_ID_HEADER: request_id}
        # awsJson1_0 servers send the error's full shape id, awsJson1_1 servers its name (Smithy
        # awsJson protocols, "Differences between awsJson1_0 and awsJson1_1").
        qualified = spec is not None and spec.json_version == "1.0"
        body: dict = {"__type": wire.type_name(spec, qualified)}
        if spec is not None and spec.query_compatible:
            headers["x-amzn-query-error"] = wire.query_error_header()
        if wire.message is not None:
            body[wire.message_key] = wire.message
        return WireResponse(wire.status, orjson.dumps(body), headers)


def _content_type(spec: ServiceSpec | None) -> str:
    version = spec.json_version if spec is not None else "1.1"
    return f"application/x-amz-json-{version}"


# -- compiled converters ----------------------------------------------------------------------


def _decode_number(value):
    if type(value) is str:
        return _NON_FINITE.get(value, value)
    return value


def _decode_blob(value):
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise serialization_error("Invalid base64 value for a blob member") from None


def _encode_timestamp(value):
    return to_epoch_seconds(value) if isinstance(value, _dt.datetime) else value


def _encode_blob(value):
    return base64.b64encode(value).decode() if isinstance(value, (bytes, bytearray)) else value


# Reading: timestamps arrive as epoch seconds, blobs as base64, non-finite doubles as strings.
_decode = ShapeWalker({"timestamp": parse_timestamp, "blob": _decode_blob}, copy=False)
_decode_with_numbers = ShapeWalker(
    {"timestamp": parse_timestamp, "blob": _decode_blob, "float": _decode_number,
     "double": _decode_number},
    copy=False,
)
# Writing: the reverse for timestamps and blobs.
_compile_encoder = ShapeWalker({"timestamp": _encode_timestamp, "blob": _encode_blob}, copy=True)
