"""The alarm store interface: CloudWatch alarms, their history, anomaly detectors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(slots=True)
class Alarm:
    name: str
    alarm_type: str  # MetricAlarm | CompositeAlarm
    definition: dict  # the Put*Alarm request members, as given (normalised by the service)
    metric_keys: list  # [[namespace, name, [[dim, value], ...]], ...] the alarm reads
    state_value: str
    state_reason: str
    state_reason_data: str | None
    state_updated: float  # epoch seconds
    state_transitioned: float
    configuration_updated: float
    actions_enabled: bool
    actions_suppressed_by: str | None = None
    actions_suppressed_reason: str | None = None


@dataclass(slots=True)
class HistoryItem:
    alarm_name: str
    alarm_type: str
    timestamp: float
    item_type: str  # ConfigurationUpdate | StateUpdate | Action
    summary: str
    data: str  # JSON text
    id: int | None = field(default=None)


class AlarmStore:
    def save_alarm(self, alarm: Alarm, history: Sequence[HistoryItem] = (), *,
                   tags: tuple[str, dict[str, str]] | None = None) -> None:
        """Create or replace an alarm and append history items, atomically; with ``tags``
        (arn, tags), the ARN's tags become exactly those in the same transaction (a new alarm:
        a crash never leaves it without the tags it was created with, or with a predecessor's)."""
    def get_alarm(self, name: str) -> Alarm | None: ...
    def list_alarms(
        self, *, names: Sequence[str] | None = None, prefix: str | None = None,
        types: Sequence[str] | None = None, state: str | None = None, after: str | None = None,
        limit: int | None = None,
    ) -> list[Alarm]: ...
    def delete_alarms(self, names: Sequence[str], history: Sequence[HistoryItem] = (),
                      arns: Sequence[str] = ()) -> None:
        """Delete alarms, forget the tags of their ``arns`` and append history items, atomically."""
    def add_history(self, items: Sequence[HistoryItem]) -> None: ...
    def history(
        self, *, name: str | None, types: Sequence[str], item_type: str | None, start: float | None,
        end: float | None, after_id: int | None, ascending: bool, limit: int,
    ) -> list[HistoryItem]: ...
    def expire_history(self, older_than: float) -> None: ...

    def save_anomaly_detector(self, detector_id: str, definition: dict) -> None: ...
    def anomaly_detectors(self) -> list[tuple[str, dict]]: ...
    def delete_anomaly_detector(self, detector_id: str) -> bool: ...
