"""SNS tables: topics, subscriptions, and unsubscribed subscriptions that can be restored."""

from __future__ import annotations

import orjson

from ..outbox import OutboxStore
from ..sns import DeliveriesOf, SnsStore, Subscription, Topic
from .database import Database
from .tags import SQLiteTagStore

_TOPIC_COLUMNS = "arn, name, attributes, created, subscriptions_deleted"
_SUBSCRIPTION_COLUMNS = (
    "arn, topic_arn, protocol, endpoint, attributes, confirmed, token, created, token_issued, "
    "confirmation_authenticated, authenticate_on_unsubscribe, confirmed_at"
)


def _topic(row) -> Topic:
    return Topic(row[0], row[1], orjson.loads(row[2]), row[3], row[4])


def _subscription(row) -> Subscription:
    return Subscription(row[0], row[1], row[2], row[3], orjson.loads(row[4]), bool(row[5]), row[6],
                        row[7], row[8], bool(row[9]), bool(row[10]), row[11])


def _subscription_values(s: Subscription) -> tuple:
    return (s.arn, s.topic_arn, s.protocol, s.endpoint, orjson.dumps(s.attributes).decode(),
            int(s.confirmed), s.token, s.created, s.token_issued, int(s.confirmation_authenticated),
            int(s.authenticate_on_unsubscribe), s.confirmed_at)


def _as_json(s: Subscription) -> str:
    return orjson.dumps(dict(zip(_SUBSCRIPTION_COLUMNS.split(", "), _subscription_values(s)))).decode()


def _from_json(text: str) -> Subscription:
    fields = orjson.loads(text)
    return _subscription([fields[name] for name in _SUBSCRIPTION_COLUMNS.split(", ")])


class SQLiteSnsStore(SnsStore):
    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        """``outbox``: where the deliveries a change causes are queued, in the change's own
        transaction (``OutboxStore.enqueue_in``)."""
        self.database = database
        self.outbox = outbox

    # -- topics ------------------------------------------------------------------------------

    def put_topic(self, topic, tags):
        with self.database.write() as db:
            row = db.execute(f"SELECT {_TOPIC_COLUMNS} FROM sns_topics WHERE arn = ?", (topic.arn,)).fetchone()
            if row is not None:
                return _topic(row), False
            db.execute(
                f"INSERT INTO sns_topics ({_TOPIC_COLUMNS}) VALUES (?, ?, ?, ?, 0)",
                (topic.arn, topic.name, orjson.dumps(topic.attributes).decode(), topic.created),
            )
            SQLiteTagStore.replace_tags_in(db, topic.arn, tags)
        return topic, True

    def get_topic(self, arn):
        row = self.database.execute(f"SELECT {_TOPIC_COLUMNS} FROM sns_topics WHERE arn = ?", (arn,)).fetchone()
        return _topic(row) if row else None

    def list_topics(self, *, after, limit):
        return [_topic(r) for r in self.database.execute(
            f"SELECT {_TOPIC_COLUMNS} FROM sns_topics WHERE arn > ? ORDER BY arn LIMIT ?", (after or "", limit))]

    def set_topic_attributes(self, arn, attributes):
        with self.database.write() as db:
            return db.execute("UPDATE sns_topics SET attributes = ? WHERE arn = ?",
                              (orjson.dumps(attributes).decode(), arn)).rowcount > 0

    def delete_topic(self, arn):
        with self.database.write() as db:
            if db.execute("DELETE FROM sns_topics WHERE arn = ?", (arn,)).rowcount == 0:
                return None
            deleted = [r[0] for r in db.execute("SELECT arn FROM sns_subscriptions WHERE topic_arn = ?", (arn,))]
            db.execute("DELETE FROM sns_subscriptions WHERE topic_arn = ?", (arn,))
            db.execute("DELETE FROM sns_unsubscribed WHERE topic_arn = ?", (arn,))
            db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
        return deleted

    def subscription_counts(self, topic_arn):
        confirmed, pending = self.database.execute(
            "SELECT COALESCE(SUM(confirmed), 0), COALESCE(SUM(1 - confirmed), 0) FROM sns_subscriptions "
            "WHERE topic_arn = ?", (topic_arn,)).fetchone()
        return confirmed, pending

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(self, candidate, deliveries: DeliveriesOf, now):
        with self.database.write() as db:
            if db.execute("SELECT 1 FROM sns_topics WHERE arn = ?", (candidate.topic_arn,)).fetchone() is None:
                return None
            row = db.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions "
                "WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
                (candidate.topic_arn, candidate.protocol, candidate.endpoint)).fetchone()
            if row is None:
                stored, created = candidate, True
                db.execute(f"INSERT INTO sns_subscriptions ({_SUBSCRIPTION_COLUMNS}) VALUES "
                           f"({', '.join('?' * 12)})", _subscription_values(stored))
            else:
                stored, created = _subscription(row), False
                if not stored.confirmed:
                    stored.token_issued = now
                    db.execute("UPDATE sns_subscriptions SET token_issued = ? WHERE arn = ?", (now, stored.arn))
            self.outbox.enqueue_in(db, deliveries(stored), now)
        return stored, created

    def get_subscription(self, arn):
        row = self.database.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE arn = ?", (arn,)).fetchone()
        return _subscription(row) if row else None

    def list_subscriptions(self, *, topic_arn, after, limit):
        if topic_arn is None:
            rows = self.database.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE arn > ? ORDER BY arn LIMIT ?",
                (after or "", limit))
        else:
            rows = self.database.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ? AND arn > ? "
                "ORDER BY arn LIMIT ?", (topic_arn, after or "", limit))
        return [_subscription(r) for r in rows]

    def subscriptions_of(self, topic_arn):
        return [_subscription(r) for r in self.database.execute(
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE topic_arn = ? ORDER BY arn",
            (topic_arn,))]

    def confirm(self, topic_arn, token, *, issued_after, authenticated, authenticate_on_unsubscribe, now):
        with self.database.write() as db:
            row = db.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE token = ? AND topic_arn = ?",
                (token, topic_arn)).fetchone()
            if row is not None:
                subscription = _subscription(row)
                if subscription.confirmed:
                    return subscription
                if (subscription.token_issued or subscription.created) <= issued_after:
                    return None
            else:
                subscription = self._restorable(db, topic_arn, token, issued_after)
                if subscription is None:
                    return None
            subscription.confirmed = True
            subscription.confirmed_at = now
            subscription.confirmation_authenticated = authenticated
            subscription.authenticate_on_unsubscribe = authenticate_on_unsubscribe
            db.execute(f"INSERT OR REPLACE INTO sns_subscriptions ({_SUBSCRIPTION_COLUMNS}) VALUES "
                       f"({', '.join('?' * 12)})", _subscription_values(subscription))
        return subscription

    @staticmethod
    def _restorable(db, topic_arn: str, token: str, issued_after: float) -> Subscription | None:
        """The subscription an UnsubscribeConfirmation's token restores, taken out of the
        restorable ones; None when there is none (or its topic is gone, or an identical
        subscription was made meanwhile)."""
        row = db.execute("SELECT subscription, deleted FROM sns_unsubscribed WHERE token = ? AND topic_arn = ?",
                         (token, topic_arn)).fetchone()
        if row is None or row[1] <= issued_after:
            return None
        subscription = _from_json(row[0])
        taken = db.execute(
            "SELECT 1 FROM sns_subscriptions WHERE topic_arn = ? AND protocol = ? AND endpoint = ?",
            (subscription.topic_arn, subscription.protocol, subscription.endpoint)).fetchone()
        topic = db.execute("SELECT 1 FROM sns_topics WHERE arn = ?", (topic_arn,)).fetchone()
        if taken or topic is None:
            return None
        db.execute("DELETE FROM sns_unsubscribed WHERE token = ?", (token,))
        subscription.token = token  # confirming with it again is then idempotent
        return subscription

    def set_subscription_attributes(self, arn, attributes):
        with self.database.write() as db:
            return db.execute("UPDATE sns_subscriptions SET attributes = ? WHERE arn = ?",
                              (orjson.dumps(attributes).decode(), arn)).rowcount > 0

    def delete_subscription(self, arn, deliveries: DeliveriesOf, *, restore_token, now):
        with self.database.write() as db:
            row = db.execute(f"SELECT {_SUBSCRIPTION_COLUMNS} FROM sns_subscriptions WHERE arn = ?", (arn,)).fetchone()
            if row is None:
                return None
            subscription = _subscription(row)
            db.execute("DELETE FROM sns_subscriptions WHERE arn = ?", (arn,))
            db.execute("UPDATE sns_topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = ?",
                       (subscription.topic_arn,))
            if restore_token is not None:
                db.execute("INSERT OR REPLACE INTO sns_unsubscribed (token, topic_arn, subscription, deleted) "
                           "VALUES (?, ?, ?, ?)", (restore_token, subscription.topic_arn, _as_json(subscription), now))
            self.outbox.enqueue_in(db, deliveries(subscription), now)
        return subscription

    def expire(self, *, unconfirmed_before, unsubscribed_before):
        with self.database.write() as db:
            expired = db.execute(
                "SELECT arn, topic_arn FROM sns_subscriptions WHERE confirmed = 0 AND created < ?",
                (unconfirmed_before,)).fetchall()
            db.executemany("DELETE FROM sns_subscriptions WHERE arn = ?", [(arn,) for arn, _ in expired])
            db.executemany("UPDATE sns_topics SET subscriptions_deleted = subscriptions_deleted + 1 WHERE arn = ?",
                           [(topic,) for _, topic in expired])
            db.execute("DELETE FROM sns_unsubscribed WHERE deleted < ?", (unsubscribed_before,))
        return [arn for arn, _ in expired]
