"""EventBridge event patterns: compiled once, matched against events many times.

    compile_pattern(text) -> EventPattern          (raises InvalidEventPattern)
    pattern.matches(event) -> bool                  (event: the parsed JSON of an event)
    pattern.matches_flat(flatten_event(event))      (flatten once, test many rules: PutEvents)

Where the semantics come from
-----------------------------
EventBridge matches with AWS's own open-source engine, aws/event-ruler (Apache-2.0), whose
``JsonRuleCompiler`` writes the ``Reason:`` of every ``InvalidEventPatternException`` seen in
AWS-recorded answers. This module follows that engine's model rather than the prose of the user
guide, because the recorded answers follow the engine where the two disagree:

* A pattern compiles into *branches* (one per combination of ``$or`` alternatives); a branch
  tests *fields*, named by the dot-joined path of keys (``detail.state``); an event is flattened
  into leaves named the same way. So an event key ``"state.status"`` and the nested
  ``{"state": {"status": ...}}`` are the same field, and a pattern key ``"state.status"`` matches
  the nested event too (localstack AWS-validated cases ``dot_joining_event``,
  ``dot_joining_pattern``); ``dot_joining_*_NEG`` are the same rule seen from the other side.
* Only leaves exist: ``exists: true`` on an object is false, an empty array or object has no
  leaf (``exists_dynamodb_NEG``, ``exists_list_empty_NEG``, ``arrays_empty_null_NEG``), and
  ``exists: false`` holds when any step of the path is missing (``content_exists_false``).
* The engine compares values in their JSON form: a string is its text *in quotes*, a number,
  ``true``, ``false`` and ``null`` their bare text. So ``prefix``/``suffix``/``wildcard``/
  ``equals-ignore-case`` never match a number, ``["null"]`` is not ``[null]``, and every
  ``anything-but`` form matches a ``null`` or a number whose text is not excluded
  (``content_anything_*_null``, ``content_anything_prefix_int_value``), but never a missing
  field (``*_missing_NEG``).
* Numbers are compared as event-ruler's ``ComparableNumber``: ``(long)(1e6 * (5e9 + x))``, so
  only numbers within -5e9..5e9 compare numerically, to 6 decimals, and ``300`` equals
  ``300.0`` (``number_comparison_float``, contradicting the user guide's "300, 300.0 and 3.0e2
  are not considered equal"). A number in a value list matches both numerically and by its text,
  so an out-of-range number (an account id) still matches itself.
* A string value that parses as an IPv4/IPv6 address matches as an address, and ``cidr`` ranges
  run from the address *as written* (not the network address) to its last host
  (event-ruler ``CIDR.ipToRangeIfPossible`` / ``CIDR.cidr``).
* Fields from one array of objects must come from the same element ("array consistency",
  event-ruler ``ArrayMembership``); not covered by a recorded AWS case.
* A repeated key is not "last wins" as such: the engine reads the pattern as a stream and a
  later rule for the same field replaces the earlier one (``complex_multi_key_event_pattern``),
  while repeated *objects* add their fields together. Values are validated in the order written,
  so an error in an overwritten value is still reported.

Messages are AWS's ``Reason:`` text (the recorded ``Message``); AWS appends a Jackson source
location (``\\n at [Source: (String)"..."; line: 1, column: N]``) to most of them, which this
module writes only for JSON syntax errors (recorded with it). See docs in
tests/unit/event_pattern_cases/README.md for the corpus each rule is held to.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

REASON = "Event pattern is not valid. Reason: "

# event-ruler Constants: RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP.
_RESERVED_IN_OR = frozenset({
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
    "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
    "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
    "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
})
# "A rule can have up to 1000 combinations of $or" (aws-behaviour.md §5.4); AWS's wording of the
# refusal is not recorded anywhere we could find, so the message below is ours.
MAX_OR_COMBINATIONS = 1000
# Jackson's StreamReadConstraints default; AWS parses patterns with Jackson. Unrecorded.
MAX_NESTING_DEPTH = 1000
# The byte-machine complexity above which AWS answers "Rule is too complex" is not published.
# Our measure (``_wildcard_complexity``) counts NFA positions, not event-ruler's byte states, so
# the limit is calibrated on the two AWS-recorded wildcard cases instead:
# "/Users/*/dir/dir/dir/dir/dir/doc.txt" (accepted; ours: 8) and "*:*:*:*:*:event-bus/*"
# (refused: "Rule is too complex"; ours: 11). Patterns near the limit may be judged differently.
MAX_WILDCARD_COMPLEXITY = 10
_TOO_COMPLEX = ("Rule is too complex - try using fewer wildcard characters or fewer repeating "
                "character sequences after a wildcard character")

_FIVE_BILLION = 5e9


class InvalidEventPattern(Exception):
    """InvalidEventPatternException: ``message`` is AWS's full message text."""

    def __init__(self, reason: str):
        self.message = REASON + reason
        super().__init__(self.message)


# --------------------------------------------------------------------------------------------
# Reading the pattern text: JSON, with members kept in order (duplicates included) and numbers
# keeping the text they were written as.


class _Members(list):
    """A JSON object as its (key, value) pairs, in order, repeats kept."""


class _Number(float):
    """A JSON number of the pattern, remembering its text (event-ruler matches that text too)."""

    text: str

    def __new__(cls, text: str):
        try:
            value = float(text)
        except OverflowError:  # pragma: no cover - float() saturates to inf instead
            value = math.inf
        number = super().__new__(cls, value)
        number.text = text
        return number


def _reject_constant(name: str):
    # Python's json accepts NaN/Infinity; Jackson does not.
    raise json.JSONDecodeError(f"Unrecognized token '{name}'", "", 0)


def _source_location(text: str, index: int) -> str:
    # Jackson's location suffix; AWS includes it in the message of JSON syntax errors. Its column
    # is 1-based and counts from where the parser stands: after an unrecognized token, on an
    # unexpected character (the recorded cases: columns 5, 15 and 2).
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    shown = text if len(text) <= 500 else text[:500] + f"[truncated {len(text) - 500} chars]"
    return f'\n at [Source: (String)"{shown}"; line: {line}, column: {column}]'


_EXPECTING_VALUE = ("was expecting (JSON String, Number, Array, Object or token 'null', "
                    "'true' or 'false')")


def _jackson_syntax_error(text: str, error: json.JSONDecodeError) -> InvalidEventPattern:
    """Words Python's JSON syntax error as Jackson does for the cases AWS recorded."""
    pos = min(error.pos, len(text))
    char = text[pos] if pos < len(text) else ""
    if error.msg.startswith("Expecting property name"):
        if char:
            return InvalidEventPattern(
                f"Unexpected character ('{char}' (code {ord(char)})): was expecting "
                f"double-quote to start field name" + _source_location(text, pos))
    if char and (char.isalpha() or char in "_$"):
        end = pos
        while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
            end += 1
        token = text[pos:end]
        return InvalidEventPattern(f"Unrecognized token '{token}': {_EXPECTING_VALUE}"
                                   + _source_location(text, end))
    if not char:
        return InvalidEventPattern("Unexpected end-of-input" + _source_location(text, pos))
    return InvalidEventPattern(
        f"Unexpected character ('{char}' (code {ord(char)})): {error.msg}"
        + _source_location(text, pos))


def _nesting_depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _read_json(text: str) -> Any:
    depth = _nesting_depth(text)
    if depth > MAX_NESTING_DEPTH:
        raise InvalidEventPattern(
            f"Document nesting depth ({MAX_NESTING_DEPTH + 1}) exceeds the maximum allowed "
            f"({MAX_NESTING_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)")
    try:
        return json.loads(text, object_pairs_hook=_Members, parse_float=_Number,
                          parse_int=_Number, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise _jackson_syntax_error(text, error) from None


# --------------------------------------------------------------------------------------------
# Values as event-ruler sees them.


def _comparable(number: float) -> int | None:
    """event-ruler ComparableNumber: None outside -5e9..5e9 (no numeric comparison there)."""
    if isinstance(number, bool) or not math.isfinite(number):
        return None
    if number < -_FIVE_BILLION or number > _FIVE_BILLION:
        return None
    return int(1e6 * (_FIVE_BILLION + float(number)))


def _comparable_bound(value: Any) -> int:
    comparable = _comparable(value)
    if comparable is None:
        raise InvalidEventPattern("Value must be between -5.0E9 and 5.0E9, inclusive")
    return comparable


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_text(value: Any) -> str:
    if isinstance(value, _Number):
        return value.text
    return repr(value) if isinstance(value, float) else str(value)


def _bare_text(value: Any) -> str:
    """The JSON text of a non-string leaf: how exact matches of numbers/true/false/null compare."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _number_text(value)


_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV6 = re.compile(r"[0-9a-fA-F:]*:[0-9a-fA-F:]*")


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address when event-ruler would read ``text`` as one (its regexes, then the parse)."""
    if not (_IPV4.fullmatch(text) or _IPV6.fullmatch(text)):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class _AddressRange:
    version: int
    low: int
    high: int

    def contains(self, text: str) -> bool:
        address = _ip_address(text)
        return (address is not None and address.version == self.version
                and self.low <= int(address) <= self.high)


def _cidr_range(text: str) -> _AddressRange:
    # event-ruler CIDR.cidr: Java's String.split drops trailing empty parts; the mask is read
    # before the address, and the range starts at the address as written.
    parts = text.split("/")
    while parts and parts[-1] == "":
        parts.pop()
    if len(parts) != 2:
        raise InvalidEventPattern("Malformed CIDR, one '/' required")
    if not re.fullmatch(r"[+-]?[0-9]+", parts[1]) or abs(int(parts[1])) > 2**31 - 1:
        raise InvalidEventPattern("Malformed CIDR, mask bits must be an integer")
    mask = int(parts[1])
    if mask < 0:
        raise InvalidEventPattern("Malformed CIDR, mask bits must not be negative")
    ip = parts[0]
    if not (_IPV4.fullmatch(ip) or _IPV6.fullmatch(ip)):
        raise InvalidEventPattern(f"Nonstandard IP address: {ip}")
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidEventPattern(f"Invalid IP address: {ip}") from None
    bits = 32 if address.version == 4 else 128
    if mask > bits - 1:
        raise InvalidEventPattern(f"IPv{address.version} mask bits must be < {bits}")
    host_bits = (1 << (bits - mask)) - 1
    return _AddressRange(address.version, int(address), int(address) | host_bits)


def _address_range(text: str) -> _AddressRange | None:
    address = _ip_address(text)
    if address is None:
        return None
    return _AddressRange(address.version, int(address), int(address))


# --------------------------------------------------------------------------------------------
# Wildcards: only ``*`` is special; ``\*`` and ``\\`` escape; any other backslash and ``**`` are
# errors whose position counts UTF-8 bytes of the value *in quotes* (event-ruler WildcardParser).


def _wildcard_parts(pattern: str) -> tuple[str, ...]:
    """The literal pieces between stars: ``a*b`` -> ("a", "b"); raises AWS's parse errors."""
    quoted = ('"' + pattern + '"').encode()
    pieces: list[bytearray] = [bytearray()]
    i = 0
    while i < len(quoted):
        byte = quoted[i]
        if byte == 0x2A:  # *
            if i + 1 < len(quoted) and quoted[i + 1] == 0x2A:
                raise InvalidEventPattern(f"Consecutive wildcard characters at pos {i}")
            pieces.append(bytearray())
        elif byte == 0x5C:  # backslash
            if i + 1 < len(quoted) and quoted[i + 1] in (0x2A, 0x5C):
                pieces[-1].append(quoted[i + 1])
                i += 2
                continue
            raise InvalidEventPattern(f"Invalid escape character at pos {i}")
        else:
            pieces[-1].append(byte)
        i += 1
    # Strip the quotes again: matching happens on the unquoted string.
    pieces[0] = pieces[0][1:]
    pieces[-1] = pieces[-1][:-1]
    return tuple(piece.decode("utf-8", "surrogatepass") for piece in pieces)


def _wildcard_complexity(parts: tuple[str, ...]) -> int:
    """How many positions of the pattern one input can be at together (event-ruler's measure of
    a byte machine, for one wildcard): the most states any input reaches in the pattern's NFA."""
    if len(parts) == 1:
        return 1
    # Positions: a literal character to match next, or a star (which loops on anything).
    tokens: list[str | None] = []
    for index, part in enumerate(parts):
        tokens.extend(part)
        if index < len(parts) - 1:
            tokens.append(None)

    def closure(states: Iterable[int]) -> frozenset[int]:
        result = set()
        for state in states:
            result.add(state)
            while state < len(tokens) and tokens[state] is None:
                state += 1
                result.add(state)
        return frozenset(result)

    alphabet = {token for token in tokens if token is not None} | {"\x00other"}
    start = closure([0])
    seen = {start}
    pending = [start]
    worst = len(start)
    while pending:
        states = pending.pop()
        for char in alphabet:
            after = set()
            for state in states:
                if state < len(tokens):
                    if tokens[state] is None:
                        after.add(state)
                    elif tokens[state] == char:
                        after.add(state + 1)
            following = closure(after)
            if following and following not in seen:
                worst = max(worst, len(following))
                if worst > MAX_WILDCARD_COMPLEXITY:
                    return worst
                seen.add(following)
                pending.append(following)
    return worst


def _wildcard_matches(parts: tuple[str, ...], text: str) -> bool:
    if len(parts) == 1:
        return text == parts[0]
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for part in middle:  # leftmost placement of each piece is optimal for a glob
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


# --------------------------------------------------------------------------------------------
# Value tests: each accepts one leaf value (str, int, float, bool or None).

ValueTest = Callable[[Any], bool]


def _exact_string(expected: str) -> ValueTest:
    address = _address_range(expected)
    if address is not None:
        return lambda value: (isinstance(value, str)
                              and (value == expected or address.contains(value)))
    return lambda value: isinstance(value, str) and value == expected


def _exact_number(number: _Number) -> ValueTest:
    text, comparable = number.text, _comparable(number)

    def test(value: Any) -> bool:
        if not _is_number(value):
            return False
        return ((comparable is not None and _comparable(value) == comparable)
                or _number_text(value) == text)
    return test


def _exact_bare(text: str) -> ValueTest:
    return lambda value: not isinstance(value, str) and _bare_text(value) == text


def _prefix(prefix: str, ignore_case: bool = False) -> ValueTest:
    # '"' + prefix against '"' + value + '"': a prefix may run into the closing quote.
    if ignore_case:
        folded = prefix.lower()
        return lambda value: isinstance(value, str) and (value + '"').lower().startswith(folded)
    return lambda value: isinstance(value, str) and (value + '"').startswith(prefix)


def _suffix(suffix: str, ignore_case: bool = False) -> ValueTest:
    if ignore_case:
        folded = suffix.lower()
        return lambda value: isinstance(value, str) and ('"' + value).lower().endswith(folded)
    return lambda value: isinstance(value, str) and ('"' + value).endswith(suffix)


def _equals_ignore_case(expected: str) -> ValueTest:
    folded = expected.lower()
    return lambda value: isinstance(value, str) and value.lower() == folded


def _wildcard(pattern: str) -> ValueTest:
    parts = _wildcard_parts(pattern)
    if _wildcard_complexity(parts) > MAX_WILDCARD_COMPLEXITY:
        raise InvalidEventPattern(_TOO_COMPLEX)
    return lambda value: isinstance(value, str) and _wildcard_matches(parts, value)


def _numeric_range(low: int | None, low_open: bool, high: int | None, high_open: bool) -> ValueTest:
    def test(value: Any) -> bool:
        if not _is_number(value):
            return False
        comparable = _comparable(value)
        if comparable is None:
            return False
        if low is not None and (comparable <= low if low_open else comparable < low):
            return False
        if high is not None and (comparable >= high if high_open else comparable > high):
            return False
        return True
    return test


def _negation(excluded: ValueTest) -> ValueTest:
    return lambda value: not excluded(value)


# --------------------------------------------------------------------------------------------
# Compiling: the order and wording of every check follow event-ruler's JsonRuleCompiler.


@dataclass(frozen=True)
class _FieldRule:
    """What one field must satisfy: a leaf passing any test, or (absent_ok) no leaf at all."""

    tests: tuple[ValueTest, ...]
    exists: bool       # some {"exists": true}: any leaf will do
    absent_ok: bool    # some {"exists": false}


def _is_array(value: Any) -> bool:
    return isinstance(value, list) and not isinstance(value, _Members)


def _single_key(members: _Members, what: str = "Only one key allowed in match expression"):
    if len(members) != 1:
        raise InvalidEventPattern(what)


def _compile_numeric(operand: Any) -> ValueTest:
    if not _is_array(operand):
        raise InvalidEventPattern("Value of numeric must be an array.")
    items = list(operand)

    def describe(item: Any) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, _Members):
            return "{"
        if isinstance(item, list):
            return "["
        return _bare_text(item)

    if not items or not isinstance(items[0], str):
        raise InvalidEventPattern("Invalid member in numeric match: "
                                  + (describe(items[0]) if items else "]"))
    operator, rest = items[0], items[1:]
    names = {"=": "equals", ">=": ">=", ">": ">", "<=": "<=", "<": "<"}
    if operator not in names:
        raise InvalidEventPattern(f"Unrecognized numeric range operator: {operator}")
    if not rest or not _is_number(rest[0]):
        raise InvalidEventPattern(f"Value of {names[operator]} must be numeric")
    bound = _comparable_bound(rest[0])
    rest = rest[1:]
    if operator in ("=", "<=", "<"):
        if rest:
            raise InvalidEventPattern("Too many elements in numeric expression")
        if operator == "=":
            return _numeric_range(bound, False, bound, False)
        return _numeric_range(None, False, bound, operator == "<")
    low_open = operator == ">"
    if not rest:
        return _numeric_range(bound, low_open, None, False)
    if not isinstance(rest[0], str):
        raise InvalidEventPattern(f"Bad value in numeric range: {describe(rest[0])}")
    top_operator = rest[0]
    if top_operator not in ("<", "<="):
        raise InvalidEventPattern(f"Bad numeric range operator: {top_operator}")
    if len(rest) < 2 or not _is_number(rest[1]):
        raise InvalidEventPattern(f"Value of {top_operator} must be numeric")
    top = _comparable_bound(rest[1])
    if len(rest) > 2:
        raise InvalidEventPattern("Too many terms in numeric range expression")
    return _numeric_range(bound, low_open, top, top_operator == "<")


def _compile_anything_but(operand: Any) -> ValueTest:
    kind = "anything-but"
    if isinstance(operand, _Members):
        if not operand:
            raise InvalidEventPattern("Anything-But expression name not found")
        kind, operand_value = operand[0]
        if kind not in ("equals-ignore-case", "prefix", "suffix", "wildcard"):
            raise InvalidEventPattern(f"Unsupported anything-but pattern: {kind}")
        inner_extra = len(operand) > 1
        operand = operand_value
    else:
        inner_extra = False
    if not (_is_array(operand) or isinstance(operand, str) or _is_number(operand)):
        raise InvalidEventPattern(
            "Value of anything-but must be an array or single string/number value.")
    values = operand if _is_array(operand) else [operand]

    if kind == "anything-but":
        if _is_array(operand):
            for value in values:
                if not (isinstance(value, str) or _is_number(value)):
                    raise InvalidEventPattern(
                        "Inside anything but list, start|null|boolean is not supported.")
            has_number = any(_is_number(value) for value in values)
            has_string = any(isinstance(value, str) for value in values)
            if has_number == has_string:
                raise InvalidEventPattern("Inside anything but list, either all values are number "
                                          "or string, mixed type is not supported")
        strings = frozenset(value for value in values if isinstance(value, str))
        numbers = frozenset(_comparable_bound(value) for value in values if _is_number(value))

        def excluded(value: Any) -> bool:
            if isinstance(value, str):
                return value in strings
            return _is_number(value) and _comparable(value) in numbers
        test = _negation(excluded)
    else:
        for value in values:
            if not isinstance(value, str):
                if kind == "equals-ignore-case":
                    raise InvalidEventPattern("Inside anything-but/equals-ignore-case list, "
                                              "number|start|null|boolean is not supported.")
                if kind == "wildcard":
                    raise InvalidEventPattern("wildcard match pattern must be a string")
                raise InvalidEventPattern("prefix/suffix match pattern must be a string")
            if kind in ("prefix", "suffix") and value == "":
                raise InvalidEventPattern("Null prefix/suffix not allowed")
        if kind == "equals-ignore-case":
            tests = [_equals_ignore_case(value) for value in values]
        elif kind == "prefix":
            tests = [_prefix(value) for value in values]
        elif kind == "suffix":
            tests = [_suffix(value) for value in values]
        else:
            tests = [_wildcard(value) for value in values]
        test = _negation(lambda value: any(each(value) for each in tests))
    if inner_extra:
        raise InvalidEventPattern("Too many elements in numeric expression")
    return test


def _compile_affix(operator: str, operand: Any) -> ValueTest:
    build = _prefix if operator == "prefix" else _suffix
    if isinstance(operand, _Members):
        if not operand:
            raise InvalidEventPattern(f"{operator.capitalize()} expression name not found")
        inner, value = operand[0]
        if inner != "equals-ignore-case":
            raise InvalidEventPattern(f"Unsupported {operator} pattern: {inner}")
        if not isinstance(value, str):
            raise InvalidEventPattern("equals-ignore-case match pattern must be a string")
        _single_key(operand)
        return build(value, ignore_case=True)
    if not isinstance(operand, str):
        raise InvalidEventPattern(f"{operator} match pattern must be a string")
    return build(operand)


@dataclass
class _Operator:
    test: ValueTest | None = None
    exists: bool = False
    absent: bool = False


def _compile_operator(members: _Members) -> _Operator:
    if not members:
        raise InvalidEventPattern("Match expression name not found")
    name, operand = members[0]
    if name == "exactly":
        if not isinstance(operand, str):
            raise InvalidEventPattern("exact match pattern must be a string")
        result = _Operator(lambda value, expected=operand: (isinstance(value, str)
                                                            and value == expected))
    elif name in ("prefix", "suffix"):
        result = _Operator(_compile_affix(name, operand))
    elif name == "numeric":
        result = _Operator(_compile_numeric(operand))
    elif name == "anything-but":
        result = _Operator(_compile_anything_but(operand))
    elif name == "exists":
        if operand is not True and operand is not False:
            raise InvalidEventPattern("exists match pattern must be either true or false.")
        result = _Operator(exists=operand is True, absent=operand is False)
    elif name == "cidr":
        if not isinstance(operand, str):
            raise InvalidEventPattern("prefix match pattern must be a string")
        address_range = _cidr_range(operand)
        result = _Operator(lambda value: isinstance(value, str) and address_range.contains(value))
    elif name == "equals-ignore-case":
        if not isinstance(operand, str):
            raise InvalidEventPattern("equals-ignore-case match pattern must be a string")
        result = _Operator(_equals_ignore_case(operand))
    elif name == "wildcard":
        if not isinstance(operand, str):
            raise InvalidEventPattern("wildcard match pattern must be a string")
        result = _Operator(_wildcard(operand))
    else:
        raise InvalidEventPattern(f"Unrecognized match type {name}")
    if len(members) > 1:
        if name in ("numeric", "anything-but"):
            raise InvalidEventPattern("Too many elements in numeric expression")
        raise InvalidEventPattern("Only one key allowed in match expression")
    return result


def _compile_values(values: list) -> _FieldRule:
    tests: list[ValueTest] = []
    exists = absent_ok = False
    for value in values:
        if isinstance(value, _Members):
            operator = _compile_operator(value)
            exists |= operator.exists
            absent_ok |= operator.absent
            if operator.test is not None:
                tests.append(operator.test)
        elif isinstance(value, str):
            tests.append(_exact_string(value))
        elif isinstance(value, _Number):
            tests.append(_exact_number(value))
        elif value is None or isinstance(value, bool):
            tests.append(_exact_bare(_bare_text(value)))
        else:
            raise InvalidEventPattern("Match value must be String, number, true, false, or null")
    if not values:
        raise InvalidEventPattern("Empty arrays are not allowed")
    return _FieldRule(tuple(tests), exists, absent_ok)


Branch = dict  # field path -> _FieldRule, in the order written


def _compile_object(members: _Members, path: tuple[str, ...], branches: list[Branch],
                    inside_or: bool) -> list[Branch]:
    if not members:
        raise InvalidEventPattern("Empty objects are not allowed")
    for key, value in members:
        if key == "$or":
            branches = _compile_or(value, path, branches)
            continue
        if inside_or and key in _RESERVED_IN_OR:
            raise InvalidEventPattern(
                f"{key} is Ruler reserved fieldName which cannot be used inside $or.")
        if isinstance(value, _Members):
            branches = _compile_object(value, path + (key,), branches, inside_or)
        elif _is_array(value):
            rule = _compile_values(value)
            branches = branches or [{}]
            name = ".".join(path + (key,))
            for branch in branches:
                branch.pop(name, None)  # a later rule replaces an earlier one, in place of order
                branch[name] = rule
        else:
            raise InvalidEventPattern(f'"{key}" must be an object or an array')
    return branches


def _compile_or(value: Any, path: tuple[str, ...], branches: list[Branch]) -> list[Branch]:
    if not _is_array(value):
        raise InvalidEventPattern("It must be an Array followed with $or.")
    result: list[Branch] = []
    for alternative in value:
        if not isinstance(alternative, _Members):
            raise InvalidEventPattern("Only JSON object is allowed in array of $or relationship.")
        copies = [dict(branch) for branch in branches] or [{}]
        result.extend(_compile_object(alternative, path, copies, inside_or=True))
        if len(result) > MAX_OR_COMBINATIONS:
            raise InvalidEventPattern(
                f"The event pattern has more than {MAX_OR_COMBINATIONS} combinations of $or")
    if len(value) < 2:
        raise InvalidEventPattern("There must have at least 2 Objects in $or relationship.")
    return result


# --------------------------------------------------------------------------------------------
# Events: flattened once into leaves; each leaf remembers which element of which array it is in.


@dataclass(frozen=True)
class Leaf:
    value: Any
    # ((array id, element index), ...) from the outermost array in: two leaves are "array
    # consistent" when they agree on the index of every array they share.
    elements: tuple[tuple[int, int], ...] = ()


FlatEvent = dict  # field path -> list[Leaf]


def flatten_event(event: Any) -> FlatEvent:
    """Every leaf of ``event`` under its dot-joined path (iterative: events nest 1000 deep)."""
    leaves: FlatEvent = {}
    stack: list[tuple[str, Any, tuple]] = [("", event, ())]
    next_array = 0
    while stack:
        path, value, elements = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                stack.append((f"{path}.{key}" if path else key, child, elements))
        elif isinstance(value, list):
            array, next_array = next_array, next_array + 1
            for index, child in enumerate(value):
                stack.append((path, child, elements + ((array, index),)))
        elif path:
            leaves.setdefault(path, []).append(Leaf(value, elements))
    return leaves


def _consistent_choice(candidates: list[list[Leaf]]) -> bool:
    """Is there one leaf per field such that all are array consistent? (backtracking)"""
    candidates = sorted(candidates, key=len)
    chosen: dict[int, int] = {}

    def extend(depth: int) -> bool:
        if depth == len(candidates):
            return True
        for leaf in candidates[depth]:
            added = []
            ok = True
            for array, index in leaf.elements:
                current = chosen.get(array)
                if current is None:
                    chosen[array] = index
                    added.append(array)
                elif current != index:
                    ok = False
                    break
            if ok and extend(depth + 1):
                return True
            for array in added:
                del chosen[array]
        return False
    return extend(0)


def _branch_matches(branch: Branch, flat: FlatEvent) -> bool:
    candidates = None
    for path, rule in branch.items():
        leaves = flat.get(path)
        if not leaves:
            if rule.absent_ok:
                continue
            return False
        if rule.exists:
            passing = leaves
        else:
            passing = [leaf for leaf in leaves if any(test(leaf.value) for test in rule.tests)]
            if not passing:
                return False
        # Fast path: leaves outside any array never conflict; only fields whose passing leaves
        # all sit in arrays need the consistency search.
        if all(leaf.elements for leaf in passing):
            (candidates := candidates or []).append(passing)
    if not candidates or len(candidates) == 1:
        return True
    return _consistent_choice(candidates)


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventPattern:
    """A compiled pattern: an event matches when any branch matches."""

    text: str
    branches: tuple[Branch, ...]

    def matches(self, event: Any) -> bool:
        return self.matches_flat(flatten_event(event))

    def matches_flat(self, flat: FlatEvent) -> bool:
        return any(_branch_matches(branch, flat) for branch in self.branches)


def compile_pattern(text: str) -> EventPattern:
    document = _read_json(text)
    if not isinstance(document, _Members):
        raise InvalidEventPattern("Filter is not an object" + _source_location(text, 1))
    branches = _compile_object(document, (), [], inside_or=False)
    return EventPattern(text, tuple(branches))
