"""SNS HTTP/S deliveries (services/sns/messages.py): AWS's bodies and headers, and their
signatures accepted by independent SNS message validators from PyPI once told to trust the
certificate URL, which a real local HTTP server serves (validators download SigningCertURL).

The validators, each used through its own public entry point:
  * aws-sns-message-validator (``SNSMessageValidator``): SignatureVersion 1 only (it verifies with
    SHA-1 whatever the version); trusted URLs are its ``cert_url_regex`` setting.
  * aws-sns-verifier (``validate_sns_signature``): SignatureVersion 1 and 2. It has no setting for
    trusted URLs: its module-level pattern is the one thing to tell it, so the test replaces that
    pattern. Its Notification model requires a Subject, so it cannot check a Notification
    without one; those are checked by the first validator (version 1) and, for version 2, by
    verifying with the served certificate directly.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aws_sns_verifier.validator as sns_verifier
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.x509 import load_pem_x509_certificate
from sns_message_validator import SNSMessageValidator
from sns_message_validator.exceptions import SignatureVerificationFailureException

from sagewatch.services.sns import messages
from sagewatch.services.sns.signing import SigningIdentity, string_to_sign

TOPIC_ARN = "arn:aws:sns:us-west-2:123456789012:MyTopic"
SUBSCRIPTION_ARN = TOPIC_ARN + ":c9135db0-26c4-47ec-8998-413945fb5a96"
ENDPOINT = "http://127.0.0.1:4566/"
ATTRIBUTES = {
    "eventType": {"DataType": "String", "StringValue": "created"},
    "count": {"DataType": "Number.java.lang.Long", "StringValue": "1723202440316"},
    "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
}
BLOB_BASE64 = base64.b64encode(b"\x00\x01binary").decode()


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return SigningIdentity(tmp_path_factory.mktemp("sns-signing"))


@pytest.fixture(scope="module")
def cert_url(identity):
    """A real HTTP server serving the certificate under its AWS-style name, as sagewatch will."""
    served_path = "/" + identity.certificate_file_name

    class CertificateHandler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            if self.path != served_path:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-x509-ca-cert")
            self.send_header("Content-Length", str(len(identity.certificate_pem)))
            self.end_headers()
            self.wfile.write(identity.certificate_pem)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), CertificateHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}{served_path}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def trust(cert_url, monkeypatch):
    """The two validators, each told to trust exactly our certificate URL."""
    pattern = "^" + re.escape(cert_url) + "$"
    monkeypatch.setattr(sns_verifier, "_DEFAULT_CERTIFICATE_URL_REGEX", pattern)

    def validate(delivered: bytes, *, version: str, subject: bool = True):
        body = json.loads(delivered)  # as an endpoint reads the POST
        if version == "1":
            SNSMessageValidator(cert_url_regex=pattern, signature_version="1").validate_message(body)
        if subject or body["Type"] != messages.NOTIFICATION:
            sns_verifier.validate_sns_signature(body, expected_topic_arn=TOPIC_ARN,
                                                auto_confirm_subscription=False)
        return body
    return validate


def _notification(identity, cert_url, version, *, subject="My First Message", attributes=None,
                  message="Hello world!"):
    return messages.notification(
        message_id="22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", topic_arn=TOPIC_ARN, message=message,
        timestamp=messages.sns_timestamp(1335920046.655), subject=subject,
        message_attributes=attributes, unsubscribe_url=messages.unsubscribe_url(ENDPOINT, SUBSCRIPTION_ARN),
        identity=identity, signing_cert_url=cert_url, signature_version=version)


def _confirmation(identity, cert_url, version, kind):
    common = dict(message_id="165545c9-2a5c-472c-8df2-7ff2be2b3b1b", token="2336412f37", topic_arn=TOPIC_ARN,
                  subscribe_url=messages.confirm_subscription_url(ENDPOINT, TOPIC_ARN, "2336412f37"),
                  timestamp=messages.sns_timestamp(1335472704.751), identity=identity,
                  signing_cert_url=cert_url, signature_version=version)
    if kind == messages.SUBSCRIPTION_CONFIRMATION:
        return messages.subscription_confirmation(**common)
    return messages.unsubscribe_confirmation(subscription_arn=SUBSCRIPTION_ARN, **common)


# -- validators accept them ----------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("attributes", [None, ATTRIBUTES], ids=["plain", "attributes"])
def test_notifications_with_a_subject_pass_the_validators(identity, cert_url, trust, version, attributes):
    body = _notification(identity, cert_url, version, attributes=attributes)
    received = trust(messages.encode_body(body), version=version)
    assert received["SignatureVersion"] == version
    assert ("MessageAttributes" in received) == bool(attributes)


@pytest.mark.parametrize("version", ["1", "2"])
def test_notifications_without_a_subject_are_signed_without_it(identity, cert_url, trust, version):
    body = _notification(identity, cert_url, version, subject=None, attributes=ATTRIBUTES)
    assert "Subject" not in body
    received = trust(messages.encode_body(body), version=version, subject=False)
    # Version 2 has no library above that takes a subject-less Notification: verify with the
    # certificate as served, by AWS's documented procedure.
    served = load_pem_x509_certificate(identity.certificate_pem)
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    served.public_key().verify(base64.b64decode(received["Signature"]),
                               string_to_sign(received).encode(), padding.PKCS1v15(), digest)


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("kind", [messages.SUBSCRIPTION_CONFIRMATION, messages.UNSUBSCRIBE_CONFIRMATION])
def test_confirmations_pass_the_validators(identity, cert_url, trust, version, kind):
    body = _confirmation(identity, cert_url, version, kind)
    assert trust(messages.encode_body(body), version=version)["Type"] == kind


def test_text_needing_escapes_and_non_ascii_survive_signing(identity, cert_url, trust):
    message = 'line one\nline "two"\t\\ tab — 도넛 ✓ {"json": [1, 2]}'
    for version in ("1", "2"):
        body = _notification(identity, cert_url, version, message=message, subject="Süß “quoted”")
        assert trust(messages.encode_body(body), version=version)["Message"] == message


@pytest.mark.parametrize("field, value", [
    ("Message", "Goodbye world!"), ("Subject", "Another subject"), ("TopicArn", TOPIC_ARN + "2"),
    ("Timestamp", "2012-05-02T00:54:07.655Z"), ("MessageId", "00000000-0000-0000-0000-000000000000"),
])
def test_a_tampered_notification_fails_validation(identity, cert_url, trust, field, value):
    for version in ("1", "2"):
        body = _notification(identity, cert_url, version)
        body[field] = value
        tampered = messages.encode_body(body)
        if version == "1":
            with pytest.raises(SignatureVerificationFailureException):
                trust(tampered, version="1")
        else:
            if field == "TopicArn":
                continue  # the verifier rejects the topic before the signature; covered by v1
            with pytest.raises(Exception, match="Invalid signature"):
                trust(tampered, version="2")


def test_a_tampered_confirmation_fails_validation(identity, cert_url, trust):
    body = _confirmation(identity, cert_url, "2", messages.SUBSCRIPTION_CONFIRMATION)
    body["SubscribeURL"] = "http://attacker.example/?Action=ConfirmSubscription"
    with pytest.raises(Exception, match="Invalid signature"):
        trust(messages.encode_body(body), version="2")


def test_a_signature_from_another_key_fails_validation(identity, cert_url, trust, tmp_path):
    body = _notification(SigningIdentity(tmp_path), cert_url, "1")
    with pytest.raises(SignatureVerificationFailureException):
        trust(messages.encode_body(body), version="1")


def test_an_untrusted_certificate_url_is_refused(identity, cert_url):
    # Not told to trust it: the validators' AWS-only defaults refuse the URL outright.
    body = json.loads(messages.encode_body(_notification(identity, cert_url, "1")))
    with pytest.raises(Exception, match="(?i)certificate url"):
        SNSMessageValidator().validate_message(body)


# -- the bodies as AWS writes them ----------------------------------------------------------------

def test_notification_fields_and_layout_are_awss(identity, cert_url):
    body = _notification(identity, cert_url, "1", attributes=ATTRIBUTES)
    assert list(body) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                          "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL",
                          "MessageAttributes"]
    text = messages.encode_body(body).decode()
    assert text == (
        "{\n"
        '  "Type" : "Notification",\n'
        '  "MessageId" : "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",\n'
        f'  "TopicArn" : "{TOPIC_ARN}",\n'
        '  "Subject" : "My First Message",\n'
        '  "Message" : "Hello world!",\n'
        '  "Timestamp" : "2012-05-02T00:54:06.655Z",\n'
        '  "SignatureVersion" : "1",\n'
        f'  "Signature" : "{body["Signature"]}",\n'
        f'  "SigningCertURL" : "{cert_url}",\n'
        '  "UnsubscribeURL" : "http://127.0.0.1:4566/?Action=Unsubscribe&SubscriptionArn='
        f'{SUBSCRIPTION_ARN}",\n'
        '  "MessageAttributes" : {\n'
        '    "eventType" : {"Type":"String","Value":"created"},\n'
        '    "count" : {"Type":"Number.java.lang.Long","Value":"1723202440316"},\n'
        f'    "blob" : {{"Type":"Binary","Value":"{BLOB_BASE64}"}}\n'
        "  }\n"
        "}"
    )


def test_confirmation_fields_are_awss(identity, cert_url):
    subscribe = _confirmation(identity, cert_url, "1", messages.SUBSCRIPTION_CONFIRMATION)
    assert list(subscribe) == ["Type", "MessageId", "Token", "TopicArn", "Message", "SubscribeURL",
                               "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"]
    assert subscribe["Message"] == (
        f"You have chosen to subscribe to the topic {TOPIC_ARN}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message.")
    assert subscribe["SubscribeURL"] == (
        f"http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=2336412f37")
    unsubscribe = _confirmation(identity, cert_url, "1", messages.UNSUBSCRIBE_CONFIRMATION)
    assert list(unsubscribe) == list(subscribe)
    assert unsubscribe["Message"] == (
        f"You have chosen to deactivate subscription {SUBSCRIPTION_ARN}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message.")


def test_timestamps_are_utc_milliseconds_with_z():
    assert messages.sns_timestamp(1335920046.655) == "2012-05-02T00:54:06.655Z"
    assert messages.sns_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert messages.sns_timestamp(1.9996) == "1970-01-01T00:00:02.000Z"


def test_urls_quote_what_a_query_needs():
    url = messages.confirm_subscription_url("http://h:1", TOPIC_ARN, "a+b/c=")
    assert url == f"http://h:1/?Action=ConfirmSubscription&TopicArn={TOPIC_ARN}&Token=a%2Bb/c%3D"


# -- headers and raw delivery --------------------------------------------------------------------

def test_headers_of_each_message_type():
    confirmation = messages.http_headers(messages.SUBSCRIPTION_CONFIRMATION, "m1", TOPIC_ARN, SUBSCRIPTION_ARN)
    assert confirmation == {
        "x-amz-sns-message-type": "SubscriptionConfirmation",
        "x-amz-sns-message-id": "m1",
        "x-amz-sns-topic-arn": TOPIC_ARN,
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
    }
    for kind in (messages.NOTIFICATION, messages.UNSUBSCRIBE_CONFIRMATION):
        headers = messages.http_headers(kind, "m2", TOPIC_ARN, SUBSCRIPTION_ARN)
        assert headers["x-amz-sns-message-type"] == kind
        assert headers["x-amz-sns-subscription-arn"] == SUBSCRIPTION_ARN
        assert "x-amz-sns-rawdelivery" not in headers


def test_raw_delivery_is_the_bare_message_with_the_raw_header():
    headers, body = messages.raw_delivery(message_id="m3", topic_arn=TOPIC_ARN,
                                          subscription_arn=SUBSCRIPTION_ARN, message='{"a": "ü"}')
    assert body == '{"a": "ü"}'.encode()
    assert headers["x-amz-sns-rawdelivery"] == "true"
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == SUBSCRIPTION_ARN
    assert headers["Content-Type"] == "text/plain; charset=UTF-8"
