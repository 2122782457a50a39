"""The composite-alarm ``AlarmRule`` language: parse once, evaluate against child states.

Pure: no I/O. ``parse_alarm_rule(text)`` checks and parses a rule (raising :class:`AlarmRuleError`
with AWS's message), ``rule.evaluate(state_of)`` says whether the composite is in ALARM and
``rule.explain(state_of)`` names the children that make it so (or keep it OK), for the
composite's ``StateReason`` / ``StateReasonData``; the ``*_reason`` helpers below write those the
way AWS does.

Language (PutCompositeAlarm ``AlarmRule``; user guide "Composite alarms", alarm-combining.md):

* ``ALARM(x)``, ``OK(x)``, ``INSUFFICIENT_DATA(x)`` -- true when alarm ``x`` is in that state;
  ``x`` is a name or an ARN, quoted (``"my alarm"``, ``\\"`` escapes a quote) or unquoted (then
  without spaces, round brackets or commas).
* ``TRUE``, ``FALSE``; ``NOT``, ``AND``, ``OR``; parentheses.
* ``AT_LEAST(M, STATE_CONDITION, (a, b, ...))`` -- true when at least M (a count, or a percentage
  like ``50%``) of the listed alarms meet ``ALARM | OK | INSUFFICIENT_DATA`` or ``NOT <state>``.
* 1..10240 characters, at most 100 distinct child alarms and 500 elements ("Elements are child
  alarms, TRUE or FALSE statements, and parentheses").

Choices where AWS is silent: precedence is NOT over AND over OR (the usual boolean order; AWS's
examples never mix AND and OR without parentheses); keywords are upper case only, as AWS writes
them everywhere; an element is each child reference, each TRUE/FALSE and each pair of grouping
parentheses.

A composite's state is ALARM when its rule is true and OK otherwise: it is INSUFFICIENT_DATA
only from creation until the first evaluation (PutCompositeAlarm: "the alarm state is
immediately set to INSUFFICIENT_DATA. The alarm is then evaluated and its state is set
appropriately").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from .alarm_evaluation import data_time, utc

StateOf = Callable[[str], str]

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
MAX_RULE_LENGTH = 10240
MAX_CHILDREN = 100
MAX_ELEMENTS = 500


class AlarmRuleError(ValueError):
    """A rule AWS would refuse; ``str(e)`` is AWS's message.

    AWS answers a malformed rule with HTTP 400, code ``ValidationError`` and messages like
    "Error in AlarmRule [Unsupported token ')' at char 1]" or "Error in AlarmRule [Unsupported
    token 'Oldest' at char 67, must be: ')']" (CloudFormation errors quoted in aws-cdk issues
    13953 and 34662; ``char`` counts from 0). The messages for limits, unterminated quotes and a
    rule that ends too early are this module's, in the same shape.
    """

    code = "ValidationError"


def parse_alarm_rule(text: str) -> AlarmRule:
    _check_length(text)
    parser = _Parser(_tokenize(text))
    root = parser.parse()
    rule = AlarmRule(text, root)
    _check_limits(rule, parser.elements)
    return rule


def alarm_name_of(reference: str) -> str:
    """``arn:aws:cloudwatch:<region>:<account>:alarm:<name>`` -> ``<name>``; a name stays itself.
    Names may contain colons, so everything after the ``alarm`` field is the name."""
    parts = reference.split(":", 6)
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == "cloudwatch" and parts[5] == "alarm":
        return parts[6]
    return reference


class AlarmRule:
    def __init__(self, text: str, root: _Node) -> None:
        self.text = text
        self._root = root

    def __repr__(self) -> str:
        return f"AlarmRule({self.text!r})"

    def alarm_names(self) -> set[str]:
        """Every alarm the rule refers to, ARNs reduced to names."""
        return set(self._root.names())

    def evaluate(self, state_of: StateOf) -> bool:
        """True when the composite is in ALARM. ``state_of(name)`` gives a child's state."""
        return self._root.value(state_of)

    def state(self, state_of: StateOf) -> str:
        return "ALARM" if self.evaluate(state_of) else "OK"

    def explain(self, state_of: StateOf) -> list[str]:
        """The children whose states decide the rule's current value, in rule order: for ALARM,
        those that make it true (``ALARM(a) OR ALARM(b)`` with only ``a`` in ALARM -> ``[a]``);
        for OK, those that keep it false (both, when neither is). AWS lists these as
        ``triggeringAlarms`` (EventBridge user guide: an OR of two OK children lists both)."""
        names = self._root.support(state_of, self.evaluate(state_of))
        return list(dict.fromkeys(names))


# --------------------------------------------------------------------------------------------
# Composite StateReason / StateReasonData as AWS writes them (EventBridge user guide,
# "Alarm events and EventBridge"; DescribeAlarms output quoted in public issues).


@dataclass(slots=True)
class TriggeringAlarm:
    arn: str
    state: str
    timestamp: datetime  # when that child entered its state


def child_transition_reason(child_arn: str, child_state: str, at: datetime) -> str:
    """ "arn:aws:cloudwatch:us-east-2:...:alarm:X transitioned to ALARM at Sunday 30 October,
    2022 20:47:35 UTC" -- the child whose change re-evaluated the composite."""
    return f"{child_arn} transitioned to {child_state} at {_long_time(at)}"


def created_reason(composite_arn: str, state: str) -> str:
    """ "arn:...:alarm:Main was created and its alarm rule evaluates to OK" """
    return f"{composite_arn} was created and its alarm rule evaluates to {state}"


def updated_reason(composite_arn: str, state: str) -> str:
    """ "arn:...:alarm:asg-disk-composite was updated and its new alarm rule evaluates to OK" """
    return f"{composite_arn} was updated and its new alarm rule evaluates to {state}"


def triggering_alarms_data(alarms: Iterable[TriggeringAlarm]) -> dict:
    """``{"triggeringAlarms":[{"arn":...,"state":{"value":"ALARM","timestamp":"...+0000"}}]}``,
    most recent state change first (the order of AWS's example)."""
    ordered = sorted(alarms, key=lambda a: utc(a.timestamp), reverse=True)
    return {
        "triggeringAlarms": [
            {"arn": a.arn, "state": {"value": a.state, "timestamp": data_time(a.timestamp)}}
            for a in ordered
        ]
    }


def _long_time(ts: datetime) -> str:
    return utc(ts).strftime("%A %d %B, %Y %H:%M:%S UTC")


# --------------------------------------------------------------------------------------------
# The tree. Each node can say its value and which children support a given value.


class _Node:
    def value(self, state_of: StateOf) -> bool:
        raise NotImplementedError

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        """Children that give this node the value ``want`` (which it has)."""
        raise NotImplementedError

    def names(self) -> Iterable[str]:
        return ()


@dataclass(slots=True)
class _Constant(_Node):
    truth: bool

    def value(self, state_of: StateOf) -> bool:
        return self.truth

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        return []


@dataclass(slots=True)
class _StateIs(_Node):
    state: str
    name: str

    def value(self, state_of: StateOf) -> bool:
        return state_of(self.name) == self.state

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        return [self.name]

    def names(self) -> Iterable[str]:
        return (self.name,)


@dataclass(slots=True)
class _Not(_Node):
    child: _Node

    def value(self, state_of: StateOf) -> bool:
        return not self.child.value(state_of)

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        return self.child.support(state_of, not want)

    def names(self) -> Iterable[str]:
        return self.child.names()


@dataclass(slots=True)
class _Junction(_Node):
    """AND (``all_``) or OR. The children that decide: for AND-true / OR-false all of them, for
    AND-false / OR-true only those with the deciding value."""

    all_: bool
    children: list[_Node]

    def value(self, state_of: StateOf) -> bool:
        values = (c.value(state_of) for c in self.children)
        return all(values) if self.all_ else any(values)

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        deciding = [c for c in self.children if c.value(state_of) == want]
        return [name for c in deciding for name in c.support(state_of, want)]

    def names(self) -> Iterable[str]:
        return [name for c in self.children for name in c.names()]


@dataclass(slots=True)
class _AtLeast(_Node):
    count: int | None  # AT_LEAST(2, ...)
    percent: float | None  # AT_LEAST(50%, ...)
    state: str
    negated: bool  # NOT ALARM etc.
    members: list[str]

    def _meets(self, state_of: StateOf, name: str) -> bool:
        return (state_of(name) == self.state) != self.negated

    def value(self, state_of: StateOf) -> bool:
        met = sum(self._meets(state_of, n) for n in self.members)
        if self.percent is not None:
            return met * 100 >= self.percent * len(self.members)
        return met >= self.count

    def support(self, state_of: StateOf, want: bool) -> list[str]:
        return [n for n in self.members if self._meets(state_of, n) == want]

    def names(self) -> Iterable[str]:
        return self.members


# --------------------------------------------------------------------------------------------
# Tokens


@dataclass(slots=True, frozen=True)
class _Token:
    kind: str  # "(" ")" "," "word" "quoted" "end"
    text: str
    at: int  # character index, from 0 like AWS's "at char N"


_PUNCTUATION = "(),"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in _PUNCTUATION:
            tokens.append(_Token(ch, ch, i))
            i += 1
        elif ch == '"':
            token, i = _quoted(text, i)
            tokens.append(token)
        else:
            start = i
            while i < len(text) and not _ends_word(text[i]):
                i += 1
            tokens.append(_Token("word", text[start:i], start))
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _ends_word(ch: str) -> bool:
    return ch.isspace() or ch in _PUNCTUATION or ch == '"'


def _quoted(text: str, start: int) -> tuple[_Token, int]:
    """A double-quoted name; a backslash escapes the next character (``\\"`` is a quote)."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
        elif ch == '"':
            return _Token("quoted", "".join(chars), start), i + 1
        else:
            chars.append(ch)
            i += 1
    raise _error(f"Unterminated quoted alarm name at char {start}")


# --------------------------------------------------------------------------------------------
# Parser: recursive descent, one function per precedence level.
#   rule     := or EOF
#   or       := and ("OR" and)*
#   and      := not ("AND" not)*
#   not      := "NOT" not | primary
#   primary  := "(" or ")" | TRUE | FALSE | STATE "(" name ")" | at_least


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.elements = 0

    def parse(self) -> _Node:
        node = self._or()
        self._expect_end()
        return node

    # -- precedence levels

    def _or(self) -> _Node:
        return self._junction(self._and, "OR", all_=False)

    def _and(self) -> _Node:
        return self._junction(self._not, "AND", all_=True)

    def _junction(self, operand: Callable[[], _Node], keyword: str, all_: bool) -> _Node:
        children = [operand()]
        while self._at_word(keyword):
            self._advance()
            children.append(operand())
        return children[0] if len(children) == 1 else _Junction(all_, children)

    def _not(self) -> _Node:
        if self._at_word("NOT"):
            self._advance()
            return _Not(self._not())
        return self._primary()

    def _primary(self) -> _Node:
        token = self._peek()
        if token.kind == "(":
            self._advance()
            node = self._or()
            self._expect(")")
            self.elements += 1  # a pair of grouping parentheses
            return node
        if token.kind == "word" and token.text in ("TRUE", "FALSE"):
            self._advance()
            self.elements += 1
            return _Constant(token.text == "TRUE")
        if token.kind == "word" and token.text in STATES:
            self._advance()
            self._expect("(")
            name = self._name()
            self._expect(")")
            self.elements += 1
            return _StateIs(token.text, name)
        if token.kind == "word" and token.text == "AT_LEAST":
            self._advance()
            return self._at_least()
        raise self._unsupported(token)

    def _at_least(self) -> _Node:
        self._expect("(")
        count, percent = self._at_least_threshold()
        self._expect(",")
        negated = self._at_word("NOT")
        if negated:
            self._advance()
        state = self._peek()
        if not (state.kind == "word" and state.text in STATES):
            raise self._unsupported(state, "ALARM, OK or INSUFFICIENT_DATA")
        self._advance()
        self._expect(",")
        self._expect("(")
        members = [self._name()]
        while self._peek().kind == ",":
            self._advance()
            members.append(self._name())
        self._expect(")")
        self._expect(")")
        self.elements += len(members)
        return _AtLeast(count, percent, state.text, negated, members)

    def _at_least_threshold(self) -> tuple[int | None, float | None]:
        """``2`` or ``50%`` (also accepted quoted, ``"50%"``)."""
        token = self._peek()
        text = token.text.strip() if token.kind in ("word", "quoted") else ""
        try:
            if text.endswith("%"):
                percent = float(text[:-1])
                if not 0 <= percent <= 100 or math.isnan(percent):
                    raise ValueError
                self._advance()
                return None, percent
            count = int(text)
            if count < 0:
                raise ValueError
            self._advance()
            return count, None
        except ValueError:
            raise self._unsupported(token, "a number or a percentage") from None

    def _name(self) -> str:
        token = self._peek()
        if token.kind in ("word", "quoted") and token.text:
            self._advance()
            return alarm_name_of(token.text)
        raise self._unsupported(token, "an alarm name or ARN")

    # -- token helpers

    def _peek(self) -> _Token:
        return self.tokens[self.pos]

    def _advance(self) -> None:
        self.pos += 1

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token.kind == "word" and token.text == word

    def _expect(self, kind: str) -> None:
        token = self._peek()
        if token.kind != kind:
            raise self._unsupported(token, f"'{kind}'")
        self._advance()

    def _expect_end(self) -> None:
        token = self._peek()
        if token.kind != "end":
            raise self._unsupported(token, "AND or OR")

    def _unsupported(self, token: _Token, expected: str | None = None) -> AlarmRuleError:
        must = f", must be: {expected}" if expected else ""
        if token.kind == "end":
            return _error(f"Unexpected end of rule at char {token.at}{must}")
        shown = f'"{token.text}"' if token.kind == "quoted" else token.text
        return _error(f"Unsupported token '{shown}' at char {token.at}{must}")


# --------------------------------------------------------------------------------------------
# Limits


def _check_length(text: str) -> None:
    """Length is a model constraint (botocore: AlarmRule min 1, max 10240), so AWS reports it in
    its standard validation wording."""
    if len(text) < 1:
        constraint = "Member must have length greater than or equal to 1"
    elif len(text) > MAX_RULE_LENGTH:
        constraint = f"Member must have length less than or equal to {MAX_RULE_LENGTH}"
    else:
        return
    raise AlarmRuleError(
        f"1 validation error detected: Value '{text}' at 'alarmRule' "
        f"failed to satisfy constraint: {constraint}"
    )


def _check_limits(rule: AlarmRule, elements: int) -> None:
    children = len(rule.alarm_names())
    if children > MAX_CHILDREN:
        raise _error(f"The rule refers to {children} alarms; the maximum is {MAX_CHILDREN}")
    if elements > MAX_ELEMENTS:
        raise _error(f"The rule has {elements} elements; the maximum is {MAX_ELEMENTS}")


def _error(detail: str) -> AlarmRuleError:
    return AlarmRuleError(f"Error in AlarmRule [{detail}]")
