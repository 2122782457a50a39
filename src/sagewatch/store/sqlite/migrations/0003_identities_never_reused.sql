-- Migration 3: identities that are never reused.
--
-- A plain INTEGER PRIMARY KEY lets SQLite hand a deleted row's id to the next insert when that
-- row had the largest id. Anything that outlived the row under its id -- the decoded-block cache,
-- a pagination token, a reader's list of blocks -- then named the new row: a deleted group's
-- events were served to the next group created (issue 8). AUTOINCREMENT keeps the high-water
-- mark in sqlite_sequence, so an id, once used, is never used again, across restarts too. The
-- tables are rebuilt (SQLite cannot add AUTOINCREMENT to an existing table); rows keep their ids.
CREATE TABLE log_groups_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL UNIQUE,
    creation_time       INTEGER NOT NULL,
    retention_days      INTEGER,
    kms_key_id          TEXT,
    log_group_class     TEXT NOT NULL,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    stored_bytes        INTEGER NOT NULL DEFAULT 0
);
INSERT INTO log_groups_new SELECT id, name, creation_time, retention_days, kms_key_id,
    log_group_class, deletion_protection, stored_bytes FROM log_groups;
DROP TABLE log_groups;
ALTER TABLE log_groups_new RENAME TO log_groups;

CREATE TABLE log_streams_new (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id              INTEGER NOT NULL,
    name                  TEXT NOT NULL,
    creation_time         INTEGER NOT NULL,
    first_event_timestamp INTEGER,
    last_event_timestamp  INTEGER,
    last_ingestion_time   INTEGER,
    UNIQUE (group_id, name)
);
INSERT INTO log_streams_new SELECT id, group_id, name, creation_time, first_event_timestamp,
    last_event_timestamp, last_ingestion_time FROM log_streams;
DROP TABLE log_streams;
ALTER TABLE log_streams_new RENAME TO log_streams;
CREATE INDEX log_streams_by_last_event ON log_streams (group_id, last_event_timestamp, id);

CREATE TABLE log_blocks_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id       INTEGER NOT NULL,
    stream_id      INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    min_timestamp  INTEGER NOT NULL,
    max_timestamp  INTEGER NOT NULL,
    event_count    INTEGER NOT NULL,
    last_event_id  INTEGER NOT NULL,
    stored_bytes   INTEGER NOT NULL,  -- message bytes + 26 per event, as AWS counts them
    timestamps     BLOB NOT NULL,
    event_ids      BLOB NOT NULL,
    ends           BLOB NOT NULL,
    messages       BLOB NOT NULL
);
INSERT INTO log_blocks_new SELECT id, group_id, stream_id, ingestion_time, min_timestamp,
    max_timestamp, event_count, last_event_id, stored_bytes, timestamps, event_ids, ends, messages
    FROM log_blocks;
DROP TABLE log_blocks;
ALTER TABLE log_blocks_new RENAME TO log_blocks;
CREATE INDEX log_blocks_by_stream_start ON log_blocks (stream_id, min_timestamp);
CREATE INDEX log_blocks_by_stream_end ON log_blocks (stream_id, max_timestamp);
CREATE INDEX log_blocks_by_group_start ON log_blocks (group_id, min_timestamp);
CREATE INDEX log_blocks_by_group_end ON log_blocks (group_id, max_timestamp);

-- Metrics are not deleted today and alarm history expires oldest first, but an id that can come
-- back is a trap for the next cache or token built on it: every integer key is AUTOINCREMENT
-- (tests/unit/test_identities.py holds the schema to that).
CREATE TABLE metrics_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    dimensions TEXT NOT NULL,   -- canonical JSON: [[name, value], ...] sorted by name
    last_seen  INTEGER NOT NULL,
    UNIQUE (namespace, name, dimensions)
);
INSERT INTO metrics_new SELECT id, namespace, name, dimensions, last_seen FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_new RENAME TO metrics;

CREATE TABLE alarm_history_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name   TEXT NOT NULL,
    alarm_type   TEXT NOT NULL,
    timestamp    REAL NOT NULL,
    item_type    TEXT NOT NULL,
    summary      TEXT NOT NULL,
    data         TEXT NOT NULL
);
INSERT INTO alarm_history_new SELECT id, alarm_name, alarm_type, timestamp, item_type, summary,
    data FROM alarm_history;
DROP TABLE alarm_history;
ALTER TABLE alarm_history_new RENAME TO alarm_history;
CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, timestamp);
CREATE INDEX alarm_history_by_time ON alarm_history (timestamp);

-- Event ids are handed out from this high-water mark, not from MAX(last_event_id) of the blocks
-- still stored: after the newest blocks are deleted that maximum goes back, and a restart would
-- hand out ids below a saved GetLogEvents token's position, which then skips the new events.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value)
    SELECT 'log_event_id', COALESCE(MAX(last_event_id), 0) FROM log_blocks;
