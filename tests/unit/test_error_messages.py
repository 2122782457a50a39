"""Validation messages quote a bounded part of a value (issue 8: a 9 MB value was echoed whole)."""

from __future__ import annotations

from sagewatch.services.errors import MAX_QUOTED_CHARS, JavaText, render_value


def test_short_values_are_quoted_whole():
    assert render_value("abc") == "'abc'"
    assert render_value([1, 2]) == "'[1, 2]'"
    assert render_value(JavaText("[x, y]")) == "'[x, y]'"


def test_long_values_are_cut_keeping_the_closing_bracket():
    text = render_value("a" * (9 << 20))
    assert text == "'" + "a" * MAX_QUOTED_CHARS + "...'"
    listed = render_value(list(range(10**6)))
    assert listed.startswith("'[0, 1, 2") and listed.endswith("...]'")
    assert len(listed) <= MAX_QUOTED_CHARS + 8
    rendered = render_value(JavaText("[" + "InputLogEvent(m), " * 10_000 + "]"))
    assert rendered.endswith("...]'") and len(rendered) <= MAX_QUOTED_CHARS + 8
