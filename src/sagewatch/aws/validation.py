"""Input validation from the service model: types, required members, lengths, ranges, enums,
patterns.

Validation runs in two passes, both derived from the same botocore shapes:

1. a *fast check* that only answers "valid or not". It is Python source generated once per
   input shape (the technique of dataclasses and fastjsonschema), with scalar and small-structure
   checks inlined, so a 10,000-event PutLogEvents batch or a 1,000-datum PutMetricData is checked
   in about a millisecond;
2. when the fast check says no, a *reporting check* walks the value again and lists every
   failure with its path, for the service to word as AWS does.

The protocols hand us Python values (dict, list, str, int, float, bool, bytes; timestamps as
epoch seconds, a float). A value of the wrong Python type is a *type* failure (the wire body
could not be read as the model says); anything else is a *constraint* failure.

A valid input also leaves here in the one form services take, whatever the protocol: only the
members the model has, none of them null, as the one-pass JSON reader (aws/typed_json.py) gives
it. The fast check says yes only to inputs already in that form; any other valid input (a
member the model does not have, a null member, at any depth) is brought to it in place after
the reporting check finds nothing wrong. Services once saw such members: a CBOR value
containing itself, or a structure with an unknown member and not the one the model requires,
made them fail with a 500 (found by the fuzzer, tests/e2e/test_fuzz.py).
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
from collections.abc import Callable

from botocore.model import Shape

from ..services.errors import Failure, JavaText
from .protocols.base import TIMESTAMP_MAX, TIMESTAMP_MIN

Check = Callable[[object, tuple, list], None]

_INTEGRAL = ("integer", "long")
_FLOATING = ("float", "double")
# The numbers each number type can hold at all: integer is a 32-bit and long a 64-bit signed
# integer (Smithy 2.0 spec, "Simple types"), a double an IEEE 754 binary64 (the wire may carry
# an integer literal for it, but not one beyond the largest finite double). A number beyond
# these cannot be read into the member: AWS answers SerializationException, not a range error
# (Smithy's malformed-request tests RestJsonBodyIntegerUnderflowOverflow and
# RestJsonBodyLongUnderflowOverflow: "Underflow or overflow should result in
# SerializationException").
REPRESENTABLE = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
    "float": (-sys.float_info.max, sys.float_info.max),
    "double": (-sys.float_info.max, sys.float_info.max),
}


class Validator:
    """Compiles and caches the checks of each input shape."""

    def __init__(self) -> None:
        self._fast: dict[int, Callable[[object], bool]] = {}
        # Complete functions only: requests on other threads read these without a lock. A build
        # (recursive shapes refer to themselves through stand-ins) happens under _building_lock
        # in _in_progress, and is published whole when the outermost build ends; a half-built
        # function seen by another thread once dropped members or failed for good (review).
        self._reporting: dict[tuple, Check] = {}
        self._pruning: dict[tuple, Callable[[object], None] | None] = {}
        self._building_lock = threading.RLock()
        self._in_progress: dict[tuple, object] = {}

    def validate(self, shape: Shape | None, params: dict) -> list[Failure]:
        """Every way ``params`` breaks the model; when none, ``params`` is left holding only the
        members the model has, none of them null (see the module's docstring)."""
        if shape is None:
            return []
        fast = self._fast.get(id(shape))
        if fast is None:
            fast = self._fast[id(shape)] = FastCheckCompiler().compile(shape)
        if fast(params):
            return []
        failures: list[Failure] = []
        self._reporting_check(shape)(params, (), failures)
        if not failures:
            self._pruner(shape)(params)
        return failures

    # -- the one form: only the model's members, none null -----------------------------------

    def _pruner(self, shape: Shape) -> Callable[[object], None] | None:
        """A function that removes, in place, the members the model does not have and the null
        members from a valid value of ``shape`` (None: no value of the shape can hold any)."""
        key = ("prune", shape_key(shape))
        if key in self._pruning:
            return self._pruning[key]
        return self._build(self._pruning, key, lambda holder: lambda value: holder[0](value),
                           lambda: self._compile_pruner(shape))

    def _build(self, published: dict, key: tuple, stand_in, compile_):
        """``compile_()`` once for ``key``, published to ``published`` only when complete. While
        it runs, a recursive reference to ``key`` gets ``stand_in(holder)``, a trampoline to the
        function once it is built (only structures recurse, so it is never None)."""
        with self._building_lock:
            if key in published:
                return published[key]
            if key in self._in_progress:
                return self._in_progress[key]
            outermost = not self._in_progress
            holder: list = []
            self._in_progress[key] = stand_in(holder)
            built = compile_()
            holder.append(built)
            self._in_progress[key] = built
            if outermost:
                for done_key, done in self._in_progress.items():
                    (self._pruning if done_key[0] == "prune" else self._reporting)[done_key] = done
                self._in_progress.clear()
            return built

    def _compile_pruner(self, shape: Shape) -> Callable[[object], None] | None:
        kind = shape.type_name
        if kind == "structure":
            names = frozenset(shape.members)
            nested = {name: prune for name, member in shape.members.items()
                      if (prune := self._pruner(member)) is not None}

            def prune_structure(value):
                for name in [k for k, item in value.items() if item is None or k not in names]:
                    del value[name]
                for name, prune in nested.items():
                    item = value.get(name)
                    if item is not None:
                        prune(item)

            return prune_structure
        if kind in ("list", "map"):
            prune_item = self._pruner(shape.member if kind == "list" else shape.value)
            if prune_item is None:
                return None

            def prune_items(value):
                for item in value if kind == "list" else value.values():
                    prune_item(item)

            return prune_items
        return None

    # -- the reporting pass ------------------------------------------------------------------

    def _reporting_check(self, shape: Shape) -> Check:
        key = ("report", shape_key(shape))
        check = self._reporting.get(key)
        if check is None:
            check = self._build(self._reporting, key,
                                lambda holder: lambda v, p, f: holder[0](v, p, f),
                                lambda: self._compile(shape))
        return check

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
        if kind in _INTEGRAL or kind in _FLOATING:
            return self._compile_number(shape)
        if kind == "boolean":
            return _type_check(lambda v: isinstance(v, bool), "boolean")
        if kind == "timestamp":
            return _type_check(lambda v: type(v) is float and TIMESTAMP_MIN <= v <= TIMESTAMP_MAX, "timestamp")
        if kind == "blob":
            return self._compile_blob(shape)
        return lambda value, path, failures: None

    def _compile_structure(self, shape: Shape) -> Check:
        member_checks = {name: self._reporting_check(m) for name, m in shape.members.items()}
        required = tuple(shape.required_members)

        def check(value, path, failures):
            if not isinstance(value, dict):
                failures.append(Failure(path, value, "Member must be a structure", True))
                return
            if any(type(name) is not str for name in value):
                # A structure's keys are its members' names: text (Smithy RPC v2 CBOR, "Shape
                # serialization": a structure is a map, "each member is the key to a pair").
                # Only CBOR can carry another key, and then the body is not the model's.
                failures.append(Failure(path, value, "Member must be a structure", True))
                return
            for name in required:
                if value.get(name) is None:
                    failures.append(Failure(path + (name,), None, "Member must not be null"))
            for name, item in value.items():
                member_check = member_checks.get(name)
                if member_check is not None and item is not None:
                    member_check(item, path + (name,), failures)

        return check

    def _compile_list(self, shape: Shape) -> Check:
        item_check = self._reporting_check(shape.member)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, failures):
            if not isinstance(value, list):
                failures.append(Failure(path, value, "Member must be a list", True))
                return
            _check_collection_length(value, shape, path, low, high, failures)
            for index, item in enumerate(value, 1):
                if item is None:
                    failures.append(_null_item(path + (index,)))
                else:
                    item_check(item, path + (index,), failures)

        return check

    def _compile_map(self, shape: Shape) -> Check:
        key_check = self._reporting_check(shape.key)
        value_check = self._reporting_check(shape.value)
        low, high = shape.metadata.get("min"), shape.metadata.get("max")

        def check(value, path, failures):
            if not isinstance(value, dict):
                failures.append(Failure(path, value, "Member must be a map", True))
                return
            _check_collection_length(value, shape, path, low, high, failures)
            for key, item in value.items():
                key_check(key, path, failures)
                if item is None:
                    failures.append(_null_item(path + (str(key),)))
                else:
                    value_check(item, path + (str(key),), failures)

        return check

    def _compile_string(self, shape: Shape) -> Check:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        enum = tuple(shape.enum or ())
        enum_set = frozenset(enum)
        pattern_text = shape.metadata.get("pattern")
        pattern = java_pattern(pattern_text) if pattern_text else None

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
        allowed = int if shape.type_name in _INTEGRAL else (int, float)
        least, most = REPRESENTABLE[shape.type_name]

        def check(value, path, failures):
            if isinstance(value, bool) or not isinstance(value, allowed):
                failures.append(Failure(path, value, "Member must be a number", True))
                return
            if type(value) is int and not least <= value <= most:
                failures.append(Failure(path, value, f"Member must be a {shape.type_name}", True))
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


def _null_item(path: tuple) -> Failure:
    """A null in a list or map: no model list or map here is sparse, and AWS cannot read one
    (Smithy's malformed-request tests: "When a dense list contains null, the response should be
    a 400 SerializationException"; the same for a dense map's values)."""
    return Failure(path, None, "Member must be a value, not null", True)


def _check_collection_length(value, shape: Shape, path, low, high, failures) -> None:
    """A list or map's length; the value is printed (Java-style) only when it is out of range."""
    length = len(value)
    if (low is not None and length < low) or (high is not None and length > high):
        _check_length(length, JavaText(java_repr(value, shape)), path, low, high, failures)


def java_repr(value: object, shape: Shape) -> str:
    """A value as AWS's Java front end prints it in validation messages: structures as
    ``InputLogEvent(timestamp=1, message=x)`` (every member, null when absent), lists as
    ``[a, b]``, maps as ``{k=v}``."""
    kind = shape.type_name
    if value is None:
        return "null"
    if kind == "structure" and isinstance(value, dict):
        fields = ", ".join(
            f"{name}={java_repr(value.get(name), member)}" for name, member in shape.members.items()
        )
        return f"{shape.name}({fields})"
    if kind == "list" and isinstance(value, list):
        return "[" + ", ".join(java_repr(item, shape.member) for item in value) + "]"
    if kind == "map" and isinstance(value, dict):
        return "{" + ", ".join(f"{k}={java_repr(v, shape.value)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def shape_key(shape: Shape) -> tuple:
    """Identity of a shape: its name within its service model. (botocore creates a new Shape object
    on every access to a member, so object identity cannot be used.)"""
    return id(shape._shape_resolver), shape.name


def children(shape: Shape) -> list[Shape]:
    kind = shape.type_name
    if kind == "structure":
        return list(shape.members.values())
    if kind == "list":
        return [shape.member]
    if kind == "map":
        return [shape.key, shape.value]
    return []


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


def java_pattern(text: str) -> re.Pattern | None:
    """Model patterns are Java regexes matched against the whole value.

    Python's ``re`` reads nearly all of them; the few it cannot (Unicode classes such as
    ``\\p{L}``) are translated to a class that holds at least every character of theirs, never
    fewer, because an over-strict check would refuse valid requests.

    A pattern with a documented sagewatch extension (``PATTERN_EXTENSIONS``) also accepts what
    the extension admits; messages still quote the model's pattern.
    """
    source = _unicode_classes_widened(text)
    extension = PATTERN_EXTENSIONS.get(text)
    if extension is not None:
        source = f"(?:{source})|(?:{extension})"
    try:
        return re.compile(source, re.DOTALL)
    except re.error:
        return None


# Values sagewatch accepts beyond a model pattern, keyed by the pattern's text (a documented
# extension: docs/compatibility.md). SageMaker's S3 URIs (botocore:sagemaker S3Uri, S3OutputPath
# and the other URI shapes with this pattern) admit only s3:// and https://; sagewatch also reads
# and writes local directories and files, named by file:// URIs (RFC 8089: file:///abs/path or
# file://host/abs/path), for job inputs, outputs and model artifacts (issue 9, "Data").
PATTERN_EXTENSIONS = {
    "(https|s3)://([^/]+)/?(.*)": "file://[^/]*/.*",
}


# What each Unicode class of a Java pattern becomes, as the inside of a character class. Letters,
# marks and numbers: \w, which holds them all (and more). Separators (category Z): exactly its
# characters, which \w does not hold: U+0020, U+00A0, U+1680, U+2000..U+200A, U+202F, U+205F,
# U+3000 (Zs), U+2028 (Zl), U+2029 (Zp) (Unicode's general categories, which Java's \p{Z} names:
# java.util.regex.Pattern, "Unicode character properties"). Tag keys and values allow them
# (botocore:logs TagKey, TagValue: [\p{L}\p{Z}\p{N}_.:/=+\-@]), so "data science" is a valid tag.
# Any other class, and any negated one: every character.
_SEPARATORS = " \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_UNICODE_CLASS = re.compile(r"\\([pP])\{(?:Is)?(\w+)\}")


def _unicode_classes_widened(text: str) -> str:
    out, inside_class, index = [], False, 0
    while index < len(text):
        char = text[index]
        match = _UNICODE_CLASS.match(text, index)
        if match:
            negated, category = match.group(1) == "P", match.group(2)
            if negated or category[0] not in "LMNZ":
                members = "\\s\\S"
            else:
                members = _SEPARATORS if category[0] == "Z" else "\\w"
            out.append(members if inside_class else f"[{members}]")
            index = match.end()
            continue
        if char == "\\":
            out.append(text[index:index + 2])  # an escape, copied whole
            index += 2
            continue
        if char == "[" and not inside_class:
            inside_class = True
        elif char == "]" and inside_class:
            inside_class = False
        out.append(char)
        index += 1
    return "".join(out)


# -- the fast pass: generated source ------------------------------------------------------------


class FastCheckCompiler:
    """Writes one Python function per structure / list / map shape that returns True when a
    value satisfies the model. Scalars are checked inline as expressions."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict[str, str] = {}  # shape name -> function name
        self.constants: dict[str, object] = {}
        self.counter = itertools.count()

    def compile(self, shape: Shape) -> Callable[[object], bool]:
        entry = self._function_for(shape)
        namespace = dict(self.constants)
        exec("\n".join(self.lines), namespace)  # noqa: S102 - source generated from the model
        return namespace[entry]

    def _constant(self, value: object) -> str:
        name = f"_c{next(self.counter)}"
        self.constants[name] = value
        return name

    def _function_for(self, shape: Shape) -> str:
        name = self.names.get(shape.name)
        if name is not None:
            return name
        name = self.names[shape.name] = f"_check_{next(self.counter)}"
        kind = shape.type_name
        if kind == "structure":
            body = ["if type(v) is not dict: return False"]
            body += self._structure_body(shape, "v", "", depth=0)
        elif kind == "list":
            body = self._list_body(shape, "v", "", depth=0)
        elif kind == "map":
            body = [f"if type(v) is not dict{self._length_guard(shape, 'v')}: return False"]
            key = self._expression(shape.key, "k")
            value = self._expression(shape.value, "x")
            body += ["for k, x in v.items():",
                     f"    if not ({key}) or x is None or not ({value}): return False"]
        else:
            body = [f"return {self._expression(shape, 'v')}"]
        body.append("return True")
        self.lines.append(f"def {name}(v):")
        self.lines += ["    " + line for line in body]
        return name

    def _structure_body(self, shape: Shape, var: str, indent: str, depth: int) -> list[str]:
        lines = []
        required = set(shape.required_members)
        for member in shape.required_members:
            lines.append(f"{indent}if {var}.get({member!r}) is None: return False")
        optional_present = []
        for index, (member_name, member) in enumerate(shape.members.items()):
            value = f"m{depth}_{index}"
            lines.append(f"{indent}{value} = {var}.get({member_name!r})")
            lines.append(
                f"{indent}if {value} is not None and not ({self._expression(member, value)}): return False"
            )
            if member_name not in required:
                optional_present.append(f"({value} is not None)")
        # Only the model's members, none null (the one form services take: module docstring):
        # then the structure holds exactly the members just found, which is cheap to count.
        present = " + ".join([str(len(required))] + optional_present)
        lines.append(f"{indent}if len({var}) != {present}: return False")
        return lines

    def _list_body(self, shape: Shape, var: str, indent: str, depth: int) -> list[str]:
        """A list check; items that are structures are checked inline in the loop, which saves a
        function call per item (10,000 per PutLogEvents batch)."""
        item = f"x{depth}"
        lines = [f"{indent}if type({var}) is not list{self._length_guard(shape, var)}: return False",
                 f"{indent}for {item} in {var}:"]
        member = shape.member
        if member.type_name == "structure" and depth < 2 and not self._recursive(member):
            lines.append(f"{indent}    if type({item}) is not dict: return False")
            lines += self._structure_body(member, item, indent + "    ", depth + 1)
        else:
            lines.append(
                f"{indent}    if {item} is None or not ({self._expression(member, item)}): return False"
            )
        return lines

    @staticmethod
    def _recursive(shape: Shape) -> bool:
        """Whether a shape contains itself (botocore builds new Shape objects on every access, so
        shapes are compared by name)."""
        seen: set[str] = set()

        def walk(s: Shape) -> bool:
            if s.name == shape.name and seen:
                return True
            if s.name in seen:
                return False
            seen.add(s.name)
            return any(walk(c) for c in children(s))

        return walk(shape)

    def _length_guard(self, shape: Shape, var: str) -> str:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        guard = ""
        if low is not None:
            guard += f" or len({var}) < {low}"
        if high is not None:
            guard += f" or len({var}) > {high}"
        return guard

    def _expression(self, shape: Shape, var: str) -> str:
        """A boolean expression that is true when ``var`` satisfies ``shape``."""
        kind = shape.type_name
        meta = shape.metadata
        if kind == "string":
            parts = [f"type({var}) is str"]
            if meta.get("min") is not None:
                parts.append(f"len({var}) >= {meta['min']}")
            if meta.get("max") is not None:
                parts.append(f"len({var}) <= {meta['max']}")
            if shape.enum:
                parts.append(f"{var} in {self._constant(frozenset(shape.enum))}")
            if meta.get("pattern"):
                pattern = java_pattern(meta["pattern"])
                if pattern is not None:
                    parts.append(f"{self._constant(pattern)}.fullmatch({var}) is not None")
            return " and ".join(parts)
        if kind in _INTEGRAL or kind in _FLOATING:
            least, most = REPRESENTABLE[kind]
            representable = f"{least!r} <= {var} <= {most!r}"
            if kind in _INTEGRAL:
                parts = [f"type({var}) is int", representable]
            else:  # a float is any double (non-finite ones are the service's to refuse)
                parts = [f"(type({var}) is float or (type({var}) is int and {representable}))"]
            if meta.get("min") is not None:
                parts.append(f"{var} >= {meta['min']!r}")
            if meta.get("max") is not None:
                parts.append(f"{var} <= {meta['max']!r}")
            return " and ".join(parts)
        if kind == "boolean":
            return f"type({var}) is bool"
        if kind == "timestamp":
            return f"(type({var}) is float and {TIMESTAMP_MIN!r} <= {var} <= {TIMESTAMP_MAX!r})"
        if kind == "blob":
            return f"isinstance({var}, (bytes, bytearray))" + self._blob_bounds(shape, var)
        return f"{self._function_for(shape)}({var})"

    def _blob_bounds(self, shape: Shape, var: str) -> str:
        meta = shape.metadata
        bounds = ""
        if meta.get("min") is not None:
            bounds += f" and len({var}) >= {meta['min']}"
        if meta.get("max") is not None:
            bounds += f" and len({var}) <= {meta['max']}"
        return bounds
