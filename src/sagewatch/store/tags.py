"""Tags of any resource, by ARN."""

from __future__ import annotations

from collections.abc import Sequence


class TagStore:
    def get_tags(self, arn: str) -> dict[str, str]: ...
    def set_tags(self, arn: str, tags: dict[str, str]) -> None: ...
    def remove_tags(self, arn: str, keys: Sequence[str]) -> None: ...
    def clear_tags(self, arn: str) -> None:
        """Forget every tag of a deleted resource."""
