"""The EventBridge store interface: event buses, rules, and the targets of rules.

A bus is named (``default`` always exists); a rule belongs to one bus and is known by its ARN
(``rule/<name>`` on the default bus, ``rule/<bus>/<name>`` on a custom one); a target belongs to
one rule and is known by its Id within it. Targets are kept as the API gave them (the members
of botocore's ``Target`` shape), so that ListTargetsByRule answers what PutTargets was told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_BUS = "default"

# The Target members with a field of their own; every other member given (EcsParameters,
# SqsParameters, ...) is kept in ``Target.extra``.
_TARGET_FIELDS = {
    "Id": "id", "Arn": "arn", "RoleArn": "role_arn", "Input": "input", "InputPath": "input_path",
    "InputTransformer": "input_transformer", "RetryPolicy": "retry_policy",
    "DeadLetterConfig": "dead_letter_config", "HttpParameters": "http_parameters",
}


@dataclass(slots=True)
class EventBus:
    name: str
    arn: str
    description: str | None
    created: float  # epoch seconds
    last_modified: float
    # Other CreateEventBus members as given (KmsKeyIdentifier, DeadLetterConfig, LogConfig).
    attributes: dict = field(default_factory=dict)


@dataclass(slots=True)
class Rule:
    arn: str
    name: str
    bus_name: str
    event_pattern: str | None  # the pattern's text as given
    schedule_expression: str | None
    state: str  # ENABLED | DISABLED | ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
    description: str | None
    role_arn: str | None
    managed_by: str | None
    created: float  # epoch seconds

    @property
    def enabled(self) -> bool:
        return self.state != "DISABLED"


@dataclass(slots=True)
class Target:
    rule_arn: str
    id: str
    arn: str
    role_arn: str | None = None
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict | None = None
    retry_policy: dict | None = None
    dead_letter_config: dict | None = None
    http_parameters: dict | None = None
    extra: dict = field(default_factory=dict)  # any other Target members, as given

    @classmethod
    def from_api(cls, rule_arn: str, members: dict) -> Target:
        """A target from the members of the API's ``Target`` structure."""
        known = {_TARGET_FIELDS[k]: v for k, v in members.items() if k in _TARGET_FIELDS}
        extra = {k: v for k, v in members.items() if k not in _TARGET_FIELDS}
        return cls(rule_arn=rule_arn, extra=extra, **known)

    def to_api(self) -> dict:
        """The members of the API's ``Target`` structure (those set)."""
        members = {name: getattr(self, attribute) for name, attribute in _TARGET_FIELDS.items()}
        members = {k: v for k, v in members.items() if v is not None}
        members.update(self.extra)
        return members


class TooManyTargets(Exception):
    """``put_targets`` would leave a rule with more targets than its limit; nothing was written."""


class EventStore:
    # -- buses ---------------------------------------------------------------------------------
    def ensure_bus(self, bus: EventBus) -> None:
        """Create the bus unless one of its name exists (the default bus, at start-up)."""
        raise NotImplementedError

    def create_bus(self, bus: EventBus, tags: dict[str, str] | None = None) -> None:
        """Create a bus with its tags, atomically; raises store.Conflict when the name is taken."""
        raise NotImplementedError

    def get_bus(self, name: str) -> EventBus | None:
        raise NotImplementedError

    def list_buses(self, *, prefix: str | None = None, after: str | None = None,
                   limit: int | None = None) -> list[EventBus]:
        """Buses in name order, names after ``after`` only."""
        raise NotImplementedError

    def delete_bus(self, name: str) -> bool:
        """Delete a bus and forget its tags, unless it has rules; False if it has (nothing was
        written). A bus that does not exist is deleted already (True)."""
        raise NotImplementedError

    # -- rules ---------------------------------------------------------------------------------
    def put_rule(self, rule: Rule, tags: dict[str, str] | None = None) -> Rule:
        """Create a rule, or replace the definition of the rule of that ARN (its targets, tags
        and creation time stay); ``tags`` are written only when the rule is created. Returns
        the rule as stored. Raises store.Gone when the rule's bus no longer exists."""
        raise NotImplementedError

    def get_rule(self, arn: str) -> Rule | None:
        raise NotImplementedError

    def list_rules(self, bus_name: str, *, prefix: str | None = None, after: str | None = None,
                   limit: int | None = None) -> list[Rule]:
        """The bus's rules in name order, names after ``after`` only."""
        raise NotImplementedError

    def set_rule_state(self, arn: str, state: str) -> bool:
        """False when there is no such rule."""
        raise NotImplementedError

    def delete_rule(self, arn: str) -> bool:
        """Delete a rule (its targets, its tags), unless it has targets: False if it has (nothing
        was written). A rule that does not exist is deleted already (True)."""
        raise NotImplementedError

    def enabled_schedule_rules(self) -> list[Rule]:
        """Every enabled rule with a ScheduleExpression (the scheduler's work)."""
        raise NotImplementedError

    # -- targets -------------------------------------------------------------------------------
    def targets_of(self, rule_arn: str) -> list[Target]:
        """A rule's targets in the order they were first put."""
        raise NotImplementedError

    def put_targets(self, rule_arn: str, targets: Sequence[Target], *, limit: int) -> None:
        """Add targets, or replace those of the same Id in place, atomically; raises
        TooManyTargets when the rule would hold more than ``limit``, and store.Gone when the
        rule no longer exists."""
        raise NotImplementedError

    def remove_targets(self, rule_arn: str, ids: Sequence[str]) -> None:
        raise NotImplementedError

    def rule_names_by_target(self, bus_name: str, target_arn: str, *, after: str | None = None,
                             limit: int | None = None) -> list[str]:
        """Names of the bus's rules with a target of that ARN, in name order."""
        raise NotImplementedError

    def rules_with_targets(self, bus_name: str) -> list[tuple[Rule, list[Target]]]:
        """Every rule of the bus with its targets (what matching events needs), in name order."""
        raise NotImplementedError
