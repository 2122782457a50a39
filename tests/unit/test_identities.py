"""Ids are never reused (issue 8): the schema makes it so, and an upgraded database keeps it so.

A plain INTEGER PRIMARY KEY hands a deleted row's id to the next insert; whatever outlived the row
under its id (a cache entry, a token) then names another resource. The rule is structural: every
integer key is AUTOINCREMENT, whatever table a later migration adds.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from sagewatch.store.migrations import migration_files, split_statements
from sagewatch.store.sqlite.database import Database

PACKAGE = "sagewatch.store.sqlite"
ROWID_ALIAS = re.compile(r"\bid\s+INTEGER\s+PRIMARY\s+KEY\b(?!\s+AUTOINCREMENT)", re.IGNORECASE)


def test_every_integer_key_is_autoincrement(tmp_path):
    database = Database(tmp_path / "db")
    tables = database.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    database.close()
    integer_keyed = [name for name, sql in tables if re.search(r"INTEGER\s+PRIMARY\s+KEY", sql, re.I)]
    assert integer_keyed, "no table has an integer key: the check would prove nothing"
    reusable = [name for name, sql in tables if ROWID_ALIAS.search(sql)]
    assert reusable == []


def test_upgrade_keeps_rows_and_their_ids_and_never_reuses_them(tmp_path):
    """A database written before migration 3 comes through it with every row and id, and from then
    on an id deleted at the top is not handed out again, across a restart too."""
    path = tmp_path / "db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, sql in migration_files(PACKAGE):
        if version <= 2:
            for statement in split_statements(sql):
                connection.execute(statement)
            connection.execute("INSERT INTO schema_version VALUES (?)", (version,))
    connection.execute("INSERT INTO log_groups (id, name, creation_time, log_group_class) "
                       "VALUES (7, 'g', 0, 'STANDARD')")
    connection.execute("INSERT INTO log_streams (id, group_id, name, creation_time) VALUES (9, 7, 's', 0)")
    connection.execute(
        "INSERT INTO log_blocks VALUES (5, 7, 9, 0, 1, 1, 1, 41, 27, x'01', x'29', x'01', x'61')")
    connection.close()

    database = Database(path)
    assert database.execute("SELECT id, name FROM log_groups").fetchall() == [(7, "g")]
    assert database.execute("SELECT id FROM log_streams").fetchall() == [(9,)]
    assert database.execute("SELECT id, last_event_id FROM log_blocks").fetchall() == [(5, 41)]
    assert database.execute("SELECT value FROM counters WHERE name = 'log_event_id'").fetchone() == (41,)
    with database.write() as db:
        db.execute("DELETE FROM log_groups WHERE id = 7")
    database.close()

    database = Database(path)
    with database.write() as db:
        new_id = db.execute("INSERT INTO log_groups (name, creation_time, log_group_class) "
                            "VALUES ('g', 0, 'STANDARD')").lastrowid
    database.close()
    assert new_id == 8


def test_a_write_naming_a_deleted_resource_writes_nothing(tmp_path):
    """The service looks a stream up, then appends; a delete can land in between. The append must
    then store nothing (an orphan block would count in the group's storedBytes forever), and a
    stream created in a group deleted meanwhile must not appear."""
    from sagewatch.store import Gone
    from sagewatch.store.sqlite.logs import SQLiteLogStore

    database = Database(tmp_path / "db")
    store = SQLiteLogStore(database)
    group = store.create_log_group("g", 0, kms_key_id=None, log_group_class="STANDARD",
                                   deletion_protection=False, tags=None, arn="arn:g")
    stream = store.create_log_stream(group.id, "s", 0)
    store.delete_log_stream(stream)
    with pytest.raises(Gone):
        store.append_log_events(stream, [1, 2], [b"a", b"b"], 3, 54)
    assert database.execute("SELECT COUNT(*) FROM log_blocks").fetchone() == (0,)
    assert store.get_log_group("g").stored_bytes == 0

    store.delete_log_group(group, "arn:g")
    with pytest.raises(Gone):
        store.create_log_stream(group.id, "s", 0)
    assert database.execute("SELECT COUNT(*) FROM log_streams").fetchone() == (0,)
    database.close()
