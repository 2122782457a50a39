"""What every wire protocol provides, and the shape-walking helpers they share.

A protocol turns request bytes into the Python values the service model describes (and the
service's result back into bytes). It knows nothing about any service's operations: everything
comes from the botocore shapes it is handed.

Values reach services as: dict (structure, map), list, str, int (integer, long), int or float
(float, double), bool, bytes (blob) and, for timestamps, **epoch seconds as a float** whatever
the wire carried (a number, ISO 8601 text, a CBOR tag-1 date). Services do arithmetic on time,
and a float costs nothing to make from a JSON number. Results go the other way as datetimes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.model import OperationModel, Shape

from ...services.errors import AWSError, unknown_operation
from ..models import ServiceSpec

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
# The instants a timestamp may name: those a datetime can hold (0001-01-01 to 9999-12-31, UTC).
TIMESTAMP_MIN = -62135596800.0
TIMESTAMP_MAX = 253402300799.999


# Every AWS response names its request id in this header, spelled so (Smithy awsJson "Sample
# response", AWS API references' "x-amzn-RequestId"; dynalite, which mirrors DynamoDB's
# answers byte for byte, sets exactly this). HTTP header names are case-insensitive, and the
# HTTP server writes them as given or lower-cased (uvicorn's h11 keeps them, httptools lowers).
REQUEST_ID_HEADER = "x-amzn-RequestId"


@dataclass(slots=True)
class WireResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class WireRequest:
    """The parts of an HTTP request a protocol may read."""

    method: str
    path: str
    query_string: bytes
    headers: dict[str, str]  # lower-cased names
    body: bytes
    form: dict[str, str] | None = None  # the query protocol's fields, once read
    form_error: AWSError | None = None  # why they could not all be read


class Protocol:
    """One wire protocol (json, query, smithy-rpc-v2-cbor, rest-json)."""

    name: str  # botocore's name for it, as service models list it
    # The HTTP methods its requests use: "Every request ... MUST be sent ... using the HTTP
    # POST method" (Smithy awsJson and rpcv2Cbor specifications).
    methods: tuple[str, ...] = ("POST",)

    def unknown_operation(self, request: WireRequest, operation: str | None) -> AWSError:
        """The error for a request that names no operation of the service it reached: what AWS
        Logs answers an unknown X-Amz-Target, {"__type":"UnknownOperationException"} with 400
        (aws/aws-sdk-net#1536)."""
        return unknown_operation(None)

    def parse(self, spec: ServiceSpec, operation: OperationModel, request: WireRequest) -> dict:
        """The operation's input as Python values; raises AWSError if the body is unreadable."""
        raise NotImplementedError

    def parse_valid(
        self, spec: ServiceSpec, operation: OperationModel, request: WireRequest, records: bool = False
    ) -> dict | None:
        """The operation's input when the protocol can read *and* validate it in one pass and
        it is valid (``records``: its nested structures as records, aws/typed_json.py); None
        means: take the general path, ``parse`` and then the validator."""
        return None

    def serialize(
        self, spec: ServiceSpec, operation: OperationModel, result: dict, request_id: str
    ) -> WireResponse:
        raise NotImplementedError

    def serialize_error(
        self, spec: ServiceSpec, operation: OperationModel | None, error: AWSError, request_id: str
    ) -> WireResponse:
        raise NotImplementedError


# A backstop on what an error message may quote of a request: a longer message keeps its first
# and last characters with "..." between, so a multi-megabyte invalid value cannot come back as
# a multi-megabyte answer, while the message still says what was wrong: validation messages end
# with the constraint broken ("... at 'logEvents' failed to satisfy constraint: Member must have
# length less than or equal to 10000"). Messages are meant to quote a bounded prefix of a value
# already (services/errors.py render_value); this only catches what slips past. 8,192
# characters stay under 64 KiB on the wire even when every one is escaped (JSON "\u0000").
MAX_ERROR_MESSAGE_CHARS = 8192


@dataclass(slots=True)
class WireError:
    """An AWSError as every protocol writes it, with what the service model says of its code."""

    code: str  # the wire code: the query protocol's <Code>, x-amzn-query-error's first part
    shape_name: str | None  # the model's error shape; None for the front end's own errors
    status: int
    sender_fault: bool
    message: str | None
    message_key: str  # "message", or "Message" where the model's shape spells it so

    def type_name(self, spec: ServiceSpec | None, qualified: bool) -> str:
        """The error's ``__type``: the shape id (``namespace#Shape``) when ``qualified``, else
        the shape name. Errors the model does not list (SerializationException,
        UnknownOperationException, InternalFailure, ...) come from the front end, not from the
        service: they belong to no namespace of its model, so they go bare, as AWS Logs sends
        ``{"__type":"UnknownOperationException"}`` (aws/aws-sdk-net#1536) and every SDK reads
        the code after any ``#`` (Smithy awsJson "Operation error serialization";
        botocore/parsers.py BaseJSONParser/RpcV2CBORParser._do_error_parse)."""
        if self.shape_name is None or spec is None:
            return self.code
        return f"{spec.shape_namespace}#{self.shape_name}" if qualified else self.shape_name

    def query_error_header(self) -> str:
        """``x-amzn-query-error: Code;Sender`` (Smithy awsQueryCompatible trait), by which a
        client of a service migrated from the query protocol maps the error back to its code."""
        return f"{self.code};{'Sender' if self.sender_fault else 'Receiver'}"


def wire_error(spec: ServiceSpec | None, error: AWSError) -> WireError:
    """The error as the wire carries it: code, shape, status and fault from the model where it
    lists the code (explicit ``status``/``sender_fault`` on the error win), message bounded."""
    info = spec.error_info(error.code) if spec is not None else None
    if info is None:
        code, shape_name, status, sender, message_key = error.code, None, 400, True, "message"
    else:
        code, shape_name, status, sender, message_key = (
            info.code, info.shape_name, info.status, info.sender_fault, info.message_key)
    if error.status is not None:
        status = error.status
    if error.sender_fault is not None:
        sender = error.sender_fault
    return WireError(code, shape_name, status, sender, bounded_message(error.message), message_key)


def bounded_message(message: str | None) -> str | None:
    if message is None or len(message) <= MAX_ERROR_MESSAGE_CHARS:
        return message
    half = (MAX_ERROR_MESSAGE_CHARS - 3) // 2
    return f"{message[:half]}...{message[-half:]}"


def contains_types(shape: Shape, types: frozenset[str]) -> bool:
    """Whether any value of ``shape`` (at any depth) has one of ``types``.

    Protocols use this to pass whole subtrees through untouched when no conversion can be
    needed in them, which is what keeps a 10,000-event page cheap to read and write.
    """
    key = (id(shape._shape_resolver), shape.name, types)
    found = _CONTAINS.get(key)
    if found is None:
        found = _CONTAINS[key] = _contains(shape, types, set())
    return found


# Keyed by shape name within its model: botocore builds new Shape objects on each member access.
_CONTAINS: dict[tuple, bool] = {}


def _contains(shape: Shape, types: frozenset[str], seen: set[str]) -> bool:
    if shape.type_name in types:
        return True
    if shape.name in seen:
        return False
    seen.add(shape.name)
    kind = shape.type_name
    if kind == "structure":
        return any(_contains(m, types, seen) for m in shape.members.values())
    if kind == "list":
        return _contains(shape.member, types, seen)
    if kind == "map":
        return _contains(shape.key, types, seen) or _contains(shape.value, types, seen)
    return False


def to_epoch_seconds(value: _dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    seconds = (value - EPOCH).total_seconds()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def parse_iso8601(text: str) -> _dt.datetime:
    """ISO 8601 as AWS clients write it ('2026-11-25T10:00:00Z', with or without fraction)."""
    cleaned = text.strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    value = _dt.datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def parse_timestamp(value: object) -> object:
    """A timestamp as services receive it, epoch seconds (float), from epoch seconds, ISO 8601
    text or a datetime; anything else (or an instant out of range) is left for validation."""
    if isinstance(value, bool):
        return value
    if isinstance(value, _dt.datetime):
        return epoch_seconds(value)
    seconds = None
    if isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            return value
    elif isinstance(value, str):
        try:
            return epoch_seconds(parse_iso8601(value))
        except ValueError:
            try:
                seconds = float(value)
            except ValueError:
                return value
    if seconds is None or not TIMESTAMP_MIN <= seconds <= TIMESTAMP_MAX:
        return value
    return seconds


def epoch_seconds(value: _dt.datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.timestamp()


def iso8601(value: _dt.datetime) -> str:
    """The ISO 8601 form AWS's XML responses use: UTC with milliseconds and a Z."""
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# -- walking a value through its shape ---------------------------------------------------------


def _identity(value):
    return value


class ShapeWalker:
    """Compiles, per shape, a function that converts the leaves of the given types and leaves
    every other subtree untouched (it is not even visited). Recursive shapes refer to their own
    compiled function through a trampoline. Reading converts in place (the parsed body is ours);
    writing copies (the result belongs to the service)."""

    def __init__(self, leaves: dict[str, Callable], *, copy: bool) -> None:
        self.leaves = leaves
        self.types = frozenset(leaves)
        self.copy = copy
        self._compiled: dict[tuple, Callable] = {}

    def __call__(self, shape: Shape) -> Callable:
        key = (id(shape._shape_resolver), shape.name)
        if key not in self._compiled:
            holder: list[Callable] = []
            self._compiled[key] = lambda value: holder[0](value)
            holder.append(self._compile(shape))
            self._compiled[key] = holder[0]
        return self._compiled[key]

    def _compile(self, shape: Shape) -> Callable:
        if not contains_types(shape, self.types):
            return _identity
        kind = shape.type_name
        if kind in self.leaves:
            return self.leaves[kind]
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            item = self(shape.member)
            return lambda v: [item(i) if i is not None else None for i in v] if isinstance(v, list) else v
        if kind == "map":
            entry = self(shape.value)
            return lambda v: {k: entry(i) if i is not None else None for k, i in v.items()} \
                if isinstance(v, dict) else v
        return _identity

    def _structure(self, shape: Shape) -> Callable:
        members = {
            name: self(member)
            for name, member in shape.members.items()
            if contains_types(member, self.types)
        }
        copy = self.copy

        def walk_structure(value):
            if not isinstance(value, dict):
                return value
            out = dict(value) if copy else value
            for name, convert in members.items():
                item = out.get(name)
                if item is not None:
                    out[name] = convert(item)
            return out

        return walk_structure
