"""Input validation from the service model: types, required members, lengths, ranges, enums,
patterns.

Each input shape is compiled once into a tree of small checking functions, so validating a
10,000-event PutLogEvents batch costs a few milliseconds. The protocols hand us Python values
(dict, list, str, int, float, bool, datetime, bytes); a value of the wrong Python type is a
*type* failure (the wire body could not be read as the model says: SerializationException in
AWS's JSON services), anything else is a *constraint* failure that each service reports in its
own error code, with the message AWS's front end writes:

    1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint:
    Member must have value less than or equal to 10000
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from botocore.model import Shape

from ..services.errors import Failure


Check = Callable[[object, str, list], None]

_NUMBER_TYPES = {"integer", "long", "float", "double"}


class Validator:
    """Compiles and caches one checking function per shape (shared across operations)."""

    def __init__(self) -> None:
        self._compiled: dict[int, Check] = {}

    def validate(self, shape: Shape | None, params: dict) -> list[Failure]:
        failures: list[Failure] = []
        if shape is not None:
            self._check_for(shape)(params, "", failures)
        return failures

    def _check_for(self, shape: Shape) -> Check:
        key = id(shape)
        check = self._compiled.get(key)
        if check is None:
            # Recursive shapes refer to themselves: install a trampoline before compiling.
            holder: list[Check] = []
            self._compiled[key] = lambda v, p, f: holder[0](v, p, f)
            check = self._compile(shape)
            holder.append(check)
            self._compiled[key] = check
        return check

    # -- compilation -------------------------------------------------------------------------

    def _compile(self, shape: Shape) -> Check:
        kind = shape.type_name
        if kind == "structure":
            return self._compile_structure(shape)
        if kind == "list":
            return self._compile_list(shape)
        if kind == "map":
            return self._compile_map(shape)
        if kind == "string":
            return self._compile_string(shape)
        if kind in _NUMBER_TYPES:
            return self._compile_number(shape)
        if kind == "boolean":
            return _type_check(lambda v: isinstance(v, bool), "boolean")
        if kind == "timestamp":
            return _type_check(lambda v: isinstance(v, _dt.datetime), "timestamp")
        if kind == "blob":
            return self._compile_blob(shape)
        return lambda value, path, failures: None

    def _compile_structure(self, shape: Shape) -> Check:
        member_checks = {name: self._check_for(member) for name, member in shape.members.items()}
        required = tuple(shape.required_members)

        def check(value, path, failures):
            if not isinstance(value, dict):
                failures.append(Failure(path, value, "Member must be a structure", True))
                return
            prefix = path + "." if path else ""
            for name in required:
                if value.get(name) is None:
                    failures.append(Failure(prefix + name, None, "Member must not be null"))
            for name, item in value.items():
                member_check = member_checks.get(name)
                if member_check is not None and item is not None:
                    member_check(item, prefix + name, failures)

        return check

    def _compile_list(self, shape: Shape) -> Check:
        item_check = self._check_for(shape.member)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, failures):
            if not isinstance(value, list):
                failures.append(Failure(path, value, "Member must be a list", True))
                return
            _check_length(len(value), value, path, low, high, failures)
            for index, item in enumerate(value, 1):
                if item is not None:
                    item_check(item, f"{path}.{index}.member", failures)

        return check

    def _compile_map(self, shape: Shape) -> Check:
        key_check = self._check_for(shape.key)
        value_check = self._check_for(shape.value)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, failures):
            if not isinstance(value, dict):
                failures.append(Failure(path, value, "Member must be a map", True))
                return
            _check_length(len(value), value, path, low, high, failures)
            for key, item in value.items():
                key_check(key, path, failures)
                if item is not None:
                    value_check(item, f"{path}.{key}", failures)

        return check

    def _compile_string(self, shape: Shape) -> Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        enum = tuple(shape.enum or ())
        enum_set = frozenset(enum)
        pattern_text = shape.metadata.get("pattern")
        pattern = _compile_java_pattern(pattern_text) if pattern_text else None

        def check(value, path, failures):
            if not isinstance(value, str):
                failures.append(Failure(path, value, "Member must be a string", True))
                return
            if low is not None or high is not None:
                _check_length(len(value), value, path, low, high, failures)
            if enum_set and value not in enum_set:
                failures.append(
                    Failure(path, value, f"Member must satisfy enum value set: [{', '.join(enum)}]")
                )
            if pattern is not None and pattern.fullmatch(value) is None:
                failures.append(
                    Failure(path, value, f"Member must satisfy regular expression pattern: {pattern_text}")
                )

        return check

    def _compile_number(self, shape: Shape) -> Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        integral = shape.type_name in ("integer", "long")

        def check(value, path, failures):
            if isinstance(value, bool) or not isinstance(value, int if integral else (int, float)):
                failures.append(Failure(path, value, f"Member must be a number", True))
                return
            if low is not None and value < low:
                failures.append(Failure(path, value, f"Member must have value greater than or equal to {low}"))
            if high is not None and value > high:
                failures.append(Failure(path, value, f"Member must have value less than or equal to {high}"))

        return check

    def _compile_blob(self, shape: Shape) -> Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, failures):
            if not isinstance(value, (bytes, bytearray)):
                failures.append(Failure(path, value, "Member must be a blob", True))
                return
            _check_length(len(value), value, path, low, high, failures)

        return check


def _type_check(predicate: Callable[[object], bool], type_name: str) -> Check:
    def check(value, path, failures):
        if not predicate(value):
            failures.append(Failure(path, value, f"Member must be a {type_name}", True))

    return check


def _check_length(length, value, path, low, high, failures) -> None:
    if low is not None and length < low:
        failures.append(Failure(path, value, f"Member must have length greater than or equal to {low}"))
    if high is not None and length > high:
        failures.append(Failure(path, value, f"Member must have length less than or equal to {high}"))


def _compile_java_pattern(text: str) -> re.Pattern | None:
    """Model patterns are Java regexes matched against the whole value.

    Python's ``re`` reads nearly all of them; the few it cannot (Unicode classes such as
    ``\\p{L}``) are translated to a permissive class rather than rejected, because an
    over-strict check would refuse valid requests.
    """
    translated = re.sub(r"\\[pP]\{[^}]*\}", r"\\w", text)
    try:
        return re.compile(translated, re.DOTALL)
    except re.error:
        return None
