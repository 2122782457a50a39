"""What an http/https (and email-json) subscription receives: AWS's JSON bodies of the three
message types, signed, and the ``x-amz-sns-*`` headers of the POST; or, with
RawMessageDelivery, the bare message.

Sources: reference §9.2 (https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html,
http-header and body examples), sns-verify-signature-of-message.html (the signed fields), and
bodies captured from AWS in public code for the exact layout: AWS writes the JSON one field a
line, two spaces in, ``"Name" : value``, and each message attribute compactly on its own line::

    {
      "Type" : "Notification",
      ...
      "MessageAttributes" : {
        "eventType" : {"Type":"String","Value":"created"}
      }
    }

Pure: no I/O. Building a body needs the server's ``SigningIdentity`` and the URL at which its
certificate is served; the delivery worker (not here) decides when and where to POST.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from datetime import datetime, timezone

from .signing import DEFAULT_SIGNATURE_VERSION, SigningIdentity

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

# Headers of every POST (sns-message-and-json-formats.html, "HTTP/HTTPS headers").
CONTENT_TYPE = "text/plain; charset=UTF-8"
USER_AGENT = "Amazon Simple Notification Service Agent"

# The texts of the confirmation messages (same page, the example bodies).
SUBSCRIBE_TEXT = ("You have chosen to subscribe to the topic {topic_arn}.\n"
                  "To confirm the subscription, visit the SubscribeURL included in this message.")
UNSUBSCRIBE_TEXT = ("You have chosen to deactivate subscription {subscription_arn}.\n"
                    "To cancel this operation and restore the subscription, visit the SubscribeURL "
                    "included in this message.")


def utc_milliseconds(epoch_seconds: float, zone: str) -> str:
    """``2012-05-02T00:54:06.655`` followed by ``zone`` ("Z", "+0000"): UTC to the millisecond."""
    # Whole milliseconds first: a float such as 1335920046.655 is 1335920046.654999..., and
    # truncating its microseconds would write .654.
    milliseconds = round(epoch_seconds * 1000)
    moment = datetime.fromtimestamp(milliseconds // 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{milliseconds % 1000:03d}{zone}"


def sns_timestamp(epoch_seconds: float) -> str:
    """``Timestamp`` as SNS writes it: UTC, milliseconds, ``Z`` ("2012-05-02T00:54:06.655Z")."""
    return utc_milliseconds(epoch_seconds, "Z")


def confirm_subscription_url(endpoint: str, topic_arn: str, token: str) -> str:
    """``SubscribeURL``: a GET of it confirms, as AWS's
    ``https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription&TopicArn=...&Token=...``;
    ``endpoint`` is the server's public base URL. AWS leaves the ARN's colons unescaped in its
    examples; they are legal in a query, so only what must be is quoted."""
    return _action_url(endpoint, [("Action", "ConfirmSubscription"), ("TopicArn", topic_arn), ("Token", token)])


def unsubscribe_url(endpoint: str, subscription_arn: str) -> str:
    """``UnsubscribeURL`` of a Notification (AWS: ``...?Action=Unsubscribe&SubscriptionArn=...``)."""
    return _action_url(endpoint, [("Action", "Unsubscribe"), ("SubscriptionArn", subscription_arn)])


def _action_url(endpoint: str, query: list[tuple[str, str]]) -> str:
    base = endpoint if endpoint.endswith("/") else endpoint + "/"
    return base + "?" + urllib.parse.urlencode(query, safe=":/")


def subscription_confirmation(
    *, message_id: str, token: str, topic_arn: str, subscribe_url: str, timestamp: str,
    identity: SigningIdentity, signing_cert_url: str, signature_version: str = DEFAULT_SIGNATURE_VERSION,
) -> dict[str, str]:
    """The body POSTed on Subscribe to an http/https endpoint, fields in AWS's order."""
    body = {
        "Type": SUBSCRIPTION_CONFIRMATION,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": SUBSCRIBE_TEXT.format(topic_arn=topic_arn),
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
    }
    return _signed(body, identity, signing_cert_url, signature_version)


def unsubscribe_confirmation(
    *, message_id: str, token: str, topic_arn: str, subscription_arn: str, subscribe_url: str,
    timestamp: str, identity: SigningIdentity, signing_cert_url: str,
    signature_version: str = DEFAULT_SIGNATURE_VERSION,
) -> dict[str, str]:
    """The body POSTed when a subscription is deleted: the confirmation's shape, its own text,
    and a SubscribeURL that restores the subscription (reference §9.2)."""
    body = {
        "Type": UNSUBSCRIBE_CONFIRMATION,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": UNSUBSCRIBE_TEXT.format(subscription_arn=subscription_arn),
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
    }
    return _signed(body, identity, signing_cert_url, signature_version)


def notification(
    *, message_id: str, topic_arn: str, message: str, timestamp: str, unsubscribe_url: str,
    identity: SigningIdentity, signing_cert_url: str, subject: str | None = None,
    message_attributes: Mapping[str, Mapping] | None = None,
    signature_version: str = DEFAULT_SIGNATURE_VERSION,
) -> dict:
    """A published message as delivered (not raw): ``Subject`` only when the publisher gave one
    (AWS omits the key, and leaves it out of the signature), ``MessageAttributes`` last and only
    when there are some. ``message_attributes`` are Publish's, as the API takes them."""
    body: dict = {"Type": NOTIFICATION, "MessageId": message_id, "TopicArn": topic_arn}
    if subject:
        body["Subject"] = subject
    body["Message"] = message
    body["Timestamp"] = timestamp
    body = _signed(body, identity, signing_cert_url, signature_version)
    body["UnsubscribeURL"] = unsubscribe_url
    if message_attributes:
        body["MessageAttributes"] = delivered_attributes(message_attributes)
    return body


def delivered_attributes(message_attributes: Mapping[str, Mapping]) -> dict[str, dict[str, str]]:
    """Publish's ``{name: {DataType, StringValue | BinaryValue}}`` as the delivered JSON writes
    them: ``{name: {"Type": <DataType, custom suffix kept>, "Value": <text>}}``, binary values
    in base64 (captured AWS bodies show e.g. ``{"Type":"Number.java.lang.Long","Value":"1723202440316"}``)."""
    delivered = {}
    for name, attribute in message_attributes.items():
        if attribute.get("BinaryValue") is not None:
            value = attribute["BinaryValue"]
            text = base64.b64encode(value).decode("ascii") if isinstance(value, (bytes, bytearray)) else value
        else:
            text = attribute.get("StringValue", "")
        delivered[name] = {"Type": attribute["DataType"], "Value": text}
    return delivered


def _signed(body: dict, identity: SigningIdentity, signing_cert_url: str, signature_version: str) -> dict:
    body["SignatureVersion"] = signature_version
    body["Signature"] = identity.sign(body, signature_version)
    body["SigningCertURL"] = signing_cert_url
    return body


def encode_body(body: Mapping) -> bytes:
    """The POST body, in AWS's layout (see the module's doc). Characters are written as they are
    (UTF-8), not as ``\\u`` escapes; the Content-Type says UTF-8."""
    lines = []
    for name, value in body.items():
        if name == "MessageAttributes":
            attributes = ",\n".join(
                f"    {_json(attribute)} : {_json(dict(fields), compact=True)}" for attribute, fields in value.items())
            lines.append(f'  "MessageAttributes" : {{\n{attributes}\n  }}')
        else:
            lines.append(f"  {_json(name)} : {_json(value)}")
    return ("{\n" + ",\n".join(lines) + "\n}").encode("utf-8")


def _json(value, compact: bool = False) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":") if compact else None)


def http_headers(
    message_type: str, message_id: str, topic_arn: str, subscription_arn: str | None = None,
    *, raw: bool = False,
) -> dict[str, str]:
    """The headers of a delivery POST. ``x-amz-sns-subscription-arn`` is on Notifications and
    UnsubscribeConfirmations, not on a SubscriptionConfirmation (there is no subscription yet);
    a raw delivery adds ``x-amz-sns-rawdelivery: true`` (reference §9.2)."""
    headers = {
        "x-amz-sns-message-type": message_type,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": topic_arn,
    }
    if message_type != SUBSCRIPTION_CONFIRMATION and subscription_arn is not None:
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    headers["Content-Type"] = CONTENT_TYPE
    headers["User-Agent"] = USER_AGENT
    return headers


def raw_delivery(*, message_id: str, topic_arn: str, subscription_arn: str, message: str) -> tuple[dict[str, str], bytes]:
    """A Notification to a subscription with RawMessageDelivery=true: the headers, and the
    published message alone as the body (no envelope, no signature; reference §9.2, and
    sns-large-payload-raw-message-delivery.html: "raw → only the message"). Confirmations are
    never raw: they go out before the attribute can be set."""
    headers = http_headers(NOTIFICATION, message_id, topic_arn, subscription_arn, raw=True)
    return headers, message.encode("utf-8")
