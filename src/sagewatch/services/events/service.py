"""Amazon EventBridge: event buses, rules, targets, events (json 1.1, ``AWSEvents.<Op>``).

One method per operation, in the API reference's order of concepts: buses, rules, targets,
events, tags. Connections and API destinations are ``ConnectionOperations`` (connections.py),
which this class inherits. Inputs arrive validated against botocore's ``events`` model; this
module adds the rules the model cannot state, with AWS's wording.

Matching: an event put on a bus (PutEvents, or ``put_service_events`` for the events sagewatch's
own services emit) is built into AWS's envelope, flattened once, and tested against the bus's
enabled rules through a ``RuleIndex`` (rule_index.py) kept in memory per bus and rebuilt after
any change to the bus's rules or targets. The target deliveries of every match
(``EventTargets.deliveries``, targets.py) are queued durably, in one ``DeliveryQueue.enqueue``
for the whole call, before the call returns.

Where the answers come from: AWS-recorded responses in localstack's
``tests/aws/services/events/test_events.snapshot.json`` (recorded against AWS 2024-12-06; cited
below as "the recorded snapshot"), the botocore model's documentation, and the AWS user guide.
Where nothing records AWS's answer, the wording is sagewatch's own and says so.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import logging
import threading
import uuid
from typing import TYPE_CHECKING, Any

import orjson

from ... import arns
from ...clock import SYSTEM_CLOCK, Clock
from ...store import Conflict, Gone
# Imported as modules where operation parameters share the names (PutTargets' Rule, PutRule's
# EventPattern), so a parameter never shadows the class it is read into.
from ...store import events as stored
from ...store.events import DEFAULT_BUS, EventBus, EventStore, Target, TooManyTargets
from ...store.tags import TagStore
from .. import tagging
from ..base import Service
from ..errors import AWSError
from ..pagination import InvalidToken, page_token, parse_page_token
from .connections import ConnectionOperations
from . import patterns
from .patterns import InvalidEventPattern, compile_pattern, flatten_event
from .rule_index import RuleIndex
from .schedule import parse_schedule

if TYPE_CHECKING:
    from ...store.outbox import NewDelivery
    from ..delivery import DeliveryQueue
    from .targets import EventTargets

log = logging.getLogger(__name__)

# PutEvents: "The total entry size must be less than 256KB", counted as the user guide's
# "Calculating PutEvents event entry size" says (Time 14 bytes; Source, DetailType, Detail and
# each Resources entry their UTF-8 bytes): https://docs.aws.amazon.com/eventbridge/latest/
# userguide/eb-putevent-size.html, and issue 10. (botocore 1.43's PutEvents documentation says
# 1MB, a newer quota; sagewatch keeps the documented 256 KB.) Over it, the whole call is refused
# with the recorded snapshot's answer (test_put_event_with_too_big_detail).
MAX_ENTRIES_BYTES = 256 * 1024
TIME_BYTES = 14
# "Free-form string, with a maximum of 128 characters" (botocore:events PutEventsRequestEntry
# DetailType; aws-behaviour.md §5.1).
MAX_DETAIL_TYPE_CHARS = 128
# How deep a Detail may nest. AWS processes "nested JSON up to 1000 levels deep" (botocore:events
# PutEvents); sagewatch carries a matched event through its durable outbox as JSON text, made and
# read again by Python's json (targets.py), whose depth is bounded by the interpreter's recursion
# limit, so it takes a Detail nested up to 200 levels and refuses a deeper one as malformed (a
# documented difference).
MAX_DETAIL_DEPTH = 200
# Each rule can have up to five targets (PutTargets documentation; eb-quota.md).
MAX_TARGETS_PER_RULE = 5
# List* Limit is 1..100 (botocore LimitMax100); without one a page holds the most a Limit
# allows (sagewatch's choice: AWS's default page size is unrecorded).
DEFAULT_PAGE_SIZE = 100

# Tags: "In EventBridge, rules and event buses can be tagged" (botocore:events TagResource). The
# limits are the common ones (tagging.py); EventBridge's answers to a breach are unrecorded, so
# the wording is sagewatch's own, in EventBridge's ValidationException.
EVENTS_TAGS = tagging.TagRules(
    too_many=lambda count: AWSError(
        "ValidationException", f"A resource can have at most {tagging.MAX_TAGS} tags; this one would have {count}."),
    malformed=lambda which, text: AWSError("ValidationException", f"Invalid tag {which}: {text}"),
    reserved=lambda key: AWSError(
        "ValidationException", f"Invalid tag key: {key}. The prefix '{tagging.RESERVED_PREFIX}' is reserved for AWS use."),
)


def validation(message: str) -> AWSError:
    return AWSError("ValidationException", message)


def bus_not_found(name: str) -> AWSError:
    # The recorded snapshot (test_describe_delete_not_existing_event_bus).
    return AWSError("ResourceNotFoundException", f"Event bus {name} does not exist.")


def rule_not_found(name: str, bus_name: str) -> AWSError:
    # The recorded snapshot (test_describe_nonexistent_rule); PutTargets answers the same
    # (hashicorp/terraform-provider-aws issue logs: "ResourceNotFoundException: Rule
    # guardduty_severity_rule does not exist on EventBus default.").
    return AWSError("ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus_name}.")


def invalid_token() -> AWSError:
    # "Using an expired pagination token results in an HTTP 400 InvalidToken error" (botocore:
    # events ListRules NextToken); the message is sagewatch's own.
    return AWSError("InvalidToken", "The NextToken is not valid.", status=400, sender_fault=True)


def entry_error(code: str, message: str) -> dict:
    return {"ErrorCode": code, "ErrorMessage": message}


def _required(member: str) -> dict:
    # The recorded snapshot: test_put_events_without_source / _without_detail_type /
    # _without_detail.
    return entry_error("InvalidArgument", f"Parameter {member} is not valid. Reason: {member} is a required argument.")


# The recorded snapshot, test_put_event_malformed_detail: a Detail that is not a JSON object (a
# string, an array, broken JSON, a serialized string) is refused so.
MALFORMED_DETAIL = entry_error("MalformedDetail", "Detail is malformed.")


def event_time(seconds: float) -> str:
    """An event's ``time``: UTC to the second, ``YYYY-MM-DDTHH:MM:SSZ`` (aws-behaviour.md §5.1)."""
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=int(seconds // 1))
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")


def _utf8(text: str | None) -> int:
    if not text:
        return 0
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def entry_size(entry: dict) -> int:
    """An entry's size as EventBridge counts it (eb-putevent-size.html)."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    size += _utf8(entry.get("Source")) + _utf8(entry.get("DetailType")) + _utf8(entry.get("Detail"))
    return size + sum(_utf8(resource) for resource in entry.get("Resources") or ())


def _nesting_depth(text: str) -> int:
    """How deep JSON text nests arrays and objects (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_detail(text: str) -> dict | None:
    """A Detail as a JSON object, or None when it is not one (malformed)."""
    # Too deep a Detail needs more opening brackets than the limit: only then is it scanned.
    if text.count("[") + text.count("{") > MAX_DETAIL_DEPTH and _nesting_depth(text) > MAX_DETAIL_DEPTH:
        return None
    try:
        detail = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return detail if isinstance(detail, dict) else None


@functools.lru_cache(maxsize=8192)
def _compiled(pattern_text: str) -> patterns.EventPattern:
    """A stored rule's pattern, compiled once however often its bus's index is rebuilt."""
    return compile_pattern(pattern_text)


class EventsService(ConnectionOperations, Service):
    model_name = "events"

    def __init__(self, store: EventStore, tags: TagStore, targets: EventTargets, queue: DeliveryQueue,
                 *, region: str, account_id: str, clock: Clock = SYSTEM_CLOCK, connections=None) -> None:
        self.store = store
        self.tags = tags
        self.targets = targets
        self.queue = queue
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.connections_store = connections  # ConnectionOperations' store (connections.py)
        # Per bus: its rules' index, and a generation counted up by every change to the bus's
        # rules or targets, so that an index built from reads older than a change is not kept.
        self._indexes: dict[str, RuleIndex] = {}
        self._generations: dict[str, int] = {}
        self._index_lock = threading.Lock()
        now = clock.now()
        # "You can't delete your account's default event bus" (DeleteEventBus): it always exists.
        store.ensure_bus(EventBus(DEFAULT_BUS, self.bus_arn(DEFAULT_BUS), None, now, now))

    # -- names and ARNs -------------------------------------------------------------------------

    def bus_arn(self, name: str) -> str:
        return arns.build("events", f"event-bus/{name}", self.region, self.account_id)

    def rule_arn(self, name: str, bus_name: str) -> str:
        # The recorded snapshot (test_put_list_with_prefix_describe_delete_rule): rule/<name> on
        # the default bus, rule/<bus>/<name> on a custom one.
        resource = f"rule/{name}" if bus_name == DEFAULT_BUS else f"rule/{bus_name}/{name}"
        return arns.build("events", resource, self.region, self.account_id)

    def _bus_name(self, name_or_arn: str | None) -> str:
        """The bus an EventBusName names: a name, or the ARN of a bus of this account and Region
        (any other ARN names a bus sagewatch does not have)."""
        if not name_or_arn:
            return DEFAULT_BUS
        if not name_or_arn.startswith("arn:"):
            return name_or_arn
        name = arns.local_resource(name_or_arn, "events", "event-bus/", self.region, self.account_id)
        if name is None:
            parsed = arns.parse_or_none(name_or_arn)
            shown = parsed.resource.split("/", 1)[-1] if parsed is not None else name_or_arn
            raise bus_not_found(shown)
        return name

    def _bus(self, name_or_arn: str | None) -> EventBus:
        name = self._bus_name(name_or_arn)
        bus = self.store.get_bus(name)
        if bus is None:
            raise bus_not_found(name)
        return bus

    def _rule(self, name: str, bus_name_or_arn: str | None) -> stored.Rule:
        bus = self._bus(bus_name_or_arn)
        rule = self.store.get_rule(self.rule_arn(name, bus.name))
        if rule is None:
            raise rule_not_found(name, bus.name)
        return rule

    # -- event buses ----------------------------------------------------------------------------

    def create_event_bus(self, Name, EventSourceName=None, Description=None, KmsKeyIdentifier=None,
                         DeadLetterConfig=None, LogConfig=None, Tags=None):
        if EventSourceName is not None:
            # Partner event buses match a partner event source; sagewatch has none (its own
            # wording: AWS's answer for an unknown source is unrecorded).
            raise AWSError("ResourceNotFoundException", f"Event source {EventSourceName} does not exist.")
        if "/" in Name:
            # "Custom event bus names can't contain the / character" (botocore:events
            # CreateEventBus Name); the wording is sagewatch's own.
            raise validation(f"Event bus name {Name} is not valid: custom event bus names cannot contain '/'.")
        tags = tagging.of_pairs(Tags or ())
        tagging.check(EVENTS_TAGS, tags)
        attributes = {key: value for key, value in (("KmsKeyIdentifier", KmsKeyIdentifier),
                                                    ("DeadLetterConfig", DeadLetterConfig),
                                                    ("LogConfig", LogConfig)) if value is not None}
        now = self.clock.now()
        bus = EventBus(Name, self.bus_arn(Name), Description, now, now, attributes)
        try:
            self.store.create_bus(bus, tags)
        except Conflict:
            # The recorded snapshot (test_create_multiple_event_buses_same_name); "default" is
            # taken from the start.
            raise AWSError("ResourceAlreadyExistsException", f"Event bus {Name} already exists.") from None
        answer = {"EventBusArn": bus.arn}
        if Description is not None:
            answer["Description"] = Description
        answer.update(attributes)
        return answer

    def describe_event_bus(self, Name=None):
        bus = self._bus(Name)
        answer = {"Name": bus.name, "Arn": bus.arn}
        if bus.description is not None:
            answer["Description"] = bus.description
        answer.update(bus.attributes)
        answer.update(CreationTime=bus.created, LastModifiedTime=bus.last_modified)
        return answer

    def list_event_buses(self, NamePrefix=None, NextToken=None, Limit=None):
        after = self._after("events.buses", NextToken, str)
        limit = Limit or DEFAULT_PAGE_SIZE
        buses = self.store.list_buses(prefix=NamePrefix, after=after, limit=limit + 1)
        page = buses[:limit]
        answer: dict[str, Any] = {"EventBuses": [self._bus_entry(bus) for bus in page]}
        if len(buses) > limit:
            answer["NextToken"] = page_token("events.buses", page[-1].name)
        return answer

    @staticmethod
    def _bus_entry(bus: EventBus) -> dict:
        # The recorded snapshot (test_list_event_buses_with_prefix): Arn, CreationTime,
        # LastModifiedTime, Name (and Description when there is one).
        entry = {"Name": bus.name, "Arn": bus.arn}
        if bus.description is not None:
            entry["Description"] = bus.description
        entry.update(CreationTime=bus.created, LastModifiedTime=bus.last_modified)
        return entry

    def delete_event_bus(self, Name):
        if Name == DEFAULT_BUS:
            # The recorded snapshot (test_delete_default_event_bus).
            raise validation("Cannot delete event bus default.")
        # Deleting a bus that does not exist succeeds (the recorded snapshot's
        # test_describe_delete_not_existing_event_bus deletes one; only Describe answers
        # ResourceNotFoundException). A bus with rules is refused: "All rules associated with
        # this event bus need to be deleted" (botocore:events DeleteEventBus), worded as AWS
        # answers it ("ValidationException: EventBus can't be deleted since it has rules.",
        # hashicorp/terraform-provider-aws issue 22131, anomalyco/sst issue 4325).
        if not self.store.delete_bus(Name):
            raise validation("EventBus can't be deleted since it has rules.")
        self._changed(Name)
        return {}

    # -- rules ----------------------------------------------------------------------------------

    def put_rule(self, Name, ScheduleExpression=None, EventPattern=None, State=None, Description=None,
                 RoleArn=None, Tags=None, EventBusName=None):
        bus = self._bus(EventBusName)
        if not EventPattern and not ScheduleExpression:
            # "A rule must contain at least an EventPattern or ScheduleExpression" (PutRule
            # documentation); AWS's words as moto and localstack give them.
            raise validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
        if ScheduleExpression:
            if bus.name != DEFAULT_BUS:
                # As moto and localstack word it (unrecorded against AWS).
                raise validation("ScheduleExpression is supported only on the default event bus.")
            try:
                parse_schedule(ScheduleExpression)
            except ValueError:
                # "Parameter ScheduleExpression is not valid." (AWS CloudFormation and CLI users
                # quote it; moto answers the same).
                raise validation("Parameter ScheduleExpression is not valid.") from None
        if EventPattern:
            self._check_pattern(EventPattern)
        tags = tagging.of_pairs(Tags or ())
        tagging.check(EVENTS_TAGS, tags)
        # "If you omit arguments in PutRule, the old values for those arguments are not kept"
        # (PutRule documentation): an update replaces every member, State back to ENABLED when
        # omitted. "If you are updating an existing rule, any tags you specify in the PutRule
        # operation are ignored" (ibid.): the store writes tags on creation only.
        rule = stored.Rule(self.rule_arn(Name, bus.name), Name, bus.name, EventPattern or None,
                    ScheduleExpression or None, State or "ENABLED", Description, RoleArn, None,
                    self.clock.now())
        try:
            self.store.put_rule(rule, tags)
        except Gone:
            raise bus_not_found(bus.name) from None
        self._changed(bus.name)
        return {"RuleArn": rule.arn}

    @staticmethod
    def _check_pattern(text: str) -> patterns.EventPattern:
        try:
            return compile_pattern(text)
        except InvalidEventPattern as error:
            raise AWSError("InvalidEventPatternException", error.message) from None

    def describe_rule(self, Name, EventBusName=None):
        rule = self._rule(Name, EventBusName)
        answer = self._rule_entry(rule)
        # The recorded snapshot (test_put_list_with_prefix_describe_delete_rule): DescribeRule
        # adds CreatedBy, the account; ListRules does not.
        answer["CreatedBy"] = self.account_id
        return answer

    @staticmethod
    def _rule_entry(rule: stored.Rule) -> dict:
        entry = {"Name": rule.name, "Arn": rule.arn}
        for member, value in (("EventPattern", rule.event_pattern),
                              ("ScheduleExpression", rule.schedule_expression)):
            if value is not None:
                entry[member] = value
        entry["State"] = rule.state
        for member, value in (("Description", rule.description), ("RoleArn", rule.role_arn),
                              ("ManagedBy", rule.managed_by)):
            if value is not None:
                entry[member] = value
        entry["EventBusName"] = rule.bus_name
        return entry

    def list_rules(self, NamePrefix=None, EventBusName=None, NextToken=None, Limit=None):
        bus = self._bus(EventBusName)
        after = self._after(f"events.rules.{bus.name}", NextToken, str)
        limit = Limit or DEFAULT_PAGE_SIZE
        rules = self.store.list_rules(bus.name, prefix=NamePrefix, after=after, limit=limit + 1)
        page = rules[:limit]
        answer: dict[str, Any] = {"Rules": [self._rule_entry(rule) for rule in page]}
        if len(rules) > limit:
            answer["NextToken"] = page_token(f"events.rules.{bus.name}", page[-1].name)
        return answer

    def enable_rule(self, Name, EventBusName=None):
        return self._set_state(Name, EventBusName, "ENABLED")

    def disable_rule(self, Name, EventBusName=None):
        return self._set_state(Name, EventBusName, "DISABLED")

    def _set_state(self, name: str, bus_name_or_arn: str | None, state: str) -> dict:
        rule = self._rule(name, bus_name_or_arn)
        if not self.store.set_rule_state(rule.arn, state):
            raise rule_not_found(name, rule.bus_name)
        self._changed(rule.bus_name)
        return {}

    def delete_rule(self, Name, EventBusName=None, Force=None):
        # "If you call delete rule multiple times for the same rule, all calls will succeed.
        # When you call delete rule for a non-existent custom eventbus, ResourceNotFoundException
        # is returned." Force concerns managed rules only ("This parameter is ignored for rules
        # that are not managed rules"; sagewatch has none). (botocore:events DeleteRule.)
        bus = self._bus(EventBusName)
        if not self.store.delete_rule(self.rule_arn(Name, bus.name)):
            # The recorded snapshot (test_delete_rule_with_targets).
            raise validation("Rule can't be deleted since it has targets.")
        self._changed(bus.name)
        return {}

    # -- targets --------------------------------------------------------------------------------

    def put_targets(self, Rule, Targets, EventBusName=None):
        rule = self._rule(Rule, EventBusName)
        for target in Targets:
            given = [m for m in ("Input", "InputPath", "InputTransformer") if target.get(m) is not None]
            if len(given) > 1:
                # "Input, InputPath, and InputTransformer are mutually exclusive" (PutTargets
                # documentation), in AWS's words as localstack's provider and a measured
                # PutTargets answer (cdk-preflight's rule pf-events-target-input-exclusive)
                # give them.
                raise validation(
                    f"Only one of Input, InputPath, or InputTransformer must be provided for target {target['Id']}.")
        failed, accepted = [], {}
        for target in Targets:
            problem = self.targets.check_target(rule, target)
            if problem is not None:
                # What the rule cannot take is this entry's failure, not the call's (PutTargets:
                # "each entry in FailedEntries provides the ID of the failed target and the error
                # code"); the code is sagewatch's choice.
                failed.append({"TargetId": target["Id"], "ErrorCode": "ValidationException",
                               "ErrorMessage": problem})
            else:
                accepted[target["Id"]] = Target.from_api(rule.arn, target)  # a repeated Id: the last
        if accepted:
            try:
                self.store.put_targets(rule.arn, list(accepted.values()), limit=MAX_TARGETS_PER_RULE)
            except TooManyTargets:
                # The recorded snapshot (test_add_exceed_fife_targets_per_rule).
                raise AWSError("LimitExceededException",
                               "The requested resource exceeds the maximum number allowed.") from None
            except Gone:
                raise rule_not_found(rule.name, rule.bus_name) from None
            self._changed(rule.bus_name)
        return {"FailedEntryCount": len(failed), "FailedEntries": failed}

    def remove_targets(self, Rule, Ids, EventBusName=None, Force=None):
        rule = self._rule(Rule, EventBusName)
        # Ids the rule does not have are no failure (sagewatch's choice: AWS's FailedEntries
        # report partial failures of concurrent requests; an absent target is removed already).
        self.store.remove_targets(rule.arn, list(Ids))
        self._changed(rule.bus_name)
        return {"FailedEntryCount": 0, "FailedEntries": []}

    def list_targets_by_rule(self, Rule, EventBusName=None, NextToken=None, Limit=None):
        rule = self._rule(Rule, EventBusName)
        start = self._after(f"events.targets.{rule.arn}", NextToken, int) or 0
        limit = Limit or DEFAULT_PAGE_SIZE
        targets = self.store.targets_of(rule.arn)
        page = targets[start:start + limit]
        answer: dict[str, Any] = {"Targets": [target.to_api() for target in page]}
        if start + limit < len(targets):
            answer["NextToken"] = page_token(f"events.targets.{rule.arn}", start + limit)
        return answer

    def list_rule_names_by_target(self, TargetArn, EventBusName=None, NextToken=None, Limit=None):
        bus = self._bus(EventBusName)
        # The token names its listing by a digest of the target ARN: an ARN of 1,600 characters
        # would make a token longer than NextToken's 2,048.
        kind = f"events.rule-names.{bus.name}.{hashlib.blake2b(TargetArn.encode(), digest_size=8).hexdigest()}"
        after = self._after(kind, NextToken, str)
        limit = Limit or DEFAULT_PAGE_SIZE
        names = self.store.rule_names_by_target(bus.name, TargetArn, after=after, limit=limit + 1)
        answer: dict[str, Any] = {"RuleNames": names[:limit]}
        if len(names) > limit:
            answer["NextToken"] = page_token(kind, names[limit - 1])
        return answer

    # -- events ---------------------------------------------------------------------------------

    def put_events(self, Entries, EndpointId=None):
        # EndpointId names a global endpoint, which routes to a Region's bus; sagewatch has one
        # Region, so the entries go to the buses they name.
        if sum(entry_size(entry) for entry in Entries) >= MAX_ENTRIES_BYTES:
            raise validation("Total size of the entries in the request is over the limit.")
        now = self.clock.now()
        results, deliveries = [], []
        for entry in Entries:
            problem = self._entry_problem(entry)
            if problem is not None:
                results.append(problem)
                continue
            detail = parse_detail(entry["Detail"])
            if detail is None:
                results.append(MALFORMED_DETAIL)
                continue
            event_id = str(uuid.uuid4())
            results.append({"EventId": event_id})
            event = {
                "version": "0", "id": event_id, "detail-type": entry["DetailType"],
                "source": entry["Source"], "account": self.account_id,
                "time": event_time(entry["Time"] if entry.get("Time") is not None else now),
                "region": self.region, "resources": list(entry.get("Resources") or ()),
                "detail": detail,
            }
            try:
                bus_name = self._bus_name(entry.get("EventBusName"))
            except AWSError:
                continue  # a bus of another account: accepted and not delivered (see below)
            # An event for a bus that does not exist is accepted with an EventId and matches
            # nothing (the recorded snapshot, test_put_events_nonexistent_event_bus).
            deliveries += self._deliveries(bus_name, event)
        failed = sum(1 for result in results if "ErrorCode" in result)
        self._enqueue(deliveries)
        return {"FailedEntryCount": failed, "Entries": results}

    @staticmethod
    def _entry_problem(entry: dict) -> dict | None:
        # Checked in this order (the recorded snapshot's cases each miss one member).
        if not entry.get("Source"):
            return _required("Source")
        if not entry.get("DetailType"):
            return _required("DetailType")
        if not entry.get("Detail"):
            return _required("Detail")
        if len(entry["DetailType"]) > MAX_DETAIL_TYPE_CHARS:
            # The limit is documented (botocore:events PutEventsRequestEntry DetailType); this
            # wording, in the form of the recorded ones, is sagewatch's own.
            return entry_error("InvalidArgument", f"Parameter DetailType is not valid. Reason: DetailType is "
                                                  f"longer than {MAX_DETAIL_TYPE_CHARS} characters.")
        return None

    def put_service_events(self, events: list[dict]) -> None:
        """Put events of sagewatch's own services (``aws.cloudwatch``, ``aws.sagemaker``) on the
        default bus: ``events`` are envelopes without id, time, account and region, which are
        filled in here. Matching target deliveries are queued durably before this returns."""
        now = event_time(self.clock.now())
        deliveries = []
        for given in events:
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": given["detail-type"],
                     "source": given["source"], "account": self.account_id, "time": now,
                     "region": self.region, "resources": list(given.get("resources", ())),
                     "detail": given.get("detail", {})}
            for key, value in given.items():  # anything else the caller gave
                event.setdefault(key, value)
            deliveries += self._deliveries(DEFAULT_BUS, event)
        self._enqueue(deliveries)

    def test_event_pattern(self, EventPattern, Event):
        pattern = self._check_pattern(EventPattern)
        event = None
        if _nesting_depth(Event) <= MAX_DETAIL_DEPTH + 1:
            try:
                event = orjson.loads(Event)
            except orjson.JSONDecodeError:
                pass
        # "the following fields are mandatory: id, account, source, time, region, resources,
        # detail-type" (botocore:events TestEventPattern Event); AWS does not in fact require
        # resources (localstack's AWS-validated provider notes it). The message is AWS's as
        # other emulators and user reports quote it (aws-sdk-js issue: "ValidationException:
        # Parameter Event is not valid.").
        if not isinstance(event, dict) or not {"id", "account", "source", "time", "region",
                                               "detail-type"} <= event.keys():
            raise validation("Parameter Event is not valid.")
        return {"Result": pattern.matches(event)}

    def _deliveries(self, bus_name: str, event: dict) -> list[NewDelivery]:
        index = self._index(bus_name)
        if not index.size:
            return []
        deliveries = []
        for rule, targets in index.matching(flatten_event(event)):
            if targets:
                deliveries += self.targets.deliveries(rule, targets, event)
        return deliveries

    def _enqueue(self, deliveries: list[NewDelivery]) -> None:
        if deliveries:
            self.queue.enqueue(deliveries)

    # -- the rule index -------------------------------------------------------------------------

    def _index(self, bus_name: str) -> RuleIndex:
        with self._index_lock:
            index = self._indexes.get(bus_name)
            generation = self._generations.get(bus_name, 0)
        if index is not None:
            return index
        compiled = []
        for rule, targets in self.store.rules_with_targets(bus_name):
            if not rule.enabled or rule.event_pattern is None:
                continue
            try:
                compiled.append((_compiled(rule.event_pattern), (rule, targets)))
            except InvalidEventPattern:  # stored by an older sagewatch that accepted it
                log.warning("rule %s: its event pattern no longer compiles; it matches nothing", rule.arn)
        index = RuleIndex(compiled)
        with self._index_lock:
            if self._generations.get(bus_name, 0) == generation:
                self._indexes[bus_name] = index
        return index

    def _changed(self, bus_name: str) -> None:
        """After a committed change to a bus's rules or targets: its index is rebuilt on use."""
        with self._index_lock:
            self._generations[bus_name] = self._generations.get(bus_name, 0) + 1
            self._indexes.pop(bus_name, None)

    # -- tags -----------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> str:
        """The ARN of the rule or bus ``arn`` names; ResourceNotFoundException otherwise."""
        resource = arns.local_resource(arn, "events", "", self.region, self.account_id)
        if resource is not None and resource.startswith("event-bus/"):
            name = resource[len("event-bus/"):]
            if self.store.get_bus(name) is None:
                raise bus_not_found(name)
            return self.bus_arn(name)
        if resource is not None and resource.startswith("rule/"):
            bus_name, _, name = resource[len("rule/"):].rpartition("/")
            bus_name = bus_name or DEFAULT_BUS
            rule_arn = self.rule_arn(name, bus_name)
            if self.store.get_rule(rule_arn) is None:
                raise rule_not_found(name, bus_name)
            return rule_arn
        # Only rules and buses take tags; the wording is sagewatch's own.
        raise AWSError("ResourceNotFoundException", f"Resource {arn} does not exist.")

    def tag_resource(self, ResourceARN, Tags):
        tagging.add(EVENTS_TAGS, self.tags, self._tagged(ResourceARN), tagging.of_pairs(Tags))
        return {}

    def untag_resource(self, ResourceARN, TagKeys):
        tagging.remove(EVENTS_TAGS, self.tags, self._tagged(ResourceARN), TagKeys)
        return {}

    def list_tags_for_resource(self, ResourceARN):
        tags = self.tags.get_tags(self._tagged(ResourceARN))
        return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())]}

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _after(kind: str, token: str | None, shape: type):
        if token is None:
            return None
        try:
            return parse_page_token(kind, token, shape)
        except InvalidToken:
            raise invalid_token() from None

