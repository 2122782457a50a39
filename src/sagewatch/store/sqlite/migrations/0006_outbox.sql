-- Migration 6: the outbox, deliveries owed to the outside world (store/outbox.py).
-- A row is pending until its handler delivers it (then it is deleted) or gives up on it (then it
-- stays, state 'failed', as a failure record until it expires). claimed = 1 while a worker holds
-- it; a crashed server's claims are released at the next start. payload is orjson.
CREATE TABLE deliveries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a late outcome cannot land on another delivery
    kind       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    payload    BLOB NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created    REAL NOT NULL,
    due        REAL NOT NULL,
    claimed    INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'pending',   -- pending | failed
    last_error TEXT,
    finished   REAL                               -- when a failed delivery was given up on
);
-- The dispatcher's question: the earliest unclaimed pending deliveries.
CREATE INDEX deliveries_due ON deliveries (state, claimed, due);
CREATE INDEX deliveries_by_owner ON deliveries (owner);
