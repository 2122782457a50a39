"""JSON requests read, converted and validated in one pass, by types compiled from the model.

The JSON protocol's general path is three passes over a request: orjson parses it, a walk
converts timestamps (and blobs, and non-finite numbers spelled as strings), and the validator
checks the result. For the large requests that dominate ingestion (a 1,000-datum
PutMetricData) those passes cost more than the work the service then does.

This module builds, from a botocore input shape, the msgspec type that accepts exactly the
valid values of that shape (TypedDicts with ``Required`` members, ``Annotated`` lengths,
ranges and patterns, ``Literal`` enums), so msgspec parses, converts and validates in C, in one
pass. It only ever vouches: a body it does not accept goes down the general path, which
decides and words the error as AWS does. So what it accepts must be a subset of what the
general path accepts, with the same values; ``tests/unit/test_typed_json.py`` checks that on
thousands of generated and mutated requests. Members that are not in the model are dropped,
as the validator drops them on the general path.

Shapes it does not compile (recursive ones, blobs, documents) always take the general path.

**Records.** An operation whose method is marked ``@takes_records`` (services/base.py) gets the
structures nested in its input as records instead of dicts: msgspec Structs, read by attribute,
an absent member reading ``UNSET``. The top level stays a dict (it becomes keyword arguments).
They exist for bulk requests whose cost is their own objects: a 1,000-datum PutMetricData
decodes, is read and is freed about 40 % faster as records (measured). ``read(..., records=True)``
decodes them straight from the body; ``to_records`` builds the same records from what the
general path (or another protocol) parsed and the validator accepted, so such an operation sees
records whichever way the request came.
"""

from __future__ import annotations

import math
import re
import sys
from typing import Annotated, Literal, Required, TypedDict, Union

import msgspec
from botocore.model import Shape

from .protocols.base import TIMESTAMP_MAX, TIMESTAMP_MIN
from .validation import REPRESENTABLE, java_pattern, shape_key

# A double is finite: msgspec reads 1e400 as infinity, which orjson (the general path) refuses.
_DOUBLE_MAX = sys.float_info.max
# orjson reads integers beyond 64 bits as floats; msgspec reads them as ints. Bodies with such
# integers (or unsigned ones above 2**63) take the general path.
_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1  # msgspec bounds must fit an int64


class _Unsupported(Exception):
    """The shape has a part this module does not compile; its requests take the general path."""


class TypedJSONReader:
    """Per input shape, a msgspec decoder (or None where the shape cannot be compiled)."""

    def __init__(self) -> None:
        self._decoders: dict[tuple, msgspec.json.Decoder | None] = {}

    def read(self, shape: Shape, body: bytes, records: bool = False) -> dict | None:
        """The request's input, valid by the model (its nested structures as records if asked);
        None when the body must take the general path (it is not valid, or not in a form this
        reader vouches for)."""
        key = (shape_key(shape), records)
        try:
            decoder = self._decoders[key]
        except KeyError:
            decoder = self._decoders[key] = compile_decoder(shape, records)
        if decoder is None:
            return None
        try:
            return decoder.decode(body)
        except (msgspec.DecodeError, ValueError):  # ValidationError is a DecodeError
            return None


def compile_decoder(shape: Shape, records: bool = False) -> msgspec.json.Decoder | None:
    try:
        return msgspec.json.Decoder(_TypeBuilder(records=records).type_of(shape))
    except _Unsupported:
        return None


class RecordConverter:
    """Builds the records of ``read(..., records=True)`` from an input already parsed and
    validated by the general path. Its record classes carry no rules (the validator applied
    them), so they are not the reader's classes, but they have the same members."""

    def __init__(self) -> None:
        self._types: dict[tuple, type] = {}

    def check(self, shape: Shape) -> None:
        """Raise if the shape cannot be given as records (wiring time, not request time)."""
        self._type(shape)

    def to_records(self, shape: Shape, params: dict) -> dict:
        # Only the model's shape is enforced here: the validator has checked the rules, and left
        # only the model's members, none null (an absent member is UNSET in a record).
        return msgspec.convert(params, self._type(shape))

    def _type(self, shape: Shape) -> type:
        key = shape_key(shape)
        built = self._types.get(key)
        if built is None:
            try:
                built = self._types[key] = _TypeBuilder(records=True, checked=False).type_of(shape)
            except _Unsupported as unsupported:
                raise TypeError(f"{shape.name} cannot be given as records: {unsupported}") from None
        return built


class _TypeBuilder:
    """The msgspec type of a shape. ``records``: nested structures as Structs (the top level
    stays a TypedDict). ``checked=False``: types only, without the model's rules (lengths,
    ranges, patterns, enums), for input the validator has passed."""

    def __init__(self, records: bool = False, checked: bool = True) -> None:
        self.records = records
        self.checked = checked
        self._structures: dict[str, type] = {}
        self._building: set[str] = set()

    def type_of(self, shape: Shape):
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape)
        if kind == "list":
            return self._ruled(list[self.type_of(shape.member)], **_lengths(shape))
        if kind == "map":
            return self._ruled(dict[self.type_of(shape.key), self.type_of(shape.value)], **_lengths(shape))
        if kind == "string":
            return _string(shape) if self.checked else str
        if kind in ("integer", "long"):
            return self._ruled(int, **_integer_bounds(shape))
        if kind in ("float", "double"):
            # JSON integers stay ints, as the general path leaves them.
            low, high = shape.metadata.get("min"), shape.metadata.get("max")
            floats = {"ge": -_DOUBLE_MAX if low is None else max(low, -_DOUBLE_MAX),
                      "le": _DOUBLE_MAX if high is None else min(high, _DOUBLE_MAX)}
            return Union[self._ruled(int, **_integer_bounds(shape)), self._ruled(float, **floats)]
        if kind == "boolean":
            return bool
        if kind == "timestamp":
            # Epoch seconds, as services take them; msgspec reads a JSON integer as a float here.
            return self._ruled(float, ge=TIMESTAMP_MIN, le=TIMESTAMP_MAX)
        raise _Unsupported(kind)  # blob (base64 rules), document, union

    def _ruled(self, base, **rules):
        """``base`` bound by the model's rules (msgspec constraints), or bare when unchecked."""
        return Annotated[base, msgspec.Meta(**rules)] if rules and self.checked else base

    def _structure(self, shape: Shape) -> type:
        built = self._structures.get(shape.name)
        if built is not None:
            return built
        if shape.name in self._building:
            raise _Unsupported("recursive shape")
        top_level = not self._building
        self._building.add(shape.name)
        required = set(shape.required_members)
        member_types = {name: self.type_of(member) for name, member in shape.members.items()}
        self._building.discard(shape.name)
        if self.records and not top_level:
            built = _record(shape.name, member_types, required)
        else:
            fields = {name: Required[t] if name in required else t for name, t in member_types.items()}
            built = TypedDict(shape.name, fields, total=False)
        self._structures[shape.name] = built
        return built


def _record(name: str, member_types: dict, required: set) -> type:
    """A Struct with the structure's members, in model order; absent members read ``UNSET``.

    ``gc=False``: a request's records are trees (nothing decoded refers back up), so the cycle
    collector need not track the thousands of them a bulk request makes.
    """
    fields = [
        (member, member_type) if member in required
        else (member, Union[member_type, msgspec.UnsetType], msgspec.UNSET)
        for member, member_type in member_types.items()
    ]
    return msgspec.defstruct(name, fields, kw_only=True, gc=False)


def _integer_bounds(shape: Shape) -> dict:
    """The model's min/max as bounds on an integer (models write some as floats: ``min: 0.0``),
    within what the member's type can hold (an integer member: 32 bits) and what orjson reads
    as an integer."""
    meta = shape.metadata
    least, most = REPRESENTABLE[shape.type_name]
    least, most = max(math.ceil(least), _INT_MIN), min(math.floor(most), _INT_MAX)
    low, high = meta.get("min"), meta.get("max")
    return {"ge": least if low is None else max(math.ceil(low), least),
            "le": most if high is None else min(math.floor(high), most)}


def _lengths(shape: Shape) -> dict:
    meta = shape.metadata
    lengths = {}
    if meta.get("min") is not None:
        lengths["min_length"] = max(math.ceil(meta["min"]), 0)
    if meta.get("max") is not None:
        lengths["max_length"] = math.floor(meta["max"])
    return lengths


def _string(shape: Shape):
    lengths = _lengths(shape)
    pattern = _full_match_pattern(shape)
    if shape.enum:
        # The validator applies length and pattern to enum values too.
        low, high = lengths.get("min_length", 0), lengths.get("max_length")
        allowed = tuple(
            value for value in shape.enum
            if len(value) >= low and (high is None or len(value) <= high)
            and (pattern is None or re.search(pattern, value))
        )
        if not allowed:
            raise _Unsupported("no enum value can be valid")
        return Literal[allowed]
    if pattern is not None:
        lengths["pattern"] = pattern
    return Annotated[str, msgspec.Meta(**lengths)] if lengths else str


def _full_match_pattern(shape: Shape) -> str | None:
    """The model pattern as the validator applies it (a full match, ``.`` matching newlines),
    written for msgspec, which searches."""
    text = shape.metadata.get("pattern")
    compiled = java_pattern(text) if text else None
    if compiled is None:
        return None  # the validator cannot apply it either
    pattern = rf"(?s)\A(?:{compiled.pattern})\Z"
    try:
        re.compile(pattern)
    except re.error:  # e.g. inline flags, legal only at the start of a pattern
        raise _Unsupported("pattern") from None
    return pattern
