-- Migration 8: EventBridge event buses, rules and rule targets (store/events.py).
CREATE TABLE event_buses (
    name          TEXT PRIMARY KEY,
    arn           TEXT NOT NULL,
    description   TEXT,
    attributes    TEXT NOT NULL,   -- JSON: KmsKeyIdentifier, DeadLetterConfig, LogConfig as given
    created       REAL NOT NULL,
    last_modified REAL NOT NULL
);

-- A rule is known by its ARN, which names its bus (rule/<name> or rule/<bus>/<name>).
CREATE TABLE event_rules (
    arn                 TEXT PRIMARY KEY,
    bus_name            TEXT NOT NULL,
    name                TEXT NOT NULL,
    event_pattern       TEXT,
    schedule_expression TEXT,
    state               TEXT NOT NULL,
    description         TEXT,
    role_arn            TEXT,
    managed_by          TEXT,
    created             REAL NOT NULL,
    UNIQUE (bus_name, name)
);
CREATE INDEX event_rules_scheduled ON event_rules (state) WHERE schedule_expression IS NOT NULL;

-- position: the order targets were first put in (ListTargetsByRule answers in it).
CREATE TABLE event_targets (
    rule_arn TEXT NOT NULL,
    id       TEXT NOT NULL,
    position INTEGER NOT NULL,
    arn      TEXT NOT NULL,
    members  TEXT NOT NULL,   -- JSON: the Target structure as given
    PRIMARY KEY (rule_arn, id)
);
CREATE INDEX event_targets_by_arn ON event_targets (arn);
