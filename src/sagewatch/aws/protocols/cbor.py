"""Smithy RPC v2 CBOR (``POST /service/<ServiceName>/operation/<Operation>``).

CBOR carries every model type natively (timestamps as tag 1 epoch seconds, blobs as byte
strings), so a request body decodes nearly straight into the values the service expects (only
timestamps are walked, from cbor2's datetimes to epoch seconds) and a result encodes straight
back; only the error envelope is protocol-specific.
"""

from __future__ import annotations

import datetime as _dt
import io

import cbor2

from ...services.errors import serialization_error
from .base import (
    REQUEST_ID_HEADER,
    Protocol,
    ShapeWalker,
    WireRequest,
    WireResponse,
    parse_timestamp,
    wire_error,
)

_HEADERS = {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


class CBORProtocol(Protocol):
    name = "smithy-rpc-v2-cbor"

    def parse(self, spec, operation, request: WireRequest) -> dict:
        if not request.body:
            return {}
        stream = io.BytesIO(request.body)
        try:
            # One read of the whole body (as fast as cbor2.loads, measured); the stream is then
            # left just after the data item, which says whether anything follows it.
            params = cbor2.CBORDecoder(stream, read_size=len(request.body)).decode()
        except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
            raise serialization_error("Invalid CBOR in request body") from None
        if stream.tell() != len(request.body):
            # The body is one CBOR document (Smithy rpcv2Cbor "Shape serialization"); bytes
            # after it belong to no request.
            raise serialization_error("Unexpected data after the CBOR request body")
        if not isinstance(params, dict):
            raise serialization_error("Expected a CBOR map as the request body")
        shape = operation.input_shape
        if shape is not None:
            # cbor2 decodes tag-1 timestamps to datetimes; services take epoch seconds.
            params = _decode(shape)(params)
        return params

    def serialize(self, spec, operation, result, request_id) -> WireResponse:
        body = cbor2.dumps(result or {}, datetime_as_timestamp=True, timezone=_dt.timezone.utc)
        return WireResponse(200, body, {**_HEADERS, REQUEST_ID_HEADER: request_id})

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        wire = wire_error(spec, error)
        headers = {**_HEADERS, REQUEST_ID_HEADER: request_id}
        # rpcv2Cbor errors carry the error's absolute shape id (Smithy rpcv2Cbor "Operation
        # error serialization"); the front end's own errors, which no shape of the model
        # describes, carry their bare code (base.py WireError.type_name).
        body = {"__type": wire.type_name(spec, qualified=True)}
        if spec is not None and spec.query_compatible:
            headers["x-amzn-query-error"] = wire.query_error_header()
        if wire.message is not None:
            body[wire.message_key] = wire.message
        return WireResponse(wire.status, cbor2.dumps(body), headers)


_decode = ShapeWalker({"timestamp": parse_timestamp}, copy=False)
