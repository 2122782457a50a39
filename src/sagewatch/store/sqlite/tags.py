"""Tags of any resource, by ARN (log groups, alarms, ...)."""

from __future__ import annotations

from collections.abc import Sequence

from ..tags import TagStore, TooManyTags
from .database import Database


class SQLiteTagStore(TagStore):
    def __init__(self, database: Database) -> None:
        self.database = database

    def get_tags(self, arn: str) -> dict[str, str]:
        return dict(self.database.execute("SELECT key, value FROM tags WHERE arn = ?", (arn,)))

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        with self.database.write() as db:
            self.set_tags_in(db, arn, tags)

    def add_tags(self, arn: str, tags: dict[str, str], *, limit: int) -> None:
        with self.database.write() as db:
            held = {key for (key,) in db.execute("SELECT key FROM tags WHERE arn = ?", (arn,))}
            count = len(held | tags.keys())
            if count > limit:
                raise TooManyTags(count)
            self.set_tags_in(db, arn, tags)

    @staticmethod
    def set_tags_in(db, arn: str, tags: dict[str, str]) -> None:
        """Inside a caller's write transaction (creating a resource with its tags is atomic)."""
        db.executemany(
            "INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
            [(arn, k, v) for k, v in tags.items()],
        )

    @staticmethod
    def replace_tags_in(db, arn: str, tags: dict[str, str] | None) -> None:
        """Inside a caller's write transaction creating a resource: the ARN's tags become exactly
        ``tags``, none left by a deleted predecessor under the same ARN."""
        db.execute("DELETE FROM tags WHERE arn = ?", (arn,))
        if tags:
            SQLiteTagStore.set_tags_in(db, arn, tags)

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        with self.database.write() as db:
            db.executemany("DELETE FROM tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys])
