-- Migration 9: EventBridge connections and API destinations, one row each.
-- The record is one JSON document (a connection's holds its credentials: see
-- store/event_connections.py). The columns beside it are what lookups use.
CREATE TABLE event_connections (
    name   TEXT PRIMARY KEY,
    arn    TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
CREATE TABLE event_api_destinations (
    name   TEXT PRIMARY KEY,
    arn    TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL
);
