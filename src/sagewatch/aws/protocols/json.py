"""AWS JSON 1.0 / 1.1 (``X-Amz-Target: <prefix>.<Operation>``), model-driven.

Reading: orjson parses the body; the only values JSON cannot carry natively are timestamps
(epoch seconds) and blobs (base64), so only subtrees of the input shape that contain those are
walked. Writing is the mirror image. Errors are ``{"__type": ..., "message": ...}``; a service
with the awsQueryCompatible trait (CloudWatch) also gets ``x-amzn-query-error: Code;Sender`` so
that clients see the same error codes as on the query protocol.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from collections.abc import Callable

import orjson
from botocore.model import OperationModel, Shape

from ...services.errors import serialization_error
from ..models import ServiceSpec
from .base import (
    Protocol,
    WireRequest,
    WireResponse,
    contains_types,
    error_details,
    parse_timestamp,
    to_epoch_seconds,
)

_CONVERTED = frozenset({"timestamp", "blob"})
# JSON has no literal for these; AWS SDKs send them as strings in float and double members.
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
_DECODED = _CONVERTED | {"float", "double"}


class JSONProtocol(Protocol):
    name = "json"

    def __init__(self) -> None:
        self._decoders: dict[int, Callable] = {}
        self._encoders: dict[int, Callable] = {}

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
        if shape is not None and contains_types(shape, _DECODED):
            params = self._decoder(shape)(params)
        return params

    def _decoder(self, shape: Shape) -> Callable:
        decoder = self._decoders.get(id(shape))
        if decoder is None:
            decoder = self._decoders[id(shape)] = _compile_decoder(shape)
        return decoder

    # -- responses --------------------------------------------------------------------------

    def serialize(self, spec, operation, result, request_id) -> WireResponse:
        shape = operation.output_shape
        if shape is not None and result and contains_types(shape, _CONVERTED):
            encoder = self._encoders.get(id(shape))
            if encoder is None:
                encoder = self._encoders[id(shape)] = _compile_encoder(shape)
            result = encoder(result)
        return WireResponse(
            200,
            orjson.dumps(result or {}),
            {"content-type": _content_type(spec), "x-amzn-requestid": request_id},
        )

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        code, shape_name, status, sender = error_details(spec, error)
        headers = {
            "content-type": _content_type(spec),
            "x-amzn-requestid": request_id,
        }
        type_name = code
        if spec is not None and spec.query_compatible:
            # The JSON body names the shape (qualified, as JSON 1.0 services do); the header
            # carries the query-protocol code that clients map back to the exception.
            type_name = f"{spec.shape_namespace}#{shape_name}"
            headers["x-amzn-query-error"] = f"{code};{'Sender' if sender else 'Receiver'}"
        body: dict = {"__type": type_name}
        if error.message is not None:
            body["message"] = error.message
        return WireResponse(status, orjson.dumps(body), headers)


def _content_type(spec: ServiceSpec | None) -> str:
    version = spec.json_version if spec is not None else "1.1"
    return f"application/x-amz-json-{version}"


# -- compiled converters ----------------------------------------------------------------------


def _identity(value):
    return value


def _memoized(compile_one: Callable) -> Callable:
    """Compile each shape once; a recursive shape refers to itself through a trampoline."""
    compiled: dict[tuple, Callable] = {}

    def compile_shape(shape: Shape) -> Callable:
        key = (id(shape._shape_resolver), shape.name)
        if key not in compiled:
            holder: list[Callable] = []
            compiled[key] = lambda value: holder[0](value)
            holder.append(compile_one(shape))
            compiled[key] = holder[0]
        return compiled[key]

    return compile_shape


@_memoized
def _compile_decoder(shape: Shape) -> Callable:
    """Turn JSON-native values into Python values for the subtrees that need it."""
    if not contains_types(shape, _DECODED):
        return _identity
    kind = shape.type_name
    if kind == "timestamp":
        return parse_timestamp
    if kind in ("float", "double"):
        return _decode_number
    if kind == "blob":
        return _decode_blob
    if kind == "structure":
        members = {
            name: _compile_decoder(member)
            for name, member in shape.members.items()
            if contains_types(member, _DECODED)
        }

        def decode_structure(value):
            if not isinstance(value, dict):
                return value
            for name, decode in members.items():
                item = value.get(name)
                if item is not None:
                    value[name] = decode(item)
            return value

        return decode_structure
    if kind == "list":
        decode_item = _compile_decoder(shape.member)

        def decode_list(value):
            if not isinstance(value, list):
                return value
            return [decode_item(item) if item is not None else None for item in value]

        return decode_list
    if kind == "map":
        decode_value = _compile_decoder(shape.value)

        def decode_map(value):
            if not isinstance(value, dict):
                return value
            return {k: decode_value(v) if v is not None else None for k, v in value.items()}

        return decode_map
    return _identity


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


@_memoized
def _compile_encoder(shape: Shape) -> Callable:
    """Turn Python values into JSON-native ones (timestamps → epoch seconds, blobs → base64)."""
    if not contains_types(shape, _CONVERTED):
        return _identity
    kind = shape.type_name
    if kind == "timestamp":
        return lambda v: to_epoch_seconds(v) if isinstance(v, _dt.datetime) else v
    if kind == "blob":
        return lambda v: base64.b64encode(v).decode() if isinstance(v, (bytes, bytearray)) else v
    if kind == "structure":
        members = {
            name: _compile_encoder(member)
            for name, member in shape.members.items()
            if contains_types(member, _CONVERTED)
        }

        def encode_structure(value):
            out = dict(value)
            for name, encode in members.items():
                item = out.get(name)
                if item is not None:
                    out[name] = encode(item)
            return out

        return encode_structure
    if kind == "list":
        encode_item = _compile_encoder(shape.member)
        return lambda v: [encode_item(item) for item in v]
    if kind == "map":
        encode_value = _compile_encoder(shape.value)
        return lambda v: {k: encode_value(item) for k, item in v.items()}
    return _identity
