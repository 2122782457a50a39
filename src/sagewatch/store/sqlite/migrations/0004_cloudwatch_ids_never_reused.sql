-- Migration 4: CloudWatch row ids are never reused.
--
-- Without AUTOINCREMENT, SQLite gives a new row the largest id in the table plus one, so once the
-- rows with the largest ids are deleted their ids are handed out again, and anything that still
-- holds such an id (a listing token, a cache) names the new row as if it were the old one.
--
-- alarm_history: its ids order the history and are what DescribeAlarmHistory's NextToken resumes
-- after. The two-week expiry deletes the oldest items, and after two quiet weeks all of them, the
-- newest included: ids then started again from 1, and a token saved before resumed after an id
-- the new items had not reached yet, so it skipped them (or, scanning backwards, showed them).
--
-- metrics: its ids key the metric data and the stores' in-memory caches (metric key to id, slots
-- waiting for compaction). No metric row is deleted today; AUTOINCREMENT keeps it so if one ever is.
--
-- SQLite cannot add AUTOINCREMENT to a table, so both are rebuilt with their ids kept (inserting
-- them records the largest in sqlite_sequence, where the next id starts from).

CREATE TABLE alarm_history_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name   TEXT NOT NULL,
    alarm_type   TEXT NOT NULL,
    timestamp    REAL NOT NULL,
    item_type    TEXT NOT NULL,
    summary      TEXT NOT NULL,
    data         TEXT NOT NULL
);
INSERT INTO alarm_history_new (id, alarm_name, alarm_type, timestamp, item_type, summary, data)
    SELECT id, alarm_name, alarm_type, timestamp, item_type, summary, data FROM alarm_history;
DROP TABLE alarm_history;
ALTER TABLE alarm_history_new RENAME TO alarm_history;
CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, timestamp);
CREATE INDEX alarm_history_by_time ON alarm_history (timestamp);

CREATE TABLE metrics_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    dimensions TEXT NOT NULL,   -- canonical JSON: [[name, value], ...] sorted by name
    last_seen  INTEGER NOT NULL,
    UNIQUE (namespace, name, dimensions)
);
INSERT INTO metrics_new (id, namespace, name, dimensions, last_seen)
    SELECT id, namespace, name, dimensions, last_seen FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_new RENAME TO metrics;
