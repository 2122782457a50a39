-- Migration 10: the EventBridge scheduler's memory (store/event_schedules.py), one row per
-- enabled scheduled rule. last_fire moves in the same transaction as the deliveries the firing
-- queues (the deliveries table), so a restart neither fires a slot twice nor loses one.
CREATE TABLE event_schedules (
    rule_arn   TEXT PRIMARY KEY,
    expression TEXT NOT NULL,
    anchor     REAL NOT NULL,
    last_fire  REAL
)
