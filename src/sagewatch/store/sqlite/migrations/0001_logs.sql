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

-- Events are clustered by (group, timestamp, id): FilterLogEvents over a group is one ordered
-- range scan, retention is one range delete, and appends land at the end of the group's range.
-- Reading one stream goes through the secondary index.
CREATE TABLE log_events (
    group_id       INTEGER NOT NULL,
    timestamp      INTEGER NOT NULL,
    id             INTEGER NOT NULL,
    stream_id      INTEGER NOT NULL,
    ingestion_time INTEGER NOT NULL,
    message        TEXT NOT NULL,
    PRIMARY KEY (group_id, timestamp, id)
) WITHOUT ROWID;
CREATE INDEX log_events_by_stream ON log_events (stream_id, timestamp, id);
