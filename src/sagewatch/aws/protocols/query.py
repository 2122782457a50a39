"""AWS query protocol: form-encoded requests (``Action=...&Version=...``), XML responses.

Requests are flat keys (``MetricData.member.1.Dimensions.member.2.Name``); we first fold them
into a tree on the dots, then read that tree through the input shape, which says where a list
(``member.N``, or ``N`` when flattened) or a map (``entry.N.key``/``entry.N.value``) is and what
type each leaf has. Responses are written from the output shape the same way botocore reads them.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as _dt
import re
import threading
from xml.sax.saxutils import escape

from botocore.model import OperationModel, Shape

from ...services.errors import AWSError, serialization_error
from ..models import ServiceSpec
from .base import (
    REQUEST_ID_HEADER,
    Protocol,
    WireRequest,
    WireResponse,
    iso8601,
    parse_timestamp,
    wire_error,
)


class QueryProtocol(Protocol):
    name = "query"
    # A query request may also come as GET, its fields in the URL (AWS query API references,
    # "Making query requests").
    methods = ("GET", "POST")

    def unknown_operation(self, request: WireRequest, operation: str | None) -> AWSError:
        """Query services answer an Action they do not have with InvalidAction, "Could not find
        operation <Action> for version <Version>" (the query front end's wording, as s3proxy
        mirrors it for STS), and a request without one with MissingAction (both 400: the
        Common Errors of every query API reference, e.g. CloudWatch's)."""
        if not operation:
            # Message unconfirmed: the Common Errors description of MissingAction.
            return AWSError("MissingAction", "The request is missing an action or a required parameter.",
                            status=400, sender_fault=True)
        version = self.form(request).get("Version", "")
        return AWSError("InvalidAction", f"Could not find operation {operation[:256]} for version {version[:64]}",
                        status=400, sender_fault=True)

    # -- requests ---------------------------------------------------------------------------

    @staticmethod
    def form(request: WireRequest) -> dict[str, str]:
        """All form fields of a request: the URL query string (GET requests), then the body.
        Read once: routing needs Action, parsing needs the rest. Never raises (routing reads it
        for every request that is neither JSON nor CBOR): a form that cannot be read keeps its
        error in ``request.form_error`` for ``parse`` to answer, and the fields read so far."""
        if request.form is None:
            request.form = {}
            for source in (request.query_string, request.body):
                try:
                    _read_form(source, request.form)
                except AWSError as error:
                    request.form_error = error
                    # What routing needs, found without reading every field.
                    for name in ("Action", "Version"):
                        found = re.search(rb"(?:^|&)" + name.encode() + rb"=([^&]*)", source)
                        if found and name not in request.form:
                            request.form[name] = found.group(1).decode("utf-8", "replace")
        return request.form

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: WireRequest) -> dict:
        fields = self.form(request)
        if request.form_error is not None:
            raise request.form_error
        shape = operation.input_shape
        if shape is None:
            return {}
        return _read_structure(shape, _fold(_grammar(shape), fields))

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
            {"content-type": "text/xml", REQUEST_ID_HEADER: request_id},
        )

    def serialize_error(self, spec, operation, error, request_id) -> WireResponse:
        wire = wire_error(spec, error)
        namespace = f' xmlns="{spec.xml_namespace}"' if spec is not None and spec.xml_namespace else ""
        message = f"<Message>{_xml_text(wire.message)}</Message>" if wire.message is not None else ""
        body = (
            f"<ErrorResponse{namespace}><Error><Type>{'Sender' if wire.sender_fault else 'Receiver'}</Type>"
            f"<Code>{_xml_text(wire.code)}</Code>{message}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return WireResponse(
            wire.status, body.encode(), {"content-type": "text/xml", REQUEST_ID_HEADER: request_id}
        )


# -- reading the form -------------------------------------------------------------------------

# The most fields a form may have. Each costs a few hundred bytes of Python objects whatever
# its size on the wire, so a body of a million tiny fields would cost gigabytes; the largest
# real request, a PutMetricData of 1,000 datums each with 150 values, 150 counts and 30
# dimensions, has about 370,000.
MAX_FORM_FIELDS = 500_000
# Deeper than any path of these models (MetricDataQueries.member.1.MetricStat.Metric.Dimensions
# .member.1.Name is nine): keys with more segments name nothing, and are not even split apart.
_MAX_KEY_SEGMENTS = 64


def _read_form(source: bytes, fields: dict[str, str]) -> None:
    """Add the fields of ``source`` (``a=1&b=x%20y``) to ``fields``, decoded as
    application/x-www-form-urlencoded. Linear in time and memory: urllib's parse_qsl makes an
    object of every percent-escape (2.3 GB and seven seconds for 27 MB of them, measured).
    MAX_FORM_FIELDS bounds the query string and the body together."""
    if not source:
        return
    if len(fields) + source.count(b"&") >= MAX_FORM_FIELDS:
        raise serialization_error(f"The request has more than {MAX_FORM_FIELDS} fields")
    for pair in source.split(b"&"):
        if pair:
            name, _, value = pair.partition(b"=")
            fields[_form_decode(name)] = _form_decode(value)


def _form_decode(raw: bytes) -> str:
    if b"+" in raw:
        raw = raw.replace(b"+", b" ")
    if b"%" in raw:
        # %XX becomes \xXX, which codecs.escape_decode turns into bytes in one pass of C
        # (backslashes themselves become %5C first, so they come out as themselves).
        try:
            raw = codecs.escape_decode(raw.replace(b"\\", b"%5C").replace(b"%", b"\\x"))[0]
        except ValueError:  # a % not followed by two hex digits
            raise serialization_error("Invalid percent-encoding in the request") from None
    return raw.decode("utf-8", "replace")


# A grammar says which keys an input shape can read: a dict from each segment a key may have at
# that point to the grammar after it, INDEX standing for any list or map index (1, 2, ...).
INDEX = object()
# Complete grammars only, read by requests on every thread without a lock. Building happens under
# the lock in _IN_PROGRESS and is published whole: a half-filled grammar seen by another thread
# made _fold drop the members not filled in yet (review).
_GRAMMARS: dict[tuple, dict] = {}
_IN_PROGRESS: dict[tuple, dict] = {}
_BUILDING = threading.RLock()


def _grammar(shape: Shape) -> dict:
    key = (id(shape._shape_resolver), shape.name)
    grammar = _GRAMMARS.get(key)
    if grammar is not None:
        return grammar
    with _BUILDING:
        if key in _GRAMMARS:
            return _GRAMMARS[key]
        if key in _IN_PROGRESS:  # a recursive shape refers back to one being built
            return _IN_PROGRESS[key]
        outermost = not _IN_PROGRESS
        grammar = _IN_PROGRESS[key] = {}
        kind = shape.type_name
        if kind == "structure":
            for name, member in shape.members.items():
                grammar[member.serialization.get("name", name)] = _grammar(member)
        elif kind == "list":
            items = {INDEX: _grammar(shape.member)}
            if shape.serialization.get("flattened"):
                grammar.update(items)
            else:
                grammar[shape.member.serialization.get("name", "member")] = items
        elif kind == "map":
            entry = {shape.key.serialization.get("name", "key"): _grammar(shape.key),
                     shape.value.serialization.get("name", "value"): _grammar(shape.value)}
            if shape.serialization.get("flattened"):
                grammar[INDEX] = entry
            else:
                grammar["entry"] = {INDEX: entry}
        if outermost:
            _GRAMMARS.update(_IN_PROGRESS)
            _IN_PROGRESS.clear()
    return grammar


def _fold(grammar: dict, fields: dict[str, str]) -> dict:
    """The fields as a tree on their dots (``Dimensions.member.1.Name`` →
    tree["Dimensions"]["member"]["1"]["Name"]), keeping only keys the input shape can read:
    a key naming no member is ignored, as JSON ignores unknown members, and so costs nothing
    however deep it goes. An index that is not a number is refused."""
    tree: dict = {}
    for key, value in fields.items():
        parts = key.split(".", _MAX_KEY_SEGMENTS)
        if len(parts) > _MAX_KEY_SEGMENTS:
            continue
        node, rule = tree, grammar
        last = len(parts) - 1
        for position, part in enumerate(parts):
            next_rule = rule.get(part)
            if next_rule is None:
                if INDEX not in rule:
                    break  # no such member
                if not (part.isascii() and part.isdigit()):  # isdigit() alone admits '²'
                    raise serialization_error(f"Invalid list index '{part[:64]}'")  # a prefix only
                next_rule = rule[INDEX]
            if position == last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            rule = next_rule
    return tree


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
    return [_read(shape.member, item) for item in _in_index_order(node)]


def _read_map(shape: Shape, node) -> dict | object:
    if not isinstance(node, dict):
        return node
    if not shape.serialization.get("flattened"):
        node = node.get("entry", {})
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    out = {}
    for entry in _in_index_order(node):
        if isinstance(entry, dict) and key_name in entry:
            out[_read(shape.key, entry[key_name])] = _read(shape.value, entry.get(value_name))
    return out


def _in_index_order(node: dict) -> list:
    """A list's or map's items in the order of their indexes, which _fold admitted only as
    strings of ASCII digits. They are compared as such (shorter is smaller once leading zeros
    are gone), not as ints: int() refuses more than 4,300 digits."""
    def index_order(pair):
        digits = pair[0].lstrip("0")
        return len(digits), digits

    return [item for _, item in sorted(node.items(), key=index_order)]


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
    return _xml_text(str(value))


# The characters XML 1.0 cannot carry at all, not even as character references (its Char
# production): most C0 controls, lone surrogates, U+FFFE and U+FFFF. botocore's parser (expat)
# refuses a document holding one, so a client could read neither the answer nor its error code;
# they go out as U+FFFD, the replacement character, instead.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    """``text`` as XML character data: escaped, and with what XML cannot carry replaced."""
    return escape(_NOT_XML.sub("\ufffd", text))
