"""Amazon SNS: topics, subscriptions, publishing, tags.

One method per operation of the API reference (query protocol: botocore's model declares only
``query``; reference §9.1). Inputs arrive validated against the botocore model; the rules the
model cannot state are checked here with SNS's codes and words. SNS words nearly every refusal
``InvalidParameter`` "Invalid parameter: <what>[ Reason: <why>]"; the texts below are AWS's as
recorded in localstack's snapshot tests run against AWS (tests/aws/services/sns/
test_sns.snapshot.json and test_sns_filter_policy.snapshot.json, cited as "recorded"), else
quoted from AWS's answers in public issues and test code, else marked as sagewatch's wording.

What is delivered, and how, is services/sns/delivery.py's (SnsDelivery): this service decides
what is owed (the SubscriptionConfirmation of a new http/https/email subscription, the
UnsubscribeConfirmation of a deleted one, the Notification of a publish to each confirmed
subscription whose FilterPolicy matches) and queues it durably: Subscribe and Unsubscribe in the
same transaction as the change (store/sns.py), Publish in one transaction for all subscribers.

Publish is the hot path: a topic and its subscriptions, with their filter policies compiled, are
kept in memory (``_TopicView``) and dropped whenever something of them changes, so a publish
reads nothing: one pass of the filters, one enqueue transaction.

Python callers (the alarm action, EventBridge's SNS target) call ``publish(TopicArn=...,
Message=..., ...)`` as the wire does; SnsDelivery and its pages use ``topic(arn)``,
``subscription(arn)``, ``confirm_subscription`` and ``unsubscribe``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import unicodedata
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ... import arns
from ...clock import SYSTEM_CLOCK, Clock
from ...store.sns import SnsStore, Subscription, Topic
from ...store.tags import TagStore
from .. import tagging
from ..delivery import DeliveryQueue
from ..errors import AWSError, Failure, validation_message
from ..pagination import InvalidToken, page_token, parse_page_token
from ..base import Service
from .delivery import PublishedMessage, SnsDelivery
from .delivery_policy import parse_subscription_policy, parse_topic_policy, subscription_effective_policy, \
    topic_effective_policy
from .filter_policy import MESSAGE_ATTRIBUTES, SCOPES, FilterPolicy, InvalidFilterPolicy, compile_filter_policy, \
    jackson_syntax_error, parse_number

# -- limits --------------------------------------------------------------------------------------

PAGE_SIZE = 100  # ListTopics, ListSubscriptions(ByTopic): "up to 100" a page (API reference)
# "With the exception of SMS, Amazon SNS messages can contain up to 256 KB of text data"; the
# message attributes' names, types and values count too (sns-message-attributes.html: "All
# parts of the message attribute, including name, type, and value, are included in the message
# size restriction, which is 256 KB"). Refused "Invalid parameter: Message too long" (recorded).
MAX_MESSAGE_BYTES = 262_144
MAX_SUBJECT_CHARACTERS = 100  # Publish: "less than 100 characters"; AWS accepts 100 (moto #1503)
MAX_BATCH_ENTRIES = 10
MAX_BATCH_ID_LENGTH = 80
MAX_ATTRIBUTE_NAME_BYTES = 256
# Confirmation tokens "are valid for two days" (Subscribe, API reference); unconfirmed
# subscriptions are deleted after three days (reference §9.1, sns-delete-subscription-topic.md).
TOKEN_LIFETIME = 2 * 86400
PENDING_LIFETIME = 3 * 86400
# AWS's tokens are long hex strings (288 hex characters in the recorded ones); a token of
# another shape is refused "Invalid token" (recorded, test_sns_confirm_subscription_wrong_token).
_TOKEN_BYTES = 144
_TOKEN_SHAPE = re.compile(r"[0-9a-f]{64,1024}")

# -- names, protocols, attributes ------------------------------------------------------------------

# "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers,
# underscores, and hyphens, and must be between 1 and 256 characters long" (CreateTopic);
# refused "Invalid parameter: Topic Name" (recorded, test_create_topic_name_constraints).
_TOPIC_NAME = re.compile(r"[A-Za-z0-9_-]{1,256}")
# The protocols AWS takes (Subscribe, API reference); sagewatch delivers to the first four.
DELIVERED_PROTOCOLS = ("http", "https", "email", "email-json")
AWS_PROTOCOLS = DELIVERED_PROTOCOLS + ("sms", "sqs", "application", "lambda", "firehose")
# An email endpoint: one address, no spaces or separators ("foo@bar.com;foo@baz.io" is refused
# "Invalid parameter: Email address", an AWS CLI answer quoted in public issues).
_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+")

# SetTopicAttributes' names (API reference, "Valid Values"), less the FIFO topics' ones
# (sagewatch has no FIFO topics: they deliver only to SQS, which sagewatch does not have).
_FEEDBACK = tuple(f"{protocol}{kind}" for protocol in ("Application", "HTTP", "Firehose", "Lambda", "SQS")
                  for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn"))
TOPIC_ATTRIBUTES = ("DeliveryPolicy", "DisplayName", "Policy", "KmsMasterKeyId", "SignatureVersion",
                    "TracingConfig") + _FEEDBACK
SUBSCRIPTION_ATTRIBUTES = ("DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
                           "RedrivePolicy", "SubscriptionRoleArn")
# RawMessageDelivery applies to these (AWS: "Delivery protocol [email] does not support raw
# message delivery.", quoted from AWS in public test code; sqs and firehose are not delivered here).
_RAW_PROTOCOLS = ("http", "https", "sqs", "firehose")
# A message attribute's name: letters, digits, "_", "-", "." ; not starting or ending with a
# dot, no two dots in a row (sns-message-attributes.html); the refusals are recorded
# (test_empty_or_wrong_message_attributes).
_ATTRIBUTE_NAME_CHARACTER = re.compile(r"[A-Za-z0-9_.\-]")
_ATTRIBUTE_TYPES = ("String", "Number", "Binary")
# Batch entry ids: "alphanumeric characters, hyphens and underscores", up to 80 (PublishBatch).
_BATCH_ID = re.compile(r"[A-Za-z0-9_-]+")

# The policy AWS gives a new topic (recorded GetTopicAttributes, in AWS's member order).
_DEFAULT_ACTIONS = ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                    "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic",
                    "SNS:Publish"]

# SNS tags: TagResource on a resource that is not there answers ResourceNotFound "Resource does
# not exist", more than 50 TagLimitExceeded "Could not complete request: tag quota of per
# resource exceeded" (moto's answers, written against AWS's; unconfirmed by a recording). The
# character and reserved-prefix texts are sagewatch's wording.
SNS_TAGS = tagging.TagRules(
    too_many=lambda count: AWSError("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded"),
    malformed=lambda which, text: AWSError("InvalidParameter", f"Invalid parameter: Tags Reason: Invalid tag {which}: {text}"),
    reserved=lambda key: AWSError(
        "InvalidParameter", f"Invalid parameter: Tags Reason: Tag keys starting with 'aws:' are reserved: {key}"),
)


def invalid(what: str) -> AWSError:
    return AWSError("InvalidParameter", f"Invalid parameter: {what}")


def topic_not_found() -> AWSError:
    return AWSError("NotFound", "Topic does not exist")  # recorded, 404


def subscription_not_found() -> AWSError:
    return AWSError("NotFound", "Subscription does not exist")  # recorded, 404


def attribute_invalid(message: str) -> AWSError:
    """Publish's message-attribute refusals: ParameterValueInvalid (the model's
    InvalidParameterValueException), recorded."""
    return AWSError("ParameterValueInvalid", message)


@dataclass(frozen=True, slots=True)
class _TopicView:
    """What Publish needs of a topic, from memory: the topic and its subscriptions, each with
    its compiled filter policy (None: no policy)."""

    topic: Topic
    subscriptions: tuple[tuple[Subscription, FilterPolicy | None], ...]
    by_arn: Mapping[str, Subscription]


class SNSService(Service):
    model_name = "sns"

    def __init__(self, store: SnsStore, tags: TagStore, delivery: SnsDelivery, queue: DeliveryQueue, *,
                 region: str, account_id: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.tags = tags
        self.delivery = delivery
        self.queue = queue
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.partition = arns.partition_of(region)
        self._views: dict[str, _TopicView] = {}
        self._generations: dict[str, int] = {}
        self._views_lock = threading.Lock()

    # == errors ====================================================================================

    def invalid_input(self, failures: list[Failure]) -> AWSError:
        """A request that breaks the model: ValidationError, "1 validation error detected: Value
        null at 'messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member
        must not be null" (recorded). Map entries are written "<key>.member", list items
        "<n>.member"."""
        worded = [Failure(_coral_path(f.path), f.value, f.constraint, f.is_type_error) for f in failures]
        return AWSError("ValidationError", validation_message(worded), status=400, sender_fault=True)

    # == lookups for SnsDelivery and other services ================================================

    def topic(self, arn: str) -> Topic | None:
        view = self._view(arn)
        return view.topic if view else None

    def subscription(self, arn: str) -> Subscription | None:
        """A subscription, from memory (the delivery handlers ask this of every delivery). One
        not in memory is looked for in the store: a delivery of a subscription made a moment ago
        can run before its topic's view is dropped (the queue may claim it as soon as the
        Subscribe transaction commits), and must not be taken for one of a deleted subscription."""
        view = self._view(arn.rsplit(":", 1)[0]) if arn.count(":") >= 6 else None
        found = view.by_arn.get(arn) if view else None
        return found if found is not None else self.store.get_subscription(arn)

    # == topics ====================================================================================

    def create_topic(self, Name, Attributes=None, Tags=None, DataProtectionPolicy=None):
        attributes = dict(Attributes or {})
        if attributes.get("FifoTopic", "").lower() == "true" or Name.endswith(".fifo"):
            # sagewatch's wording: AWS takes FIFO topics, whose subscribers are SQS queues only.
            raise invalid("Attributes Reason: FifoTopic: sagewatch does not support FIFO topics "
                          "(they deliver only to Amazon SQS, which sagewatch does not have)")
        if not _TOPIC_NAME.fullmatch(Name):
            raise invalid("Topic Name")
        attributes.pop("FifoTopic", None)  # "false": AWS does not keep it (localstack, recorded behaviour)
        for name, value in attributes.items():
            self._check_topic_attribute(name, value, in_attributes=True)
        attributes = {name: value for name, value in attributes.items() if value != ""}
        if DataProtectionPolicy:
            attributes["DataProtectionPolicy"] = DataProtectionPolicy
        tags = self._tag_dict(Tags or [])
        if tags:
            tagging.check(SNS_TAGS, tags)
        arn = self._topic_arn_of(Name)
        stored, created = self.store.put_topic(Topic(arn, Name, attributes, self.clock.now()), tags)
        if not created:
            # Idempotent: the same name with the same (or no) attributes and tags is the same
            # topic. Tags it does not have: "Invalid parameter: Tags Reason: Topic already exists
            # with different tags" (recorded). Attributes: the same form (sagewatch's wording).
            if any(stored.attributes.get(name) != value for name, value in attributes.items()):
                raise invalid("Attributes Reason: Topic already exists with different attributes")
            held = self.tags.get_tags(arn)
            if any(held.get(key) != value for key, value in tags.items()):
                raise invalid("Tags Reason: Topic already exists with different tags")
        self._invalidate(arn)
        return {"TopicArn": arn}

    def delete_topic(self, TopicArn):
        arn = self._checked_topic_arn(TopicArn, "DeleteTopic")
        deleted = self.store.delete_topic(arn)  # None: no such topic, and DeleteTopic is idempotent (recorded)
        self._invalidate(arn)
        for subscription_arn in deleted or ():
            self.queue.store.purge(subscription_arn)
        return {}

    def list_topics(self, NextToken=None):
        after = self._resume_after("topics", NextToken)
        topics = self.store.list_topics(after=after, limit=PAGE_SIZE + 1)
        result = {"Topics": [{"TopicArn": t.arn} for t in topics[:PAGE_SIZE]]}
        if len(topics) > PAGE_SIZE:
            result["NextToken"] = page_token("topics", topics[PAGE_SIZE - 1].arn)
        return result

    def get_topic_attributes(self, TopicArn):
        topic = self._existing_topic(TopicArn, "GetTopicAttributes")
        confirmed, pending = self.store.subscription_counts(topic.arn)
        attributes = {
            "Policy": self._default_policy(topic.arn),
            "Owner": self.account_id,
            "TopicArn": topic.arn,
            "DisplayName": "",
            "SubscriptionsConfirmed": str(confirmed),
            "SubscriptionsPending": str(pending),
            "SubscriptionsDeleted": str(topic.subscriptions_deleted),
            "EffectiveDeliveryPolicy": topic_effective_policy(topic.attributes.get("DeliveryPolicy")),
        }
        attributes.update((k, v) for k, v in topic.attributes.items() if k != "DataProtectionPolicy")
        return {"Attributes": dict(sorted(attributes.items()))}

    def set_topic_attributes(self, TopicArn, AttributeName, AttributeValue=None):
        topic = self._existing_topic(TopicArn, "SetTopicAttributes")
        value = AttributeValue or ""
        self._check_topic_attribute(AttributeName, value, in_attributes=False)
        attributes = dict(topic.attributes)
        if value == "":
            # An empty value takes the attribute back to its default (recorded for
            # DeliveryPolicy: set to "" it is gone from GetTopicAttributes).
            attributes.pop(AttributeName, None)
        else:
            attributes[AttributeName] = value
        if not self.store.set_topic_attributes(topic.arn, attributes):
            raise topic_not_found()
        self._invalidate(topic.arn)
        return {}

    def get_data_protection_policy(self, ResourceArn):
        topic = self._existing_topic(ResourceArn, "GetDataProtectionPolicy", member="ResourceArn")
        policy = topic.attributes.get("DataProtectionPolicy")
        return {"DataProtectionPolicy": policy} if policy else {}

    def put_data_protection_policy(self, ResourceArn, DataProtectionPolicy):
        topic = self._existing_topic(ResourceArn, "PutDataProtectionPolicy", member="ResourceArn")
        _check_json(DataProtectionPolicy, "DataProtectionPolicy")
        attributes = dict(topic.attributes, DataProtectionPolicy=DataProtectionPolicy)
        if not self.store.set_topic_attributes(topic.arn, attributes):
            raise topic_not_found()
        self._invalidate(topic.arn)
        return {}

    def _check_topic_attribute(self, name: str, value: str, *, in_attributes: bool) -> None:
        if name not in TOPIC_ATTRIBUTES:
            # Recorded for SetTopicAttributes (FifoTopic after creation); CreateTopic's unknown
            # attribute names are worded the same (sagewatch's choice).
            raise invalid("AttributeName")
        if value == "":
            return
        if name == "DeliveryPolicy":
            parse_topic_policy(value)  # "Invalid parameter: DeliveryPolicy: ..." (delivery_policy.py)
        elif name == "Policy":
            _check_json(value, "Policy")
        elif name == "SignatureVersion" and value not in ("1", "2"):
            # "1" or "2" (SetTopicAttributes); the refusal's text is sagewatch's.
            raise invalid("SignatureVersion Reason: must be 1 or 2")
        elif name == "TracingConfig" and value not in ("PassThrough", "Active"):
            raise invalid("TracingConfig Reason: must be PassThrough or Active")  # sagewatch's wording
        elif name.endswith("SampleRate") and not (value.isdigit() and 0 <= int(value) <= 100):
            # "an integer from 0 to 100" (sns-topic-attributes.html); the text is sagewatch's.
            raise invalid(f"{name} Reason: must be an integer from 0 to 100")
        elif name.endswith("RoleArn") and not arns.is_arn(value):
            raise invalid(f"{name} Reason: must be an IAM role ARN")  # sagewatch's wording

    def _default_policy(self, topic_arn: str) -> str:
        return json.dumps({
            "Version": "2008-10-17", "Id": "__default_policy_ID",
            "Statement": [{
                "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
                "Action": _DEFAULT_ACTIONS, "Resource": topic_arn,
                "Condition": {"StringEquals": {"AWS:SourceOwner": self.account_id}},
            }],
        }, separators=(",", ":"))

    # == subscriptions =============================================================================

    def subscribe(self, TopicArn, Protocol, Endpoint=None, Attributes=None, ReturnSubscriptionArn=None):
        arn = self._checked_topic_arn(TopicArn, "Subscribe")
        topic = self.store.get_topic(arn)
        if topic is None:
            raise topic_not_found()
        endpoint = self._checked_endpoint(Protocol, Endpoint)
        attributes = self._checked_subscription_attributes(Attributes or {}, Protocol)
        now = self.clock.now()
        candidate = Subscription(
            arn=f"{arn}:{uuid.uuid4()}", topic_arn=arn, protocol=Protocol, endpoint=endpoint,
            attributes=attributes, confirmed=False, token=_new_token(), created=now, token_issued=now)

        def owed(stored: Subscription):
            if stored is not candidate:
                # An identical subscription is the same one (recorded, test_subscribe_idempotency):
                # any attribute given must match what it has.
                if any(stored.attributes.get(name) != value for name, value in attributes.items()):
                    raise invalid("Attributes Reason: Subscription already exists with different attributes")
                if stored.confirmed:
                    return []
            # Pending: its confirmation goes (again) to the endpoint, as the console's "Request
            # confirmation" does for a pending subscription (sagewatch's choice for Subscribe).
            return self.delivery.confirmation(topic, stored)

        outcome = self.store.subscribe(candidate, owed, now)
        if outcome is None:
            raise topic_not_found()
        stored, _created = outcome
        self._invalidate(arn)
        self.queue.wake()
        # "pending confirmation" unless confirmed or ReturnSubscriptionArn (reference §9.1, recorded).
        return {"SubscriptionArn": stored.arn if stored.confirmed or ReturnSubscriptionArn else "pending confirmation"}

    def confirm_subscription(self, TopicArn, Token, AuthenticateOnUnsubscribe=None):
        return self._confirm(TopicArn, Token, AuthenticateOnUnsubscribe, authenticated=True)

    def confirm_subscription_unsigned(self, TopicArn, Token):
        """ConfirmSubscription as the SubscribeURL and the email's link make it: an unsigned GET
        (services/sns/links.py). ConfirmationWasAuthenticated is then false, and
        AuthenticateOnUnsubscribe takes effect only on a signed call ("If the value of this
        parameter is true and the request has an Amazon Web Services signature ...",
        ConfirmSubscription)."""
        return self._confirm(TopicArn, Token, None, authenticated=False)

    def _confirm(self, TopicArn, Token, AuthenticateOnUnsubscribe, *, authenticated: bool):
        parts = (TopicArn or "").split(":")
        if (len(parts) < 6 or parts[0] != "arn" or parts[2] != "sns" or parts[3] != self.region
                or parts[1] != self.partition):
            raise invalid("Topic")  # recorded for a broken ARN and one of another Region
        if not _TOKEN_SHAPE.fullmatch(Token or ""):
            raise AWSError("InvalidParameter", "Invalid token")  # recorded
        flag = (AuthenticateOnUnsubscribe or "false").lower()
        if flag not in ("true", "false"):
            raise invalid("AuthenticateOnUnsubscribe")  # sagewatch's wording
        now = self.clock.now()
        subscription = self.store.confirm(
            TopicArn, Token, issued_after=now - TOKEN_LIFETIME, authenticated=authenticated,
            authenticate_on_unsubscribe=authenticated and flag == "true", now=now)
        if subscription is None:
            # No such token for this topic, or no longer valid (recorded for both a topic that
            # does not exist and a token that does not).
            raise invalid("Token")
        self._invalidate(subscription.topic_arn)
        return {"SubscriptionArn": subscription.arn}

    def unsubscribe(self, SubscriptionArn):
        return self._unsubscribe(SubscriptionArn, authenticated=True)

    def unsubscribe_unsigned(self, SubscriptionArn):
        """Unsubscribe as the UnsubscribeURL and the email's link make it, unsigned: it cannot
        remove a subscription confirmed with AuthenticateOnUnsubscribe."""
        return self._unsubscribe(SubscriptionArn, authenticated=False)

    def _unsubscribe(self, SubscriptionArn, *, authenticated: bool):
        arn = self._checked_subscription_arn(SubscriptionArn, "Unsubscribe")
        if arn.count(":") == 5:
            raise invalid("SubscriptionId")  # a topic's ARN, no subscription id (recorded)
        subscription = self.store.get_subscription(arn)
        if subscription is None:
            return {}  # Unsubscribe is idempotent (recorded)
        if subscription.authenticate_on_unsubscribe and not authenticated:
            # sagewatch's wording for AWS's rule (ConfirmSubscription's AuthenticateOnUnsubscribe).
            raise AWSError("AuthorizationError", "Unsubscribe of this subscription requires an authenticated "
                           "request: it was confirmed with AuthenticateOnUnsubscribe")
        topic = self.store.get_topic(subscription.topic_arn)
        restore_token = _new_token()
        # What is still queued for it goes: nothing more is delivered to an endpoint that left.
        self.queue.store.purge(arn)

        def owed(deleted: Subscription):
            if topic is None:
                return []
            # The UnsubscribeConfirmation's SubscribeURL carries a token that restores it.
            return self.delivery.unsubscribe_confirmation(topic, replace(deleted, token=restore_token))

        self.store.delete_subscription(arn, owed, restore_token=restore_token, now=self.clock.now())
        self._invalidate(subscription.topic_arn)
        self.queue.wake()
        return {}

    def list_subscriptions(self, NextToken=None):
        after = self._resume_after("subscriptions", NextToken)
        return self._subscription_page("subscriptions", self.store.list_subscriptions(
            topic_arn=None, after=after, limit=PAGE_SIZE + 1))

    def list_subscriptions_by_topic(self, TopicArn, NextToken=None):
        topic = self._existing_topic(TopicArn, "ListSubscriptionsByTopic")
        kind = f"subscriptions:{topic.arn}"
        after = self._resume_after(kind, NextToken)
        return self._subscription_page(kind, self.store.list_subscriptions(
            topic_arn=topic.arn, after=after, limit=PAGE_SIZE + 1))

    def _subscription_page(self, kind: str, found: list[Subscription]) -> dict:
        result = {"Subscriptions": [{
            # Unconfirmed ones are listed "PendingConfirmation" (recorded, test_subscription_paging).
            "SubscriptionArn": s.arn if s.confirmed else "PendingConfirmation",
            "Owner": self.account_id, "Protocol": s.protocol, "Endpoint": s.endpoint, "TopicArn": s.topic_arn,
        } for s in found[:PAGE_SIZE]]}
        if len(found) > PAGE_SIZE:
            result["NextToken"] = page_token(kind, found[PAGE_SIZE - 1].arn)
        return result

    def get_subscription_attributes(self, SubscriptionArn):
        subscription = self._existing_subscription(SubscriptionArn, "GetSubscriptionAttributes")
        topic = self.store.get_topic(subscription.topic_arn)
        attributes = {
            "ConfirmationWasAuthenticated": "true" if subscription.confirmation_authenticated else "false",
            "Endpoint": subscription.endpoint,
            "Owner": self.account_id,
            "PendingConfirmation": "false" if subscription.confirmed else "true",
            "Protocol": subscription.protocol,
            "RawMessageDelivery": "false",
            "SubscriptionArn": subscription.arn,
            # The IAM identity that subscribed; sagewatch has none, so the account's root (its choice).
            "SubscriptionPrincipal": arns.account_root(self.account_id),
            "TopicArn": subscription.topic_arn,
        }
        attributes.update(subscription.attributes)
        if "FilterPolicy" in attributes:
            # Shown with its policy only: a scope set without a policy is not listed (recorded,
            # test_set_subscription_filter_policy_scope).
            attributes.setdefault("FilterPolicyScope", MESSAGE_ATTRIBUTES)
        else:
            attributes.pop("FilterPolicyScope", None)
        if subscription.protocol in ("http", "https"):
            attributes["EffectiveDeliveryPolicy"] = subscription_effective_policy(
                topic.attributes.get("DeliveryPolicy") if topic else None, subscription.attributes.get("DeliveryPolicy"))
        return {"Attributes": dict(sorted(attributes.items()))}

    def set_subscription_attributes(self, SubscriptionArn, AttributeName, AttributeValue=None):
        subscription = self._existing_subscription(SubscriptionArn, "SetSubscriptionAttributes")
        value = AttributeValue or ""
        attributes = dict(subscription.attributes)
        checked = self._checked_subscription_attributes(
            {AttributeName: value}, subscription.protocol, in_subscribe=False, current=attributes)
        if value == "" and AttributeName in ("FilterPolicy", "DeliveryPolicy", "RedrivePolicy", "SubscriptionRoleArn"):
            attributes.pop(AttributeName, None)  # an empty value removes it (sagewatch's reading of AWS)
        else:
            attributes.update(checked)
        if not self.store.set_subscription_attributes(subscription.arn, attributes):
            raise subscription_not_found()
        self._invalidate(subscription.topic_arn)
        return {}

    def _checked_endpoint(self, protocol: str, endpoint: str | None) -> str:
        if protocol not in AWS_PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")  # recorded
        if protocol not in DELIVERED_PROTOCOLS:
            raise invalid(f"Protocol Reason: sagewatch delivers to http, https, email and email-json, "
                          f"not {protocol}")  # sagewatch's wording
        if not endpoint:
            raise invalid("Endpoint Reason: no value for required parameter")  # sagewatch's, after AWS's form
        if protocol in ("http", "https"):
            if not endpoint.lower().startswith(f"{protocol}://"):
                # AWS's answer as localstack and other emulators reproduce it (unconfirmed by a recording).
                raise invalid("Endpoint must match the specified protocol")
            if not _url_host(endpoint):
                raise invalid("Endpoint Reason: not a valid URL")  # sagewatch's wording
        elif not _EMAIL.fullmatch(endpoint):
            raise invalid("Email address")  # AWS's answer, quoted in public issues
        return endpoint

    def _checked_subscription_attributes(self, given: Mapping[str, str], protocol: str, *,
                                         in_subscribe: bool = True, current: Mapping[str, str] | None = None
                                         ) -> dict[str, str]:
        """The attributes, checked and normalised. Subscribe words a refusal "Invalid parameter:
        Attributes Reason: <reason>", SetSubscriptionAttributes "Invalid parameter: <reason>"
        (recorded for both)."""
        def refuse(reason: str) -> AWSError:
            return invalid(f"Attributes Reason: {reason}" if in_subscribe else reason)

        merged = dict(current or {})
        merged.update(given)
        checked: dict[str, str] = {}
        for name, value in given.items():
            if name not in SUBSCRIPTION_ATTRIBUTES:
                raise refuse("AttributeName")
            if name == "RawMessageDelivery":
                if value.lower() not in ("true", "false"):
                    raise refuse(f"RawMessageDelivery: Invalid value [{value}]. Must be true or false.")
                if value.lower() == "true" and protocol not in _RAW_PROTOCOLS:
                    raise refuse(f"Delivery protocol [{protocol}] does not support raw message delivery.")
                value = value.lower()
            elif name == "FilterPolicyScope" and value not in SCOPES:
                raise refuse(f"FilterPolicyScope: Invalid value [{value}]. Please use either MessageBody or "
                             f"MessageAttributes")
            elif name == "DeliveryPolicy" and value:
                try:
                    parse_subscription_policy(value)
                except AWSError as error:
                    raise refuse(error.message.removeprefix("Invalid parameter: ")) from None
            elif name == "RedrivePolicy" and value:
                _check_redrive_policy(value, refuse)
            checked[name] = value
        policy = merged.get("FilterPolicy")
        if policy and ("FilterPolicy" in given or "FilterPolicyScope" in given):
            try:
                compile_filter_policy(policy, merged.get("FilterPolicyScope") or MESSAGE_ATTRIBUTES)
            except InvalidFilterPolicy as error:
                raise refuse(f"FilterPolicy: {error.reason}" if error.of_policy else error.reason) from None
        return checked

    # == publishing ================================================================================

    def publish(self, Message, TopicArn=None, TargetArn=None, PhoneNumber=None, Subject=None,
                MessageStructure=None, MessageAttributes=None, MessageDeduplicationId=None, MessageGroupId=None):
        # In AWS's order of refusals (localstack's, written against the recordings).
        _check_subject(Subject)
        if not Message:
            raise invalid("Empty message")  # recorded
        target = self._publish_target(TopicArn, TargetArn, PhoneNumber)
        attributes = _checked_message_attributes(MessageAttributes or {})
        if _published_size(Message, attributes) > MAX_MESSAGE_BYTES:
            raise invalid("Message too long")  # recorded
        if MessageDeduplicationId is not None:
            # recorded: a standard topic refuses it (and sagewatch has no other kind).
            raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
                          "that is not valid for this topic type")
        default, per_protocol = _structured(Message, MessageStructure)
        view = self._published_view(target, "Publish")
        message = PublishedMessage(message_id=str(uuid.uuid4()), message=default, per_protocol=per_protocol,
                                   subject=Subject, attributes=attributes, timestamp=self.clock.now())
        self.queue.enqueue(self._notifications(view, message))
        return {"MessageId": message.message_id}

    def publish_batch(self, TopicArn, PublishBatchRequestEntries):
        entries = PublishBatchRequestEntries
        if not entries:
            # The model requires the list; an empty one (a query request with none) is refused
            # EmptyBatchRequest (its wording is sagewatch's, after SQS's).
            raise AWSError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
        if len(entries) > MAX_BATCH_ENTRIES:
            raise AWSError("TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.")
        view = self._published_view(TopicArn, "PublishBatch")
        ids = [entry["Id"] for entry in entries]
        if len(set(ids)) != len(ids):
            raise AWSError("BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.")
        for entry_id in ids:
            if len(entry_id) > MAX_BATCH_ID_LENGTH:
                raise AWSError("InvalidBatchEntryId", f"The Id of a batch entry in the batch request is too long: {entry_id}")
            if not _BATCH_ID.fullmatch(entry_id):
                raise AWSError("InvalidBatchEntryId",
                               f"The Id of a batch entry in the batch request contains an impermissible character: {entry_id}")
        # A malformed entry fails the whole request, as one Publish would (AWS does so: localstack's
        # note on its recorded batch tests); an entry refused per entry goes to Failed.
        total = 0
        prepared: list[tuple[dict, PublishedMessage | None, dict | None]] = []
        now = self.clock.now()
        for entry in entries:
            attributes = _checked_message_attributes(entry.get("MessageAttributes") or {})
            total += _published_size(entry.get("Message") or "", attributes)
            failure = None
            message = None
            try:
                _check_subject(entry.get("Subject"))
                if not entry.get("Message"):
                    raise invalid("Empty message")
                if entry.get("MessageDeduplicationId") is not None:
                    raise invalid("MessageDeduplicationId Reason: The request includes MessageDeduplicationId "
                                  "parameter that is not valid for this topic type")
                default, per_protocol = _structured(entry["Message"], entry.get("MessageStructure"))
                message = PublishedMessage(message_id=str(uuid.uuid4()), message=default, per_protocol=per_protocol,
                                           subject=entry.get("Subject"), attributes=attributes, timestamp=now)
            except AWSError as error:
                if error.message and error.message.startswith("Invalid parameter: Message Structure"):
                    raise  # recorded: a bad MessageStructure fails the request (test_publish_batch_exceptions)
                failure = {"Id": entry["Id"], "Code": error.code, "Message": error.message, "SenderFault": True}
            prepared.append((entry, message, failure))
        if total > MAX_MESSAGE_BYTES:
            raise AWSError("BatchRequestTooLong", "The length of all the messages put together is more than the limit.")
        items = []
        successful, failed = [], []
        for entry, message, failure in prepared:
            if failure is not None:
                failed.append(failure)
                continue
            items += self._notifications(view, message)
            successful.append({"Id": entry["Id"], "MessageId": message.message_id})
        self.queue.enqueue(items)
        return {"Successful": successful, "Failed": failed}

    def _publish_target(self, topic_arn: str | None, target_arn: str | None, phone_number: str | None) -> str:
        given = [value for value in (topic_arn, target_arn, phone_number) if value is not None]
        if not given:
            raise invalid("TopicArn or TargetArn Reason: no value for required parameter")  # AWS's, quoted in issues
        if len(given) > 1:
            raise invalid("TopicArn Reason: Only one of TopicArn, TargetArn or PhoneNumber may be given")  # sagewatch's
        if phone_number is not None:
            raise invalid("PhoneNumber Reason: sagewatch does not send SMS")  # sagewatch's wording
        if target_arn is not None and ":endpoint/" in target_arn:
            # A mobile platform endpoint: sagewatch has none (recorded wording for one not found).
            raise invalid("TargetArn Reason: No endpoint found for the target arn specified")
        return topic_arn if topic_arn is not None else target_arn

    def _published_view(self, topic_arn: str, operation: str) -> _TopicView:
        arn = self._checked_topic_arn(topic_arn, operation)
        view = self._view(arn)
        if view is None:
            raise topic_not_found()
        return view

    def _notifications(self, view: _TopicView, message: PublishedMessage) -> list:
        """The deliveries a message owes: one per confirmed subscription whose policy matches
        (a MessageBody policy reads the text that subscription would get)."""
        chosen = [
            subscription for subscription, policy in view.subscriptions
            if subscription.confirmed and (policy is None or policy.matches(
                message.text_for(subscription.protocol), message.attributes))
        ]
        return self.delivery.notifications(view.topic, chosen, message) if chosen else []

    # == tags ======================================================================================

    def tag_resource(self, ResourceArn, Tags):
        arn = self._tagged_topic(ResourceArn)
        keys = [tag["Key"] for tag in Tags]
        if len(set(keys)) != len(keys):
            raise invalid("Duplicated keys are not allowed.")  # recorded
        tagging.add(SNS_TAGS, self.tags, arn, self._tag_dict(Tags))
        return {}

    def untag_resource(self, ResourceArn, TagKeys):
        arn = self._tagged_topic(ResourceArn)
        tagging.remove(SNS_TAGS, self.tags, arn, TagKeys)
        return {}

    def list_tags_for_resource(self, ResourceArn):
        arn = self._tagged_topic(ResourceArn)
        return {"Tags": [{"Key": key, "Value": value} for key, value in sorted(self.tags.get_tags(arn).items())]}

    def _tagged_topic(self, resource_arn: str) -> str:
        if self.store.get_topic(resource_arn) is None:
            # moto's answer, after AWS's (unconfirmed by a recording).
            raise AWSError("ResourceNotFound", "Resource does not exist")
        return resource_arn

    @staticmethod
    def _tag_dict(tags: list[Mapping]) -> dict[str, str]:
        return {tag["Key"]: tag.get("Value") or "" for tag in tags}

    # == expiry (a lifecycle duty) =================================================================

    def expire_subscriptions(self) -> int:
        """Delete subscriptions still unconfirmed after three days, and forget the restorable
        ones older than a token's two days."""
        now = self.clock.now()
        expired = self.store.expire(unconfirmed_before=now - PENDING_LIFETIME, unsubscribed_before=now - TOKEN_LIFETIME)
        for arn in expired:
            self.queue.store.purge(arn)
            self._invalidate(arn.rsplit(":", 1)[0])
        return len(expired)

    # == helpers ===================================================================================

    def _topic_arn_of(self, name: str) -> str:
        return arns.build("sns", name, self.region, self.account_id)

    def _checked_topic_arn(self, arn: str | None, operation: str, member: str = "TopicArn") -> str:
        """An ARN naming a topic of this account and Region, or AWS's refusal: fewer than six
        fields "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not N"
        (recorded, N counting the empty text as one), another Region "Invalid parameter: TopicArn"
        (recorded), another account AuthorizationError as for a topic whose policy does not let
        this account in (AWS's form, quoted in public issues)."""
        text = arn or ""
        parts = text.split(":")
        if len(parts) < 6:
            raise invalid(f"{member} Reason: An ARN must have at least 6 elements, not {len(parts)}")
        if parts[0] != "arn" or parts[1] != self.partition or parts[2] != "sns" or parts[3] != self.region:
            raise invalid(member)
        if parts[4] != self.account_id:
            action = f"SNS:{operation}"
            raise AWSError("AuthorizationError",
                           f"User: {arns.account_root(self.account_id)} is not authorized to perform: {action} on "
                           f"resource: {text} because no resource-based policy allows the {action} action")
        return text

    def _existing_topic(self, arn: str | None, operation: str, member: str = "TopicArn") -> Topic:
        checked = self._checked_topic_arn(arn, operation, member)
        topic = self.store.get_topic(checked)
        if topic is None:
            raise topic_not_found()
        return topic

    def _checked_subscription_arn(self, arn: str | None, operation: str) -> str:
        if not arn:
            raise invalid("SubscriptionArn Reason: no value for required parameter")  # recorded
        parts = arn.split(":")
        if len(parts) < 6:
            raise invalid(f"SubscriptionArn Reason: An ARN must have at least 6 elements, not {len(parts)}")  # recorded
        if parts[0] != "arn" or parts[1] != self.partition or parts[2] != "sns" or parts[3] != self.region:
            raise invalid("SubscriptionArn")
        if parts[4] != self.account_id:
            action = f"SNS:{operation}"
            raise AWSError("AuthorizationError",
                           f"User: {arns.account_root(self.account_id)} is not authorized to perform: {action} on "
                           f"resource: {arn} because no resource-based policy allows the {action} action")
        return arn

    def _existing_subscription(self, arn: str | None, operation: str) -> Subscription:
        checked = self._checked_subscription_arn(arn, operation)
        subscription = self.store.get_subscription(checked)
        if subscription is None:
            raise subscription_not_found()
        return subscription

    @staticmethod
    def _resume_after(kind: str, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return parse_page_token(kind, token, str)
        except InvalidToken:
            raise invalid("NextToken") from None  # sagewatch's wording, in SNS's form

    # -- the in-memory view of topics (Publish's hot path) -------------------------------------------

    def _view(self, topic_arn: str) -> _TopicView | None:
        with self._views_lock:
            view = self._views.get(topic_arn)
            if view is not None:
                return view
            generation = self._generations.get(topic_arn, 0)
        topic = self.store.get_topic(topic_arn)
        if topic is None:
            return None
        subscriptions = self.store.subscriptions_of(topic_arn)
        view = _TopicView(topic, tuple((s, _stored_policy(s)) for s in subscriptions),
                          {s.arn: s for s in subscriptions})
        with self._views_lock:
            # Kept only if nothing changed while it was read (a change bumps the generation).
            if self._generations.get(topic_arn, 0) == generation:
                self._views[topic_arn] = view
        return view

    def _invalidate(self, topic_arn: str) -> None:
        with self._views_lock:
            self._generations[topic_arn] = self._generations.get(topic_arn, 0) + 1
            self._views.pop(topic_arn, None)


# -- pure helpers ----------------------------------------------------------------------------------


def _new_token() -> str:
    return secrets.token_hex(_TOKEN_BYTES)


def _stored_policy(subscription: Subscription) -> FilterPolicy | None:
    text = subscription.attributes.get("FilterPolicy")
    if not text:
        return None
    try:
        return compile_filter_policy(text, subscription.attributes.get("FilterPolicyScope") or MESSAGE_ATTRIBUTES)
    except InvalidFilterPolicy:  # pragma: no cover - stored policies were checked when set
        return None


def _url_host(url: str) -> str | None:
    try:
        return urllib.parse.urlsplit(url).hostname
    except ValueError:
        return None


def _check_json(text: str, name: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        raise invalid(f"{name}: failed to parse JSON. {jackson_syntax_error(text)}") from None


def _check_redrive_policy(text: str, refuse) -> None:
    """RedrivePolicy: a JSON object of deadLetterTargetArn alone. Refusals recorded ("failed to
    parse JSON. <Jackson>", "deadLetterTargetArn is an invalid arn") or quoted from AWS
    ("invalid JSON. Attribute maxReceiveCount is unknown.", a Terraform issue)."""
    try:
        document = json.loads(text)
    except ValueError:
        raise refuse(f"RedrivePolicy: failed to parse JSON. {jackson_syntax_error(text)}") from None
    if not isinstance(document, dict):
        raise refuse("RedrivePolicy: invalid JSON.")  # sagewatch's wording
    for name in document:
        if name != "deadLetterTargetArn":
            raise refuse(f"RedrivePolicy: invalid JSON. Attribute {name} is unknown.")
    target = document.get("deadLetterTargetArn")
    if not isinstance(target, str) or not arns.is_arn(target):
        raise refuse("RedrivePolicy: deadLetterTargetArn is an invalid arn")


def _check_subject(subject: str | None) -> None:
    """"Subjects must be UTF-8 text with no line breaks or control characters, and less than 100
    characters long" (Publish); the empty one too is refused "Invalid parameter: Subject"
    (recorded)."""
    if subject is None:
        return
    if (subject == "" or len(subject) > MAX_SUBJECT_CHARACTERS
            or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in subject)):
        raise invalid("Subject")


def _structured(message: str, structure: str | None) -> tuple[str, dict[str, str]]:
    """(the default text, the per-protocol texts) of a message. MessageStructure=json: a JSON
    object with a string "default"; its other string members are per-protocol texts, members
    that are not strings are ignored (recorded: test_message_structure_json_exc)."""
    if structure is None:
        return message, {}
    if structure != "json":
        raise invalid("MessageStructure")  # "Valid value: json" (Publish); the text is sagewatch's
    try:
        document = json.loads(message)
    except ValueError:
        raise invalid("Message Structure - JSON message body failed to parse") from None
    texts = {key: value for key, value in document.items() if isinstance(value, str)} \
        if isinstance(document, dict) else {}
    if "default" not in texts:
        raise invalid("Message Structure - No default entry in JSON message body")
    default = texts.pop("default")
    return default, texts


def _checked_message_attributes(attributes: Mapping[str, Mapping]) -> dict[str, dict]:
    """Publish's MessageAttributes, checked as AWS checks them (the first broken rule, in the
    order recorded in test_empty_or_wrong_message_attributes), in the shape the API gives them."""
    checked: dict[str, dict] = {}
    for name, attribute in attributes.items():
        _check_attribute_name(name)
        data_type = attribute.get("DataType")
        if data_type is None:  # the model requires it; a Python caller may leave it out
            raise AWSError("ValidationError", f"1 validation error detected: Value null at "
                           f"'messageAttributes.{name}.member.dataType' failed to satisfy constraint: Member must "
                           f"not be null", status=400, sender_fault=True)
        base = data_type.split(".", 1)[0]
        if base not in _ATTRIBUTE_TYPES or (data_type != base and len(data_type) == len(base) + 1):
            raise attribute_invalid(f"The message attribute '{name}' has an invalid message attribute type, the set "
                                    f"of supported type prefixes is Binary, Number, and String.")
        string, binary = attribute.get("StringValue"), attribute.get("BinaryValue")
        if string is None and binary is None:
            raise attribute_invalid(f"The message attribute '{name}' must contain non-empty message attribute value "
                                    f"for message attribute type '{data_type}'.")
        field = "Binary" if base == "Binary" else "String"
        value = binary if field == "Binary" else string
        if value is None:
            raise attribute_invalid(f"The message attribute '{name}' with type '{data_type}' must use field '{field}'.")
        if len(value) == 0:
            raise attribute_invalid(f"The message attribute '{name}' must contain non-empty message attribute value "
                                    f"for message attribute type '{data_type}'.")
        if base == "Number" and parse_number(value) is None:
            # AWS's answer as moto and other emulators reproduce it (unconfirmed by a recording).
            raise attribute_invalid(f"Could not cast message attribute '{name}' value to number.")
        if data_type == "String.Array" and not _string_array(value):
            # sagewatch's wording: "An array, formatted as a string, that can contain multiple
            # values ... strings, numbers, or the keywords true, false, and null" (sns-message-attributes.html).
            raise attribute_invalid(f"The message attribute '{name}' with type 'String.Array' must be a JSON array "
                                    f"of strings, numbers, true, false or null.")
        checked[name] = {"DataType": data_type, f"{field}Value": value}
    return checked


def _check_attribute_name(name: str) -> None:
    if len(name.encode("utf-8")) >= MAX_ATTRIBUTE_NAME_BYTES:
        raise attribute_invalid("Length of message attribute name must be less than 256 bytes.")
    if name.startswith("."):
        raise attribute_invalid("Invalid message attribute name starting with character '.' was found.")
    if name.endswith("."):
        raise attribute_invalid("Invalid message attribute name ending with character '.' was found.")
    for index, character in enumerate(name):
        if not _ATTRIBUTE_NAME_CHARACTER.fullmatch(character):
            raise attribute_invalid(
                f"Invalid non-alphanumeric character '#x{ord(character):X}' was found in the message attribute name. "
                f"Can only include alphanumeric characters, hyphens, underscores, or dots.")
        if character == "." and name[index - 1] == ".":
            raise attribute_invalid("Message attribute name can not have successive '.' character.")


def _string_array(text: str) -> bool:
    try:
        values = json.loads(text)
    except ValueError:
        return False
    return isinstance(values, list) and all(v is None or isinstance(v, (str, int, float, bool)) for v in values)


def _published_size(message: str, attributes: Mapping[str, Mapping]) -> int:
    size = len(message.encode("utf-8"))
    for name, attribute in attributes.items():
        size += len(name.encode("utf-8"))
        for value in attribute.values():
            size += len(value) if isinstance(value, (bytes, bytearray)) else len(value.encode("utf-8"))
    return size


def _coral_path(path) -> str:
    """AWS's spelling of where a value is: members lower-camel-cased, list items "N.member", map
    entries "<key>.member" ('publishBatchRequestEntries.1.member.messageAttributes.attr1.member
    .dataType', recorded)."""
    if isinstance(path, str):
        return path
    parts: list[str] = []
    previous = None
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"{segment}.member")
        elif previous in ("MessageAttributes", "Attributes"):
            parts.append(f"{segment}.member")
        else:
            parts.append(segment[:1].lower() + segment[1:])
        previous = segment
    return ".".join(parts)
