"""Fuzz requests generated from the botocore models the gateway serves.

Everything here is read from the service models (the same files sagewatch's gateway loads), so
a new operation, member or protocol is fuzzed with no change to this file. A request is drawn
(as a Hypothesis strategy, so that a failure shrinks to a small request) in one of four modes:

- ``valid``: every member satisfies the model (required members, lengths, ranges, enums,
  patterns), with the names of resources that exist and phrases of the services' own
  languages (filter patterns, metric math, alarm rules) mixed in, so that requests get past
  "not found" into the services' logic;
- ``boundary``: valid values at their limits: shortest and longest strings, range ends, empty
  lists and lists of the most items allowed;
- ``invalid``: a valid request with one to three values replaced by wrong ones: too long or
  short, out of range, the wrong type, null, NUL and lone surrogates, NaN and Infinity, huge
  lists, deep nesting, members unknown to the model, required members removed;
- ``mangled``: a request whose bytes or framing are then damaged: truncated, padded, random
  bytes, bad or claimed gzip, the wrong method, content type or operation name.

Invalid and mangled requests start as often from a *corpus* of requests known to be accepted
(the caller's) as from drawn ones. ``sweep`` is the systematic counterpart: from one accepted
request, one request per member (present or absent, at any depth) and per value of a short
catalogue of values that have broken servers (``hostile_values``).

Values are Python trees (dict, list, str, int, float, bool, bytes, None) with a few markers that
each protocol writes its own way: ``Instant`` (a timestamp), ``RawJSON`` / ``RawCBOR`` (bytes put
in the body as they are, for what a Python value cannot say: a bare NaN, a lone surrogate in
CBOR, a cyclic CBOR value, nesting deeper than any recursion limit) and ``QueryPairs`` (form
fields under a member's key). ``wire`` writes a tree as a request of one protocol: JSON 1.0 /
1.1 (``X-Amz-Target``), the query protocol (a form routed by SigV4 credential scope or by
``Version``), Smithy RPC v2 CBOR (``/service/<prefix>/operation/<Op>``).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import gzip
import json
import math
import re
import time
import urllib.parse
from dataclasses import dataclass, field, replace

import botocore.session
import cbor2
from botocore.model import OperationModel, ServiceModel, Shape
from hypothesis import strategies as st

JSON, QUERY, CBOR = "json", "query", "smithy-rpc-v2-cbor"  # botocore's protocol names
# How often each mode is drawn (Hypothesis shrinks towards the first: valid requests).
_MODE_WEIGHTS = ("valid",) * 3 + ("boundary",) * 2 + ("invalid",) * 4 + ("mangled",) * 2

# Lists longer than this are built by repeating one drawn item (Hypothesis draws stay small).
_DRAWN_LIST_ITEMS = 4
# The largest list an invalid request carries (well past every model maximum: 10,000 log
# events, 1,000 metric datums), and the deepest nesting (past orjson's 1,024 and cbor2's 400).
_HUGE_LIST = 20_000
_DEEP = 100_000
_STRING_RUN = 40  # longest drawn free text; longer strings are built at exact lengths


@functools.cache
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


def protocols_of(model: ServiceModel) -> tuple[str, ...]:
    """The wire protocols a service speaks, as its model lists them."""
    return tuple(model.metadata.get("protocols") or [model.metadata["protocol"]])


@dataclass(frozen=True)
class Target:
    """One operation of one service on one protocol."""

    service: str
    protocol: str
    operation: str

    @property
    def id(self) -> str:
        return f"{self.service}-{PROTOCOL_IDS[self.protocol]}-{self.operation}"

    @property
    def model(self) -> OperationModel:
        return service_model(self.service).operation_model(self.operation)


PROTOCOL_IDS = {JSON: "json", QUERY: "query", CBOR: "cbor"}


def targets(services: tuple[str, ...]) -> list[Target]:
    """Every (service, protocol, operation) the models describe."""
    found = []
    for service in services:
        model = service_model(service)
        for protocol in protocols_of(model):
            found += [Target(service, protocol, name) for name in model.operation_names]
    return found


# -- markers a protocol writes its own way -------------------------------------------------------


@dataclass(frozen=True)
class Instant:
    """A timestamp, in epoch seconds: a number in JSON, ISO 8601 text in a form, a tag-1 value in
    CBOR (what each SDK sends)."""

    seconds: float


@dataclass(frozen=True)
class RawJSON:
    """JSON bytes written into the body as they are."""

    data: bytes


@dataclass(frozen=True)
class RawCBOR:
    """A CBOR data item written into the body as it is."""

    data: bytes


@dataclass(frozen=True)
class QueryPairs:
    """Form fields written under a member's key (each suffix follows the key)."""

    pairs: tuple[tuple[str, str], ...]


# -- a request on the wire -----------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class FuzzRequest:
    target: Target
    mode: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    damage: str = ""  # what mangling (or the sweep) did to it, if anything
    tree: object = field(default=None, compare=False)  # the value the body was written from

    @property
    def routes_as_sent(self) -> bool:
        """Whether the request still names its service, operation and protocol as first written
        (some damage changes them, and so which protocol answers)."""
        return not self.damage.startswith(("route:", "method:"))

    def __repr__(self) -> str:
        return self.describe()

    def _repr_pretty_(self, printer, cycle) -> None:  # what Hypothesis prints for a failing example
        printer.text(self.describe())

    def raw(self) -> bytes:
        """The request as HTTP/1.1 bytes (what ``nc host port < file`` replays)."""
        head = [f"{self.method} {self.path} HTTP/1.1", "Host: localhost", f"Content-Length: {len(self.body)}"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + self.body

    def describe(self, limit: int = 600) -> str:
        body = self.body if len(self.body) <= limit else self.body[:limit] + b"..."
        headers = {k: v if len(v) <= 200 else v[:200] + "..." for k, v in self.headers.items()}
        return (f"{self.target.id} mode={self.mode}{' damage=' + self.damage if self.damage else ''}\n"
                f"  {self.method} {self.path[:200]} {headers}\n  body ({len(self.body)} bytes): {body!r}")


# -- values of the services' own languages -------------------------------------------------------

# Phrases of the languages some members carry, keyed by (service, shape name): drawn whole, or
# as token soups, so that their parsers see both sense and nonsense. (Syntax from the reference:
# filter patterns §6.6, metric math and statistics §7.4, alarm rules §8.4.)
LANGUAGE_TOKENS = {
    ("logs", "FilterPattern"): (
        "ERROR", " ", "?", "-", '"', "{", "}", "$.", "level", ".", "[", "]", "0", "=", "!=", "<",
        ">=", "&&", "||", "(", ")", "*", "%", "\\", "1e3", "-2", "IS", "NULL", "TRUE", "NOT",
        "EXISTS", ",", "...", "w1", ":", "%[Ee]rr(or)?%", "\x00", "\u00e9",
    ),
    ("cloudwatch", "MetricExpression"): (
        "m1", "e1", "SUM", "(", ")", "METRICS", '"', "+", "-", "*", "/", "^", "1", "2.5", ",", " ",
        "FILL", "REPEAT", "LINEAR", "IF", ">", "AND", "||", "ANOMALY_DETECTION_BAND", "SEARCH",
        "{", "}", "[", "]", "PERIOD", "SORT", "SLICE", "RATE", "DIFF", "AVG", "TIME_SERIES",
        "1e308", "1e400", "NaN",
    ),
    ("cloudwatch", "AlarmRule"): (
        "ALARM", "OK", "INSUFFICIENT_DATA", "(", ")", '"', "a", "AND", "OR", "NOT", "TRUE",
        "FALSE", "AT_LEAST", "2", "%", ",", " ", "arn:aws:cloudwatch:us-east-1:000000000000:alarm:a",
    ),
    ("cloudwatch", "ExtendedStatistic"): (
        "p", "tm", "TM", "tc", "TS", "WM", "PR", "IQM", "(", ")", "%", ":", "90", "99.9", "100",
        "0", ".", "1e3", "-", "_E",
    ),
}
LANGUAGE_TOKENS[("cloudwatch", "Stat")] = LANGUAGE_TOKENS[("cloudwatch", "ExtendedStatistic")]
LANGUAGE_TOKENS[("cloudwatch", "AnomalyDetectorMetricStat")] = LANGUAGE_TOKENS[("cloudwatch", "Stat")]
LANGUAGE_PHRASES = {
    ("logs", "FilterPattern"): (
        "", " ", "ERROR", "?ERROR ?WARN", "ERROR -debug", '"a b"', "{ $.level = \"ERROR\" }",
        "{ $.n > 5 && $.s != \"x*\" }", "{ $.a[0].b IS NULL }", "[ip, user, ..., status = 4*]",
        "%[Ee]rror|[Ff]ail%", "{ ($.a = 1) || ($.b NOT EXISTS) }", "[w1=ERROR, w2]",
    ),
    ("cloudwatch", "MetricExpression"): (
        "m1 * 2", "SUM(METRICS())", "FILL(m1, REPEAT)", "IF(m1 > 10, 1, 0)", "RATE(m1)",
        "ANOMALY_DETECTION_BAND(m1, 2)", "SORT(METRICS(), AVG, DESC, 3)", "m1 / PERIOD(m1)",
        'SEARCH(\'{AWS/EC2,InstanceId} MetricName="CPUUtilization"\', \'Average\', 300)',
    ),
    ("cloudwatch", "AlarmRule"): (
        "TRUE", "ALARM(a) AND NOT OK(b)", "(ALARM(a) OR ALARM(b)) AND INSUFFICIENT_DATA(c)",
        'AT_LEAST(2, ALARM, (a, b, c))', 'ALARM("a")',
    ),
    ("cloudwatch", "ExtendedStatistic"): (
        "p90", "p99.9", "tm90", "TM(10%:90%)", "TC(:0.5)", "PR(100:2000)", "IQM", "wm98",
        "TS(80%:)",
    ),
}
LANGUAGE_PHRASES[("cloudwatch", "Stat")] = (
    "Average", "SampleCount", "Sum", "Minimum", "Maximum", *LANGUAGE_PHRASES[("cloudwatch", "ExtendedStatistic")])
LANGUAGE_PHRASES[("cloudwatch", "AnomalyDetectorMetricStat")] = LANGUAGE_PHRASES[("cloudwatch", "Stat")]


# -- values from shapes ----------------------------------------------------------------------------

_INTEGER_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_TIMESTAMP_LIMITS = (-62135596800, 253402300799)  # 0001-01-01 .. 9999-12-31T23:59:59Z
_DAY = 86_400


def _now() -> float:
    return time.time()


class ValueStrategies:
    """Hypothesis strategies for the values of one service's shapes, as sent on one protocol.

    ``known`` maps shape names to values worth sending often (the names of resources that
    exist on the server under test).
    """

    def __init__(self, service: str, protocol: str, known: dict[str, list] | None = None) -> None:
        self.service = service
        self.protocol = protocol
        self.known = known or {}
        self._valid: dict[str, st.SearchStrategy] = {}
        self._boundary: dict[str, st.SearchStrategy] = {}
        self._invalid: dict[str, st.SearchStrategy] = {}

    # valid -----------------------------------------------------------------------------------

    def valid(self, shape: Shape) -> st.SearchStrategy:
        """Values that satisfy the model."""
        return self._cached(self._valid, shape, lambda: self._build(shape, self.valid))

    def near_boundary(self, shape: Shape) -> st.SearchStrategy:
        """Valid values, each node possibly at one of its limits."""
        def build():
            inner = self._build(shape, self.near_boundary)
            limits = self._limits(shape)
            return st.one_of(inner, inner, limits) if limits is not None else inner
        return self._cached(self._boundary, shape, build)

    def _cached(self, cache: dict, shape: Shape, build) -> st.SearchStrategy:
        strategy = cache.get(shape.name)
        if strategy is None:
            # Shapes may refer to themselves: a deferred strategy breaks the loop.
            cache[shape.name] = st.deferred(lambda: cache[shape.name])
            strategy = cache[shape.name] = build()
        return strategy

    def _build(self, shape: Shape, child) -> st.SearchStrategy:
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            required = set(shape.required_members)
            return st.fixed_dictionaries(
                {name: child(m) for name, m in shape.members.items() if name in required},
                optional={name: child(m) for name, m in shape.members.items() if name not in required},
            )
        if kind == "list":
            low = int(meta.get("min", 0))
            high = min(int(meta.get("max", low + _DRAWN_LIST_ITEMS)), low + _DRAWN_LIST_ITEMS)
            return st.lists(child(shape.member), min_size=low, max_size=max(low, high))
        if kind == "map":
            low = int(meta.get("min", 0))
            high = min(int(meta.get("max", low + _DRAWN_LIST_ITEMS)), low + _DRAWN_LIST_ITEMS)
            return st.dictionaries(child(shape.key), child(shape.value), min_size=low, max_size=max(low, high))
        if kind == "string":
            return self._string(shape)
        if kind in _INTEGER_RANGE:
            return self._integer(shape)
        if kind in ("float", "double"):
            low, high = meta.get("min"), meta.get("max")
            floats = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
            integers = st.integers(int(math.ceil(low)) if low is not None else -(10**6),
                                   int(math.floor(high)) if high is not None else 10**6)
            return st.one_of(floats, integers)
        if kind == "boolean":
            return st.booleans()
        if kind == "timestamp":
            now = _now()
            return st.one_of(
                st.floats(now - 16 * _DAY, now + 3 * 3600).map(lambda s: Instant(round(s, 3))),
                st.integers(*_TIMESTAMP_LIMITS).map(Instant),
            )
        if kind == "blob":
            low, high = int(meta.get("min", 0)), meta.get("max")
            return st.binary(min_size=low, max_size=min(int(high), low + 64) if high else low + 64)
        return st.none()  # document / union: nothing in these models

    def _string(self, shape: Shape) -> st.SearchStrategy:
        meta = shape.metadata
        low, high = int(meta.get("min", 0)), meta.get("max")
        if shape.enum:
            drawn = st.sampled_from(shape.enum)
        else:
            pattern = generation_pattern(meta.get("pattern"))
            longest = low + _STRING_RUN if high is None else min(int(high), low + _STRING_RUN)
            if pattern is not None:
                drawn = st.from_regex(pattern, fullmatch=True).filter(
                    lambda s: low <= len(s) and (high is None or len(s) <= high))
            else:
                drawn = st.text(min_size=low, max_size=longest)
        choices = [drawn]
        key = (self.service, shape.name)
        if key in LANGUAGE_PHRASES:
            choices.append(st.sampled_from(LANGUAGE_PHRASES[key]))
            choices.append(st.lists(st.sampled_from(LANGUAGE_TOKENS[key]), max_size=12).map("".join))
        if self.known.get(shape.name):
            # Twice as often as anything else: most operations need two or three to exist.
            choices += [st.sampled_from(self.known[shape.name])] * 2
        return st.one_of(choices)

    def _integer(self, shape: Shape) -> st.SearchStrategy:
        meta = shape.metadata
        low, high = _INTEGER_RANGE[shape.type_name]
        low = max(low, math.ceil(meta["min"])) if "min" in meta else low
        high = min(high, math.floor(meta["max"])) if "max" in meta else high
        choices = [st.integers(low, high)]
        if max(low, 0) <= min(high, 1000):  # small values, when the range has any (not 1800..)
            choices.append(st.integers(max(low, 0), min(high, 1000)))
        if shape.type_name == "long":
            # Times in milliseconds (Logs' Timestamp is a long): the last two weeks to two hours ahead.
            now_ms = int(_now() * 1000)
            around = (max(low, now_ms - 15 * _DAY * 1000), min(high, now_ms + 3 * 3600 * 1000))
            if around[0] <= around[1]:
                choices.append(st.integers(*around))
        return st.one_of(choices)

    # boundary ----------------------------------------------------------------------------------

    def _limits(self, shape: Shape) -> st.SearchStrategy | None:
        """The values at a shape's limits (None: it has none worth a separate draw)."""
        kind = shape.type_name
        meta = shape.metadata
        low, high = meta.get("min"), meta.get("max")
        if kind == "string" and not shape.enum:
            lengths = [n for n in (low or 0, high) if n is not None]
            seed = self.valid(shape).filter(bool)
            return st.tuples(seed, st.sampled_from(lengths)).map(lambda p: (p[0] * (p[1] // len(p[0]) + 1))[:p[1]])
        if kind in _INTEGER_RANGE:
            floor, ceiling = _INTEGER_RANGE[kind]
            return st.sampled_from(sorted({int(low) if low is not None else floor,
                                           int(high) if high is not None else ceiling, 0}))
        if kind in ("float", "double"):
            return st.sampled_from([
                low if low is not None else -1.7976931348623157e308,
                high if high is not None else 1.7976931348623157e308,
                5e-324, -0.0, 2.0**360, -(2.0**360)])
        if kind == "timestamp":
            return st.sampled_from([Instant(_TIMESTAMP_LIMITS[0]), Instant(_TIMESTAMP_LIMITS[1]),
                                    Instant(0), Instant(round(_now(), 3))])
        if kind == "list":
            most = min(int(high), 10_000) if high is not None else 1000
            return st.one_of(st.just([]), self.valid(shape.member).map(lambda item: [item] * most))
        if kind == "map":
            most = min(int(high), 1000) if high is not None else 100
            entry = st.tuples(self.valid(shape.key).filter(bool), self.valid(shape.value))
            return st.one_of(st.just({}), entry.map(
                lambda kv: {f"{kv[0]}{i}" if i else kv[0]: kv[1] for i in range(most)}))
        return None

    # invalid -----------------------------------------------------------------------------------

    def invalid(self, shape: Shape) -> st.SearchStrategy:
        """Values that break the model for this shape, or that its protocol writes oddly."""
        return self._cached(self._invalid, shape, lambda: st.one_of(self._wrong_values(shape)))

    def _wrong_values(self, shape: Shape) -> list[st.SearchStrategy]:
        """One strategy per kind of wrongness, so that each is drawn about as often: those of
        the shape's own type first, then one for what is wrong with any value (a wrong type,
        deep nesting, what only this protocol can carry)."""
        kind = shape.type_name
        meta = shape.metadata
        low, high = meta.get("min"), meta.get("max")
        anything = st.one_of(st.sampled_from(WRONG_TYPES), self._deep_nesting(), *self._protocol_oddities())
        if kind == "string":
            lengths = sorted({n for n in ((low or 0) - 1, None if high is None else high + 1, (high or 1024) * 4)
                              if n is not None and n >= 0})
            own = [
                st.sampled_from(lengths).map(lambda n: "a" * n),
                st.sampled_from(UNICODE_TROUBLE),
                st.tuples(self.valid(shape), st.sampled_from(UNICODE_TROUBLE)).map(lambda p: p[0] + p[1]),
                st.text(min_size=1, max_size=_STRING_RUN),  # breaks patterns and enums
            ]
            if shape.enum:
                own.append(st.sampled_from(shape.enum).map(lambda e: e.swapcase()))
        elif kind in _INTEGER_RANGE or kind in ("float", "double"):
            off_by_one = [n for n in (None if low is None else low - 1, None if high is None else high + 1)
                          if n is not None]
            own = [
                st.sampled_from(BEYOND_EVERY_NUMBER_TYPE),
                st.sampled_from(self._non_finite()),
                st.sampled_from(["1", "1e3", "0x10", True, 0.5 if kind in _INTEGER_RANGE else "1.5"]),
            ]
            if off_by_one:
                own.append(st.sampled_from(off_by_one))
        elif kind == "timestamp":
            own = [
                st.sampled_from(["2026-11-27T10:00:00Z", "2026-02-30T00:00:00Z", "soon", "", "1764000000",
                                 "9999999999999999", "NaN", "+275760-09-13T00:00:00Z"]),
                st.sampled_from([Instant(_TIMESTAMP_LIMITS[1] + 1), Instant(_TIMESTAMP_LIMITS[0] - 1),
                                 Instant(1e300), Instant(-1e300), 1e20, -1e20, 2**64]),
                st.sampled_from(self._non_finite()),
            ]
        elif kind == "boolean":
            own = [st.sampled_from(["true", "TRUE", 1, 0, "yes"])]
        elif kind == "list":
            item = self.valid(shape.member)
            # One item too few or too many, and a huge list of small items (of the wrong type,
            # or of text: a long list of items is also a long error message).
            sizes = sorted({n for n in ((low or 0) - 1, None if high is None else high + 1)
                            if n is not None and n >= 0})
            own = [
                st.sampled_from([[None], [[]], [{}]]),
                item,  # one item where a list goes
                st.sampled_from([[0] * _HUGE_LIST, ["x"] * _HUGE_LIST]),
            ]
            if sizes:
                own.append(st.tuples(item, st.sampled_from(sizes)).map(lambda p: [p[0]] * p[1]))
        elif kind == "map":
            own = [st.sampled_from([{"k": None}, [["k", "v"]], {"": ""}]),
                   st.sampled_from([(high or 0) + 1, _HUGE_LIST]).map(lambda n: {f"k{i}": "v" for i in range(n)})]
        elif kind == "structure":
            own = [st.sampled_from([{"NotInTheModel": 1}, {m: {} for m in shape.members}, []])]
        else:
            own = []
        return [*own, anything]

    def _non_finite(self) -> list:
        if self.protocol == JSON:
            # SDKs send non-finite doubles as strings; a bare NaN is not JSON at all.
            return [RawJSON(b"NaN"), RawJSON(b"Infinity"), RawJSON(b"-Infinity"), RawJSON(b"1e400"),
                    RawJSON(b"-1e400"), RawJSON(b"1" + b"0" * 400), RawJSON(b"-0")]
        return [math.nan, math.inf, -math.inf]

    def _deep_nesting(self) -> st.SearchStrategy:
        depths = st.sampled_from([64, 500, 1100, _DEEP])
        if self.protocol == JSON:
            return depths.map(lambda d: RawJSON(b"[" * d + b"]" * d))
        if self.protocol == CBOR:
            return depths.map(lambda d: RawCBOR(b"\x81" * d + b"\xf6"))
        return st.sampled_from([64, 1100]).map(lambda d: QueryPairs(((".a" * d, "x"),)))

    def _protocol_oddities(self) -> list[st.SearchStrategy]:
        """Values only one protocol can carry, or carries in more than one way."""
        if self.protocol == JSON:
            return [st.sampled_from([
                RawJSON(b'{"a":1,"a":2}'), RawJSON(b'"\\ud800"'), RawJSON(b'"\\udc00\\ud800"'),
                RawJSON(b'"\\u0000"'), RawJSON(b'"a\x01b"'), RawJSON(b'"\xff\xfe"'),
                RawJSON(b'"\xed\xa0\x80"'), RawJSON(b"1.0e-400"), RawJSON(b'"\\x"'),
                RawJSON(b"18446744073709551616"), RawJSON(b"-9223372036854775809"),
            ])]
        if self.protocol == CBOR:
            return [st.sampled_from(CBOR_ODDITIES)]
        return [st.sampled_from([
            QueryPairs(((".member.\u00b2", "x"),)),        # a superscript digit as a list index
            QueryPairs(((".member.-1", "x"),)),
            QueryPairs(((".member.99999999999999999999", "x"),)),
            QueryPairs(((".entry.1.key", "k"),)),            # a map entry without its value
            QueryPairs(((".member.1", "x"), (".member.1.Name", "y"))),
            QueryPairs(((".", "x"), ("..", "y"))),
        ])]


# Values of the wrong type for any member.
WRONG_TYPES = (None, True, 0, -1, 1.5, "x", "", [], {}, ["x"], {"a": "b"}, [[[]]], {"": None})

# Numbers no member type holds: past 32 bits, past 64 bits (signed and unsigned), past every
# double (CBOR writes these as bignums, JSON as long literals).
BEYOND_EVERY_NUMBER_TYPE = (2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 2**64, 2**1024, -(2**1024), 10**400)

# Strings that have broken text handling somewhere: NUL, lone and reversed surrogates, astral
# characters (two UTF-16 units), combining marks, bidi overrides, noncharacters.
UNICODE_TROUBLE = (
    "\x00", "a\x00b", "\ud800", "\udfff", "a\udc00\ud800", "\U0001f600" * 300, "e\u0301" * 200,
    "\u202eabc", "\ufeff", "\uffff", "\x7f\x1b[31m", "\r\n", " ", "%00", "\\u0000",
)

# CBOR items cbor2 reads into unusual Python values: a value sharing itself (a cycle), sets,
# big numbers, decimals, regular expressions, UUIDs, undefined and simple values, dates as text,
# tag 1 with text, indefinite-length strings, a text string that is not UTF-8, a map keyed by
# arrays, and an array whose header claims far more items than follow.
CBOR_ODDITIES = tuple(RawCBOR(bytes.fromhex(h)) for h in (
    "d81ca16161d81d00",          # {"a": <itself>}
    "d81c81d81d00",              # [<itself>]
    "d9010282010a",              # set {1, 10}
    "c249010000000000000000",    # 2**64 as a bignum
    "c34901000000000000000000",  # -(2**72) - 1
    "c48221196ab3",              # Decimal('273.15')
    "d8236161",                  # re.compile('a')
    "d82550000102030405060708090a0b0c0d0e0f",  # a UUID
    "f7", "e0", "f820", "f97e00", "f97c00",     # undefined, simple(0), simple(32), NaN and inf halves
    "c074323031332d30332d32315432303a30343a30305a",  # tag 0 '2013-03-21T20:04:00Z'
    "c06474657874",             # tag 0 'text'
    "c16474657874",             # tag 1 'text'
    "c1fb7fefffffffffffff",     # tag 1 of the largest double
    "7f6161616262ff",           # indefinite-length text 'abb'
    "62eda0",                   # text that is not UTF-8
    "a181010a",                 # {[1]: 10}
    "a1f6f6",                   # {null: null}
    "9b00000000ffffffff01",     # an array claiming 2**32 - 1 items
    "7b00000000ffffffff",       # a text claiming 4 GiB
    "d9d9f7a0",                 # the self-describe tag around {}
))


def generation_pattern(text: str | None) -> str | None:
    """A model pattern (a Java regex) as a Python regex that generates only strings Java would
    also accept: Unicode classes become a few of their plain members. None when Python cannot
    compile it (the value is then drawn as free text)."""
    if not text:
        return None
    members = {"L": "a-zA-Z", "N": "0-9", "Z": " ", "Zs": " ", "M": "", "P": ".,!", "S": "+$"}
    translated = re.sub(r"\\p\{(\w+)\}", lambda m: members.get(m.group(1), "a-z"), text)
    try:
        re.compile(translated)
    except re.error:
        return None
    return translated


# -- requests: a tree for an operation, in one mode ----------------------------------------------


class RequestStrategies:
    """Requests for the operations of one service on one protocol.

    ``known``: values worth drawing often, by shape name (see ValueStrategies). ``corpus``: per
    operation, requests known to be accepted, which invalid and mangled requests start from as
    often as from drawn ones: a value that breaks a service only in an otherwise sound request
    is rarely reached from a random one (most fail a check of their own first).
    """

    def __init__(self, service: str, protocol: str, known: dict[str, list] | None = None,
                 corpus: dict[str, list[dict]] | None = None) -> None:
        self.service = service
        self.protocol = protocol
        self.values = ValueStrategies(service, protocol, known)
        self.corpus = corpus or {}

    def for_operation(self, operation: str) -> st.SearchStrategy[FuzzRequest]:
        target = Target(self.service, self.protocol, operation)
        shape = target.model.input_shape
        values = self.values
        sound = self.corpus.get(operation)
        if shape is not None:
            bases = values.valid(shape) if not sound else st.one_of(
                values.valid(shape), st.sampled_from(sound).map(copy.deepcopy))
            mutated = _mutated(values, shape, bases)

        @st.composite
        def request(draw) -> FuzzRequest:
            mode = draw(st.sampled_from(_MODE_WEIGHTS))
            if shape is None:
                tree = {} if mode in ("valid", "boundary") else draw(st.sampled_from([{}, {"NotInTheModel": 1}]))
            elif mode == "valid":
                tree = draw(values.valid(shape))
            elif mode == "boundary":
                tree = draw(values.near_boundary(shape))
            elif mode == "invalid":
                tree = draw(mutated)
            else:  # mangled: a sound request or an invalid one, damaged
                tree = draw(st.one_of(bases, mutated))
            wire = draw(encode(target, tree))
            wire = replace(wire, mode=mode)
            return draw(mangle(wire)) if mode == "mangled" else wire

        return request()


def _slots(value, shape: Shape, path=()):
    """(parent, key, shape) of every node of a value drawn from ``shape`` (root: parent None)."""
    yield None, path, shape
    stack = [(value, shape)]
    while stack:
        node, node_shape = stack.pop()
        kind = node_shape.type_name
        if kind == "structure" and isinstance(node, dict):
            for name, item in node.items():
                member = node_shape.members.get(name)
                if member is not None:
                    yield node, name, member
                    stack.append((item, member))
        elif kind == "list" and isinstance(node, list):
            # Repeated items are one object: mutating one of them mutates all, which is fine.
            for index, item in enumerate(node[:_DRAWN_LIST_ITEMS]):
                yield node, index, node_shape.member
                stack.append((item, node_shape.member))
        elif kind == "map" and isinstance(node, dict):
            for key, item in list(node.items())[:_DRAWN_LIST_ITEMS]:
                yield node, key, node_shape.value
                stack.append((item, node_shape.value))


def _mutated(values: ValueStrategies, shape: Shape, bases: st.SearchStrategy) -> st.SearchStrategy:
    """A valid tree (drawn from ``bases``, a fresh copy) with one to three nodes made invalid."""

    @st.composite
    def mutate(draw):
        tree = draw(bases)
        slots = list(_slots(tree, shape))
        for _ in range(draw(st.integers(1, 3))):
            parent, key, node_shape = draw(st.sampled_from(slots))
            if parent is not None and key not in (parent if isinstance(parent, dict) else range(len(parent))):
                continue  # an earlier mutation removed or renamed it
            if parent is None or (node_shape.type_name == "structure" and draw(st.booleans())):
                target = tree if parent is None else parent[key]
                if isinstance(target, dict):
                    _mutate_structure(draw, target, node_shape)
                continue
            parent[key] = draw(values.invalid(node_shape))
        return tree

    return mutate()


def _mutate_structure(draw, node: dict, shape: Shape) -> None:
    """Remove a required member, add one the model does not have, or misspell one's case."""
    required = [m for m in shape.required_members if m in node]
    choice = draw(st.sampled_from(["drop", "unknown", "case"]))
    if choice == "drop" and required:
        del node[draw(st.sampled_from(required))]
    elif choice == "case" and node:
        name = draw(st.sampled_from(sorted(node)))
        node[name[:1].swapcase() + name[1:]] = node.pop(name)
    else:
        node[draw(st.sampled_from(["NotInTheModel", "__type", "", "\x00", "a" * 1000]))] = draw(
            st.sampled_from([1, "x", None, [1], {"b": {}}]))


# -- writing a tree in a protocol ----------------------------------------------------------------

_JSON_TARGET_CONTENT = "application/x-amz-json-{}"
_FORM = "application/x-www-form-urlencoded; charset=utf-8"


# The ways SDKs frame the same request: JSON with \u escapes or raw UTF-8; a query request
# routed by its SigV4 credential scope, by Version, or by both.
FRAMINGS = {JSON: ("ascii", "utf-8"), CBOR: ("cbor",), QUERY: ("both", "scope", "version")}


def encode(target: Target, tree) -> st.SearchStrategy[FuzzRequest]:
    """The request an SDK would send for ``tree``, in any of the framings SDKs differ on."""
    return st.sampled_from(FRAMINGS[target.protocol]).map(lambda framing: wire(target, tree, framing))


def wire(target: Target, tree, framing: str) -> FuzzRequest:
    """``tree`` as a request of ``target``'s operation on its protocol, framed one way."""
    metadata = service_model(target.service).metadata
    op = target.operation
    if target.protocol == JSON:
        headers = {"Content-Type": _JSON_TARGET_CONTENT.format(metadata.get("jsonVersion", "1.0")),
                   "X-Amz-Target": f"{metadata['targetPrefix']}.{op}"}
        if "awsQueryCompatible" in metadata:
            headers["x-amzn-query-mode"] = "true"  # what botocore adds (botocore serialize.py)
        return FuzzRequest(target, "", "POST", "/", headers, json_bytes(tree, ascii_only=framing == "ascii"),
                           tree=tree)
    if target.protocol == CBOR:
        headers = {"Content-Type": "application/cbor", "Accept": "application/cbor",
                   "smithy-protocol": "rpc-v2-cbor"}
        path = f"/service/{metadata['targetPrefix']}/operation/{op}"
        return FuzzRequest(target, "", "POST", path, headers, cbor_bytes(tree), tree=tree)
    if target.protocol == QUERY:
        fields = [("Action", op), ("Version", metadata["apiVersion"])] + query_pairs(tree, target.model.input_shape)
        headers = {"Content-Type": _FORM}
        if framing != "version":
            signing_name = metadata.get("signingName", metadata["endpointPrefix"])
            headers["Authorization"] = (
                f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{signing_name}/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, Signature=" + "0" * 64)
        if framing == "scope":
            fields = [f for f in fields if f[0] != "Version"]
        body = urllib.parse.urlencode(fields, errors="surrogatepass").encode("ascii")
        return FuzzRequest(target, "", "POST", "/", headers, body, tree=tree)
    raise ValueError(f"no encoder for {target.protocol}")


def json_bytes(value, ascii_only: bool = True) -> bytes:
    """JSON as an SDK writes it, plus what no SDK would: bare NaN, raw bytes, lone surrogates
    (escaped when ``ascii_only``, otherwise as the invalid UTF-8 a careless encoder emits)."""
    raw: list[bytes] = []

    def marker(v):
        if isinstance(v, Instant):
            return int(v.seconds) if float(v.seconds).is_integer() else v.seconds
        if isinstance(v, (bytes, bytearray)):
            return base64.b64encode(v).decode()
        if isinstance(v, QueryPairs):
            return dict(v.pairs)
        if isinstance(v, RawCBOR):
            return base64.b64encode(v.data).decode()
        if isinstance(v, RawJSON):  # a placeholder string, swapped for the bytes below
            raw.append(v.data)
            return f"\0raw{len(raw) - 1}\0"
        raise TypeError(type(v))

    # The C encoder writes NaN and Infinity bare (not JSON), and keys that are not strings as
    # strings; placeholders come out as "\u0000rawN\u0000".
    text = json.dumps(value, ensure_ascii=ascii_only, default=marker, separators=(",", ":"))
    body = text.encode("utf-8", "surrogatepass")
    for index, data in enumerate(raw):
        body = body.replace(f'"\\u0000raw{index}\\u0000"'.encode(), data, 1)
    return body


def cbor_bytes(value) -> bytes:
    return cbor2.dumps(_for_cbor(value), default=_cbor_default)


def _for_cbor(v):
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return v
        except UnicodeEncodeError:  # a lone surrogate: text that is not UTF-8, written raw
            data = v.encode("utf-8", "surrogatepass")
            return RawCBOR(_cbor_head(3, len(data)) + data)
    if isinstance(v, dict):
        # A key cannot be written raw (cbor2 hashes keys): a key with a lone surrogate is sent as
        # the replacement character instead.
        return {_cbor_key(k): _for_cbor(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_for_cbor(x) for x in v]
    if isinstance(v, Instant):
        return cbor2.CBORTag(1, v.seconds)
    if isinstance(v, QueryPairs):
        return {suffix: text for suffix, text in v.pairs}
    if isinstance(v, RawJSON):
        return v.data.decode("utf-8", "replace")
    return v


def _cbor_key(key):
    if isinstance(key, str):
        return key.encode("utf-8", "replace").decode("utf-8")
    return key


def _cbor_default(encoder, value) -> None:
    if isinstance(value, RawCBOR):
        encoder.write(value.data)
        return
    raise TypeError(type(value))


def _cbor_head(major: int, length: int) -> bytes:
    if length < 24:
        return bytes([major << 5 | length])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([major << 5 | info]) + length.to_bytes(size, "big")
    raise ValueError(length)


def query_pairs(value, shape: Shape | None, prefix: str = "") -> list[tuple[str, str]]:
    """A tree as the query protocol's form fields (botocore's QuerySerializer rules), and values
    of the wrong type written the way a form can carry them."""
    pairs: list[tuple[str, str]] = []

    def key(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    kind = shape.type_name if shape is not None else None
    if isinstance(value, QueryPairs):
        return [(prefix + suffix, text) for suffix, text in value.pairs]
    if value is None or isinstance(value, (RawJSON, RawCBOR)):
        return [(prefix, "")] if prefix else []
    if isinstance(value, dict):
        if kind == "map":
            entry = prefix if shape.serialization.get("flattened") else f"{prefix}.entry"
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            for i, (k, item) in enumerate(value.items(), 1):
                pairs += query_pairs(k, shape.key, f"{entry}.{i}.{key_name}")
                pairs += query_pairs(item, shape.value, f"{entry}.{i}.{value_name}")
            return pairs
        members = shape.members if kind == "structure" else {}
        for name, item in value.items():
            member = members.get(name)
            wire_name = member.serialization.get("name", name) if member is not None else str(name)
            pairs += query_pairs(item, member, key(wire_name))
        return pairs
    if isinstance(value, (list, tuple)):
        if not value:
            return [(prefix, "")]
        member = shape.member if kind == "list" else None
        if kind == "list" and shape.serialization.get("flattened"):
            list_prefix = prefix
        else:
            list_prefix = f"{prefix}.{member.serialization.get('name', 'member') if member is not None else 'member'}"
        for i, item in enumerate(value, 1):
            pairs += query_pairs(item, member, f"{list_prefix}.{i}")
        return pairs
    return [(prefix, _query_scalar(value))]


def _query_scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, Instant):
        try:
            moment = dt.datetime.fromtimestamp(value.seconds, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return repr(value.seconds)  # beyond what ISO 8601 text can say: send the number
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return str(value)


# -- damage to a written request -----------------------------------------------------------------


@functools.cache
def _gzip_bomb() -> bytes:
    """80 MiB of zeros, gzipped to about 80 KiB: more than the 64 MiB a body may be once inflated."""
    return gzip.compress(b"\0" * (80 * 1024 * 1024), compresslevel=9)


def mangle(request: FuzzRequest) -> st.SearchStrategy[FuzzRequest]:
    """The request with its bytes or framing damaged in one way."""
    body = request.body

    def damaged(what: str, new_body: bytes | None = None, headers: dict | None = None, **changes):
        return replace(request, damage=what, body=body if new_body is None else new_body,
                       headers=request.headers if headers is None else headers, **changes)

    def with_header(name: str, text: str | None) -> dict:
        headers = {k: v for k, v in request.headers.items() if k.lower() != name.lower()}
        if text is not None:
            headers[name] = text
        return headers

    gzip_header = with_header("Content-Encoding", "gzip")
    cut = st.integers(0, max(len(body) - 1, 0))
    damaged_bytes = st.one_of(
        cut.map(lambda i: damaged("truncated", body[:i])),
        st.binary(min_size=1, max_size=16).map(lambda extra: damaged("padded", body + extra)),
        st.tuples(cut, st.integers(0, 255)).map(
            lambda p: damaged("byte", body[:p[0]] + bytes([p[1]]) + body[p[0] + 1:])),
        st.binary(max_size=256).map(lambda noise: damaged("noise", noise)),
        st.just(damaged("empty", b"")),
        st.just(damaged("bom", b"\xef\xbb\xbf" + body)),
    )
    def encoded(how: str) -> FuzzRequest:  # built only when drawn: gzip costs
        if how == "gzip":
            return damaged(how, gzip.compress(body), gzip_header)
        if how == "gzip-claimed":
            return damaged(how, body, gzip_header)
        if how == "gzip-twice":
            return damaged(how, gzip.compress(gzip.compress(body)), gzip_header)
        if how == "deflate-claimed":
            return damaged(how, body, with_header("Content-Encoding", "deflate, br"))
        return damaged(how, _gzip_bomb(), gzip_header)

    damaged_encoding = st.one_of(
        # The bomb is the dearest request here (the server inflates 64 MiB to refuse it): about
        # one mangled request in forty.
        st.sampled_from(["gzip", "gzip-claimed", "gzip-twice", "deflate-claimed", "gzip-bomb"]).map(encoded),
        cut.map(lambda i: damaged("gzip-truncated", gzip.compress(body)[:i], gzip_header)),
    )
    damaged_headers = st.one_of(
        st.just(damaged("no-content-type", body, with_header("Content-Type", None))),
        st.sampled_from(["text/plain", "application/json", "application/cbor", _FORM,
                         "application/x-amz-json-1.1; charset=\xff"]).map(
            lambda ct: damaged("content-type", body, with_header("Content-Type", ct))),
        st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]).map(
            lambda m: damaged(f"method:{m}", method=m)),
    )
    return st.one_of(damaged_bytes, damaged_encoding, damaged_headers,
                     st.one_of(_routing_damage(request, damaged, with_header)))


def _routing_damage(request: FuzzRequest, damaged, with_header) -> list[st.SearchStrategy]:
    """Requests that name their operation, service or protocol wrongly."""
    op = request.target.operation
    # (No control characters in a header: HTTP itself forbids them, and the HTTP server
    # refuses such a request before sagewatch sees it.)
    header_names = st.sampled_from([op.lower(), op + "X", "", " " + op, "a" * 4096, "\xe9" + op, ".", "/"])
    names = st.one_of(header_names, st.just(op + "\x00"))
    protocol = request.target.protocol
    if protocol == JSON:
        target = request.headers["X-Amz-Target"]
        prefix = target.rsplit(".", 1)[0]
        return [
            header_names.map(lambda n: damaged("route:op", headers=with_header("X-Amz-Target", f"{prefix}.{n}"))),
            st.sampled_from(["", ".", op, "Logs_20140328." + op, "GraniteServiceVersion20100801." + op,
                             prefix + ".." + op]).map(
                lambda t: damaged("route:target", headers=with_header("X-Amz-Target", t))),
            st.just(damaged("route:no-target", headers=with_header("X-Amz-Target", None))),
        ]
    if protocol == CBOR:
        prefix = request.path.split("/")[2]
        return [
            names.map(lambda n: damaged("route:op", path=f"/service/{prefix}/operation/{urllib.parse.quote(n)}")),
            st.sampled_from([f"/service/Nope/operation/{op}", f"/service/{prefix}/operation/{op}/",
                             f"/service/{prefix}/operation/", f"/service//operation/{op}",
                             f"//service/{prefix}/operation/{op}", f"/service/{prefix}/operation/{op}?x=1",
                             "/" + "a/" * 2000]).map(lambda p: damaged("route:path", path=p)),
        ]
    # query: the Action, the Version, the signing scope
    body = request.body
    return [
        names.map(lambda n: damaged("route:action", body.replace(
            f"Action={op}".encode(), b"Action=" + urllib.parse.quote(n, safe="").encode(), 1))),
        st.just(damaged("route:no-action", body.replace(f"Action={op}&".encode(), b"", 1))),
        st.just(damaged("route:two-actions", body + b"&Action=DeleteAlarms")),
        st.sampled_from([b"Version=", b"Version=1999-01-01", b"Version=%FF"]).map(
            lambda v: damaged("route:version", re.sub(rb"Version=[^&]*", v, body, count=1))),
        st.sampled_from(["AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/logs/aws4_request",
                         "AWS4-HMAC-SHA256 Credential=/", "Bearer x", "\xff" * 100]).map(
            lambda a: damaged("route:scope", headers=with_header("Authorization", a))),
        st.just(damaged("route:get", b"", method="GET", path="/?" + body.decode("ascii"))),
    ]


# -- the sweep: a hostile value at each member of a request that worked ------------------------

# A member a tree does not have, as a slot the sweep can fill.
ABSENT = object()


def sweep(target: Target, tree) -> list[FuzzRequest]:
    """Requests that each differ from ``tree`` (best: one the server accepted) at one member, set
    to one of a few values that have broken servers: so that a value which breaks the service
    only when everything around it is right gets there (random mutations of random requests
    rarely put it in such company). Members absent from the tree are filled too. Written in the
    protocol's first framing; the damage names the member and the value."""
    shape = target.model.input_shape
    if shape is None or not isinstance(tree, dict):
        return []
    found = []
    for path, member, current in _members(tree, shape):
        for label, value in hostile_values(member, target.protocol, current):
            mutated = copy.deepcopy(tree)
            _put(mutated, path, value)
            request = wire(target, mutated, FRAMINGS[target.protocol][0])
            found.append(replace(request, mode="sweep", damage=f"{'.'.join(map(str, path))}={label}"))
    return found


def _members(tree: dict, shape: Shape, path: tuple = ()):
    """(path, shape, value or ABSENT) of every member of a valid tree: those present at any depth
    (a list by its first item, a map by its first entry) and those absent from each structure."""
    for name, member in shape.members.items():
        value = tree.get(name, ABSENT)
        yield path + (name,), member, value
        yield from _inside(value, member, path + (name,))


def _inside(value, shape: Shape, path: tuple):
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        yield from _members(value, shape, path)
    elif kind == "list" and isinstance(value, list) and value:
        yield path + (0,), shape.member, value[0]
        yield from _inside(value[0], shape.member, path + (0,))
    elif kind == "map" and isinstance(value, dict) and value:
        key = next(iter(value))
        yield path + (key,), shape.value, value[key]
        yield from _inside(value[key], shape.value, path + (key,))


def _put(tree, path: tuple, value) -> None:
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def hostile_values(shape: Shape, protocol: str, current=ABSENT) -> list[tuple[str, object]]:
    """The sweep's few values for a member of ``shape`` now holding ``current``, each with a
    label for reports: numbers past what the type holds, non-finite doubles, empty, NUL and
    lone-surrogate text, text past its length, timestamps past year 9999, nulls in lists and
    maps, a list one item too long, a structure with a member the model does not have (holding
    what only this protocol can carry), without one it requires, or empty where it may be."""
    kind = shape.type_name
    meta = shape.metadata
    if kind in _INTEGER_RANGE:
        return [("2**31", 2**31), ("2**63", 2**63), ("-2**63-1", -(2**63) - 1), ("2**1024", 2**1024)]
    if kind in ("float", "double"):
        non_finite = [("'NaN'", "NaN"), ("'-Infinity'", "-Infinity")] if protocol == JSON else \
            [("NaN", math.nan), ("-inf", -math.inf)]
        return [("2**1024", 2**1024), ("1e308", 1e308), *non_finite]
    if kind == "timestamp":
        return [("year 10000", Instant(_TIMESTAMP_LIMITS[1] + 1)), ("1e300", Instant(1e300)), ("'soon'", "soon")]
    if kind == "string":
        longest = meta.get("max")
        return [("''", ""), ("NUL and a lone surrogate", "a\x00\ud800"),
                ("too long", "a" * (int(longest) + 1 if longest is not None else 100_000))]
    if kind == "boolean":
        return [("'true'", "true")]
    if kind == "list":
        values = [("[null]", [None]), ("[[]]", [[]])]
        most = meta.get("max")
        if most is not None and isinstance(current, list) and current and int(most) < _HUGE_LIST:
            values.append(("one item too many", [current[0]] * (int(most) + 1)))
        return values
    if kind == "map":
        return [("{k: null}", {"k": None})]
    if kind == "structure":
        base = current if isinstance(current, dict) else {}
        values = [("unknown member", {**base, "NotInTheModel": _odd_unknown_value(protocol)}), ("[]", [])]
        if not shape.required_members and base:
            values.append(("{}", {}))  # valid by the model, and what a service may not expect
        required = [m for m in shape.required_members if m in base]
        if required:
            values.append((f"without {required[0]}", {k: v for k, v in base.items() if k != required[0]}))
        return values
    return []


def _odd_unknown_value(protocol: str):
    """What a member the model does not have may hold: a value that contains itself (CBOR), or
    a mixed bag of JSON values, or form fields nested deeper than any shape."""
    if protocol == CBOR:
        return CBOR_ODDITIES[0]
    if protocol == JSON:
        return RawJSON(b'{"a": [1, "x", null, {"b": true}, 1e308, -0.0, "\\ud800"]}')
    return QueryPairs(((".a.b.member.1", "x"),))
