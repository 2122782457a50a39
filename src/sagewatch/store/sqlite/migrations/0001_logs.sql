-- Migration 1: tags and CloudWatch Logs (groups, streams, events).
CREATE TABLE tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);

CREATE TABLE log_groups (
    id                  INTEGER PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    creation_time       INTEGER NOT NULL,
    retention_days      INTEGER,
    kms_key_id          TEXT,
    log_group_class     TEXT NOT NULL,
    deletion_protection INTEGER NOT NULL DEFAULT 0,
    stored_bytes        INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE log_streams (
    id                    INTEGER PRIMARY KEY,
    group_id              INTEGER NOT NULL,
    name                  TEXT NOT NULL,
    creation_time         INTEGER NOT NULL,
    first_event_timestamp INTEGER,
    last_event_timestamp  INTEGER,
    last_ingestion_time   INTEGER,
    UNIQUE (group_id, name)
);
CREATE INDEX log_streams_by_last_event ON log_streams (group_id, last_event_timestamp, id);

-- Events are stored in blocks, one per PutLogEvents request (see store/log_blocks.py): four
-- arrays per row. The indexes find the blocks of a stream or a group that overlap a time window,
-- in the order a forward (min_timestamp) or backward (max_timestamp) read merges them.
CREATE TABLE log_blocks (
    id             INTEGER PRIMARY KEY,
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
CREATE INDEX log_blocks_by_stream_start ON log_blocks (stream_id, min_timestamp);
CREATE INDEX log_blocks_by_stream_end ON log_blocks (stream_id, max_timestamp);
CREATE INDEX log_blocks_by_group_start ON log_blocks (group_id, min_timestamp);
CREATE INDEX log_blocks_by_group_end ON log_blocks (group_id, max_timestamp);
