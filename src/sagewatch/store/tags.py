"""Tags of any resource, by ARN."""

from __future__ import annotations

from collections.abc import Sequence


class TooManyTags(Exception):
    """``add_tags`` would leave the resource with more tags than its limit; nothing was written."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count  # how many the resource would have had


class TagStore:
    def get_tags(self, arn: str) -> dict[str, str]: ...
    def set_tags(self, arn: str, tags: dict[str, str]) -> None: ...

    def add_tags(self, arn: str, tags: dict[str, str], *, limit: int) -> None:
        """Add or overwrite ``tags``, counting them against the resource's limit in the same
        transaction as the write (two concurrent adds can never together pass the limit);
        raises TooManyTags when the keys held and added would number more than ``limit``."""

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None: ...
    # A resource's tags are created and forgotten in the same transaction as the resource (its
    # store's create and delete methods take them), so a crash never splits the two.
