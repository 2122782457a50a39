"""SNS deliveries, for real: signed HTTP/S POSTs to webhooks, and email through an SMTP server.

``SnsDelivery`` has two halves. The SNS service (B) calls the first when something is owed:

    delivery.confirmation(topic, subscription)           # Subscribe
    delivery.unsubscribe_confirmation(topic, subscription)  # Unsubscribe
    delivery.notifications(topic, subscriptions, message)   # Publish, to the chosen subscriptions

each giving ``NewDelivery`` items that the service queues durably (the outbox, store/outbox.py)
in the same transaction as the change. Each carries everything needed to send it later: the
exact body (signed once per publish: a Notification's signature covers no field that differs
between subscribers; only the unsigned UnsubscribeURL does), the headers, and the retry policy in
force when it was queued. The second half is the handlers the delivery queue
(services/delivery.py) runs on its workers: ``deliver_http`` ("sns.http") and ``deliver_email``
("sns.email").

HTTP/S (reference §9.2; https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html,
awsdocs ``DeliveryPolicies.md``): a 2xx answer is delivered. 4xx is a permanent failure ("Amazon
SNS considers HTTP status codes 400 to 499 to indicate permanent delivery failure"); so are 3xx
(sagewatch follows no redirect). 5xx, a connection error, a bad certificate or no answer within
15 seconds are retried per the subscription's delivery policy (else the topic's, else AWS's
default: 3 retries 20 seconds apart; delivery_policy.py), then given up. Connections are kept
alive and reused per endpoint, so a fan-out to many subscribers of one server does not pay a
connection (and a TLS handshake) per message. Certificates are verified against the system's
CAs; ``SSL_CERT_FILE`` names another bundle (docs/notifications.md). A URL's user:password is
sent as basic authentication, as AWS supports for HTTPS endpoints.

Email and email-json go through the SMTP server of ``[smtp]`` (config.py), by AWS's fixed SMTP
retry policy; with no SMTP server configured they fail at once, saying so.

A delivery for a subscription deleted since it was queued is dropped (reported delivered,
"unsubscribed"), except the UnsubscribeConfirmation, which is sent because it was deleted.

Delivery status logging: when a topic has ``HTTPSuccessFeedbackRoleArn`` /
``HTTPFailureFeedbackRoleArn`` set, the outcome of each http/https Notification is written to
CloudWatch Logs in AWS's record shape, to ``sns/<region>/<account>/<topic>`` (successes,
sampled at ``HTTPSuccessFeedbackSampleRate`` percent) and ``.../<topic>/Failure`` (given up).
sagewatch has no IAM: the role ARNs are switches, never assumed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import random
import smtplib
import socket
import ssl
import threading
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...clock import SYSTEM_CLOCK, Clock
from ...config import SmtpSettings
from ...store.outbox import Delivery, NewDelivery
from ..delivery import Delivered, Failed, Outcome, Retry
from . import emails, messages
from .delivery_policy import HTTP_TIMEOUT_SECONDS, SMTP_RETRY_POLICY, RetryPolicy, http_policy
from .signing import DEFAULT_SIGNATURE_VERSION, SigningIdentity

if TYPE_CHECKING:
    from ...store.sns import Subscription, Topic
    from ..logs.service import LogsService

log = logging.getLogger(__name__)

HTTP_KIND = "sns.http"
EMAIL_KIND = "sns.email"
HTTP_PROTOCOLS = ("http", "https")
EMAIL_PROTOCOLS = ("email", "email-json")
# How much of an endpoint's answer is kept (for the failure record and providerResponse).
MAX_RESPONSE_BYTES = 64 * 1024
SMTP_TIMEOUT_SECONDS = 30.0


@dataclass(slots=True)
class PublishedMessage:
    """A published message as the SNS service hands it over (contracts §3)."""

    message_id: str
    message: str  # for MessageStructure=json: the "default" text
    per_protocol: dict[str, str] = field(default_factory=dict)  # MessageStructure=json's other keys
    subject: str | None = None
    attributes: dict[str, dict] = field(default_factory=dict)  # MessageAttributes, as the API gives them
    timestamp: float = 0.0  # epoch seconds: the Notification's Timestamp

    def text_for(self, protocol: str) -> str:
        """The text a subscription of ``protocol`` gets: its own key of a MessageStructure=json
        message, else the default (reference §9.1)."""
        return self.per_protocol.get(protocol, self.message)


class SnsDelivery:
    """Builds SNS's deliveries and carries them out. ``attach`` the SNS service once it exists
    (it is built with this object): the handlers look up subscriptions and topics through it."""

    def __init__(self, identity: SigningIdentity, *, public_url: str, smtp: SmtpSettings, region: str,
                 account_id: str, clock: Clock = SYSTEM_CLOCK, logs: LogsService | None = None) -> None:
        self.identity = identity
        self.public_url = public_url.rstrip("/")
        self.smtp = smtp
        self.region = region
        self.account_id = account_id
        self.clock = clock
        self.logs = logs
        self.sns = None
        self.signing_cert_url = f"{self.public_url}/{identity.certificate_file_name}"
        self.http = HttpConnections()

    def attach(self, sns) -> None:
        """The SNS service: ``subscription(arn)`` and ``topic(arn)`` lookups (contracts §3)."""
        self.sns = sns

    def close(self) -> None:
        self.http.close()

    # -- what is owed ----------------------------------------------------------------------------

    def confirmation(self, topic: Topic, subscription: Subscription) -> list[NewDelivery]:
        """The SubscriptionConfirmation: POSTed to http/https, emailed to email and email-json."""
        token = subscription.token or ""
        if subscription.protocol in HTTP_PROTOCOLS:
            message_id = str(uuid.uuid4())
            body = messages.subscription_confirmation(
                message_id=message_id, token=token, topic_arn=topic.arn,
                subscribe_url=messages.confirm_subscription_url(self.public_url, topic.arn, token),
                timestamp=messages.sns_timestamp(self.clock.now()), identity=self.identity,
                signing_cert_url=self.signing_cert_url, signature_version=_signature_version(topic))
            headers = messages.http_headers(messages.SUBSCRIPTION_CONFIRMATION, message_id, topic.arn)
            return [self._http_delivery(topic, subscription, messages.SUBSCRIPTION_CONFIRMATION, message_id,
                                        headers, messages.encode_body(body))]
        if subscription.protocol == "email":
            email = emails.confirmation_email(base_url=self.public_url, topic_arn=topic.arn, token=token,
                                              endpoint=subscription.endpoint, display_name=_display_name(topic))
        else:  # email-json: the SubscriptionConfirmation document itself
            body = messages.subscription_confirmation(
                message_id=str(uuid.uuid4()), token=token, topic_arn=topic.arn,
                subscribe_url=messages.confirm_subscription_url(self.public_url, topic.arn, token),
                timestamp=messages.sns_timestamp(self.clock.now()), identity=self.identity,
                signing_cert_url=self.signing_cert_url, signature_version=_signature_version(topic))
            email = emails.json_email(endpoint=subscription.endpoint, subject=emails.CONFIRMATION_SUBJECT,
                                      document=messages.encode_body(body).decode("utf-8"),
                                      display_name=_display_name(topic))
        return [self._email_delivery(topic, subscription, messages.SUBSCRIPTION_CONFIRMATION, email)]

    def unsubscribe_confirmation(self, topic: Topic, subscription: Subscription) -> list[NewDelivery]:
        """The UnsubscribeConfirmation (its SubscribeURL, with ``subscription.token``, restores
        the subscription): POSTed to http/https; email subscriptions get the deactivation notice."""
        token = subscription.token
        if subscription.protocol in HTTP_PROTOCOLS:
            message_id = str(uuid.uuid4())
            body = messages.unsubscribe_confirmation(
                message_id=message_id, token=token or "", topic_arn=topic.arn, subscription_arn=subscription.arn,
                subscribe_url=messages.confirm_subscription_url(self.public_url, topic.arn, token or ""),
                timestamp=messages.sns_timestamp(self.clock.now()), identity=self.identity,
                signing_cert_url=self.signing_cert_url, signature_version=_signature_version(topic))
            headers = messages.http_headers(messages.UNSUBSCRIBE_CONFIRMATION, message_id, topic.arn, subscription.arn)
            return [self._http_delivery(topic, subscription, messages.UNSUBSCRIBE_CONFIRMATION, message_id,
                                        headers, messages.encode_body(body))]
        email = emails.unsubscribed_email(base_url=self.public_url, topic_arn=topic.arn, endpoint=subscription.endpoint,
                                          token=token, display_name=_display_name(topic))
        return [self._email_delivery(topic, subscription, messages.UNSUBSCRIBE_CONFIRMATION, email)]

    def notifications(self, topic: Topic, subscriptions: list[Subscription],
                      message: PublishedMessage) -> list[NewDelivery]:
        """One delivery per subscription (the service chose them: confirmed, FilterPolicy
        matched). Signed once per distinct text: subscribers of one protocol share a signature."""
        version = _signature_version(topic)
        timestamp = messages.sns_timestamp(message.timestamp)
        signed: dict[str, dict] = {}

        def document(text: str, subscription: Subscription) -> bytes:
            if text not in signed:
                signed[text] = messages.notification(
                    message_id=message.message_id, topic_arn=topic.arn, message=text, timestamp=timestamp,
                    unsubscribe_url="", identity=self.identity, signing_cert_url=self.signing_cert_url,
                    subject=message.subject, message_attributes=message.attributes, signature_version=version)
            body = dict(signed[text])
            body["UnsubscribeURL"] = messages.unsubscribe_url(self.public_url, subscription.arn)
            return messages.encode_body(body)

        deliveries = []
        for subscription in subscriptions:
            protocol = subscription.protocol
            text = message.text_for(protocol)
            if protocol in HTTP_PROTOCOLS:
                if subscription.attributes.get("RawMessageDelivery", "").lower() == "true":
                    headers, body = messages.raw_delivery(message_id=message.message_id, topic_arn=topic.arn,
                                                          subscription_arn=subscription.arn, message=text)
                else:
                    headers = messages.http_headers(messages.NOTIFICATION, message.message_id, topic.arn,
                                                    subscription.arn)
                    body = document(text, subscription)
                deliveries.append(self._http_delivery(topic, subscription, messages.NOTIFICATION, message.message_id,
                                                      headers, body, published=message.timestamp, text=text))
            elif protocol == "email":
                email = emails.notification_email(
                    base_url=self.public_url, subscription_arn=subscription.arn, endpoint=subscription.endpoint,
                    message=text, subject=message.subject, display_name=_display_name(topic))
                deliveries.append(self._email_delivery(topic, subscription, messages.NOTIFICATION, email,
                                                       message_id=message.message_id))
            elif protocol == "email-json":
                email = emails.json_email(
                    endpoint=subscription.endpoint, subject=message.subject or emails.DEFAULT_SUBJECT,
                    document=document(text, subscription).decode("utf-8"), display_name=_display_name(topic),
                    list_unsubscribe=emails.unsubscribe_link(self.public_url, subscription.arn, subscription.endpoint))
                deliveries.append(self._email_delivery(topic, subscription, messages.NOTIFICATION, email,
                                                       message_id=message.message_id))
        return deliveries

    def _http_delivery(self, topic: Topic, subscription: Subscription, message_type: str, message_id: str,
                       headers: dict[str, str], body: bytes, *, published: float | None = None,
                       text: str | None = None) -> NewDelivery:
        policy = http_policy(topic.attributes.get("DeliveryPolicy"), subscription.attributes.get("DeliveryPolicy"))
        headers = dict(headers)
        headers["Content-Type"] = policy.content_type
        payload = {
            "protocol": subscription.protocol, "endpoint": subscription.endpoint,
            "subscription_arn": subscription.arn, "topic_arn": topic.arn,
            "message_type": message_type, "message_id": message_id,
            "headers": headers, "body": body.decode("utf-8"),
            "policy": policy.retry.to_json(),
            "published": self.clock.now() if published is None else published,
            "delivery_id": str(uuid.uuid4()),
        }
        if text is not None:
            payload["md5"] = hashlib.md5(text.encode("utf-8")).hexdigest()
        return NewDelivery(HTTP_KIND, subscription.arn, payload)

    def _email_delivery(self, topic: Topic, subscription: Subscription, message_type: str, email: emails.Email,
                        *, message_id: str | None = None) -> NewDelivery:
        payload = {
            "protocol": subscription.protocol, "subscription_arn": subscription.arn, "topic_arn": topic.arn,
            "message_type": message_type, "message_id": message_id or str(uuid.uuid4()),
            "email": email.to_payload(), "policy": SMTP_RETRY_POLICY.to_json(),
        }
        return NewDelivery(EMAIL_KIND, subscription.arn, payload)

    # -- carrying it out -------------------------------------------------------------------------

    def deliver_http(self, delivery: Delivery) -> Outcome:
        """The "sns.http" handler: POST, then delivered, retried or given up (see the module's doc)."""
        payload = delivery.payload
        if self._unsubscribed(payload):
            return Delivered("unsubscribed")
        tries = delivery.attempts + 1
        try:
            status, answer = self.http.post(payload["endpoint"], payload["headers"], payload["body"].encode("utf-8"),
                                            timeout=HTTP_TIMEOUT_SECONDS)
        except socket.timeout:
            error, status, answer = f"no answer within {HTTP_TIMEOUT_SECONDS:g} seconds", None, None
        except ssl.SSLError as failure:
            error, status, answer = f"TLS error: {failure}", None, None
        except (OSError, http.client.HTTPException) as failure:
            error, status, answer = f"connection error: {failure or type(failure).__name__}", None, None
        else:
            if 200 <= status < 300:
                self._status_log(payload, success=True, tries=tries, status=status, answer=answer)
                return Delivered(str(status))
            error = f"HTTP {status} from the endpoint" + (f": {_excerpt(answer)}" if answer else "")
            if not (status >= 500 or status < 200):  # 3xx, 4xx: permanent
                self._status_log(payload, success=False, tries=tries, status=status, answer=answer or error)
                return Failed(error)
        delay = RetryPolicy.from_json(payload["policy"]).delay_before(tries)
        if delay is None:
            self._status_log(payload, success=False, tries=tries, status=status, answer=answer or error)
            return Failed(f"{error} (gave up after {tries} tries)")
        return Retry(error, delay)

    def deliver_email(self, delivery: Delivery) -> Outcome:
        """The "sns.email" handler: one SMTP transaction."""
        payload = delivery.payload
        if self._unsubscribed(payload):
            return Delivered("unsubscribed")
        if not self.smtp.configured:
            return Failed("email is not configured on this sagewatch server: set host in the [smtp] table of "
                          "the configuration file or SAGEWATCH_SMTP_HOST (docs/notifications.md)")
        message = emails.mime(emails.Email.from_payload(payload["email"]), self.smtp.sender)
        try:
            refused = send_mail(self.smtp, message)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError) as failure:
            if _permanent(failure):
                return Failed(f"the SMTP server refused the email: {_smtp_reason(failure)}")
            error = f"the SMTP server refused the email for now: {_smtp_reason(failure)}"
        except (OSError, smtplib.SMTPException) as failure:
            error = f"SMTP error: {failure or type(failure).__name__}"
        else:
            if refused:
                return Failed(f"the SMTP server refused the recipient: {refused}")
            return Delivered()
        tries = delivery.attempts + 1
        delay = RetryPolicy.from_json(payload["policy"]).delay_before(tries)
        if delay is None:
            return Failed(f"{error} (gave up after {tries} tries)")
        return Retry(error, delay)

    def _unsubscribed(self, payload: Mapping) -> bool:
        """Whether the subscription a delivery is for was deleted since it was queued. An
        UnsubscribeConfirmation is sent because it was."""
        if self.sns is None or payload["message_type"] == messages.UNSUBSCRIBE_CONFIRMATION:
            return False
        return self.sns.subscription(payload["subscription_arn"]) is None

    # -- delivery status logs --------------------------------------------------------------------

    def _status_log(self, payload: Mapping, *, success: bool, tries: int, status: int | None, answer) -> None:
        """Write AWS's delivery status record of an http/https Notification's outcome, when the
        topic asks for one. Never fails the delivery: a record that cannot be written is logged."""
        if self.logs is None or self.sns is None or payload["message_type"] != messages.NOTIFICATION:
            return
        try:
            topic = self.sns.topic(payload["topic_arn"])
            if topic is None:
                return
            attributes = topic.attributes
            group = f"sns/{self.region}/{self.account_id}/{topic.name}"
            if success:
                if not attributes.get("HTTPSuccessFeedbackRoleArn") or not _sampled(
                        attributes.get("HTTPSuccessFeedbackSampleRate")):
                    return
            else:
                if not attributes.get("HTTPFailureFeedbackRoleArn"):
                    return
                group += "/Failure"
            now_ms = self.clock.now_ms()
            record = status_record(payload, success=success, tries=tries, status=status, answer=answer, now_ms=now_ms)
            # One stream per subscription (sagewatch's naming: AWS names its streams by ids of its own).
            stream = payload["subscription_arn"].rsplit(":", 1)[-1]
            self.logs.append_events(group, stream, [(now_ms, json.dumps(record))])
        except Exception:
            log.exception("could not write the delivery status log of %s", payload.get("subscription_arn"))


def status_record(payload: Mapping, *, success: bool, tries: int, status: int | None, answer, now_ms: int) -> dict:
    """AWS's delivery status log record (as captured from an SNS HTTPS subscription's log:
    ``{"notification":{"messageMD5Sum","messageId","topicArn","timestamp":"2020-02-23
    15:52:51.904"},"delivery":{"deliveryId","destination","providerResponse","dwellTimeMs",
    "attempts","statusCode"},"status":"SUCCESS"}``); "FAILURE" records have the same shape,
    statusCode left out when no answer came."""
    published = payload["published"]
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    delivery: dict[str, Any] = {
        "deliveryId": payload["delivery_id"], "destination": payload["endpoint"],
        "providerResponse": _excerpt(answer) if answer else "",
        "dwellTimeMs": max(0, now_ms - round(published * 1000)), "attempts": tries,
    }
    if status is not None:
        delivery["statusCode"] = status
    return {
        "notification": {
            "messageMD5Sum": payload.get("md5", ""), "messageId": payload["message_id"],
            "topicArn": payload["topic_arn"], "timestamp": messages.utc_milliseconds(published, "").replace("T", " "),
        },
        "delivery": delivery,
        "status": "SUCCESS" if success else "FAILURE",
    }


def _sampled(rate: str | None) -> bool:
    """Whether this success is logged at ``HTTPSuccessFeedbackSampleRate`` percent. Unset: every
    success (sagewatch's choice: a success role set with no rate asks for the records)."""
    if rate in (None, ""):
        return True
    try:
        percent = float(rate)
    except ValueError:
        return True
    return random.uniform(0, 100) < percent


def _excerpt(answer, limit: int = 1024) -> str:
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    answer = answer.strip()
    return answer if len(answer) <= limit else answer[:limit] + "..."


def _signature_version(topic: Topic) -> str:
    return topic.attributes.get("SignatureVersion") or DEFAULT_SIGNATURE_VERSION


def _display_name(topic: Topic) -> str | None:
    return topic.attributes.get("DisplayName") or None


# -- HTTP ----------------------------------------------------------------------------------------

class HttpConnections:
    """Keep-alive connections, a few idle ones kept per endpoint (scheme, host, port) for the
    next POST. A kept connection the server has closed meanwhile fails on first use; the POST
    is then sent once more on a new connection (a request the server never read)."""

    def __init__(self, idle_per_endpoint: int = 64) -> None:
        self.idle_per_endpoint = idle_per_endpoint
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        # Certificates are verified against the system's CAs (OpenSSL also reads SSL_CERT_FILE
        # and SSL_CERT_DIR, which is how another bundle is trusted: docs/notifications.md).
        self._tls = ssl.create_default_context()

    def post(self, url: str, headers: Mapping[str, str], body: bytes, *, timeout: float) -> tuple[int, bytes]:
        """POST ``body``; (status, the start of the answer's body). Raises OSError (connection,
        TLS, timeout) or http.client.HTTPException (a malformed answer)."""
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in HTTP_PROTOCOLS or not parts.hostname:
            raise http.client.InvalidURL(f"not an http or https URL: {url}")
        port = parts.port or (443 if scheme == "https" else 80)
        key = (scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers)
        if parts.username is not None:
            credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode("utf-8")).decode("ascii")
        while True:
            connection, reused = self._take(key, timeout)
            try:
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read(MAX_RESPONSE_BYTES)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if reused:
                    continue  # a kept connection the server had closed: once more, on a new one
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close or not response.isclosed():  # closing, or an answer too long to read
                connection.close()
            else:
                self._give_back(key, connection)
            return response.status, answer

    def _take(self, key: tuple[str, str, int], timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(key)
            if idle:
                connection = idle.pop()
                connection.timeout = timeout
                if connection.sock is not None:
                    connection.sock.settimeout(timeout)
                return connection, True
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=self._tls), False
        return http.client.HTTPConnection(host, port, timeout=timeout), False

    def _give_back(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.idle_per_endpoint:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


# -- SMTP ----------------------------------------------------------------------------------------

def send_mail(smtp: SmtpSettings, message) -> dict:
    """Send ``message`` through the configured server: implicit TLS, STARTTLS or plain, logging
    in when a username is set. The recipients the server refused (smtplib's answer)."""
    context = ssl.create_default_context(cafile=smtp.ca_file)
    port = smtp.effective_port
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(smtp.host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        return client.send_message(message)


def _permanent(failure: smtplib.SMTPException) -> bool:
    """SMTP's 5xx replies are permanent (RFC 5321 §4.2.1), 4xx transient."""
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in failure.recipients.values()]
    elif isinstance(failure, smtplib.SMTPNotSupportedError):
        return True  # the server lacks what the settings ask for (STARTTLS, AUTH)
    else:
        codes = [getattr(failure, "smtp_code", 500)]
    return all(code >= 500 for code in codes)


def _smtp_reason(failure: smtplib.SMTPException) -> str:
    if isinstance(failure, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{address}: {code} {reason.decode('utf-8', 'replace') if isinstance(reason, bytes) else reason}"
                         for address, (code, reason) in failure.recipients.items())
    code = getattr(failure, "smtp_code", None)
    reason = getattr(failure, "smtp_error", None)
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return f"{code} {reason}" if code is not None else str(failure)

