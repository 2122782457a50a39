"""AWS query protocol: form-encoded requests (``Action=...&Version=...``), XML responses.

Requests are flat keys (``MetricData.member.1.Dimensions.member.2.Name``); we first fold them
into a tree on the dots, then read that tree through the input shape, which says where a list
(``member.N``, or ``N`` when flattened) or a map (``entry.N.key``/``entry.N.value``) is and what
type each leaf has. Responses are written from the output shape the same way botocore reads them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from ...services.errors import serialization_error
from ..models import ServiceSpec
from .base import Protocol, WireRequest, WireResponse, error_details, iso8601, parse_timestamp


class QueryProtocol(Protocol):
    name = "query"

    # -- requests ---------------------------------------------------------------------------

    @staticmethod
    def form(request: WireRequest) -> dict[str, str]:
        """All form fields of a request: the body, plus the URL query string (GET requests).
        Read once: routing needs Action, parsing needs the rest."""
        if request.form is None:
            text = request.body.decode("utf-8", errors="replace")
            if request.query_string:
                text = request.query_string.decode("latin-1") + "&" + text
            request.form = dict(parse_qsl(text, keep_blank_values=True))
        return request.form

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: WireRequest) -> dict:
        tree: dict = {}
        for key, value in self.form(request).items():
            if key in ("Action", "Version"):
                continue
            node = tree
            *parents, leaf = key.split(".")
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[leaf] = value
        shape = operation.input_shape
        if shape is None:
            return {}
        return _read_structure(shape, tree)

    # -- responses --------------------------------------------------------------------------

    def serialize(self, spec, operation, result, request_id) -> WireResponse:
        name = operation.name
        parts = [f'<{name}Response xmlns="{spec.xml_namespace}">']
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{name}Result")
            parts.append(f"<{wrapper}>")
            _write_members(shape, result or {}, parts)
            parts.append(f"</{wrapper}>")
        parts.append(f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>")
        parts.append(f"</{name}Response>")
        return WireResponse(
            200,
            "".join(parts).encode(),
            {"content-type": "text/xml", "x-amzn-requestid": request_id},
        )

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        code, _shape_name, status, sender = error_details(spec, error)
        namespace = f' xmlns="{spec.xml_namespace}"' if spec is not None and spec.xml_namespace else ""
        message = f"<Message>{escape(error.message)}</Message>" if error.message is not None else ""
        body = (
            f"<ErrorResponse{namespace}><Error><Type>{'Sender' if sender else 'Receiver'}</Type>"
            f"<Code>{escape(code)}</Code>{message}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return WireResponse(
            status, body.encode(), {"content-type": "text/xml", "x-amzn-requestid": request_id}
        )


# -- reading the form tree through a shape ------------------------------------------------------


def _read(shape: Shape, node):
    kind = shape.type_name
    if kind == "structure":
        return _read_structure(shape, node) if isinstance(node, dict) else node
    if kind == "list":
        return _read_list(shape, node)
    if kind == "map":
        return _read_map(shape, node)
    if isinstance(node, dict):
        return node  # a scalar where the model expects structure: validation reports it
    return _read_scalar(shape, node)


def _read_structure(shape: Shape, node: dict) -> dict:
    out = {}
    for name, member in shape.members.items():
        key = member.serialization.get("name", name)
        if key in node:
            out[name] = _read(member, node[key])
    return out


def _read_list(shape: Shape, node) -> list | object:
    if node == "":
        return []  # "Names=" is how the query protocol sends an empty list
    if not isinstance(node, dict):
        return node
    if not shape.serialization.get("flattened"):
        node = node.get(shape.member.serialization.get("name", "member"), {})
        if not isinstance(node, dict):
            return node
    return [_read(shape.member, item) for _, item in _by_index(node)]


def _read_map(shape: Shape, node) -> dict | object:
    if not isinstance(node, dict):
        return node
    if not shape.serialization.get("flattened"):
        node = node.get("entry", {})
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out = {}
    for _, entry in _by_index(node):
        if isinstance(entry, dict) and key_name in entry:
            out[_read(shape.key, entry[key_name])] = _read(shape.value, entry.get(value_name))
    return out


def _by_index(node: dict) -> list[tuple[int, object]]:
    items = []
    for index, item in node.items():
        if not index.isdigit():
            raise serialization_error(f"Invalid list index '{index}'")
        items.append((int(index), item))
    items.sort(key=lambda pair: pair[0])
    return items


def _read_scalar(shape: Shape, text: str):
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        return text  # left as a string: validation reports the type
    if kind == "boolean":
        lowered = text.lower()
        return True if lowered == "true" else False if lowered == "false" else text
    if kind == "timestamp":
        return parse_timestamp(text)
    if kind == "blob":
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return text
    return text


# -- writing XML through a shape ----------------------------------------------------------------


def _write_members(shape: Shape, value: dict, parts: list[str]) -> None:
    for name, member in shape.members.items():
        item = value.get(name)
        if item is None:
            continue
        _write(member, member.serialization.get("name", name), item, parts)


def _write(shape: Shape, tag: str, value, parts: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        parts.append(f"<{tag}>")
        _write_members(shape, value, parts)
        parts.append(f"</{tag}>")
    elif kind == "list":
        member_tag = shape.member.serialization.get("name", "member")
        if shape.serialization.get("flattened"):
            for item in value:
                _write(shape.member, tag, item, parts)
        else:
            parts.append(f"<{tag}>")
            for item in value:
                _write(shape.member, member_tag, item, parts)
            parts.append(f"</{tag}>")
    elif kind == "map":
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        parts.append(f"<{tag}>")
        for key, item in value.items():
            parts.append("<entry>")
            _write(shape.key, key_tag, key, parts)
            _write(shape.value, value_tag, item, parts)
            parts.append("</entry>")
        parts.append(f"</{tag}>")
    else:
        parts.append(f"<{tag}>{_scalar_text(kind, value)}</{tag}>")


def _scalar_text(kind: str, value) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp" and isinstance(value, _dt.datetime):
        return iso8601(value)
    if kind == "blob" and isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if kind in ("float", "double") and isinstance(value, float):
        return repr(value)
    return escape(str(value))
