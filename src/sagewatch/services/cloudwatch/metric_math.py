"""CloudWatch metric math: tokenizer, recursive-descent parser and evaluator.

Pure module: it knows nothing about storage.  The caller (GetMetricData,
metric-math alarms) fetches every ``MetricStat`` query into a :class:`Series`,
parses each ``Expression`` with :func:`parse`, orders them with
:func:`dependency_order`, evaluates them with :func:`evaluate` and names the
results with :func:`finalize_labels`.

Source of the semantics: AWS user guide *Using metric math*
(``using-metric-math.md``, awsdocs/amazon-cloudwatch-user-guide, 2023) -- the
function table, the data types S / TS / TS[], the comparison-operator example
and the IF tables -- plus the June 2021 AWS blog post *Enhance CloudWatch
metrics with metric math functions* for the time functions (days of the week
numbered 1..7 = Monday..Sunday, hours 0..23).

Data types
    S     a Python ``float``
    TS    a :class:`Series`
    TS[]  a ``list`` of :class:`Series`

Alignment rule (choice, from the doc): "Missing values in a time series are
treated as 0" (basic arithmetic) and "When comparison operators are used
between two time series, and only one of the time series has a value for a
particular time stamp, the function treats the missing value in the other time
series as 0".  So a TS-with-TS operation is computed on the *union* of the two
timestamp sets, a missing value counting as 0; "If the value of a data point
causes a function to attempt to divide by zero, the data point is dropped" --
more generally every non-finite result (x/0, LOG(0), LOG(-1), overflow) is
dropped.  The same union-with-zero rule is used for the array aggregations
SUM/AVG/MIN/MAX/STDDEV over TS[] (the doc states it explicitly for AVG).

Error messages: :class:`MathError` carries a human-readable message; AWS's
exact wording for metric-math validation errors is not documented publicly, so
the messages are this module's own (see the ``_err_*`` helpers); the caller
wraps them into a ``ValidationError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence, Union

import numpy as np

__all__ = [
    "Series",
    "MathError",
    "Expr",
    "Number",
    "String",
    "Ref",
    "Keyword",
    "ArrayLit",
    "Unary",
    "Binary",
    "Call",
    "FUNCTIONS",
    "UNSUPPORTED_FUNCTIONS",
    "parse",
    "evaluate",
    "dependency_order",
    "finalize_labels",
]


class MathError(ValueError):
    """An invalid metric math expression (syntax, unknown name, wrong types)."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position


# ---------------------------------------------------------------------------
# Series
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class Series:
    """One time series: sorted epoch-second timestamps and float values.

    ``period`` is the period of the metric it came from (``PERIOD()``, FILL
    and the time functions use it); ``None`` means "the request's period".
    """

    timestamps: np.ndarray
    values: np.ndarray
    label: str = ""
    period: int | None = None

    def __post_init__(self) -> None:
        ts = np.asarray(self.timestamps, dtype=np.int64).ravel()
        vals = np.asarray(self.values, dtype=np.float64).ravel()
        if ts.shape != vals.shape:
            raise ValueError("timestamps and values must have the same length")
        if ts.size > 1 and np.any(ts[1:] <= ts[:-1]):
            order = np.argsort(ts, kind="stable")
            ts, vals = ts[order], vals[order]
            if np.any(ts[1:] == ts[:-1]):
                raise ValueError("duplicate timestamps in a series")
        self.timestamps = ts
        self.values = vals

    def __len__(self) -> int:
        return int(self.timestamps.size)

    def points(self) -> list[tuple[int, float]]:
        return list(zip(self.timestamps.tolist(), self.values.tolist()))


Value = Union[float, Series, list, str]


class _KeywordValue(str):
    """A bare upper-case word used as an argument (REPEAT, LINEAR, AVG, ASC...)."""


def _empty(label: str = "", period: int | None = None) -> Series:
    return Series(np.empty(0, np.int64), np.empty(0, np.float64), label, period)


def _kind(v: object) -> str:
    if isinstance(v, Series):
        return "TS"
    if isinstance(v, list):
        return "TS[]"
    if isinstance(v, _KeywordValue):
        return "keyword"
    if isinstance(v, str):
        return "string"
    return "S"


_KIND_WORDS = {
    "S": "a scalar",
    "TS": "a time series",
    "TS[]": "an array of time series",
    "keyword": "a keyword",
    "string": "a string",
}


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # NUM STR ID WORD OP ( ) [ ] , EOF
    text: str
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<str>"[^"]*"|'[^']*'|\u201c[^\u201d]*\u201d|\u2018[^\u2019]*\u2019)
  | (?P<id>[a-z][A-Za-z0-9_]*)
  | (?P<word>[A-Z][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>!])
  | (?P<punct>[()\[\],])
    """,
    re.VERBOSE,
)


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise MathError(_err_syntax(pos, repr(text[pos])), pos)
        kind = m.lastgroup
        s = m.group()
        if kind == "num":
            toks.append(_Tok("NUM", s, pos))
        elif kind == "str":
            toks.append(_Tok("STR", s[1:-1], pos))
        elif kind == "id":
            toks.append(_Tok("ID", s, pos))
        elif kind == "word":
            toks.append(_Tok("WORD", s, pos))
        elif kind == "op":
            toks.append(_Tok("OP", s, pos))
        elif kind == "punct":
            toks.append(_Tok(s, s, pos))
        pos = m.end()
    toks.append(_Tok("EOF", "", n))
    return toks


# ---------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr:
    pos: int = field(default=0, compare=False)

    def children(self) -> tuple["Expr", ...]:
        return ()

    def walk(self) -> Iterable["Expr"]:
        yield self
        for c in self.children():
            yield from c.walk()

    def references(self) -> set[str]:
        """Ids of other queries this expression refers to (not via METRICS())."""
        return {n.name for n in self.walk() if isinstance(n, Ref)}

    def functions(self) -> set[str]:
        """Names of the functions called (e.g. to refuse METRICS in alarms)."""
        return {n.name for n in self.walk() if isinstance(n, Call)}

    def uses_metrics(self) -> bool:
        """True if the expression calls METRICS() (depends on every MetricStat)."""
        return "METRICS" in self.functions()

    def check_references(self, valid_ids: Iterable[str]) -> None:
        valid = set(valid_ids)
        for n in self.walk():
            if isinstance(n, Ref) and n.name not in valid:
                raise MathError(_err_unknown_id(n.name), n.pos)


@dataclass(frozen=True, slots=True)
class Number(Expr):
    value: float = 0.0


@dataclass(frozen=True, slots=True)
class String(Expr):
    value: str = ""


@dataclass(frozen=True, slots=True)
class Ref(Expr):
    name: str = ""


@dataclass(frozen=True, slots=True)
class Keyword(Expr):
    name: str = ""


@dataclass(frozen=True, slots=True)
class ArrayLit(Expr):
    items: tuple[Expr, ...] = ()

    def children(self) -> tuple[Expr, ...]:
        return self.items


@dataclass(frozen=True, slots=True)
class Unary(Expr):
    op: str = "-"  # '-', '+', 'NOT'
    operand: Expr = field(default_factory=Number)

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Binary(Expr):
    op: str = "+"  # + - * / ^ == != < <= > >= AND OR
    left: Expr = field(default_factory=Number)
    right: Expr = field(default_factory=Number)

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Call(Expr):
    name: str = ""
    args: tuple[Expr, ...] = ()

    def children(self) -> tuple[Expr, ...]:
        return self.args


# ---------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------


def _err_syntax(pos: int, found: str) -> str:
    return f"Syntax error at position {pos}: unexpected {found}"


def _err_unknown_function(name: str) -> str:
    return f"Unknown function {name}"


def _err_unknown_id(name: str) -> str:
    return f"Unknown metric or expression id {name}"


def _err_unsupported(name: str) -> str:
    return f"The function {name} is not supported"


def _err_arity(name: str, lo: int, hi: int, got: int) -> str:
    want = str(lo) if lo == hi else f"{lo} to {hi}"
    plural = "" if lo == hi == 1 else "s"
    return f"{name} expects {want} argument{plural}, got {got}"


def _err_type(where: str, expected: str, got: object) -> str:
    return f"{where} expects {expected}, got {_KIND_WORDS[_kind(got)]}"


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------

_CMP_OPS = {"==", "!=", "<", "<=", ">", ">="}
_LOGIC_WORDS = {"AND", "OR", "NOT"}


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def _advance(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def _fail(self, tok: _Tok | None = None) -> MathError:
        t = tok or self.tok
        found = "end of expression" if t.kind == "EOF" else repr(t.text if t.kind != "STR" else f'"{t.text}"')
        return MathError(_err_syntax(t.pos, found), t.pos)

    def _expect(self, kind: str) -> _Tok:
        if self.tok.kind != kind:
            raise self._fail()
        return self._advance()

    def _is_op(self, *ops: str) -> bool:
        t = self.tok
        return (t.kind == "OP" and t.text in ops) or (t.kind == "WORD" and t.text in ops)

    def parse(self) -> Expr:
        if self.tok.kind == "EOF":
            raise MathError("The expression is empty", 0)
        e = self.parse_or()
        if self.tok.kind != "EOF":
            raise self._fail()
        return e

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self._is_op("OR", "||"):
            t = self._advance()
            left = Binary(t.pos, "OR", left, self.parse_and())
        return left

    def parse_and(self) -> Expr:
        left = self.parse_not()
        while self._is_op("AND", "&&"):
            t = self._advance()
            left = Binary(t.pos, "AND", left, self.parse_not())
        return left

    def parse_not(self) -> Expr:
        if self._is_op("NOT", "!"):
            t = self._advance()
            return Unary(t.pos, "NOT", self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> Expr:
        left = self.parse_additive()
        while self.tok.kind == "OP" and self.tok.text in _CMP_OPS:
            t = self._advance()
            left = Binary(t.pos, t.text, left, self.parse_additive())
        return left

    def parse_additive(self) -> Expr:
        left = self.parse_multiplicative()
        while self._is_op("+", "-"):
            t = self._advance()
            left = Binary(t.pos, t.text, left, self.parse_multiplicative())
        return left

    def parse_multiplicative(self) -> Expr:
        left = self.parse_unary()
        while self._is_op("*", "/"):
            t = self._advance()
            left = Binary(t.pos, t.text, left, self.parse_unary())
        return left

    def parse_unary(self) -> Expr:
        if self._is_op("-", "+"):
            t = self._advance()
            return Unary(t.pos, t.text, self.parse_unary())
        return self.parse_power()

    def parse_power(self) -> Expr:
        base = self.parse_primary()
        if self._is_op("^"):
            t = self._advance()
            # Right-associative, and the exponent may carry a sign: 2^-1.
            return Binary(t.pos, "^", base, self.parse_unary())
        return base

    def parse_primary(self) -> Expr:
        t = self.tok
        if t.kind == "NUM":
            self._advance()
            return Number(t.pos, float(t.text))
        if t.kind == "STR":
            self._advance()
            return String(t.pos, t.text)
        if t.kind == "ID":
            self._advance()
            if self.tok.kind == "(":
                # Functions must be written in upper case.
                raise MathError(_err_unknown_function(t.text), t.pos)
            return Ref(t.pos, t.text)
        if t.kind == "WORD":
            return self.parse_word()
        if t.kind == "(":
            self._advance()
            e = self.parse_or()
            self._expect(")")
            return e
        if t.kind == "[":
            self._advance()
            items: list[Expr] = []
            if self.tok.kind != "]":
                items.append(self.parse_or())
                while self.tok.kind == ",":
                    self._advance()
                    items.append(self.parse_or())
            self._expect("]")
            return ArrayLit(t.pos, tuple(items))
        raise self._fail()

    def parse_word(self) -> Expr:
        t = self._advance()
        name = t.text
        if name in _LOGIC_WORDS:
            raise self._fail(t)
        if self.tok.kind == "(":
            if name in UNSUPPORTED_FUNCTIONS:
                raise MathError(_err_unsupported(name), t.pos)
            if name not in FUNCTIONS:
                raise MathError(_err_unknown_function(name), t.pos)
            self._advance()
            args: list[Expr] = []
            if self.tok.kind != ")":
                args.append(self.parse_or())
                while self.tok.kind == ",":
                    self._advance()
                    args.append(self.parse_or())
            self._expect(")")
            spec = FUNCTIONS[name]
            if not spec.min_args <= len(args) <= spec.max_args:
                raise MathError(_err_arity(name, spec.min_args, spec.max_args, len(args)), t.pos)
            return Call(t.pos, name, tuple(args))
        if name == "METRICS":  # "SUM(METRICS)" written without parentheses
            return Call(t.pos, "METRICS", ())
        if name in _KEYWORDS:
            return Keyword(t.pos, name)
        if name in FUNCTIONS or name in UNSUPPORTED_FUNCTIONS:
            raise self._fail()  # a function name not followed by '('
        raise MathError(_err_unknown_function(name), t.pos)


def parse(expression: str, valid_ids: Iterable[str] | None = None) -> Expr:
    """Parse a metric math expression.

    With ``valid_ids`` (the Ids of the other queries in the request), a
    reference to any other id raises :class:`MathError` too.
    """
    if not isinstance(expression, str):
        raise MathError("The expression must be a string")
    expr = _Parser(expression).parse()
    if valid_ids is not None:
        expr.check_references(valid_ids)
    return expr


def dependency_order(expressions: Mapping[str, Expr], metric_ids: Iterable[str]) -> list[str]:
    """Order expression ids so that each comes after the ids it references.

    Raises :class:`MathError` for a reference to an unknown id or a cycle.
    """
    metric_set = set(metric_ids)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(qid: str, stack: list[str]) -> None:
        st = state.get(qid)
        if st == 2:
            return
        if st == 1:
            cycle = " -> ".join(stack[stack.index(qid):] + [qid])
            raise MathError(f"Circular dependency between expressions: {cycle}")
        state[qid] = 1
        for ref in sorted(expressions[qid].references()):
            if ref in metric_set:
                continue
            if ref not in expressions:
                raise MathError(_err_unknown_id(ref))
            visit(ref, stack + [qid])
        state[qid] = 2
        order.append(qid)

    for qid in expressions:
        visit(qid, [])
    return order


# ---------------------------------------------------------------------------
# Evaluation helpers
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Ctx:
    series_by_id: Mapping[str, object]
    period: int
    start: int
    end: int
    all_metric_ids: Sequence[str]
    band_provider: Callable[[Series, float], tuple[Series, Series]] | None
    utc_offset: int


def _finite(ts: np.ndarray, vals: np.ndarray, label: str, period: int | None) -> Series:
    mask = np.isfinite(vals)
    if not mask.all():
        ts, vals = ts[mask], vals[mask]
    return Series(ts, vals, label, period)


def _union(series: Sequence[Series]) -> np.ndarray:
    parts = [s.timestamps for s in series if s.timestamps.size]
    if not parts:
        return np.empty(0, np.int64)
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        return np.union1d(parts[0], parts[1])
    return np.unique(np.concatenate(parts))


def _densify(s: Series, ts: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """Values of ``s`` on the timestamps ``ts`` (a superset), ``fill`` where missing."""
    if s.timestamps.size == ts.size:
        return s.values
    out = np.full(ts.size, fill, dtype=np.float64)
    if s.timestamps.size:
        out[np.searchsorted(ts, s.timestamps)] = s.values
    return out


def _present(s: Series, ts: np.ndarray) -> np.ndarray:
    out = np.zeros(ts.size, dtype=bool)
    if s.timestamps.size:
        out[np.searchsorted(ts, s.timestamps)] = True
    return out


def _period_of(ctx: _Ctx, *vals: object) -> int:
    for v in vals:
        if isinstance(v, Series) and v.period:
            return int(v.period)
    return int(ctx.period)


# A function that fills every period of the range (FILL, TIME_SERIES, DATETIME functions) is
# refused beyond a million periods (8 MB an array; ten times the 100,800 datapoints one
# GetMetricData call returns, aws-behaviour.md): year 1 to 9999 at 1 s would be a 2.5 TB grid,
# the fuzzer's MemoryError and hang.
MAX_GRID_POINTS = 1_000_000


def _grid(ctx: _Ctx, period: int, anchor: Series | None = None) -> np.ndarray:
    """Timestamps of every period in [start, end), in phase with ``anchor``."""
    if period <= 0:
        raise MathError("The period must be positive")
    first = ctx.start
    if anchor is not None and anchor.timestamps.size:
        first = ctx.start + int((int(anchor.timestamps[0]) - ctx.start) % period)
    if ctx.end <= first:
        return np.empty(0, np.int64)
    if (ctx.end - first) // period >= MAX_GRID_POINTS:
        raise MathError(f"The expression would fill more than {MAX_GRID_POINTS} periods; "
                        "use a shorter time range or a longer period")
    return np.arange(first, ctx.end, period, dtype=np.int64)


def _as_series(v: object, where: str) -> Series:
    if isinstance(v, Series):
        return v
    if isinstance(v, list) and len(v) == 1:
        return v[0]
    raise MathError(_err_type(where, "a time series", v))


def _as_array(v: object, where: str) -> list[Series]:
    if isinstance(v, list):
        return v
    if isinstance(v, Series):
        return [v]
    raise MathError(_err_type(where, "an array of time series", v))


def _as_scalar(v: object, where: str) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    raise MathError(_err_type(where, "a scalar", v))


def _check_value(v: object, where: str) -> None:
    if isinstance(v, str):
        raise MathError(_err_type(where, "a scalar, a time series or an array of time series", v))


def _map_series(v: object, fn: Callable[[Series], Series], where: str, allow_scalar: Callable[[float], float] | None = None):
    """Apply a TS -> TS function to a TS or to every element of a TS[]."""
    if isinstance(v, Series):
        return fn(v)
    if isinstance(v, list):
        return [fn(s) for s in v]
    if allow_scalar is not None and _kind(v) == "S":
        with np.errstate(all="ignore"):
            return float(allow_scalar(float(v)))  # type: ignore[arg-type]
    raise MathError(_err_type(where, "a time series or an array of time series", v))


# -- operators ---------------------------------------------------------------


def _logical_and(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a != 0) & (b != 0)).astype(np.float64)


def _logical_or(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a != 0) | (b != 0)).astype(np.float64)


def _cmp(fn: Callable) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    return lambda a, b: fn(a, b).astype(np.float64)


_BINARY_FUNCS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
    "==": _cmp(np.equal),
    "!=": _cmp(np.not_equal),
    "<": _cmp(np.less),
    "<=": _cmp(np.less_equal),
    ">": _cmp(np.greater),
    ">=": _cmp(np.greater_equal),
    "AND": _logical_and,
    "OR": _logical_or,
}


def _binary(op: str, a: object, b: object) -> object:
    fn = _BINARY_FUNCS[op]
    where = f"The operator {op}"
    _check_value(a, where)
    _check_value(b, where)
    ka, kb = _kind(a), _kind(b)
    if ka == "TS[]" and kb == "TS[]":
        if len(a) == 1:  # type: ignore[arg-type]
            a, ka = a[0], "TS"  # type: ignore[index]
        elif len(b) == 1:  # type: ignore[arg-type]
            b, kb = b[0], "TS"  # type: ignore[index]
        else:
            raise MathError(f"The operator {op} cannot combine two arrays of time series")
    if ka == "TS[]":
        return [_binary(op, s, b) for s in a]  # type: ignore[union-attr]
    if kb == "TS[]":
        return [_binary(op, a, s) for s in b]  # type: ignore[union-attr]
    with np.errstate(all="ignore"):
        if ka == "S" and kb == "S":
            return float(fn(np.float64(a), np.float64(b)))
        if ka == "TS" and kb == "S":
            s = a  # type: ignore[assignment]
            return _finite(s.timestamps, fn(s.values, np.float64(b)), s.label, s.period)
        if ka == "S" and kb == "TS":
            s = b  # type: ignore[assignment]
            return _finite(s.timestamps, fn(np.float64(a), s.values), s.label, s.period)
        sa, sb = a, b  # both TS
        ts = _union([sa, sb])  # type: ignore[list-item]
        vals = fn(_densify(sa, ts), _densify(sb, ts))  # type: ignore[arg-type]
        return _finite(ts, vals, sa.label or sb.label, sa.period or sb.period)  # type: ignore[union-attr]


def _unary(op: str, v: object) -> object:
    where = f"The operator {op}"
    _check_value(v, where)
    if op == "+":
        return v
    if op == "-":
        fn = np.negative
    else:  # NOT
        def fn(x):  # type: ignore[no-redef]
            return (np.asarray(x) == 0).astype(np.float64)
    if isinstance(v, list):
        return [_unary(op, s) for s in v]
    if isinstance(v, Series):
        return Series(v.timestamps, fn(v.values), v.label, v.period)
    return float(fn(np.float64(v)))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _FuncSpec:
    handler: Callable[..., object]
    min_args: int
    max_args: int


FUNCTIONS: dict[str, _FuncSpec] = {}

# Recognised by AWS but needing services this module does not model.
UNSUPPORTED_FUNCTIONS = frozenset(
    {"SEARCH", "SERVICE_QUOTA", "INSIGHT_RULE_METRIC", "LAMBDA", "DB_PERF_INSIGHTS"}
)

# Bare upper-case words that may appear as arguments.
_KEYWORDS = frozenset({"REPEAT", "LINEAR", "ASC", "DESC", "AVG", "MIN", "MAX", "SUM"})


def _function(name: str, min_args: int, max_args: int | None = None):
    def deco(fn):
        FUNCTIONS[name] = _FuncSpec(fn, min_args, min_args if max_args is None else max_args)
        return fn

    return deco


# -- element-wise ------------------------------------------------------------


def _elementwise(name: str, ufunc: Callable[[np.ndarray], np.ndarray]):
    def handler(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
        def one(s: Series) -> Series:
            with np.errstate(all="ignore"):
                return _finite(s.timestamps, ufunc(s.values), s.label, s.period)

        return _map_series(args[0], one, name, allow_scalar=lambda x: ufunc(np.float64(x)))

    FUNCTIONS[name] = _FuncSpec(handler, 1, 1)


_elementwise("ABS", np.abs)
_elementwise("CEIL", np.ceil)
_elementwise("FLOOR", np.floor)
_elementwise("LOG", np.log)
_elementwise("LOG10", np.log10)


# -- aggregations: TS -> S, TS[] -> TS -----------------------------------------


def _stack(series: Sequence[Series]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ts = _union(series)
    mat = np.zeros((len(series), ts.size), dtype=np.float64)
    present = np.zeros((len(series), ts.size), dtype=bool)
    for i, s in enumerate(series):
        if s.timestamps.size:
            idx = np.searchsorted(ts, s.timestamps)
            mat[i, idx] = s.values
            present[i, idx] = True
    return ts, mat, present


def _aggregation(name: str, over_series: Callable[[np.ndarray], float], over_matrix: Callable[[np.ndarray], np.ndarray]):
    def handler(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
        v = args[0]
        if isinstance(v, Series):
            with np.errstate(all="ignore"):
                return float(over_series(v.values))
        if isinstance(v, list):
            if not v:
                return _empty(period=ctx.period)
            ts, mat, _ = _stack(v)
            with np.errstate(all="ignore"):
                vals = over_matrix(mat) if ts.size else np.empty(0)
            return _finite(ts, vals, "", _period_of(ctx, *v))
        raise MathError(_err_type(name, "a time series or an array of time series", v))

    FUNCTIONS[name] = _FuncSpec(handler, 1, 1)


def _nan_if_empty(fn: Callable[[np.ndarray], float]) -> Callable[[np.ndarray], float]:
    return lambda x: fn(x) if x.size else math.nan


_aggregation("SUM", lambda x: float(x.sum()), lambda m: m.sum(axis=0))
_aggregation("AVG", _nan_if_empty(lambda x: float(x.mean())), lambda m: m.mean(axis=0))
_aggregation("MIN", _nan_if_empty(lambda x: float(x.min())), lambda m: m.min(axis=0))
_aggregation("MAX", _nan_if_empty(lambda x: float(x.max())), lambda m: m.max(axis=0))
# Population standard deviation (ddof=0): AWS does not say which; unconfirmed.
_aggregation("STDDEV", _nan_if_empty(lambda x: float(x.std())), lambda m: m.std(axis=0))


@_function("DATAPOINT_COUNT", 1)
def _datapoint_count(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    v = args[0]
    if isinstance(v, Series):
        return float(len(v))
    if isinstance(v, list):
        if not v:
            return _empty(period=ctx.period)
        ts, _, present = _stack(v)
        return Series(ts, present.sum(axis=0).astype(np.float64), "", _period_of(ctx, *v))
    raise MathError(_err_type("DATAPOINT_COUNT", "a time series or an array of time series", v))


@_function("METRIC_COUNT", 1)
def _metric_count(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    return float(len(_as_array(args[0], "METRIC_COUNT")))


# -- sequential: DIFF, DIFF_TIME, RATE, RUNNING_SUM --------------------------


def _diff(s: Series) -> Series:
    return Series(s.timestamps[1:], np.diff(s.values), s.label, s.period)


def _diff_time(s: Series) -> Series:
    return Series(s.timestamps[1:], np.diff(s.timestamps).astype(np.float64), s.label, s.period)


def _rate(s: Series) -> Series:
    # "the difference between the latest data point value and the previous data
    # point value, divided by the time difference in seconds between the two values"
    with np.errstate(all="ignore"):
        vals = np.diff(s.values) / np.diff(s.timestamps).astype(np.float64)
    return _finite(s.timestamps[1:], vals, s.label, s.period)


def _running_sum(s: Series) -> Series:
    return Series(s.timestamps, np.cumsum(s.values), s.label, s.period)


for _name, _fn in (("DIFF", _diff), ("DIFF_TIME", _diff_time), ("RATE", _rate), ("RUNNING_SUM", _running_sum)):
    def _seq_handler(ctx: _Ctx, args: list, nodes: Sequence[Expr], _fn=_fn, _name=_name):
        return _map_series(args[0], _fn, _name)

    FUNCTIONS[_name] = _FuncSpec(_seq_handler, 1, 1)


# -- FILL ----------------------------------------------------------------------


def _fill_one(ctx: _Ctx, s: Series, filler: object) -> Series:
    period = _period_of(ctx, s)
    grid = _grid(ctx, period, s)
    ts = np.union1d(grid, s.timestamps) if s.timestamps.size else grid
    have = _present(s, ts)
    vals = _densify(s, ts, math.nan)
    if isinstance(filler, _KeywordValue):
        if filler == "REPEAT":
            # Most recent actual value before each gap; a leading gap stays empty.
            idx = np.where(have, np.arange(ts.size), -1)
            np.maximum.accumulate(idx, out=idx)
            ok = idx >= 0
            vals = np.where(ok, vals[np.maximum(idx, 0)], math.nan)
        elif filler == "LINEAR":
            # Interpolate across interior gaps only; leading/trailing gaps stay empty.
            if have.sum() >= 2:
                known_t = ts[have].astype(np.float64)
                interior = (ts >= ts[have][0]) & (ts <= ts[have][-1])
                vals = np.where(interior, np.interp(ts.astype(np.float64), known_t, vals[have]), math.nan)
        else:
            raise MathError(_err_type("FILL", "a scalar, a time series, REPEAT or LINEAR as argument 2", filler))
    elif isinstance(filler, Series):
        vals = np.where(have, vals, _densify_on(filler, ts))
    elif _kind(filler) == "S":
        vals = np.where(have, vals, float(filler))  # type: ignore[arg-type]
    else:
        raise MathError(_err_type("FILL", "a scalar, a time series, REPEAT or LINEAR as argument 2", filler))
    return _finite(ts, vals, s.label, s.period)


def _densify_on(s: Series, ts: np.ndarray) -> np.ndarray:
    """Values of ``s`` at ``ts`` (any timestamps), NaN where ``s`` has none."""
    out = np.full(ts.size, math.nan)
    if s.timestamps.size and ts.size:
        idx = np.searchsorted(s.timestamps, ts)
        idx_c = np.minimum(idx, s.timestamps.size - 1)
        hit = s.timestamps[idx_c] == ts
        out[hit] = s.values[idx_c[hit]]
    return out


@_function("FILL", 2)
def _fill(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    target, filler = args
    if isinstance(filler, list):
        filler = _as_series(filler, "FILL")
    if isinstance(target, list):
        return [_fill_one(ctx, s, filler) for s in target]
    return _fill_one(ctx, _as_series(target, "FILL"), filler)


# -- array functions -----------------------------------------------------------


@_function("FIRST", 1)
def _first(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    arr = _as_array(args[0], "FIRST")
    return arr[0] if arr else _empty(period=ctx.period)


@_function("LAST", 1)
def _last(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    arr = _as_array(args[0], "LAST")
    return arr[-1] if arr else _empty(period=ctx.period)


@_function("REMOVE_EMPTY", 1)
def _remove_empty(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    return [s for s in _as_array(args[0], "REMOVE_EMPTY") if len(s)]


_SORT_KEYS: dict[str, Callable[[np.ndarray], float]] = {
    "AVG": lambda x: float(x.mean()),
    "MIN": lambda x: float(x.min()),
    "MAX": lambda x: float(x.max()),
    "SUM": lambda x: float(x.sum()),
}


def _int_arg(v: object, where: str) -> int:
    x = _as_scalar(v, where)
    if not math.isfinite(x) or x != int(x) or x < 0:
        raise MathError(f"{where} expects a non-negative integer, got {x:g}")
    return int(x)


@_function("SORT", 3, 4)
def _sort(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    arr = _as_array(args[0], "SORT")
    func, order = args[1], args[2]
    if not isinstance(func, _KeywordValue) or func not in _SORT_KEYS:
        raise MathError("SORT expects AVG, MIN, MAX or SUM as argument 2")
    if not isinstance(order, _KeywordValue) or order not in ("ASC", "DESC"):
        raise MathError("SORT expects ASC or DESC as argument 3")
    keyfn = _SORT_KEYS[func]
    sign = 1.0 if order == "ASC" else -1.0

    def key(s: Series) -> tuple[bool, float]:
        if not len(s):
            return (True, 0.0)  # series without data points sort last
        return (False, sign * keyfn(s.values))

    out = sorted(arr, key=key)
    if len(args) == 4:
        out = out[: _int_arg(args[3], "SORT limit")]
    return out


@_function("SLICE", 2, 3)
def _slice(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    arr = _as_array(args[0], "SLICE")
    start = _int_arg(args[1], "SLICE start")
    stop = _int_arg(args[2], "SLICE end") if len(args) == 3 else len(arr)
    return arr[start:stop]


@_function("METRICS", 0, 1)
def _metrics(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    substr = ""
    if args:
        substr = args[0]
        if not isinstance(substr, str) or isinstance(substr, _KeywordValue):
            raise MathError(_err_type("METRICS", "a string", substr))
    out: list[Series] = []
    # "returns only the graphed metrics that contain that string in their Id field"
    for qid in ctx.all_metric_ids:
        if substr in qid:
            v = ctx.series_by_id.get(qid)
            if isinstance(v, Series):
                out.append(v)
            elif isinstance(v, list):
                out.extend(v)
    return out


# -- IF ----------------------------------------------------------------------------


def _if_series(cond: Series, a: object, b: object | None) -> Series:
    ts = cond.timestamps
    truth = cond.values != 0
    if isinstance(a, Series):
        a_vals = _densify_on(a, ts)
        a_vals = np.where(np.isnan(a_vals), 0.0, a_vals)  # TRUE with no value in a -> 0
        label = a.label
    else:
        a_vals = np.full(ts.size, float(a))  # type: ignore[arg-type]
        label = cond.label
    if b is None:
        b_vals = np.full(ts.size, math.nan)  # FALSE and no false value -> dropped
    elif isinstance(b, Series):
        b_vals = _densify_on(b, ts)  # FALSE with no value in b -> dropped
    else:
        b_vals = np.full(ts.size, float(b))  # type: ignore[arg-type]
    vals = np.where(truth, a_vals, b_vals)
    return _finite(ts, vals, label, cond.period)


@_function("IF", 2, 3)
def _if(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    cond, a = args[0], args[1]
    b = args[2] if len(args) == 3 else None
    for i, v in enumerate(args[1:], start=2):
        if isinstance(v, list):
            if len(v) != 1:
                raise MathError(_err_type("IF", f"a scalar or a time series as argument {i}", v))
        elif _kind(v) not in ("S", "TS"):
            raise MathError(_err_type("IF", f"a scalar or a time series as argument {i}", v))
    a = _as_series(a, "IF") if isinstance(a, list) else a
    b = _as_series(b, "IF") if isinstance(b, list) else b
    if isinstance(cond, list):
        return [_if_series(c, a, b) for c in cond]
    if isinstance(cond, Series):
        return _if_series(cond, a, b)
    c = _as_scalar(cond, "IF")
    if c != 0:
        return a
    if b is None:
        return _empty(a.label if isinstance(a, Series) else "", a.period if isinstance(a, Series) else None)
    return b


# -- time --------------------------------------------------------------------------


@_function("PERIOD", 1)
def _period(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    node = nodes[0]
    # "Valid input is metrics, not the results of other expressions."
    if not isinstance(node, Ref) or node.name not in ctx.all_metric_ids:
        raise MathError("PERIOD expects the Id of a metric as argument")
    s = _as_series(args[0], "PERIOD")
    return float(s.period or ctx.period)


@_function("TIME_SERIES", 1)
def _time_series(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    x = _as_scalar(args[0], "TIME_SERIES")
    grid = _grid(ctx, ctx.period)
    if not math.isfinite(x):
        return _empty(period=ctx.period)
    return Series(grid, np.full(grid.size, x), "", ctx.period)


def _time_function(name: str, fn: Callable[[np.ndarray], np.ndarray]):
    def handler(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
        def one(s: Series) -> Series:
            period = _period_of(ctx, s)
            grid = _grid(ctx, period, s)
            local = grid + (ctx.utc_offset if name != "EPOCH" else 0)
            return Series(grid, fn(local).astype(np.float64), s.label, s.period)

        return _map_series(args[0], one, name)

    FUNCTIONS[name] = _FuncSpec(handler, 1, 1)


def _month_index(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)


_time_function("MINUTE", lambda t: (t // 60) % 60)
_time_function("HOUR", lambda t: (t // 3600) % 24)
# 1970-01-01 was a Thursday; ISO weekday with Monday = 1 ... Sunday = 7.
_time_function("DAY", lambda t: ((t // 86400) + 3) % 7 + 1)
_time_function(
    "DATE",
    lambda t: (t.astype("datetime64[s]").astype("datetime64[D]") - t.astype("datetime64[s]").astype("datetime64[M]"))
    .astype(np.int64)
    + 1,
)
_time_function("MONTH", lambda t: _month_index(t) % 12 + 1)
_time_function("YEAR", lambda t: _month_index(t) // 12 + 1970)
_time_function("EPOCH", lambda t: t)


# -- anomaly detection ---------------------------------------------------------------


@_function("ANOMALY_DETECTION_BAND", 1, 2)
def _anomaly_detection_band(ctx: _Ctx, args: list, nodes: Sequence[Expr]):
    s = _as_series(args[0], "ANOMALY_DETECTION_BAND")
    stddevs = _as_scalar(args[1], "ANOMALY_DETECTION_BAND") if len(args) == 2 else 2.0
    if not math.isfinite(stddevs) or stddevs <= 0:
        raise MathError("ANOMALY_DETECTION_BAND expects a positive number of standard deviations")
    if ctx.band_provider is None:
        raise MathError("ANOMALY_DETECTION_BAND is not available here")
    lower, upper = ctx.band_provider(s, stddevs)
    base = s.label
    # Array order is [upper, lower]: the doc says LAST(ANOMALY_DETECTION_BAND(m1))
    # "returns the lower bound of the anomaly prediction band".
    return [
        replace(upper, label=f"{base} Upper".strip()),
        replace(lower, label=f"{base} Lower".strip()),
    ]


# ---------------------------------------------------------------------------
# Evaluator
# ---------------------------------------------------------------------------


def _eval(node: Expr, ctx: _Ctx) -> object:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Ref):
        if node.name not in ctx.series_by_id:
            raise MathError(_err_unknown_id(node.name), node.pos)
        v = ctx.series_by_id[node.name]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        if not isinstance(v, (Series, list)):
            raise MathError(f"The value of {node.name} is not usable in an expression")
        return v
    if isinstance(node, Binary):
        return _binary(node.op, _eval(node.left, ctx), _eval(node.right, ctx))
    if isinstance(node, Unary):
        return _unary(node.op, _eval(node.operand, ctx))
    if isinstance(node, Call):
        spec = FUNCTIONS[node.name]
        args = [_eval(a, ctx) for a in node.args]
        return spec.handler(ctx, args, node.args)
    if isinstance(node, ArrayLit):
        out: list[Series] = []
        for item in node.items:
            v = _eval(item, ctx)
            if isinstance(v, Series):
                out.append(v)
            elif isinstance(v, list):
                out.extend(v)
            else:
                raise MathError(_err_type("An array", "time series as elements", v), item.pos)
        return out
    if isinstance(node, String):
        return node.value
    if isinstance(node, Keyword):
        return _KeywordValue(node.name)
    raise AssertionError(type(node))  # pragma: no cover


def evaluate(
    expr: Expr | str,
    series_by_id: Mapping[str, object],
    *,
    period: int,
    start: int,
    end: int,
    all_metric_ids: Sequence[str],
    band_provider: Callable[[Series, float], tuple[Series, Series]] | None = None,
    utc_offset: int = 0,
) -> Series | list[Series] | float:
    """Evaluate ``expr`` over already-fetched query results.

    ``series_by_id`` maps every query Id (MetricStat results and earlier
    expression results) to its value.  ``all_metric_ids`` lists the MetricStat
    query Ids in request order (what ``METRICS()`` returns).  ``period``,
    ``start`` (inclusive, aligned to the period) and ``end`` (exclusive) define
    the timestamp grid used by FILL, TIME_SERIES and the time functions.
    ``band_provider(series, stddevs) -> (lower, upper)`` serves
    ANOMALY_DETECTION_BAND.  ``utc_offset`` (seconds; from
    ``LabelOptions.Timezone``) shifts MINUTE/HOUR/DAY/DATE/MONTH/YEAR.

    Returns a float (S), a :class:`Series` (TS) or a list of them (TS[]).  A
    keyword or string left as the final value raises :class:`MathError`.
    """
    node = parse(expr) if isinstance(expr, str) else expr
    ctx = _Ctx(series_by_id, int(period), int(start), int(end), list(all_metric_ids), band_provider, int(utc_offset))
    result = _eval(node, ctx)
    if isinstance(result, str):
        raise MathError(_err_type("An expression", "a time series", result))
    return result  # type: ignore[return-value]


def finalize_labels(result: Series | list[Series] | float, query_id: str, label: str | None = None) -> list[Series]:
    """Turn an expression result into the series to return for one query.

    * a scalar is refused (the doc: "The final result of any math expression
      must be a single time series or an array of time series");
    * a single series is labelled with the query's ``Label``, or its ``Id``
      when no label was given (AWS "generates a default"; the Id is this
      module's choice, unconfirmed);
    * each series of an array is labelled ``"<Label> <series label>"``, or
      just its own label when the query has no ``Label`` -- the legend rule
      the user guide gives for expressions producing several time series.
    """
    if isinstance(result, Series):
        return [replace(result, label=label if label else query_id)]
    if isinstance(result, list):
        out = []
        for s in result:
            if label:
                name = f"{label} {s.label}" if s.label else label
            else:
                name = s.label or query_id
            out.append(replace(s, label=name))
        return out
    raise MathError("The final result of a math expression must be a time series or an array of time series, not a scalar")
