-- Migration 7: SNS topics and subscriptions.
-- Attributes are JSON objects of the attributes set (the service adds the computed ones). A
-- topic has at most one subscription per protocol and endpoint (Subscribe is idempotent).
CREATE TABLE sns_topics (
    arn                   TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    attributes            TEXT NOT NULL,
    created               REAL NOT NULL,
    subscriptions_deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE sns_subscriptions (
    arn                          TEXT PRIMARY KEY,
    topic_arn                    TEXT NOT NULL,
    protocol                     TEXT NOT NULL,
    endpoint                     TEXT NOT NULL,
    attributes                   TEXT NOT NULL,
    confirmed                    INTEGER NOT NULL,
    token                        TEXT,
    token_issued                 REAL,
    created                      REAL NOT NULL,
    confirmed_at                 REAL,
    confirmation_authenticated   INTEGER NOT NULL DEFAULT 0,
    authenticate_on_unsubscribe  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (topic_arn, protocol, endpoint)
);
CREATE INDEX sns_subscriptions_by_token ON sns_subscriptions (token);
CREATE INDEX sns_pending_subscriptions ON sns_subscriptions (confirmed, created);
-- Subscriptions deleted by Unsubscribe that the SubscribeURL of their UnsubscribeConfirmation
-- restores (kept two days, like a confirmation token).
CREATE TABLE sns_unsubscribed (
    token        TEXT PRIMARY KEY,
    topic_arn    TEXT NOT NULL,
    subscription TEXT NOT NULL,  -- JSON: the subscription as it was
    deleted      REAL NOT NULL
);
CREATE INDEX sns_unsubscribed_by_time ON sns_unsubscribed (deleted);
