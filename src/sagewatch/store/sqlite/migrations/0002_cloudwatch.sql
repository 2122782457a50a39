-- Migration 2: CloudWatch metrics, alarms, alarm history, anomaly detectors.
CREATE TABLE metrics (
    id         INTEGER PRIMARY KEY,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    dimensions TEXT NOT NULL,   -- canonical JSON: [[name, value], ...] sorted by name
    last_seen  INTEGER NOT NULL,
    UNIQUE (namespace, name, dimensions)
);

-- Aggregates per metric, tier and time slot, clustered so that reading a metric over a time range
-- is one range scan. A slot may hold several rows (one per write) until compaction merges them;
-- seq tells them apart.
CREATE TABLE metric_data (
    metric_id    INTEGER NOT NULL,
    tier         INTEGER NOT NULL,
    start        INTEGER NOT NULL,
    unit         TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    sample_count REAL NOT NULL,
    sum          REAL NOT NULL,
    minimum      REAL NOT NULL,
    maximum      REAL NOT NULL,
    distribution BLOB,
    PRIMARY KEY (metric_id, tier, start, unit, seq)
) WITHOUT ROWID;

CREATE TABLE alarms (
    name                      TEXT PRIMARY KEY,
    alarm_type                TEXT NOT NULL,   -- MetricAlarm | CompositeAlarm
    definition                TEXT NOT NULL,   -- JSON: the Put*Alarm request, normalised
    metric_keys               TEXT NOT NULL,   -- JSON: metrics it reads, for DescribeAlarmsForMetric
    state_value               TEXT NOT NULL,
    state_reason              TEXT NOT NULL,
    state_reason_data         TEXT,
    state_updated             REAL NOT NULL,
    state_transitioned        REAL NOT NULL,
    configuration_updated     REAL NOT NULL,
    actions_enabled           INTEGER NOT NULL,
    actions_suppressed_by     TEXT,
    actions_suppressed_reason TEXT
);

CREATE TABLE alarm_history (
    id           INTEGER PRIMARY KEY,
    alarm_name   TEXT NOT NULL,
    alarm_type   TEXT NOT NULL,
    timestamp    REAL NOT NULL,
    item_type    TEXT NOT NULL,
    summary      TEXT NOT NULL,
    data         TEXT NOT NULL
);
CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, timestamp);
CREATE INDEX alarm_history_by_time ON alarm_history (timestamp);

CREATE TABLE anomaly_detectors (
    id         TEXT PRIMARY KEY,
    definition TEXT NOT NULL   -- JSON: the PutAnomalyDetector request, normalised
);
