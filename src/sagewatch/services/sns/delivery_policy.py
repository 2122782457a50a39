"""SNS delivery policies: when a failed delivery is tried again, and when it is given up.

A policy has AWS's four phases (https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html,
"Delivery policy stages"; awsdocs/amazon-sns-developer-guide ``DeliveryPolicies.md``), in order
after the first try fails:

1. immediate: ``numNoDelayRetries`` retries with no delay;
2. pre-backoff: ``numMinDelayRetries`` retries ``minDelayTarget`` seconds apart;
3. backoff: ``numRetries - numNoDelayRetries - numMinDelayRetries - numMaxDelayRetries`` retries
   whose delays go from ``minDelayTarget`` (the first) to ``maxDelayTarget`` (the last) along the
   ``backoffFunction``: linear, arithmetic, geometric or exponential;
4. post-backoff: ``numMaxDelayRetries`` retries ``maxDelayTarget`` seconds apart.

AWS documents the backoff functions only by a graph (``backoff-graph.png``) whose curves all
start at the minimum delay and end at the maximum. The shapes here are sagewatch's own (see
``BACKOFF_SHAPES``): they meet those two documented points and rise in the graph's order.
AWS adds jitter to retries; sagewatch does not, so a policy's schedule is exactly what it says.

Only http/https subscriptions take custom policies (same page: "With the exception of HTTP/S,
you can't change Amazon SNS-defined delivery policies"): a topic's ``DeliveryPolicy`` under
``"http"`` (``defaultHealthyRetryPolicy``, ``disableSubscriptionOverrides``,
``defaultThrottlePolicy``, ``defaultRequestPolicy``), a subscription's at the top level
(``healthyRetryPolicy``, ``throttlePolicy``, ``requestPolicy``); the subscription's wins unless
the topic disables overrides. Email goes by AWS's fixed SMTP policy (``SMTP_RETRY_POLICY``).

``parse_topic_policy`` and ``parse_subscription_policy`` validate a policy as SetTopicAttributes
and SetSubscriptionAttributes must (``InvalidParameter``, "Invalid parameter: DeliveryPolicy: ...").
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import AWSError

# AWS's defaults and limits (sns-message-delivery-retries.html, "Creating an HTTP/S delivery
# policy": minDelayTarget 1 to maxDelayTarget, default 20; maxDelayTarget minDelayTarget to
# 3,600, default 20; numRetries 0 to 100, default 3; the three phase counts 0 or greater,
# default 0; backoffFunction default linear; maxReceivesPerSecond 1 or greater, no default).
DEFAULT_MIN_DELAY = 20
DEFAULT_MAX_DELAY = 20
DEFAULT_RETRIES = 3
MAX_DELAY_LIMIT = 3600
MAX_RETRIES = 100
# "The total policy retry time for an HTTP/S endpoint cannot be greater than 3,600 seconds. This
# is a hard limit and cannot be increased." (same page)
MAX_TOTAL_RETRY_SECONDS = 3600
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
# A request that gets no answer within 15 seconds is a failed try (DeliveryPolicies.md: "A request
# timeout (15 seconds)").
HTTP_TIMEOUT_SECONDS = 15.0
# requestPolicy.headerContentType: "text/plain | application/json | application/xml"
# (set-subscription-attributes-delivery-policy-json.html); AWS's default is the Content-Type of
# every delivery POST (sns-message-and-json-formats.html).
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A healthy retry policy, in AWS's terms."""

    min_delay: float = DEFAULT_MIN_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    retries: int = DEFAULT_RETRIES
    no_delay_retries: int = 0
    min_delay_retries: int = 0
    max_delay_retries: int = 0
    backoff: str = "linear"

    @property
    def backoff_retries(self) -> int:
        """How many retries the backoff phase has (AWS's formula: numRetries - numNoDelayRetries
        - numMinDelayRetries - numMaxDelayRetries)."""
        return max(0, self.retries - self.no_delay_retries - self.min_delay_retries - self.max_delay_retries)

    def delay_before(self, retry: int) -> float | None:
        """Seconds to wait, after the try before it failed, before retry number ``retry``
        (1-based); None when the policy has no such retry (give up)."""
        if retry < 1 or retry > self.retries:
            return None
        if retry <= self.no_delay_retries:
            return 0.0
        retry -= self.no_delay_retries
        if retry <= self.min_delay_retries:
            return float(self.min_delay)
        retry -= self.min_delay_retries
        backoff = self.backoff_retries
        if retry <= backoff:
            fraction = 0.0 if backoff == 1 else (retry - 1) / (backoff - 1)
            return BACKOFF_SHAPES[self.backoff](self.min_delay, self.max_delay, fraction, backoff)
        return float(self.max_delay)

    def schedule(self) -> list[float]:
        """Every retry's delay, in order."""
        return [self.delay_before(retry) for retry in range(1, self.retries + 1)]

    def to_json(self) -> dict:
        """AWS's member names and order (as GetTopicAttributes' EffectiveDeliveryPolicy writes
        them, captured from AWS in aws-solutions' stubs: minDelayTarget, maxDelayTarget,
        numRetries, numMaxDelayRetries, numNoDelayRetries, numMinDelayRetries, backoffFunction)."""
        return {
            "minDelayTarget": _number_out(self.min_delay), "maxDelayTarget": _number_out(self.max_delay),
            "numRetries": self.retries, "numMaxDelayRetries": self.max_delay_retries,
            "numNoDelayRetries": self.no_delay_retries, "numMinDelayRetries": self.min_delay_retries,
            "backoffFunction": self.backoff,
        }

    @classmethod
    def from_json(cls, document: Mapping) -> RetryPolicy:
        """A policy from AWS's members; absent (or null) ones take AWS's defaults."""
        def get(name, default):
            value = document.get(name)
            return default if value is None else value
        return cls(
            min_delay=get("minDelayTarget", DEFAULT_MIN_DELAY), max_delay=get("maxDelayTarget", DEFAULT_MAX_DELAY),
            retries=get("numRetries", DEFAULT_RETRIES), no_delay_retries=get("numNoDelayRetries", 0),
            min_delay_retries=get("numMinDelayRetries", 0), max_delay_retries=get("numMaxDelayRetries", 0),
            backoff=get("backoffFunction", "linear"),
        )


def _number_out(value: float):
    return int(value) if float(value).is_integer() else value


def _linear(low: float, high: float, fraction: float, _count: int) -> float:
    return low + (high - low) * fraction


def _arithmetic(low: float, high: float, fraction: float, _count: int) -> float:
    # Steps that grow by a constant amount (an arithmetic series of increments): quadratic.
    return low + (high - low) * fraction * fraction


def _geometric(low: float, high: float, fraction: float, _count: int) -> float:
    # Each delay a constant multiple of the one before.
    return low * (high / low) ** fraction


def _exponential(low: float, high: float, fraction: float, count: int) -> float:
    # The excess over the minimum doubles with each retry.
    steps = count - 1
    return low + (high - low) * (2 ** (steps * fraction) - 1) / (2 ** steps - 1)


# sagewatch's shapes for AWS's four backoff functions (see the module's doc). Each gives the
# delay at ``fraction`` (0: the backoff phase's first retry, 1: its last) of the way through.
BACKOFF_SHAPES = {"linear": _linear, "arithmetic": _arithmetic, "geometric": _geometric,
                  "exponential": _exponential}

DEFAULT_RETRY_POLICY = RetryPolicy()
# Email: AWS's policy for customer-managed endpoints (SMTP, SMS, mobile push), which cannot be
# changed (sns-message-delivery-retries.html, "Delivery protocols and policies": 0 immediate
# retries; 2 pre-backoff, 10 seconds apart; 10 backoff, exponential from 10 to 600 seconds; 38
# post-backoff, 600 seconds apart; 50 in all, over 6 hours).
SMTP_RETRY_POLICY = RetryPolicy(min_delay=10, max_delay=600, retries=50, no_delay_retries=0,
                                min_delay_retries=2, max_delay_retries=38, backoff="exponential")


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """What governs deliveries to one http/https subscription."""

    retry: RetryPolicy = DEFAULT_RETRY_POLICY
    content_type: str = DEFAULT_CONTENT_TYPE
    # Recorded and shown; sagewatch does not throttle deliveries (docs/notifications.md).
    max_receives_per_second: int | None = None


# -- reading and validating -----------------------------------------------------------------------

def invalid(detail: str) -> AWSError:
    """AWS's form for a bad policy: "Invalid parameter: DeliveryPolicy: <detail>" (recorded from
    AWS: "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be
    less than or equal to 100" and "Invalid parameter: DeliveryPolicy: Unexpected JSON member:
    throttlePolicy", in public test code run against AWS)."""
    return AWSError("InvalidParameter", f"Invalid parameter: DeliveryPolicy: {detail}")


_RETRY_MEMBERS = ("minDelayTarget", "maxDelayTarget", "numRetries", "numNoDelayRetries",
                  "numMinDelayRetries", "numMaxDelayRetries", "backoffFunction")
# Members AWS itself writes into a stored policy (GetSubscriptionAttributes returns e.g.
# {"healthyRetryPolicy":{...},"sicklyRetryPolicy":null,"throttlePolicy":null,"guaranteed":false},
# recorded in the Terraform AWS provider's tests): a policy read back and set again is accepted.
_SUBSCRIPTION_MEMBERS = ("healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy", "requestPolicy", "guaranteed")
_TOPIC_HTTP_MEMBERS = ("defaultHealthyRetryPolicy", "defaultSicklyRetryPolicy", "disableSubscriptionOverrides",
                       "defaultThrottlePolicy", "defaultRequestPolicy")


def _document(text: str) -> dict:
    try:
        document = json.loads(text)
    except (ValueError, TypeError):
        # sagewatch's wording, after AWS's for the other JSON attributes ("FilterPolicy: failed
        # to parse JSON.").
        raise invalid("failed to parse JSON.") from None
    if not isinstance(document, dict):
        raise invalid("failed to parse JSON.")
    return document


def _members(document: Mapping, allowed: tuple[str, ...]) -> None:
    for name in document:
        if name not in allowed:
            raise invalid(f"Unexpected JSON member: {name}")


def _object(value, where: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(f"{where} must be a JSON object")  # sagewatch's wording
    return value


def _integer(document: Mapping, name: str, where: str) -> None:
    value = document.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise invalid(f"{where}.{name} must be an integer")  # sagewatch's wording


def _retry_policy(document, where: str) -> RetryPolicy | None:
    document = _object(document, where)
    if document is None:
        return None
    _members(document, _RETRY_MEMBERS)
    for name in _RETRY_MEMBERS[:-1]:
        _integer(document, name, where)
    backoff = document.get("backoffFunction")
    if backoff is not None and backoff not in BACKOFF_FUNCTIONS:
        raise invalid(f"{where}.backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
    policy = RetryPolicy.from_json({k: (int(v) if isinstance(v, float) else v) for k, v in document.items()})
    # The checks and their words follow the recorded AWS message ("<path>.numRetries must be less
    # than or equal to 100"); the limits are the documented constraints.
    if policy.min_delay < 1:
        raise invalid(f"{where}.minDelayTarget must be greater than or equal to 1")
    if policy.max_delay > MAX_DELAY_LIMIT:
        raise invalid(f"{where}.maxDelayTarget must be less than or equal to {MAX_DELAY_LIMIT}")
    if policy.max_delay < policy.min_delay:
        raise invalid(f"{where}.maxDelayTarget must be greater than or equal to minDelayTarget")
    if policy.retries > MAX_RETRIES:
        raise invalid(f"{where}.numRetries must be less than or equal to {MAX_RETRIES}")
    for name, value in (("numRetries", policy.retries), ("numNoDelayRetries", policy.no_delay_retries),
                        ("numMinDelayRetries", policy.min_delay_retries),
                        ("numMaxDelayRetries", policy.max_delay_retries)):
        if value < 0:
            raise invalid(f"{where}.{name} must be greater than or equal to 0")
    if policy.no_delay_retries + policy.min_delay_retries + policy.max_delay_retries > policy.retries:
        raise invalid(f"{where}.numRetries must be greater than or equal to total of numMinDelayRetries, "
                      f"numNoDelayRetries and numMaxDelayRetries")
    total = sum(policy.schedule())
    if total > MAX_TOTAL_RETRY_SECONDS:
        # sagewatch's wording for the documented hard limit.
        raise invalid(f"{where}: the total retry time of {math.ceil(total)} seconds is greater than "
                      f"{MAX_TOTAL_RETRY_SECONDS} seconds")
    return policy


def _throttle(document, where: str) -> int | None:
    document = _object(document, where)
    if document is None:
        return None
    _members(document, ("maxReceivesPerSecond",))
    _integer(document, "maxReceivesPerSecond", where)
    rate = document.get("maxReceivesPerSecond")
    if rate is not None and rate < 1:
        raise invalid(f"{where}.maxReceivesPerSecond must be greater than or equal to 1")
    return None if rate is None else int(rate)


def _content_type(document, where: str) -> str | None:
    document = _object(document, where)
    if document is None:
        return None
    _members(document, ("headerContentType",))
    value = document.get("headerContentType")
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise invalid(f"{where}.headerContentType must be a content type")  # sagewatch's wording
    return value


@dataclass(frozen=True, slots=True)
class PolicyParts:
    """What a topic's or a subscription's policy sets (None: not set, the default applies)."""

    retry: RetryPolicy | None = None
    content_type: str | None = None
    max_receives_per_second: int | None = None
    disable_overrides: bool = False


def parse_topic_policy(text: str | None) -> PolicyParts:
    """A topic's DeliveryPolicy (``{"http": {...}}``), validated; empty text is no policy."""
    if not text:
        return PolicyParts()
    document = _document(text)
    _members(document, ("http",))
    http = _object(document.get("http"), "http")
    if http is None:
        return PolicyParts()
    _members(http, _TOPIC_HTTP_MEMBERS)
    disable = http.get("disableSubscriptionOverrides", False)
    if disable is None:
        disable = False
    if not isinstance(disable, bool):
        raise invalid("http.disableSubscriptionOverrides must be a boolean")  # sagewatch's wording
    _retry_policy(http.get("defaultSicklyRetryPolicy"), "http.defaultSicklyRetryPolicy")
    return PolicyParts(
        retry=_retry_policy(http.get("defaultHealthyRetryPolicy"), "http.defaultHealthyRetryPolicy"),
        content_type=_content_type(http.get("defaultRequestPolicy"), "http.defaultRequestPolicy"),
        max_receives_per_second=_throttle(http.get("defaultThrottlePolicy"), "http.defaultThrottlePolicy"),
        disable_overrides=disable,
    )


def parse_subscription_policy(text: str | None) -> PolicyParts:
    """A subscription's DeliveryPolicy (``{"healthyRetryPolicy": {...}, ...}``), validated."""
    if not text:
        return PolicyParts()
    document = _document(text)
    _members(document, _SUBSCRIPTION_MEMBERS)
    _retry_policy(document.get("sicklyRetryPolicy"), "sicklyRetryPolicy")
    return PolicyParts(
        retry=_retry_policy(document.get("healthyRetryPolicy"), "healthyRetryPolicy"),
        content_type=_content_type(document.get("requestPolicy"), "requestPolicy"),
        max_receives_per_second=_throttle(document.get("throttlePolicy"), "throttlePolicy"),
    )


def http_policy(topic_policy: str | None, subscription_policy: str | None) -> HttpPolicy:
    """The policy in force for an http/https subscription: each part from the subscription's
    policy, else the topic's, else AWS's default; the topic's alone when it disables
    subscription overrides ("Ignore subscription override", DeliveryPolicies.md)."""
    topic = parse_topic_policy(topic_policy)
    subscription = PolicyParts() if topic.disable_overrides else parse_subscription_policy(subscription_policy)
    return HttpPolicy(
        retry=subscription.retry or topic.retry or DEFAULT_RETRY_POLICY,
        content_type=subscription.content_type or topic.content_type or DEFAULT_CONTENT_TYPE,
        max_receives_per_second=subscription.max_receives_per_second or topic.max_receives_per_second,
    )


def topic_effective_policy(topic_policy: str | None) -> str:
    """GetTopicAttributes' ``EffectiveDeliveryPolicy``: AWS's as captured from a topic without a
    policy (aws-solutions stubs) ``{"http":{"defaultHealthyRetryPolicy":{...defaults},
    "disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain;
    charset=UTF-8"}}}``, with the topic's own settings in place of the defaults."""
    topic = parse_topic_policy(topic_policy)
    http = {
        "defaultHealthyRetryPolicy": (topic.retry or DEFAULT_RETRY_POLICY).to_json(),
        "disableSubscriptionOverrides": topic.disable_overrides,
    }
    if topic.max_receives_per_second is not None:
        http["defaultThrottlePolicy"] = {"maxReceivesPerSecond": topic.max_receives_per_second}
    http["defaultRequestPolicy"] = {"headerContentType": topic.content_type or DEFAULT_CONTENT_TYPE}
    return json.dumps({"http": http}, separators=(",", ":"))


def subscription_effective_policy(topic_policy: str | None, subscription_policy: str | None) -> str:
    """GetSubscriptionAttributes' ``EffectiveDeliveryPolicy`` of an http/https subscription, in
    the shape AWS gives a subscription's policy (``{"healthyRetryPolicy":{...},
    "sicklyRetryPolicy":null,"throttlePolicy":null,...,"guaranteed":false}``, recorded in the
    Terraform AWS provider's tests); the requestPolicy member's place is sagewatch's choice."""
    policy = http_policy(topic_policy, subscription_policy)
    throttle = None if policy.max_receives_per_second is None else {"maxReceivesPerSecond": policy.max_receives_per_second}
    return json.dumps({
        "healthyRetryPolicy": policy.retry.to_json(), "sicklyRetryPolicy": None, "throttlePolicy": throttle,
        "requestPolicy": {"headerContentType": policy.content_type}, "guaranteed": False,
    }, separators=(",", ":"))
