"""Tags of any resource, by ARN."""

from __future__ import annotations

from collections.abc import Sequence


class TagStore:
    def get_tags(self, arn: str) -> dict[str, str]: ...
    def set_tags(self, arn: str, tags: dict[str, str]) -> None: ...
    def remove_tags(self, arn: str, keys: Sequence[str]) -> None: ...
    # A resource's tags are created and forgotten in the same transaction as the resource (its
    # store's create and delete methods take them), so a crash never splits the two.
