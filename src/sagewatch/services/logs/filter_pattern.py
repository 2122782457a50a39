"""CloudWatch Logs filter patterns: the language of FilterLogEvents, metric filters, subscription
filters and Live Tail, compiled into fast matchers.

    compile_pattern(text) -> FilterPattern      (cached; raises FilterPatternError)
    pattern.matches(message) -> bool
    pattern.extract(message) -> dict[str, str] | None
    pattern.prefilter                            (necessary condition for the SQL store, or None)

Map of the module
-----------------
1. Errors (``FilterPatternError``) and the public ``FilterPattern`` record.
2. Shared pieces: value matchers (wildcards, numbers, ``%regex%``), the restricted regex dialect,
   and the prefilter algebra.
3. One family per section, each "parse -> tree -> compiled closures":
   term patterns (``ERROR ?WARN -DEBUG "a phrase" %re%``), JSON patterns (``{ $.a.b = "x" }``),
   space-delimited patterns (``[ip, user, ..., status = 4*]``).
4. ``compile_pattern``: dispatch on the first character, cached.

Semantics, and where they come from
-----------------------------------
Confirmed by AWS material:

* Empty or whitespace-only pattern, ``""`` and ``" "`` match every event (FilterAndPatternSyntax,
  "Example 1: Match everything"; current page: ``" "``).
* Terms are case sensitive; several terms are ANDed; ``?term`` is OR; ``-term`` excludes;
  ``"..."`` quotes a phrase (FilterAndPatternSyntax, "OR Pattern Matching").
* A bare term matches as a **substring**, not a whole word: the TestMetricFilter API reference
  example matches ``"[ERROR]" Exception`` against ``... [ERROR] Unhanded exception:
  InvalidQueryException`` and the user guide matches ``ERROR`` against ``Exiting with ERRORCODE:
  -1``.
* ``%regex%``: only alphanumerics, ``: _ # = @ / ; , -``, the operators
  ``^ $ ? [ ] { } | \\ * + .``; no ``(``/``)``, no multi-byte characters
  (regex-expressions.html). Real AWS answers a pattern using a forbidden character with
  ``Invalid character(s) in term`` (ministryofjustice/modernisation-platform-environments#5137;
  dougmoscrop/serverless-plugin-log-subscription#47, where the term reported is the single
  offending character). At most 2 regexes in one filter pattern: "a quota of two regular
  expression patterns within a single filter pattern" (PutMetricFilter API reference); for
  FilterLogEvents and Live Tail, "2 regex patterns per filter pattern" (regex-expressions.html,
  "Quotas"). AWS's wording of that error is not known; it gets the generic message below.
* JSON: selectors ``$.a.b``, ``$.a[0]``, ``$.a[1].id``, ``$.c[0][1]``; ``= != < > <= >=``; numbers
  with sign, decimals and exponent; ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS``;
  ``&&``/``||``/parentheses with precedence ``() > && > ||``; a selector that points at an object
  or array matches neither ``=`` nor ``!=``. In a string value ``*`` is a wildcard only at the
  start or end: ``*Event``, ``Event*``; ``Ev*ent`` matches the literal text ``Ev*ent``
  (awsdocs/amazon-cloudwatch-logs-user-guide, FilterAndPatternSyntax.md).
* Space-delimited: ``[...]`` and ``"..."`` group a field (their brackets/quotes are not part of the
  value); ``...`` absorbs any number of fields; without ``...`` the field count must be equal
  (``[w1=ERROR, w2]`` matches ``ERROR message`` but not ``ERROR WARN message``); ``||``/``&&``
  inside one field; extracted values are ``$name`` for named fields and ``$<1-based position>``
  for fields a ``...`` (or an empty name, as in ``[..., status_code=4*,]``) stands for; ``[]``
  matches every event and reports every field by position (TestMetricFilter API reference
  examples). A condition that names another field (``status_code = 4* && bytes > 1000``) is
  rejected, as AWS does (awsdocs/amazon-cloudwatch-logs-user-guide#21).
* Term patterns extract ``{}`` (TestMetricFilter API reference example for ``"[ERROR]"``).

Choices made where AWS behaviour is not documented (what a user would expect):

* Terms: a pattern mixing kinds means "every plain term, at least one ``?`` term (if any), and no
  ``-`` term". A lone ``-`` or ``?`` followed by a space applies to the next term (the old user
  guide writes ``"ERROR" - "Exiting"``). Inside quotes ``\\"`` and ``\\\\`` are escapes. A
  ``%regex%`` may stand among other terms and matches anywhere in the message.
* Regexes mean what they mean to Python's ``re`` (AWS does not name its engine), but run on RE2
  (``sagewatch.regex``), in time linear in the message: ``re`` backtracks, and one regex
  (``%.*.*.*.*.*.*.*.*c%``) held the server for minutes. What RE2 cannot run (possessive
  quantifiers such as ``a*+``, a count above 1000, a program over its memory budget) is an
  invalid pattern. ``\\b``/``\\B`` count only ASCII letters and digits as word characters.
* Unquoted values and terms may contain any non-blank character except the structural ones, but
  typographic quotes (U+201C/U+201D) are rejected with ``Invalid character(s) in term`` (they are
  always a pasting mistake; AWS rejects them too, see serverless-plugin-log-subscription#47).
  Regexes may contain blanks (the list above omits them; ``\\s`` works either way).
* JSON: a pattern never matches a message that is not a JSON object. A comparison against a
  missing selector, ``null``, an object or an array is false for every operator, ``!=``
  included. A number in the pattern compares numerically with JSON numbers and with strings that
  spell a number; ``!=`` with a number is true for any other non-null scalar. A string value
  compares with a JSON string, and with the text of a number or boolean (``true``/``false``);
  ``= *`` matches any non-null scalar. Keywords (``IS NULL`` ...) are case-insensitive.
  ``IS NOT ...`` and bare ``EXISTS`` are rejected (only ``NOT EXISTS`` exists).
* JSON extraction (what TestMetricFilter reports and what ``metricValue``/dimensions can name):
  every selector the pattern names that resolves to a non-null scalar in the matched event,
  keyed by the selector text, e.g. ``{"$.latency": "50"}``; numbers as Python prints them,
  booleans as ``true``/``false``.
* Space-delimited: a message splits on runs of blanks; a ``[`` or ``"`` that opens a field closes
  at the next ``]`` / unescaped ``"``. Wildcards follow the JSON rule (leading/trailing ``*``).
  Field names are ``[A-Za-z_][A-Za-z0-9_-]*``. Several ``...`` are allowed (first fit wins).
* Generic syntax errors carry the FilterLogEvents message ``Invalid filter pattern``
  (aws/aws-toolkit-jetbrains#3219, mapbox/ecs-watchbot#350); ``for_operation()`` gives the
  metric / subscription variants ``Invalid metric filter pattern`` (aws/aws-cdk#16278) and
  ``Invalid subscription filter pattern`` (newrelic/serverless-newrelic-lambda-layers#36).

The prefilter
-------------
``prefilter`` is a tree of ``("substr", s)``, ``("and", [...])``, ``("or", [...])`` that every
message accepted by ``matches()`` satisfies on its raw text, or None. Only provable conditions are
pushed: never a ``-`` term, a ``!=``, a numeric comparison, or a literal shorter than 2
characters. For JSON, a string can be spelled with ``\\uXXXX`` (and ``/`` as ``\\/``), so a value
``v`` becomes ``("or", [v, "\\u"(, "\\/")])``, and literals that could be the text of a number
(``15e-1`` prints as ``1.5``) are not pushed at all.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

import orjson

from ...regex import UserRegexError, compile_user_regex

__all__ = ["FilterPattern", "FilterPatternError", "compile_pattern"]


# ==================================================================================================
# 1. Errors and the public record
# ==================================================================================================

GENERIC_MESSAGE = "Invalid filter pattern"

# Each API words the generic error after itself; the caller knows which API it is serving.
_OPERATION_MESSAGES = {
    "FilterLogEvents": "Invalid filter pattern",
    "StartLiveTail": "Invalid filter pattern",
    "PutMetricFilter": "Invalid metric filter pattern",
    "TestMetricFilter": "Invalid metric filter pattern",
    "PutSubscriptionFilter": "Invalid subscription filter pattern",
}


class FilterPatternError(ValueError):
    """A filter pattern AWS would reject. ``str(e)`` is the AWS message (InvalidParameterException).

    ``detail`` says what is wrong in plain words (for server logs, never sent to the client);
    ``for_operation(op)`` rewords a generic error the way that API does.
    """

    def __init__(self, message: str = GENERIC_MESSAGE, *, detail: str | None = None,
                 generic: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message
        self.generic = generic

    def for_operation(self, operation: str) -> str:
        if self.generic:
            return _OPERATION_MESSAGES.get(operation, self.message)
        return self.message


def _invalid(detail: str) -> FilterPatternError:
    return FilterPatternError(detail=detail)


def _invalid_char(ch: str, where: str) -> FilterPatternError:
    return FilterPatternError(f"Invalid character(s) in term '{ch}'",
                              detail=f"character {ch!r} not allowed in {where}", generic=False)


Prefilter = tuple  # ("substr", str) | ("and", [Prefilter]) | ("or", [Prefilter])


class FilterPattern:
    """A compiled pattern. ``matches``/``extract`` are plain closures stored on the instance:
    they run once per event, so an extra method-call layer is worth avoiding."""

    __slots__ = ("text", "kind", "matches", "extract", "prefilter", "regex_count", "field_names")

    text: str                                          # the pattern as given ("" for None)
    kind: str                                          # "all" | "terms" | "json" | "delimited"
    matches: Callable[[str], bool]
    extract: Callable[[str], dict[str, str] | None]    # None when the message does not match
    prefilter: Prefilter | None
    regex_count: int                                   # for the "5 regex patterns per group" quota
    field_names: frozenset[str]                        # "$.a.b" / "$name" the pattern can extract

    def __init__(self, text: str, kind: str, matches: Callable[[str], bool],
                 extract: Callable[[str], dict[str, str] | None], prefilter: Prefilter | None,
                 regex_count: int = 0, field_names: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.kind = kind
        self.matches = matches
        self.extract = extract
        self.prefilter = prefilter
        self.regex_count = regex_count
        self.field_names = field_names

    def __repr__(self) -> str:
        return f"FilterPattern({self.text!r}, kind={self.kind!r})"


def _always(_message: str) -> bool:
    return True


def _extract_nothing(_message: str) -> dict[str, str]:
    return {}


# ==================================================================================================
# 2. Shared pieces
# ==================================================================================================

# --- prefilter algebra ---------------------------------------------------------------------------

_MIN_LITERAL = 2  # a one-character instr() costs a scan and rejects almost nothing


def _substr(text: str | None) -> Prefilter | None:
    return ("substr", text) if text is not None and len(text) >= _MIN_LITERAL else None


def _pf_and(parts: list[Prefilter | None]) -> Prefilter | None:
    # An unknown conjunct can be dropped: the rest stays necessary.
    flat: list[Prefilter] = []
    for p in parts:
        if p is None:
            continue
        for q in (p[1] if p[0] == "and" else [p]):
            if q not in flat:
                flat.append(q)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else ("and", flat)


def _pf_or(parts: list[Prefilter | None]) -> Prefilter | None:
    # An unknown disjunct makes the whole disjunction unknown.
    if not parts or any(p is None for p in parts):
        return None
    flat: list[Prefilter] = []
    for p in parts:
        for q in (p[1] if p[0] == "or" else [p]):  # type: ignore[index]
            if q not in flat:
                flat.append(q)
    return flat[0] if len(flat) == 1 else ("or", flat)


_NUMBER_TEXT_CHARS = frozenset("0123456789.eE+-")


def _json_literal(text: str | None) -> Prefilter | None:
    """What the raw JSON text must contain when a decoded string contains ``text``."""
    if text is None or len(text) < _MIN_LITERAL:
        return None
    if any(c in '"\\' or c < " " for c in text):
        return None  # always escaped in raw JSON; the decoded form never appears
    if all(c in _NUMBER_TEXT_CHARS for c in text):
        return None  # may be the printed form of a number spelled differently (15e-1 -> 1.5)
    alternatives = [("substr", text), ("substr", "\\u")]
    if "/" in text:
        alternatives.append(("substr", "\\/"))
    return ("or", alternatives)


# --- the restricted regex dialect -----------------------------------------------------------------

_REGEX_ALLOWED = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    ":_#=@/;,-"          # symbols the documentation lists
    "^$?[]{}|\\*+."      # operators it lists
    " \t"                # blanks: not listed, accepted here (see module docstring)
)


class _Regex:
    """A ``%...%`` regex: validated against the AWS dialect, run by RE2 (``sagewatch.regex``):
    Python's syntax and answers, in time linear in the message, whatever the pattern."""

    __slots__ = ("body", "contains_match", "literals")

    def __init__(self, body: str) -> None:
        if not body:
            raise _invalid("empty regex %%")
        for ch in body:
            if ch not in _REGEX_ALLOWED:
                raise _invalid_char(ch, "a regex")
        try:
            self.contains_match: Callable[[str], bool] = compile_user_regex(body).contains_match
        except UserRegexError as exc:
            raise _invalid(f"bad regex %{body}%: {exc}") from None
        self.body = body
        # One necessary literal per |-alternative (there are no groups, so | is always top level).
        self.literals = [_required_literal(alt) for alt in _split_alternatives(body)]

    def prefilter(self, literal: Callable[[str | None], Prefilter | None]) -> Prefilter | None:
        return _pf_or([literal(lit) for lit in self.literals])


def _split_alternatives(body: str) -> list[str]:
    alts, start, i, n = [], 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(body, i)
            continue
        if c == "|":
            alts.append(body[start:i])
            start = i + 1
        i += 1
    alts.append(body[start:])
    return alts


def _class_end(body: str, i: int) -> int:
    """Index just past the character class opening at ``body[i] == '['``."""
    j = i + 1
    if j < len(body) and body[j] == "^":
        j += 1
    if j < len(body) and body[j] == "]":  # a leading ] is literal
        j += 1
    while j < len(body) and body[j] != "]":
        j += 2 if body[j] == "\\" else 1
    return j + 1


def _required_literal(alt: str) -> str | None:
    """The longest run of characters every match of ``alt`` contains, or None.

    Conservative by construction: anything not plainly a literal character ends the run, and a
    quantifier that allows zero repetitions takes its atom back out of the run.
    """
    runs: list[str] = []
    run: list[str] = []
    last_in_run = False  # whether the previous atom is the last character of ``run``
    i, n = 0, len(alt)

    def flush() -> None:
        nonlocal run, last_in_run
        if run:
            runs.append("".join(run))
        run = []
        last_in_run = False

    while i < n:
        c = alt[i]
        if c == "\\" and i + 1 < n:
            nxt = alt[i + 1]
            i += 2
            if nxt.isalnum():       # \d \w \s \b \x28 \t ...: a class or a code, not a literal
                flush()
                continue
            run.append(nxt)         # \. \[ \\ ...: the character itself
            last_in_run = True
        elif c == "[":
            i = _class_end(alt, i)
            flush()
        elif c in "*?":
            if last_in_run:
                run.pop()
            flush()
            i += 1
        elif c == "{":
            if last_in_run:
                run.pop()
            flush()
            close = alt.find("}", i)
            i = n if close < 0 else close + 1
        elif c == "+":
            last_in_run = False     # the atom stays (once at least), but what follows repeats it
            flush()
            i += 1
        elif c in ".^$":
            flush()
            i += 1
        else:
            run.append(c)
            last_in_run = True
            i += 1
    flush()
    best = max(runs, key=len, default="")
    return best or None


# --- values: wildcard strings, numbers, regexes --------------------------------------------------

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _as_number(text: str) -> float | None:
    # float() alone would also take "inf", "nan" and "1_000"; the pattern language does not.
    return float(text) if _NUMBER_RE.fullmatch(text) else None


def _wildcard(text: str) -> tuple[Callable[[str], bool], str | None]:
    """Matcher for a string value and the substring every match contains.

    ``*`` is a wildcard only at the ends (``*Event``, ``Event*``, ``*.html*``); inside, it is the
    character itself, as the JSON section of the user guide specifies.
    """
    core = text.lstrip("*")
    lead = len(core) < len(text)
    if not core:
        return _always, None
    stripped = core.rstrip("*")
    trail = len(stripped) < len(core)
    core = stripped
    if lead and trail:
        return (lambda s: core in s), core
    if lead:
        return (lambda s: s.endswith(core)), core
    if trail:
        return (lambda s: s.startswith(core)), core
    return (lambda s: s == core), core


class _Value:
    """The right-hand side of a comparison, ready to test a field's text or a JSON value."""

    __slots__ = ("kind", "number", "text_test", "literal", "regex")

    def __init__(self, kind: str, raw: str) -> None:
        self.kind = kind  # "num" | "str" | "re"
        self.number: float | None = None
        self.regex: _Regex | None = None
        if kind == "num":
            self.number = float(raw)
            self.text_test, self.literal = None, None
        elif kind == "re":
            self.regex = _Regex(raw)
            self.text_test = self.regex.contains_match
            self.literal = None  # see prefilter(): one literal per alternative
        else:
            self.text_test, self.literal = _wildcard(raw)

    def prefilter(self, literal: Callable[[str | None], Prefilter | None]) -> Prefilter | None:
        if self.kind == "re":
            return self.regex.prefilter(literal)  # type: ignore[union-attr]
        return literal(self.literal)


_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": float.__eq__, "!=": float.__ne__, "<": float.__lt__, ">": float.__gt__,
    "<=": float.__le__, ">=": float.__ge__,
}


def _check_operator(op: str, value: _Value) -> None:
    if value.kind != "num" and op not in ("=", "!="):
        raise _invalid(f"operator {op} needs a number")


def _text_comparison(op: str, value: _Value) -> Callable[[str], bool]:
    """Comparison on a field's text (space-delimited patterns)."""
    if value.kind == "num":
        number, cmp = value.number, _NUMERIC_OPS[op]

        def numeric(s: str) -> bool:
            n = _as_number(s)
            if n is None:
                return op == "!="  # not a number, so certainly not equal to one
            return cmp(n, number)

        return numeric
    test = value.text_test
    if op == "!=":
        return lambda s: not test(s)
    return test


# ==================================================================================================
# 2b. The expression lexer/parser shared by JSON patterns and space-delimited field conditions
# ==================================================================================================

_TOKEN_RE = re.compile(r"""
    \s*(?:
        (?P<lp>\() | (?P<rp>\)) | (?P<and>&&) | (?P<or>\|\|)
      | (?P<op>!=|<=|>=|=|<|>)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<re>%[^%]*%)
      | (?P<sel>\$(?:\.[A-Za-z0-9_-]+|\[\d+\])*)
      | (?P<word>[^\s()&|!=<>"%]+)
    )""", re.VERBOSE | re.DOTALL)

_TYPOGRAPHIC_QUOTES = "\u201c\u201d"


def _unquote(token: str) -> str:
    return re.sub(r'\\(["\\])', r"\1", token[1:-1])


def _tokenize(text: str, where: str) -> list[tuple[str, str]]:
    tokens, pos, n = [], 0, len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            return tokens
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            ch = text[pos]
            if ch in _TYPOGRAPHIC_QUOTES:
                raise _invalid_char(ch, where)
            raise _invalid(f"unexpected {text[pos:pos + 10]!r} in {where}")
        kind = m.lastgroup
        value = m.group(kind)  # type: ignore[arg-type]
        if kind == "word":
            for ch in value:
                if ch in _TYPOGRAPHIC_QUOTES:
                    raise _invalid_char(ch, where)
        tokens.append((kind, value))  # type: ignore[arg-type]
        pos = m.end()


class _ExprParser:
    """Recursive descent over ``or := and ('||' and)*``, ``and := unary ('&&' unary)*``,
    ``unary := '(' or ')' | condition``. Leaves come from ``condition(parser)``."""

    def __init__(self, tokens: list[tuple[str, str]], where: str,
                 condition: Callable[[_ExprParser], Any]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.where = where
        self.condition = condition

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", "")

    def take(self, *kinds: str) -> tuple[str, str]:
        tok = self.peek()
        if tok[0] not in kinds:
            found = tok[1] or "end of pattern"
            raise _invalid(f"expected {'/'.join(kinds)} but found {found!r} in {self.where}")
        self.pos += 1
        return tok

    def parse(self) -> Any:
        node = self.parse_or()
        if self.peek()[0] != "end":
            raise _invalid(f"unexpected {self.peek()[1]!r} in {self.where}")
        return node

    def parse_or(self) -> Any:
        items = [self.parse_and()]
        while self.peek()[0] == "or":
            self.pos += 1
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else ("or", items)

    def parse_and(self) -> Any:
        items = [self.parse_unary()]
        while self.peek()[0] == "and":
            self.pos += 1
            items.append(self.parse_unary())
        return items[0] if len(items) == 1 else ("and", items)

    def parse_unary(self) -> Any:
        if self.peek()[0] == "lp":
            self.pos += 1
            node = self.parse_or()
            self.take("rp")
            return node
        return self.condition(self)

    def parse_value(self) -> _Value:
        kind, raw = self.take("str", "re", "word")
        if kind == "str":
            return _Value("str", _unquote(raw))
        if kind == "re":
            return _Value("re", raw[1:-1])
        return _Value("num" if _NUMBER_RE.fullmatch(raw) else "str", raw)


def _compile_tree(node: Any, leaf: Callable[[Any], Callable[[Any], bool]]) -> Callable[[Any], bool]:
    """Turn an and/or tree into one closure; ``leaf`` compiles the conditions."""
    if isinstance(node, tuple) and node[0] in ("and", "or"):
        parts = [_compile_tree(child, leaf) for child in node[1]]
        if node[0] == "and":
            if len(parts) == 2:
                a, b = parts
                return lambda x: a(x) and b(x)
            return lambda x: all(p(x) for p in parts)
        if len(parts) == 2:
            a, b = parts
            return lambda x: a(x) or b(x)
        return lambda x: any(p(x) for p in parts)
    return leaf(node)


def _tree_prefilter(node: Any, leaf: Callable[[Any], Prefilter | None]) -> Prefilter | None:
    if isinstance(node, tuple) and node[0] in ("and", "or"):
        parts = [_tree_prefilter(child, leaf) for child in node[1]]
        return _pf_and(parts) if node[0] == "and" else _pf_or(parts)
    return leaf(node)


def _tree_leaves(node: Any) -> list[Any]:
    if isinstance(node, tuple) and node[0] in ("and", "or"):
        return [leaf for child in node[1] for leaf in _tree_leaves(child)]
    return [node]


# "a quota of two regular expression patterns within a single filter pattern" (PutMetricFilter
# API reference); "2 regex patterns per filter pattern when creating a delimited or JSON filter
# pattern ..., or when filtering log events or Live Tail" (regex-expressions.html, "Quotas").
# The compiled pattern does not know which API it serves, so the limit holds for every kind.
_MAX_REGEXES = 2


def _checked_regex_count(count: int) -> int:
    if count > _MAX_REGEXES:
        raise _invalid(f"{count} regular expressions; at most {_MAX_REGEXES} are allowed in "
                       "one filter pattern")
    return count


def _count_regexes(leaves: list[Any]) -> int:
    return _checked_regex_count(
        sum(1 for leaf in leaves if leaf.value is not None and leaf.value.kind == "re"))


# ==================================================================================================
# 3a. Term patterns: ERROR  "a phrase"  ?A ?B  -DEBUG  %re%
# ==================================================================================================

class _Term:
    __slots__ = ("mode", "literal", "regex")

    def __init__(self, mode: str, literal: str | None = None, regex: _Regex | None = None):
        self.mode = mode          # "" (required) | "?" (any of) | "-" (excluded)
        self.literal = literal    # substring to find; "" matches everything
        self.regex = regex

    def prefilter(self) -> Prefilter | None:
        if self.regex is not None:
            return self.regex.prefilter(_substr)
        return _substr(self.literal)


def _parse_terms(text: str) -> list[_Term]:
    terms, i, n = [], 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        mode = ""
        if text[i] in "?-":
            # "?x" / "-x", or a lone operator before the next term ("ERROR" - "Exiting"); a
            # trailing lone "?"/"-" is just that character.
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            if j < n:
                mode, i = text[i], j
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                raise _invalid("unterminated quoted phrase")
            terms.append(_Term(mode, literal=_unquote(text[i:j + 1])))
            i = j + 1
        elif c == "%" and i + 1 < n:
            j = text.find("%", i + 1)
            if j < 0:
                raise _invalid("unterminated %regex%")
            terms.append(_Term(mode, regex=_Regex(text[i + 1:j])))
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace():
                if text[j] in _TYPOGRAPHIC_QUOTES:
                    raise _invalid_char(text[j], "a term")
                j += 1
            terms.append(_Term(mode, literal=text[i:j]))
            i = j
    return terms


def _compile_terms(text: str) -> FilterPattern:
    terms = _parse_terms(text)
    # "" and " " match everything: drop them, and an OR group containing one is always true.
    blank = {t for t in terms if t.regex is None and not t.literal.strip()}  # type: ignore
    required = [t for t in terms if t.mode == "" and t not in blank]
    optional = [t for t in terms if t.mode == "?"]
    if any(t in blank for t in optional):
        optional = []
    excluded = [t for t in terms if t.mode == "-" and t not in blank]

    req_lits = [t.literal for t in required if t.regex is None]
    req_res = [t.regex.contains_match for t in required if t.regex is not None]
    opt_lits = [t.literal for t in optional if t.regex is None]
    opt_res = [t.regex.contains_match for t in optional if t.regex is not None]
    exc_lits = [t.literal for t in excluded if t.regex is None]
    exc_res = [t.regex.contains_match for t in excluded if t.regex is not None]

    if not (req_lits or req_res or opt_lits or opt_res or exc_lits or exc_res):
        matches: Callable[[str], bool] = _always
    elif len(req_lits) == 1 and not (req_res or opt_lits or opt_res or exc_lits or exc_res):
        only = req_lits[0]
        matches = lambda m: only in m  # noqa: E731 - the hot path for the commonest pattern
    elif len(req_res) == 1 and not (req_lits or opt_lits or opt_res or exc_lits or exc_res):
        matches = req_res[0]  # a lone %regex%: no loop around the one test
    else:
        def matches(m: str) -> bool:
            for lit in req_lits:
                if lit not in m:  # type: ignore[operator]
                    return False
            for regex_matches in req_res:
                if not regex_matches(m):
                    return False
            if opt_lits or opt_res:
                # Plain loops: a generator inside any() costs more than the test itself.
                for lit in opt_lits:
                    if lit in m:  # type: ignore[operator]
                        break
                else:
                    for regex_matches in opt_res:
                        if regex_matches(m):
                            break
                    else:
                        return False
            for lit in exc_lits:
                if lit in m:  # type: ignore[operator]
                    return False
            for regex_matches in exc_res:
                if regex_matches(m):
                    return False
            return True

    prefilter = _pf_and([t.prefilter() for t in required]
                        + [_pf_or([t.prefilter() for t in optional]) if optional else None])

    def extract(m: str) -> dict[str, str] | None:
        return {} if matches(m) else None

    regex_count = _checked_regex_count(sum(1 for t in terms if t.regex is not None))
    kind = "terms" if matches is not _always else "all"
    return FilterPattern(text, kind, matches, extract, prefilter, regex_count)


# ==================================================================================================
# 3b. JSON patterns: { $.a.b = "x" && ($.n > 1e3 || $.c[0][1] IS NULL) }
# ==================================================================================================

_MISSING = object()
_SCALARS = (str, int, float, bool)


def _resolve(doc: Any, path: tuple) -> Any:
    cur = doc
    for key in path:
        if type(key) is str:
            if type(cur) is not dict:
                return _MISSING
            cur = cur.get(key, _MISSING)
            if cur is _MISSING:
                return cur
        else:
            if type(cur) is not list or key >= len(cur):
                return _MISSING
            cur = cur[key]
    return cur


def _json_text(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return v if type(v) is str else str(v)


def _json_number(v: Any) -> float | None:
    t = type(v)
    if t is int or t is float:
        return float(v)
    if t is str:
        return _as_number(v)
    return None  # booleans are not numbers here


class _JsonCondition:
    __slots__ = ("selector", "path", "op", "value")

    def __init__(self, selector: str, path: tuple, op: str, value: _Value | None):
        self.selector = selector
        self.path = path
        self.op = op            # comparison operator, or IS NULL/IS TRUE/IS FALSE/NOT EXISTS
        self.value = value

    def compile(self) -> Callable[[Any], bool]:
        path, op = self.path, self.op
        if op == "NOT EXISTS":
            return lambda doc: _resolve(doc, path) is _MISSING
        if op == "IS NULL":
            return lambda doc: _resolve(doc, path) is None
        if op == "IS TRUE":
            return lambda doc: _resolve(doc, path) is True
        if op == "IS FALSE":
            return lambda doc: _resolve(doc, path) is False
        value = self.value
        assert value is not None
        if value.kind == "num":
            number, cmp, negated = value.number, _NUMERIC_OPS[op], op == "!="

            def numeric(doc: Any) -> bool:
                v = _resolve(doc, path)
                if v is _MISSING or v is None or not isinstance(v, _SCALARS):
                    return False
                n = _json_number(v)
                return negated if n is None else cmp(n, number)

            return numeric
        test, negated = value.text_test, op == "!="

        def textual(doc: Any) -> bool:
            v = _resolve(doc, path)
            if v is _MISSING or v is None or not isinstance(v, _SCALARS):
                return False
            return test(_json_text(v)) != negated

        return textual

    def prefilter(self) -> Prefilter | None:
        if self.op in ("IS NULL", "IS TRUE", "IS FALSE"):
            # JSON literals have exactly one spelling.
            return ("substr", self.op[3:].lower())
        if self.op == "=" and self.value is not None and self.value.kind != "num":
            return self.value.prefilter(_json_literal)
        return None


_SELECTOR_PART_RE = re.compile(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]")


def _json_condition(p: _ExprParser) -> _JsonCondition:
    _, selector = p.take("sel")
    parts = _SELECTOR_PART_RE.findall(selector)
    if not parts or not parts[0][0]:
        raise _invalid(f"selector {selector!r} must start with $.name")
    path = tuple(name if name else int(index) for name, index in parts)
    kind, tok = p.peek()
    if kind == "op":
        p.pos += 1
        value = p.parse_value()
        _check_operator(tok, value)
        return _JsonCondition(selector, path, tok, value)
    if kind == "word" and tok.upper() == "IS":
        p.pos += 1
        _, what = p.take("word")
        what = what.upper()
        if what not in ("NULL", "TRUE", "FALSE"):
            raise _invalid(f"IS {what} is not supported (IS NULL, IS TRUE, IS FALSE)")
        return _JsonCondition(selector, path, "IS " + what, None)
    if kind == "word" and tok.upper() == "NOT":
        p.pos += 1
        _, what = p.take("word")
        if what.upper() != "EXISTS":
            raise _invalid(f"NOT {what} is not supported (NOT EXISTS)")
        return _JsonCondition(selector, path, "NOT EXISTS", None)
    raise _invalid(f"expected an operator after {selector}")


def _parse_json_object(message: str) -> dict | None:
    # Cheap rejection first: most non-JSON lines fail on their first character.
    if not message.lstrip().startswith("{"):
        return None
    try:
        doc = orjson.loads(message)
    except orjson.JSONDecodeError:
        try:  # orjson refuses a few things stdlib json accepts (lone surrogates, huge integers)
            doc = json.loads(message)
        except (ValueError, RecursionError):
            return None
    return doc if type(doc) is dict else None


def _compile_json(text: str) -> FilterPattern:
    body = text[1:-1]
    if not body.strip():
        raise _invalid("empty JSON pattern {}")
    tree = _ExprParser(_tokenize(body, "a JSON pattern"), "a JSON pattern",
                       _json_condition).parse()
    leaves: list[_JsonCondition] = _tree_leaves(tree)
    regex_count = _count_regexes(leaves)
    evaluate = _compile_tree(tree, _JsonCondition.compile)

    def matches(message: str) -> bool:
        doc = _parse_json_object(message)
        return doc is not None and evaluate(doc)

    selectors: dict[str, tuple] = {}
    for leaf in leaves:
        selectors.setdefault(leaf.selector, leaf.path)

    def extract(message: str) -> dict[str, str] | None:
        doc = _parse_json_object(message)
        if doc is None or not evaluate(doc):
            return None
        out = {}
        for selector, path in selectors.items():
            v = _resolve(doc, path)
            if v is not _MISSING and v is not None and isinstance(v, _SCALARS):
                out[selector] = _json_text(v)
        return out

    prefilter = _tree_prefilter(tree, _JsonCondition.prefilter)
    return FilterPattern(text, "json", matches, extract, prefilter, regex_count,
                         frozenset(selectors))


# ==================================================================================================
# 3c. Space-delimited patterns: [ip, user, ..., request = *.html*, status = 4* || status = 5*, ]
# ==================================================================================================

# A field is [bracketed], "quoted" (\" does not close it) or a run of non-blanks. The quoted
# branch is written as an unrolled loop: it is the costliest part of splitting a line.
_FIELD_RE = re.compile(r'\[([^\]]*)\]|"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)', re.DOTALL)
# The same without the bracketed branch, for the part of a message past its last "]".
_UNBRACKETED_FIELD_RE = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"|(\S+)', re.DOTALL)
_FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _split_message(message: str) -> list[str]:
    """A message's fields, in time linear in its length.

    ``_FIELD_RE`` alone is linear while every ``[`` that opens a field has a ``]`` after it (the
    search for it stops there, and the field then consumes what was searched), and its quoted
    branch fails to close at most once per message. But each ``[`` after the last ``]`` makes it
    search to the end of the message again: ``"[ " * 40_000`` took 10 s, all of it holding the
    GIL. Past the last ``]`` no bracketed field can close, so from the first field that starts
    there on, the fields are those of the same pattern without its bracketed branch.
    """
    if '"' not in message and "[" not in message:
        return message.split()  # same fields as the regex (both split on str.isspace), 3x faster
    last_close = message.rfind("]")
    if message.find("[", last_close + 1) < 0:
        # Exactly one group participates per match, and the others come back as "".
        return [a or b or c for a, b, c in _FIELD_RE.findall(message)]
    fields: list[str] = []
    position = 0
    while (field := _FIELD_RE.search(message, position)) is not None:
        if field.start() > last_close:
            fields += [b or c for b, c in _UNBRACKETED_FIELD_RE.findall(message, field.start())]
            break
        fields.append(field[field.lastindex])  # type: ignore[index]
        position = field.end()
    return fields


class _FieldCondition:
    __slots__ = ("name", "op", "value")

    def __init__(self, name: str, op: str, value: _Value):
        self.name, self.op, self.value = name, op, value

    def compile(self) -> Callable[[str], bool]:
        return _text_comparison(self.op, self.value)

    def prefilter(self) -> Prefilter | None:
        # A field's text is a substring of the message, so its necessary substrings are too.
        if self.op == "=" and self.value.kind != "num":
            return self.value.prefilter(_substr)
        return None


def _field_condition(p: _ExprParser) -> _FieldCondition:
    _, name = p.take("word")
    if not _FIELD_NAME_RE.fullmatch(name):
        raise _invalid(f"bad field name {name!r}")
    _, op = p.take("op")
    value = p.parse_value()
    _check_operator(op, value)
    return _FieldCondition(name, op, value)


class _Field:
    __slots__ = ("name", "test", "ellipsis")

    def __init__(self, name: str | None = None, test: Callable[[str], bool] | None = None,
                 ellipsis: bool = False):
        self.name, self.test, self.ellipsis = name, test, ellipsis


def _split_pattern_fields(body: str) -> list[str]:
    """Split on commas that are not inside "quotes" or a %regex%."""
    fields, start, i, n = [], 0, 0, len(body)
    while i < n:
        c = body[i]
        if c == '"':
            i += 1
            while i < n and body[i] != '"':
                i += 2 if body[i] == "\\" else 1
            if i >= n:
                raise _invalid("unterminated quoted value in a space-delimited pattern")
        elif c == "%":
            close = body.find("%", i + 1)
            if close < 0:
                raise _invalid("unterminated %regex% in a space-delimited pattern")
            i = close
        elif c == ",":
            fields.append(body[start:i])
            start = i + 1
        i += 1
    fields.append(body[start:])
    return fields


def _parse_delimited(body: str) -> tuple[list[_Field], list[_FieldCondition], list[Any]]:
    fields: list[_Field] = []
    conditions: list[_FieldCondition] = []
    trees: list[Any] = []
    if not body.strip():
        return [_Field(ellipsis=True)], conditions, trees  # [] reports every field by position
    for raw in _split_pattern_fields(body):
        spec = raw.strip()
        if not spec:
            fields.append(_Field())
        elif spec == "...":
            fields.append(_Field(ellipsis=True))
        elif _FIELD_NAME_RE.fullmatch(spec):
            fields.append(_Field(spec))
        else:
            tokens = _tokenize(spec, "a space-delimited field")
            tree = _ExprParser(tokens, "a space-delimited field", _field_condition).parse()
            leaves: list[_FieldCondition] = _tree_leaves(tree)
            names = {leaf.name for leaf in leaves}
            if len(names) != 1:
                raise _invalid(f"field condition {spec!r} names {sorted(names)}; a condition may "
                               "only test its own field")
            fields.append(_Field(leaves[0].name, _compile_tree(tree, _FieldCondition.compile)))
            conditions.extend(leaves)
            trees.append(tree)
    return fields, conditions, trees


def _match_fields(pattern: list[_Field], values: list[str]) -> list[int] | None:
    """Align pattern fields with message fields; returns, for each pattern field, the message
    index where it starts (an ellipsis covers up to the next start), or None."""
    ellipses = [i for i, f in enumerate(pattern) if f.ellipsis]
    if not ellipses:
        if len(pattern) != len(values):
            return None
        for f, v in zip(pattern, values):
            if f.test is not None and not f.test(v):
                return None
        return list(range(len(pattern)))
    if len(ellipses) == 1:
        k = ellipses[0]
        after = len(pattern) - k - 1
        if len(values) < len(pattern) - 1:
            return None
        for f, v in zip(pattern[:k], values):
            if f.test is not None and not f.test(v):
                return None
        tail_start = len(values) - after
        for f, v in zip(pattern[k + 1:], values[tail_start:]):
            if f.test is not None and not f.test(v):
                return None
        return list(range(k)) + [k] + list(range(tail_start, len(values)))
    return _match_fields_several_ellipses(pattern, values)


def _match_fields_several_ellipses(pattern: list[_Field], values: list[str]) -> list[int] | None:
    """``_match_fields`` for two ellipses or more: the first fit, each ellipsis as short as it can
    be, left to right.

    The ellipses cut the pattern into segments of plain fields: the first sits at the start of
    the message, the last at its end, and each one between goes as far left as it fits. That is
    the first fit, since a segment placed further left never leaves less room for those after
    it, and it costs at most (message fields x pattern fields) tests, where trying every way of
    sharing the fields among the ellipses costs (message fields) ** (ellipses): a pattern of
    eight ellipses and a field no line has never finished on a 100-field line.
    """
    segments: list[list[int]] = [[]]  # indexes into ``pattern`` of each segment's fields
    ellipses: list[int] = []
    for i, f in enumerate(pattern):
        if f.ellipsis:
            ellipses.append(i)
            segments.append([])
        else:
            segments[-1].append(i)

    def fits(segment: list[int], at: int) -> bool:
        for offset, i in enumerate(segment):
            test = pattern[i].test
            if test is not None and not test(values[at + offset]):
                return False
        return True

    first, middle, last = segments[0], segments[1:-1], segments[-1]
    tail_start = len(values) - len(last)
    if len(pattern) - len(ellipses) > len(values) or not fits(first, 0):
        return None
    starts = [0] * len(pattern)
    for offset, i in enumerate(first):
        starts[i] = offset
    position = len(first)
    for ellipsis, segment in zip(ellipses, middle):
        starts[ellipsis] = position
        at = next((at for at in range(position, tail_start - len(segment) + 1)
                   if fits(segment, at)), None)
        if at is None:
            return None
        for offset, i in enumerate(segment):
            starts[i] = at + offset
        position = at + len(segment)
    if position > tail_start or not fits(last, tail_start):
        return None
    starts[ellipses[-1]] = position
    for offset, i in enumerate(last):
        starts[i] = tail_start + offset
    return starts


def _delimited_matcher(fields: list[_Field]) -> Callable[[str], bool]:
    """``matches`` without building the alignment: with at most one ellipsis every tested field
    sits at a fixed index from the start or (after the ellipsis) from the end of the line."""
    ellipses = [i for i, f in enumerate(fields) if f.ellipsis]
    if len(ellipses) > 1:
        return lambda message: _match_fields(fields, _split_message(message)) is not None
    size = len(fields)
    k = ellipses[0] if ellipses else size
    checks = [(i if i < k else i - size, f.test) for i, f in enumerate(fields)
              if f.test is not None]
    split = _split_message

    if not ellipses:
        def matches(message: str) -> bool:
            values = split(message)
            if len(values) != size:
                return False
            for i, test in checks:
                if not test(values[i]):
                    return False
            return True
    else:
        minimum = size - 1

        def matches(message: str) -> bool:
            values = split(message)
            if len(values) < minimum:
                return False
            for i, test in checks:
                if not test(values[i]):
                    return False
            return True

    return matches


def _compile_delimited(text: str) -> FilterPattern:
    fields, conditions, trees = _parse_delimited(text[1:-1])
    regex_count = _count_regexes(conditions)

    matches = _delimited_matcher(fields)

    def extract(message: str) -> dict[str, str] | None:
        values = _split_message(message)
        starts = _match_fields(fields, values)
        if starts is None:
            return None
        out: dict[str, str] = {}
        for i, f in enumerate(fields):
            if f.ellipsis:
                end = starts[i + 1] if i + 1 < len(fields) else len(values)
                for pos in range(starts[i], end):
                    out[f"${pos + 1}"] = values[pos]
            else:
                out[f"${f.name}" if f.name else f"${starts[i] + 1}"] = values[starts[i]]
        return out

    prefilter = _pf_and([_tree_prefilter(tree, _FieldCondition.prefilter) for tree in trees])
    names = frozenset(f"${f.name}" for f in fields if f.name)
    return FilterPattern(text, "delimited", matches, extract, prefilter, regex_count, names)


# ==================================================================================================
# 4. Entry point
# ==================================================================================================

@functools.lru_cache(maxsize=256)  # each may hold an RE2 program: see regex.MAX_PROGRAM_MEMORY
def compile_pattern(text: str | None) -> FilterPattern:
    """Compile a filter pattern; None or blank matches everything. Raises FilterPatternError."""
    original = text or ""
    stripped = original.strip()
    if not stripped:
        return FilterPattern(original, "all", _always, _extract_nothing, None)
    if stripped[0] == "{":
        if stripped[-1] != "}":
            raise _invalid("a JSON pattern must end with }")
        pattern = _compile_json(stripped)
    elif stripped[0] == "[":
        if stripped[-1] != "]":
            raise _invalid("a space-delimited pattern must end with ]")
        pattern = _compile_delimited(stripped)
    else:
        pattern = _compile_terms(stripped)
    pattern.text = original
    return pattern
