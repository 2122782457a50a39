"""Regular expressions from users: Python's syntax and Python's answers, in time linear in the text.

Why not ``re``: it backtracks. ``.*.*.*.*.*.*.*.*c`` against ``"c" + "a" * 40`` tries every way
of sharing the ``a`` among the ``.*`` before it gives up, which takes minutes, and ``re`` holds
the GIL all that time, so the server answers nobody else. RE2 (google-re2) matches in time
linear in the text whatever the pattern, and releases the GIL while it runs (measured: another
thread kept running every millisecond through a 150 ms RE2 search).

    compile_user_regex(pattern) -> UserRegex         raises UserRegexError
    regex.contains_match(text) -> bool               re.search(pattern, text) is not None
    regex.search(text) -> tuple[str | None, ...]     re.search(pattern, text).group(0, 1, ...),
                         | None                      for a text that does not end in "\\n"

How: Python's own parser (``re._parser``) reads the pattern, so a pattern is accepted exactly
when ``re`` accepts it, and each node is written out in RE2's syntax with ``re``'s meaning:

* ``\\d \\s \\w`` and ``\\D \\S \\W`` are Unicode sets in ``re`` (ASCII ones in RE2): they are
  spelled out as explicit RE2 classes, read from ``re`` itself over every code point.
* ``$`` (without MULTILINE) matches at the end of the text or before a ``"\\n"`` that ends it;
  RE2's ``$`` only at the very end. ``contains_match`` runs a second, tiny search for texts that
  end in ``"\\n"`` (see ``_FinalNewline``). Exact unless a ``$`` sits inside a repeated group
  or is reachable in more than 64 ways (a CloudWatch filter regex has no groups at all); such a
  ``$`` matches only at the very end.
* ``\\Z`` is RE2's ``\\z``; ``.`` never matches ``"\\n"`` unless DOTALL; ``^`` is ``\\A``.
* Lone surrogates (which a ``str`` may hold) are matched as the code points they are.

What RE2 cannot do in linear time is refused with ``UserRegexError``: backreferences, lookahead
and lookbehind, conditional groups, possessive quantifiers and atomic groups. Also refused: a
repetition count above 1000 (RE2's limit), a pattern whose compiled program would exceed
``MAX_PROGRAM_MEMORY``, and IGNORECASE (``re``'s case folding is its own; RE2's differs for some
characters, and no test holds them together yet).

Differences that remain:

* ``\\b`` and ``\\B`` are RE2's, which count only ASCII letters, digits and ``_`` as word
  characters, where ``re`` counts every Unicode letter and digit: a boundary next to ``é`` or
  ``٣`` is seen differently. With the ASCII flag (``(?a)``) they agree.
* ``search``: a repeated group that can match the empty string reports its last non-empty
  iteration, where ``re`` reports a final empty one (``(a|)*`` on ``"aa"``: group 1 is ``"a"``,
  ``re`` says ``""``). The whole match is the same.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre
import re._parser as sre_parse
import warnings
from typing import Any

import numpy
import re2

# Python's parser warns about class syntax that may change meaning one day ("[[:alpha:]]",
# "[a--b]"); for a user's pattern that is noise on the server's stderr, not news for us.
warnings.filterwarnings("ignore", category=FutureWarning,
                        message=r"Possible (nested set|set (difference|intersection|symmetric"
                                r" difference|union))")

__all__ = ["MAX_PROGRAM_MEMORY", "UserRegex", "UserRegexError", "compile_user_regex"]

# RE2's budget for one compiled pattern (program and matching caches). A pattern needing more
# (a thousand-fold repeat of a Unicode class, say) is refused rather than allowed to grow. 1 MB
# holds any pattern AWS's filter syntax allows at its 1,024 characters of ordinary classes, and
# keeps the compiled-pattern caches (256 filter patterns) under 256 MB even if every one is hostile.
MAX_PROGRAM_MEMORY = 1 << 20

_MAX_REPEAT = 1000  # RE2 refuses larger counts: "invalid repetition size"


class UserRegexError(ValueError):
    """A pattern that ``re`` rejects, or that RE2 cannot run. ``str(e)`` says why, in plain words
    (for logs; each API words its own error for the client)."""


def compile_user_regex(pattern: str) -> UserRegex:
    return UserRegex(pattern)


# ==================================================================================================
# Python's character classes, as RE2 class bodies
# ==================================================================================================

_SUPPORTED_FLAGS = sre.SRE_FLAG_UNICODE | sre.SRE_FLAG_ASCII | sre.SRE_FLAG_MULTILINE \
    | sre.SRE_FLAG_DOTALL | sre.SRE_FLAG_VERBOSE

_ASCII_SETS = {  # re's sets under the ASCII flag (re module documentation, "\d", "\s", "\w")
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}

_CATEGORIES = {  # sre category -> (letter, negated)
    sre.CATEGORY_DIGIT: ("d", False), sre.CATEGORY_NOT_DIGIT: ("d", True),
    sre.CATEGORY_SPACE: ("s", False), sre.CATEGORY_NOT_SPACE: ("s", True),
    sre.CATEGORY_WORD: ("w", False), sre.CATEGORY_NOT_WORD: ("w", True),
}


@functools.cache
def _unicode_sets() -> dict[str, tuple[tuple[int, int], ...]]:
    """The code points ``re`` matches with ``\\d``, ``\\s`` and ``\\w`` in a str pattern, as
    ranges. Asked of ``re`` itself, over every code point, so the sets are exactly those of this
    Python's Unicode tables (about 0.2 s, once)."""
    # Every code point, surrogates included, in order (decoding UTF-32 is ~5x faster than chr()).
    every = numpy.arange(0x110000, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    return {letter: tuple((m.start(), m.end() - 1) for m in re.finditer(f"\\{letter}+", every))
            for letter in "dsw"}


def _complement(ranges) -> list[tuple[int, int]]:
    out, next_free = [], 0
    for low, high in ranges:
        if low > next_free:
            out.append((next_free, low - 1))
        next_free = high + 1
    if next_free <= 0x10FFFF:
        out.append((next_free, 0x10FFFF))
    return out


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _class_body(ranges) -> str:
    return "".join(_char(lo) if lo == hi else f"{_char(lo)}-{_char(hi)}" for lo, hi in ranges)


def _category_body(category, flags: int) -> str:
    return _category_class(category, bool(flags & sre.SRE_FLAG_ASCII))


@functools.cache
def _category_class(category, ascii_only: bool) -> str:
    letter, negated = _CATEGORIES[category]
    ranges = _ASCII_SETS[letter] if ascii_only else _unicode_sets()[letter]
    return _class_body(_complement(ranges) if negated else ranges)


def _is_word(ch: str, flags: int) -> bool:
    if flags & sre.SRE_FLAG_ASCII:
        return ch.isascii() and (ch.isalnum() or ch == "_")
    return ch.isalnum() or ch == "_"  # re's Unicode word: str.isalnum() or "_" (_sre.c)


# ==================================================================================================
# Writing a parsed pattern in RE2's syntax
# ==================================================================================================

_NEVER = "[^\\x00-\\x{10ffff}]"  # a class no character is in: an assertion that never holds


class _Spelling:
    """How three assertions are written, which depends on the text they will see: where it ends
    (see ``_FinalNewline``), and whether it is empty. Everything else has one spelling."""

    __slots__ = ("dollar", "end_of_string", "non_boundary")

    def __init__(self, dollar: str, end_of_string: str, non_boundary: str = "\\B") -> None:
        self.dollar = dollar                # $ without MULTILINE
        self.end_of_string = end_of_string  # \Z
        self.non_boundary = non_boundary    # \B


_AT_END = _Spelling("\\z", "\\z")  # the match's $ sits at the very end of the text
# re's \B never holds in an empty text (_sre.c: "if (state->beginning == state->end) return 0"),
# RE2's does (nothing on either side is a word character).
_EMPTY_TEXT = _Spelling("\\z", "\\z", non_boundary=_NEVER)


def _refuse(what: str) -> UserRegexError:
    return UserRegexError(f"{what} cannot run in linear time (RE2) and are not supported")


def _check_flags(flags: int) -> None:
    if flags & sre.SRE_FLAG_IGNORECASE:
        raise UserRegexError("case-insensitive matching ((?i), IGNORECASE) is not supported")
    if flags & ~_SUPPORTED_FLAGS:
        raise UserRegexError("unsupported regex flag")


def _write(items, flags: int, spelling: _Spelling, captures: bool = True) -> str:
    return "".join(_write_item(item, flags, spelling, captures) for item in items)


def _write_item(item, flags: int, spelling: _Spelling, captures: bool) -> str:
    op, av = item
    if op is sre.LITERAL:
        return _char(av)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(av)}]"
    if op is sre.ANY:
        return "(?s:.)" if flags & sre.SRE_FLAG_DOTALL else "[^\\n]"
    if op is sre.IN:
        negated = bool(av) and av[0][0] is sre.NEGATE
        body = []
        for kind, value in av[1:] if negated else av:
            if kind is sre.LITERAL:
                body.append(_char(value))
            elif kind is sre.RANGE:
                body.append(f"{_char(value[0])}-{_char(value[1])}")
            elif kind is sre.CATEGORY:
                body.append(_category_body(value, flags))
            else:
                raise UserRegexError(f"unsupported class item {kind}")
        return f"[{'^' if negated else ''}{''.join(body)}]" if body else _NEVER
    if op is sre.BRANCH:
        return "(?:" + "|".join(_write(alt, flags, spelling, captures) for alt in av[1]) + ")"
    if op is sre.SUBPATTERN:
        group, add_flags, del_flags, inner = av
        inner_flags = (flags | add_flags) & ~del_flags
        _check_flags(inner_flags)
        body = _write(inner, inner_flags, spelling, captures)
        return f"({body})" if group is not None and captures else f"(?:{body})"
    if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
        low, high, inner = av
        if low > _MAX_REPEAT or (high is not sre.MAXREPEAT and high > _MAX_REPEAT):
            raise UserRegexError(f"a repetition count above {_MAX_REPEAT}")
        if high is sre.MAXREPEAT:
            count = {0: "*", 1: "+"}.get(low, f"{{{low},}}")
        elif (low, high) == (0, 1):
            count = "?"
        else:
            count = f"{{{low}}}" if low == high else f"{{{low},{high}}}"
        lazy = "?" if op is sre.MIN_REPEAT else ""
        return f"(?:{_write(inner, flags, spelling, captures)}){count}{lazy}"
    if op is sre.AT:
        multiline = flags & sre.SRE_FLAG_MULTILINE
        if av is sre.AT_BEGINNING:
            return "(?m:^)" if multiline else "\\A"
        if av is sre.AT_BEGINNING_STRING:
            return "\\A"
        if av is sre.AT_END:
            return "(?m:$)" if multiline else spelling.dollar
        if av is sre.AT_END_STRING:
            return spelling.end_of_string
        if av is sre.AT_BOUNDARY:
            return "\\b"
        if av is sre.AT_NON_BOUNDARY:
            return spelling.non_boundary
    if op is sre.GROUPREF:
        raise _refuse("backreferences")
    if op is sre.GROUPREF_EXISTS:
        raise _refuse("conditional groups")
    if op is sre.ASSERT or op is sre.ASSERT_NOT:
        raise _refuse("lookahead and lookbehind assertions")
    if op is sre.POSSESSIVE_REPEAT:
        raise _refuse("possessive quantifiers")
    if op is sre.ATOMIC_GROUP:
        raise _refuse("atomic groups")
    raise UserRegexError(f"unsupported regex construct {op}")


def _compile_re2(source: str, captures: bool) -> Any:
    options = re2.Options()
    options.log_errors = False          # errors become UserRegexError, not lines on stderr
    options.max_mem = MAX_PROGRAM_MEMORY
    options.never_capture = not captures
    try:
        return re2.compile(source, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise UserRegexError(f"RE2 cannot compile the pattern: {reason}") from None


# ==================================================================================================
# $ before a final newline
# ==================================================================================================

def _nodes(items, flags: int):
    """Every node of a parsed pattern, nested ones included, with the flags in force there."""
    for item in items:
        yield item, flags
        op, av = item
        if op is sre.SUBPATTERN:
            yield from _nodes(av[3], (flags | av[1]) & ~av[2])
        elif op is sre.BRANCH:
            for alternative in av[1]:
                yield from _nodes(alternative, flags)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            yield from _nodes(av[2], flags)


def _holds_line_end(item, flags: int) -> bool:
    """Whether ``item`` contains a ``$`` that may match before a final newline."""
    return any(op is sre.AT and av is sre.AT_END and not node_flags & sre.SRE_FLAG_MULTILINE
               for (op, av), node_flags in _nodes([item], flags))


class _Uncuttable(Exception):
    """A ``$`` inside a repeat, or too many ways to reach one."""


_MAX_CUTS = 64


def _cuts(sequence: list[tuple[Any, int]]) -> list[tuple[list, list]]:
    """Every way a match of ``sequence`` (items with their flags) can reach its first ``$``:
    (what comes before it, what comes after it). Groups are opened and alternations taken apart
    until the ``$`` stands in the sequence itself."""
    for i, (item, flags) in enumerate(sequence):
        if not _holds_line_end(item, flags):
            continue
        op, av = item
        before, after = sequence[:i], sequence[i + 1:]
        if op is sre.AT:
            return [(before, after)]
        if op is sre.SUBPATTERN:
            inner_flags = (flags | av[1]) & ~av[2]
            return _cuts(before + [(x, inner_flags) for x in av[3]] + after)
        if op is sre.BRANCH:
            ways = [way for alternative in av[1]
                    for way in _cuts(before + [(x, flags) for x in alternative] + after)]
        elif av[:2] == (0, 1):   # x? : a match either has x or not
            ways = _cuts(before + [(x, flags) for x in av[2]] + after) + _cuts(before + after)
        elif av[:2] == (1, 1):
            ways = _cuts(before + [(x, flags) for x in av[2]] + after)
        else:
            raise _Uncuttable
        if len(ways) > _MAX_CUTS:
            raise _Uncuttable
        return ways
    return []


class _FinalNewline:
    """Matches whose ``$`` stands before the ``"\\n"`` that ends the text (``re`` allows that).

    Take a match and the first ``$`` it passes. If that ``$`` sits at the very end, every later
    one does too, and the main program (``$`` written ``\\z``) finds the match. Otherwise it sits
    at ``len - 1``, just before the final ``"\\n"``: what precedes the ``$`` (``before``) matched
    up to ``len - 1``, and what follows it (``after``) matched within that last ``"\\n"``. Whether
    ``after`` can do that depends only on the character before it (none, a newline, a word
    character or another), so it is decided here once for each of those four contexts, and each
    context gets one program: ``before`` followed by ``\\n\\z``, for every cut whose ``after``
    can match there.
    """

    # context -> (a text ending in that context and "\n", where "after" starts)
    CONTEXTS = {"start": (b"\n", 0), "newline": (b"\n\n", 1), "word": (b"a\n", 1),
                "other": (b"-\n", 1)}

    # Inside what precedes the $, \Z cannot hold (the end is further on); inside what follows
    # it, both $ and \Z are about positions len-1 and len, where $ always holds.
    BEFORE = _Spelling(dollar=_NEVER, end_of_string=_NEVER)
    AFTER = _Spelling(dollar="", end_of_string="\\z")

    def __init__(self, parsed, flags: int) -> None:
        self.flags = flags
        cuts = _cuts([(item, flags) for item in parsed])
        sources: dict[str, list[str]] = {context: [] for context in self.CONTEXTS}
        for before, after in cuts:
            after_program = _compile_re2(self._write(after, self.AFTER), captures=False)
            before_source = f"(?:{self._write(before, self.BEFORE)})\\n\\z"
            for context, (text, position) in self.CONTEXTS.items():
                if after_program.match(text, position) is not None:
                    sources[context].append(before_source)
        self.programs = {context: _compile_re2("|".join(alts), captures=False) if alts else None
                         for context, alts in sources.items()}

    @staticmethod
    def _write(sequence, spelling: _Spelling) -> str:
        return "".join(_write_item(item, flags, spelling, captures=False)
                       for item, flags in sequence)

    def contains_match(self, text: str, encoded: bytes) -> bool:
        # Word characters as the pattern's own flags count them (a scoped (?a:...) is not
        # told apart; it only matters to a \b right after a $).
        if len(text) == 1:
            context = "start"
        else:
            previous = text[-2]
            if previous == "\n":
                context = "newline"
            else:
                context = "word" if _is_word(previous, self.flags) else "other"
        program = self.programs[context]
        return program is not None and program.search(encoded) is not None


# ==================================================================================================
# The compiled regex
# ==================================================================================================

def _encode(text: str) -> bytes:
    # surrogatepass: a lone surrogate becomes the three bytes RE2 reads as that code point.
    return text.encode("utf-8", "surrogatepass")


class UserRegex:
    """A user's pattern, compiled for RE2. Thread-safe; compile once and share."""

    __slots__ = ("pattern", "groups", "_parsed", "_flags", "_starts", "_boolean", "_capturing",
                 "_final_newline", "_matches_empty_text")

    def __init__(self, pattern: str) -> None:
        try:
            parsed = sre_parse.parse(pattern)
        except re.error as exc:
            raise UserRegexError(str(exc)) from None
        except (RecursionError, OverflowError, MemoryError):
            raise UserRegexError("pattern too complex") from None
        flags = parsed.state.flags
        _check_flags(flags)
        self.pattern = pattern
        self.groups = parsed.state.groups - 1
        self._parsed = list(parsed)
        self._flags = flags
        non_boundary = any(op is sre.AT and av is sre.AT_NON_BOUNDARY
                           for (op, av), _ in _nodes(self._parsed, flags))
        # RE2 searches byte by byte, so a match may start inside a multi-byte character, and
        # there RE2's \B holds (a byte of "é" is no word character, nor is the next): r"\B"
        # would match "é". A match that starts with a whole character cannot; so a pattern
        # with \B is searched from the start, skipping whole characters as re does.
        self._starts = "\\A(?s:.)*?" if non_boundary else ""
        self._boolean = _compile_re2(
            self._starts + _write(self._parsed, flags, _AT_END, captures=False), captures=False)
        # Built by search() when first needed: most callers only ask yes or no.
        self._capturing: dict[_Spelling, Any] = {}
        empty_text_program = self._boolean
        if non_boundary:
            empty_text_program = _compile_re2(
                _write(self._parsed, flags, _EMPTY_TEXT, captures=False), captures=False)
        self._matches_empty_text = empty_text_program.search(b"") is not None
        self._final_newline: _FinalNewline | None = None
        if any(_holds_line_end(item, flags) for item in self._parsed):
            try:
                self._final_newline = _FinalNewline(self._parsed, flags)
            except _Uncuttable:
                pass  # documented: such a $ matches only at the very end

    def __repr__(self) -> str:
        return f"UserRegex({self.pattern!r})"

    def contains_match(self, text: str) -> bool:
        """``re.search(pattern, text) is not None``."""
        if not text:
            return self._matches_empty_text
        encoded = _encode(text)
        if self._boolean.search(encoded) is not None:
            return True
        if self._final_newline is not None and text.endswith("\n"):
            return self._final_newline.contains_match(text, encoded)
        return False

    def search(self, text: str) -> tuple[str | None, ...] | None:
        """The leftmost match and its groups, ``re.search(pattern, text).group(0, 1, ...)``
        (None for a group that took no part), or None. ``$`` is read as the end of the text:
        pass one line, without its newline."""
        spelling = _AT_END if text else _EMPTY_TEXT
        program = self._capturing.get(spelling)
        if program is None:
            # The whole match is a group of its own, after the skipped start (if any).
            program = self._capturing[spelling] = _compile_re2(
                f"{self._starts}({_write(self._parsed, self._flags, spelling)})", captures=True)
        match = program.search(_encode(text))
        if match is None:
            return None
        return tuple(None if g is None else g.decode("utf-8", "surrogatepass")
                     for g in match.groups())
