"""The rules of one event bus, compiled and indexed, so that an event is tested against the few
rules that can match it rather than all of them.

Most rules name the event's ``source`` and/or ``detail-type`` exactly (``{"source":
["aws.sagemaker"], "detail-type": ["SageMaker Training Job State Change"], ...}``): such a rule
can only match an event whose source (or detail type) is one of the strings it lists. The index
files a rule that names both under each (source, detail-type) pair it allows (an ML platform's
bus: a few sources, a few detail types each, many rules per pair), a rule that names one of them
under its strings, and scans the other rules for every event. Filing is conservative: a rule is
filed only when its pattern text shows, beyond doubt, that every way it can match requires one
of those exact strings (see ``required_strings``); anything else is scanned, which is always
right. ``tests/app/test_events_matching.py`` holds ``matching`` to the plain scan (every rule's
``matches_flat``) on generated rules and events.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .patterns import EventPattern, FlatEvent

Item = TypeVar("Item")

# The fields rules are filed by: source and detail-type (a rule requiring both is filed by the
# pair; one requiring one of them, by it).
INDEXED_FIELDS = ("source", "detail-type")


@dataclass(frozen=True, slots=True)
class IndexedRule(Generic[Item]):
    position: int  # the rule's place in the bus's list: matches are answered in this order
    pattern: EventPattern
    item: Item  # what the caller keeps with the rule (the rule and its targets)


class RuleIndex(Generic[Item]):
    """``RuleIndex([(pattern, item), ...])``; ``matching(flat_event)`` gives the items of the
    rules whose pattern matches, in the order given."""

    def __init__(self, rules: Iterable[tuple[EventPattern, Item]]) -> None:
        source, detail_type = INDEXED_FIELDS
        self.by_pair: dict[tuple[str, str], list[IndexedRule[Item]]] = {}
        self.by_field: dict[str, dict[str, list[IndexedRule[Item]]]] = {f: {} for f in INDEXED_FIELDS}
        self.scanned: list[IndexedRule[Item]] = []
        self.size = 0
        for position, (pattern, item) in enumerate(rules):
            self.size += 1
            entry = IndexedRule(position, pattern, item)
            sources = required_strings(pattern.text, source)
            detail_types = required_strings(pattern.text, detail_type)
            if sources is not None and detail_types is not None:
                for pair in ((s, d) for s in sources for d in detail_types):
                    self.by_pair.setdefault(pair, []).append(entry)
            elif sources is not None or detail_types is not None:
                field, strings = (source, sources) if sources is not None else (detail_type, detail_types)
                for text in strings:
                    self.by_field[field].setdefault(text, []).append(entry)
            else:
                self.scanned.append(entry)

    def candidates(self, flat: FlatEvent) -> list[IndexedRule[Item]]:
        """The rules that may match the event: those filed under its values of the indexed
        fields (or pairs of them), and the scanned ones; each once, in position order."""
        values = {field: [leaf.value for leaf in flat.get(field, ()) if isinstance(leaf.value, str)]
                  for field in INDEXED_FIELDS}
        found: dict[int, IndexedRule[Item]] = {}
        for field, filed in self.by_field.items():
            if filed:
                for value in values[field]:
                    for entry in filed.get(value, ()):
                        found[entry.position] = entry
        if self.by_pair:
            source, detail_type = INDEXED_FIELDS
            for pair in ((s, d) for s in values[source] for d in values[detail_type]):
                for entry in self.by_pair.get(pair, ()):
                    found[entry.position] = entry
        if not found:
            return self.scanned
        for entry in self.scanned:
            found[entry.position] = entry
        return [found[position] for position in sorted(found)]

    def matching(self, flat: FlatEvent) -> list[Item]:
        return [entry.item for entry in self.candidates(flat) if entry.pattern.matches_flat(flat)]


def required_strings(pattern_text: str, field: str) -> frozenset[str] | None:
    """The strings one of which the top-level ``field`` of an event must equal for the pattern to
    match it, or None when the pattern text does not show such a set for certain.

    It does when the last top-level member named ``field`` is a list of plain strings and no
    ``$or`` at the top level names ``field`` (an alternative could replace the requirement):
    patterns.py compiles that list into the field's only rule in every branch, a rule of exact
    string tests. A string that reads as an IP address is left out of the index (it also matches
    other spellings of the address, patterns._exact_string), as is every other kind of value
    (numbers, null, operators).
    """
    try:
        document = json.loads(pattern_text, object_pairs_hook=_Pairs)
    except ValueError:  # RecursionError included: such a pattern is simply scanned
        return None
    if not isinstance(document, _Pairs):
        return None
    values = None
    for key, value in document:
        if key == field:
            values = value
        elif key == "$or" and _names(value, field):
            return None
    if not isinstance(values, list) or not values:
        return None
    if not all(isinstance(v, str) and not _reads_as_address(v) for v in values):
        return None
    return frozenset(values)


class _Pairs(list):
    """A JSON object as its (key, value) pairs in order, repeated keys kept."""


def _names(alternatives: Any, field: str) -> bool:
    """Whether a ``$or`` value names ``field`` at its own level (directly or in a nested
    ``$or``); anything unexpected counts as naming it."""
    if not isinstance(alternatives, list):
        return True
    for alternative in alternatives:
        if not isinstance(alternative, _Pairs):
            return True
        for key, value in alternative:
            if key == field or (key == "$or" and _names(value, field)):
                return True
    return False


def _reads_as_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def scan(rules: Sequence[tuple[EventPattern, Item]], flat: FlatEvent) -> list[Item]:
    """The plain statement of matching, which the index must agree with."""
    return [item for pattern, item in rules if pattern.matches_flat(flat)]
