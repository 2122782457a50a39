"""Figures the search-type tests report (sequences run, requests sent, 5xx found), printed at the
end of every pytest run by ``pytest_terminal_summary`` in conftest.py, so `make test` shows how
much searching it did and not only that it passed."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()


def record(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the figure ``name`` (e.g. "logs model: sequences")."""
    FIGURES[name] += amount
