"""Smithy RPC v2 CBOR (``POST /service/<ServiceName>/operation/<Operation>``).

CBOR carries every model type natively (timestamps as tag 1 epoch seconds, blobs as byte
strings), so a request body decodes nearly straight into the values the service expects (only
timestamps are walked, from cbor2's datetimes to epoch seconds) and a result encodes straight
back; only the error envelope is protocol-specific.
"""

from __future__ import annotations

import datetime as _dt

import cbor2

from ...services.errors import serialization_error
from .base import Protocol, ShapeWalker, WireRequest, WireResponse, error_details, parse_timestamp

_HEADERS = {"content-type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}


class CBORProtocol(Protocol):
    name = "smithy-rpc-v2-cbor"

    def parse(self, spec, operation, request: WireRequest) -> dict:
        if not request.body:
            return {}
        try:
            params = cbor2.loads(request.body)
        except (cbor2.CBORDecodeError, ValueError, TypeError):
            raise serialization_error("Invalid CBOR in request body") from None
        if not isinstance(params, dict):
            raise serialization_error("Expected a CBOR map as the request body")
        shape = operation.input_shape
        if shape is not None:
            # cbor2 decodes tag-1 timestamps to datetimes; services take epoch seconds.
            params = _decode(shape)(params)
        return params

    def serialize(self, spec, operation, result, request_id) -> WireResponse:
        body = cbor2.dumps(result or {}, datetime_as_timestamp=True, timezone=_dt.timezone.utc)
        return WireResponse(200, body, {**_HEADERS, "x-amzn-requestid": request_id})

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        code, shape_name, status, sender = error_details(spec, error)
        headers = {**_HEADERS, "x-amzn-requestid": request_id}
        # rpcv2Cbor errors carry the absolute shape id.
        type_name = f"{spec.shape_namespace}#{shape_name}" if spec is not None else code
        if spec is not None and spec.query_compatible:
            headers["x-amzn-query-error"] = f"{code};{'Sender' if sender else 'Receiver'}"
        body = {"__type": type_name}
        if error.message is not None:
            body["message"] = error.message
        return WireResponse(status, cbor2.dumps(body), headers)


_decode = ShapeWalker({"timestamp": parse_timestamp}, copy=False)
