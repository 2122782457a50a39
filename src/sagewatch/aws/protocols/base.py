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

from ...services.errors import AWSError
from ..models import ServiceSpec

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
# The instants a timestamp may name: those a datetime can hold (0001-01-01 to 9999-12-31, UTC).
TIMESTAMP_MIN = -62135596800.0
TIMESTAMP_MAX = 253402300799.999


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


class Protocol:
    """One wire protocol (json, query, smithy-rpc-v2-cbor, rest-json)."""

    name: str

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


def error_details(spec: ServiceSpec | None, error: AWSError) -> tuple[str, str, int, bool]:
    """(wire code, shape name, HTTP status, sender fault) for an error, using the model."""
    info = spec.error_info(error.code) if spec is not None else None
    shape_name, status, sender = info if info else (error.code, 400, True)
    if error.status is not None:
        status = error.status
    if error.sender_fault is not None:
        sender = error.sender_fault
    return error.code, shape_name, status, sender


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
