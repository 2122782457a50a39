"""Versioned schemas: each backend keeps numbered SQL files, applied in order, once.

The database records the highest version applied in ``schema_version``; opening a database
applies what is missing, in one transaction per migration.
"""

from __future__ import annotations

from importlib import resources


def migration_files(package: str) -> list[tuple[int, str]]:
    """(version, SQL text) for each ``migrations/NNNN_name.sql`` of a backend package."""
    folder = resources.files(package) / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    return sorted(found)


def split_statements(sql: str) -> list[str]:
    """The statements of a migration file (they never contain ';' inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
