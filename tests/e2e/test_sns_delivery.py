"""SNS delivered for real: a sagewatch server process POSTs signed messages to real HTTP and
HTTPS listeners started here and sends email to a real SMTP server (aiosmtpd) started here.

Endpoints confirm as their owners do: a webhook GETs the SubscribeURL of the
SubscriptionConfirmation it received; a person opens the link in the confirmation email. Every
signed message is checked by the two SNS message validators from PyPI, told to trust the
server's SigningCertURL. Nothing asserts how long anything took: waits are for arrivals.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from sagewatch.clock import FakeClock
from sagewatch.services.sns.delivery import EMAIL_KIND

from ..inprocess import InProcessSagewatch
from ..server import ServerProcess, free_port, make_client
from .sns_endpoints import (
    Mailbox,
    first_link,
    notification_with,
    of_type,
    plain_text,
    self_signed,
    server_tls,
    validate,
    webhook,
)

ACCOUNT, REGION = "000000000000", "us-east-1"
# A short policy, so that retries come within the test: AWS's minimum delay is 1 second
# (sns-message-delivery-retries.html: minDelayTarget "1 to maximum delay").
QUICK_RETRIES = json.dumps({"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 3}})


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, mailbox, tls_files):
    """A sagewatch whose email goes to the test's SMTP server, and which trusts the test's
    self-signed HTTPS listener through SSL_CERT_FILE (docs/notifications.md)."""
    certificate, _ = tls_files
    process = ServerProcess(tmp_path_factory.mktemp("sns-delivery") / "data", env={
        "SAGEWATCH_SMTP_HOST": "127.0.0.1", "SAGEWATCH_SMTP_PORT": str(mailbox.port),
        "SAGEWATCH_SMTP_SECURITY": "none", "SAGEWATCH_SMTP_SENDER": "Alerts <alerts@sagewatch.test>",
        "SSL_CERT_FILE": str(certificate),
    }).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sns(server):
    return make_client("sns", server.endpoint)


def subscribe_webhook(sns, topic: str, hook, **attributes) -> str:
    """Subscribe ``hook``; it confirms by GETting the SubscribeURL. The subscription's ARN."""
    answer = sns.subscribe(TopicArn=topic, Protocol=hook.scheme, Endpoint=hook.url, Attributes=attributes)
    assert answer["SubscriptionArn"] == "pending confirmation"
    hook.wait_for(of_type("SubscriptionConfirmation"))
    confirmed = re.search(r"<SubscriptionArn>([^<]+)</SubscriptionArn>", hook.confirmations[-1]).group(1)
    assert confirmed.startswith(topic + ":")
    return confirmed


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_webhook_confirms_receives_signed_notifications_and_unsubscribes(sns, server, unique, version):
    topic = sns.create_topic(Name=f"signed-{version}-{unique}", Attributes={"SignatureVersion": version})["TopicArn"]
    with webhook() as hook, webhook() as sentinel:
        subscription = subscribe_webhook(sns, topic, hook)
        subscribe_webhook(sns, topic, sentinel)

        # The SubscriptionConfirmation: AWS's headers and body, signed, its SubscribeURL ours.
        headers, raw = hook.received("SubscriptionConfirmation")[0]
        confirmation = json.loads(raw)
        cert_url = confirmation["SigningCertURL"]
        assert cert_url.startswith(server.endpoint + "/SimpleNotificationService-") and cert_url.endswith(".pem")
        validate(confirmation, cert_url, topic)
        assert confirmation["SignatureVersion"] == version
        assert headers["x-amz-sns-topic-arn"] == topic and "x-amz-sns-subscription-arn" not in headers
        assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
        assert headers["content-type"] == "text/plain; charset=UTF-8"
        assert confirmation["SubscribeURL"].startswith(f"{server.endpoint}/?Action=ConfirmSubscription&TopicArn={topic}&Token=")
        assert "<ConfirmSubscriptionResponse" in hook.confirmations[0]
        listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert subscription in [s["SubscriptionArn"] for s in listed]

        # A Notification, with a subject and message attributes.
        published = sns.publish(TopicArn=topic, Message="loss is rising", Subject="Training alert",
                                MessageAttributes={"job": {"DataType": "String", "StringValue": "resnet-7"},
                                                   "epoch": {"DataType": "Number", "StringValue": "12"}})
        headers, raw = hook.wait_for(notification_with("loss is rising"))
        notification = json.loads(raw)
        validate(notification, cert_url, topic)
        assert notification["MessageId"] == published["MessageId"] == headers["x-amz-sns-message-id"]
        assert notification["Subject"] == "Training alert"
        assert notification["MessageAttributes"] == {"job": {"Type": "String", "Value": "resnet-7"},
                                                     "epoch": {"Type": "Number", "Value": "12"}}
        assert headers["x-amz-sns-subscription-arn"] == subscription
        assert notification["UnsubscribeURL"] == f"{server.endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription}"

        # Without a subject (signed without it).
        sns.publish(TopicArn=topic, Message="no subject here")
        _, raw = hook.wait_for(notification_with("no subject here"))
        validate(json.loads(raw), cert_url, topic)
        assert "Subject" not in json.loads(raw)

        # The UnsubscribeURL, opened: AWS's XML answer, then a signed UnsubscribeConfirmation.
        with urllib.request.urlopen(notification["UnsubscribeURL"], timeout=10) as answer:
            assert answer.status == 200 and "<UnsubscribeResponse" in answer.read().decode()
        _, raw = hook.wait_for(of_type("UnsubscribeConfirmation"))
        goodbye = json.loads(raw)
        validate(goodbye, cert_url, topic)
        assert goodbye["Message"].startswith(f"You have chosen to deactivate subscription {subscription}.")

        # Nothing more to it; the sentinel shows later messages were delivered meanwhile.
        sns.publish(TopicArn=topic, Message="after unsubscribing")
        sentinel.wait_for(notification_with("after unsubscribing"))
        assert not [b for h, b in hook.received("Notification") if json.loads(b)["Message"] == "after unsubscribing"]


def test_a_subscription_confirmed_with_authenticate_on_unsubscribe_keeps_its_unsubscribe_url_shut(sns, unique):
    topic = sns.create_topic(Name=f"guarded-{unique}")["TopicArn"]
    with webhook(confirm=False) as hook:
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
        _, raw = hook.wait_for(of_type("SubscriptionConfirmation"))
        subscription = sns.confirm_subscription(TopicArn=topic, Token=json.loads(raw)["Token"],
                                                AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
        sns.publish(TopicArn=topic, Message="guarded")
        _, raw = hook.wait_for(notification_with("guarded"))
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(json.loads(raw)["UnsubscribeURL"], timeout=10)
        assert raised.value.code == 403 and "<Code>AuthorizationError</Code>" in raised.value.read().decode()
        assert subscription in [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
        sns.unsubscribe(SubscriptionArn=subscription)  # a signed call may
        assert not sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]


def test_a_subscribe_url_with_a_wrong_token_is_an_error_in_awss_shape(sns, server, unique):
    topic = sns.create_topic(Name=f"wrong-token-{unique}")["TopicArn"]
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{server.endpoint}/?Action=ConfirmSubscription&TopicArn={topic}&Token=00ff", timeout=10)
    body = raised.value.read().decode()
    assert 400 <= raised.value.code < 500 and body.startswith("<ErrorResponse") and "<Code>" in body
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{server.endpoint}/?Action=ConfirmSubscription&TopicArn={topic}", timeout=10)
    assert raised.value.code == 400 and "<Code>ValidationError</Code>" in raised.value.read().decode()


def test_raw_delivery_sends_the_bare_message(sns, unique):
    topic = sns.create_topic(Name=f"raw-{unique}")["TopicArn"]
    with webhook() as hook:
        subscribe_webhook(sns, topic, hook, RawMessageDelivery="true")
        sns.publish(TopicArn=topic, Message='{"loss": 3.5}', Subject="ignored when raw")
        headers, body = hook.wait_for(notification_with('{"loss": 3.5}'))
        assert body == b'{"loss": 3.5}'
        assert headers["x-amz-sns-rawdelivery"] == "true"
        assert headers["x-amz-sns-message-type"] == "Notification"


def test_a_filter_policy_chooses_what_a_subscriber_gets(sns, unique):
    topic = sns.create_topic(Name=f"filtered-{unique}")["TopicArn"]
    with webhook() as hook:
        subscribe_webhook(sns, topic, hook, FilterPolicy=json.dumps({"severity": ["critical"]}))
        sns.publish(TopicArn=topic, Message="just info",
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": "info"}})
        sns.publish(TopicArn=topic, Message="the loss diverged",
                    MessageAttributes={"severity": {"DataType": "String", "StringValue": "critical"}})
        hook.wait_for(notification_with("the loss diverged"))
        # Filtered at publish: the first was never queued for this subscriber.
        assert [json.loads(b)["Message"] for _, b in hook.received("Notification")] == ["the loss diverged"]


def test_message_structure_json_gives_each_protocol_its_text(sns, mailbox, unique):
    topic = sns.create_topic(Name=f"structured-{unique}")["TopicArn"]
    address = f"structured-{unique}@example.com"
    with webhook() as hook:
        subscribe_webhook(sns, topic, hook)
        confirm_email(sns, mailbox, topic, address)
        sns.publish(TopicArn=topic, MessageStructure="json", Subject="structured",
                    Message=json.dumps({"default": "for everyone", "http": "for webhooks", "email": "for people"}))
        hook.wait_for(notification_with("for webhooks"))
        received = mailbox.wait_for(lambda m: m["To"] == address and m["Subject"] == "structured")
        assert plain_text(received).startswith("for people\n\n--\n")


def test_retries_follow_the_subscriptions_delivery_policy(sns, unique):
    topic = sns.create_topic(Name=f"retried-{unique}")["TopicArn"]
    with webhook() as hook:
        subscribe_webhook(sns, topic, hook, DeliveryPolicy=QUICK_RETRIES)
        hook.answers.extend([500, 500])  # the next two POSTs fail, the third succeeds
        published = sns.publish(TopicArn=topic, Message="try, try again")["MessageId"]
        tries = hook.wait_count(notification_with("try, try again"), 3)
        assert {json.loads(body)["MessageId"] for _, body in tries} == {published}
        # Delivered on the third try: no fourth. A later message goes out once, so it shows
        # everything before it has been carried out.
        sns.publish(TopicArn=topic, Message="after the retries")
        hook.wait_for(notification_with("after the retries"))
        assert len([1 for h, b in hook.received("Notification") if json.loads(b)["Message"] == "try, try again"]) == 3


def test_a_4xx_is_not_retried_and_delivery_status_logs_record_both_outcomes(sns, server, unique):
    logs = make_client("logs", server.endpoint)
    name = f"logged-{unique}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    role = f"arn:aws:iam::{ACCOUNT}:role/SNSFeedback"
    for attribute in ("HTTPSuccessFeedbackRoleArn", "HTTPFailureFeedbackRoleArn"):
        sns.set_topic_attributes(TopicArn=topic, AttributeName=attribute, AttributeValue=role)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="HTTPSuccessFeedbackSampleRate", AttributeValue="100")
    with webhook() as hook:
        subscription = subscribe_webhook(sns, topic, hook, DeliveryPolicy=QUICK_RETRIES)
        delivered = sns.publish(TopicArn=topic, Message="delivered")["MessageId"]
        hook.wait_for(notification_with("delivered"))
        hook.answers.append(404)
        refused = sns.publish(TopicArn=topic, Message="refused")["MessageId"]
        hook.wait_for(notification_with("refused"))

        success = wait_for_log(logs, f"sns/{REGION}/{ACCOUNT}/{name}", delivered)
        failure = wait_for_log(logs, f"sns/{REGION}/{ACCOUNT}/{name}/Failure", refused)
    assert success["status"] == "SUCCESS" and failure["status"] == "FAILURE"
    assert success["delivery"]["statusCode"] == 200 and failure["delivery"]["statusCode"] == 404
    assert failure["delivery"]["attempts"] == 1  # a 4xx is a permanent failure: no retry
    assert failure["notification"]["messageId"] == refused and failure["notification"]["topicArn"] == topic
    assert success["delivery"]["destination"] == hook.url
    assert set(success["delivery"]) >= {"deliveryId", "destination", "providerResponse", "dwellTimeMs", "attempts"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", success["notification"]["timestamp"])
    assert len([1 for h, b in hook.received("Notification") if json.loads(b)["Message"] == "refused"]) == 1
    assert subscription


def wait_for_log(logs, group: str, contains: str) -> dict:
    """The first delivery status record in ``group`` whose text contains ``contains`` (a
    message id: records name a message by its id)."""
    found = []

    def look():
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return False
        found[:] = [json.loads(e["message"]) for e in events if contains in e["message"]]
        return bool(found)

    pause = threading.Event()
    for _ in range(300):
        if look():
            return found[0]
        pause.wait(0.2)
    raise AssertionError(f"no record containing {contains!r} in {group}")


def test_https_endpoints_are_verified_and_a_trusted_ca_is_accepted(sns, unique, tls_files):
    topic = sns.create_topic(Name=f"https-{unique}")["TopicArn"]
    with webhook(tls=server_tls(*tls_files)) as hook:
        subscription = subscribe_webhook(sns, topic, hook)
        sns.publish(TopicArn=topic, Message="over TLS", Subject="tls")
        _, raw = hook.wait_for(notification_with("over TLS"))
        assert json.loads(raw)["UnsubscribeURL"].endswith(subscription)


# -- email ---------------------------------------------------------------------------------------

def confirm_email(sns, mailbox, topic: str, address: str, protocol: str = "email") -> str:
    """Subscribe ``address`` and open the link of the confirmation email; the subscription ARN."""
    sns.subscribe(TopicArn=topic, Protocol=protocol, Endpoint=address)
    confirmation = mailbox.wait_for(lambda m: m["To"] == address and "Subscription Confirmation" in m["Subject"])
    if protocol == "email":
        link = first_link(plain_text(confirmation))
    else:
        link = json.loads(plain_text(confirmation))["SubscribeURL"]
    with urllib.request.urlopen(link, timeout=10) as page:
        text = page.read().decode()
    arn = re.search(re.escape(topic) + r":[0-9a-f-]+", text).group(0)
    return arn


def test_email_is_confirmed_by_its_link_notified_and_unsubscribed_by_its_footer(sns, mailbox, server, unique):
    name = f"emailed-{unique}"
    topic = sns.create_topic(Name=name, Attributes={"DisplayName": "ML team"})["TopicArn"]
    address = f"person-{unique}@example.com"
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    confirmation = mailbox.wait_for(lambda m: m["To"] == address)
    assert confirmation["Subject"] == "AWS Notification - Subscription Confirmation"
    assert confirmation["From"] == "ML team <alerts@sagewatch.test>"  # the topic's DisplayName
    text = plain_text(confirmation)
    assert text.startswith(f"You have chosen to subscribe to the topic:\n{topic}\n\n"
                           f"To confirm this subscription, click or visit the link below")
    link = first_link(text)
    assert link.startswith(f"{server.endpoint}/confirmation.html?TopicArn={topic}&Token=")
    assert link.endswith(f"&Endpoint={address}")
    assert "Confirm subscription</a>" in confirmation.get_body(("html",)).get_content()
    # A link checker's HEAD confirms nothing.
    urllib.request.urlopen(urllib.request.Request(link, method="HEAD"), timeout=10).close()
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        "PendingConfirmation"]
    with urllib.request.urlopen(link, timeout=10) as page:
        shown = page.read().decode()
    assert "Subscription confirmed!" in shown and f"You have subscribed {address} to the topic:" in shown
    subscription = re.search(re.escape(topic) + r":[0-9a-f-]+", shown).group(0)
    assert subscription in [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]

    sns.publish(TopicArn=topic, Message="The validation loss is 4.2", Subject="Loss alarm")
    sns.publish(TopicArn=topic, Message="no subject")
    notified = mailbox.wait_for(lambda m: m["To"] == address and m["Subject"] == "Loss alarm")
    plain = mailbox.wait_for(lambda m: m["To"] == address and m["Subject"] == "AWS Notification Message")
    assert plain_text(plain).startswith("no subject\n\n--\n")
    body = plain_text(notified)
    leave = f"{server.endpoint}/unsubscribe.html?SubscriptionArn={subscription}&Endpoint={address}"
    assert body.startswith(
        "The validation loss is 4.2\n\n--\nIf you wish to stop receiving notifications from this topic, "
        "please click or visit the link below to unsubscribe:\n" + leave + "\n\nPlease do not reply directly to this email.")
    assert notified["List-Unsubscribe"] == f"<{leave}>"

    with urllib.request.urlopen(leave, timeout=10) as page:
        shown = page.read().decode()
    assert "Subscription removed!" in shown and address in shown
    notice = mailbox.wait_for(lambda m: m["To"] == address and m["Subject"] == "AWS Notification - Unsubscribe Confirmation")
    assert plain_text(notice).startswith(f"Your subscription to the topic below has been deactivated:\n{topic}\n")
    assert subscription not in [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]


def test_email_json_gets_the_signed_json_document(sns, mailbox, unique):
    topic = sns.create_topic(Name=f"email-json-{unique}")["TopicArn"]
    address = f"machine-{unique}@example.com"
    subscription = confirm_email(sns, mailbox, topic, address, protocol="email-json")
    sns.publish(TopicArn=topic, Message="as JSON", Subject="json mail")
    received = mailbox.wait_for(lambda m: m["To"] == address and m["Subject"] == "json mail")
    document = json.loads(plain_text(received))
    assert document["Type"] == "Notification" and document["Message"] == "as JSON"
    assert document["UnsubscribeURL"].endswith(subscription)
    validate(document, document["SigningCertURL"], topic)


def test_email_over_starttls_with_a_login(tmp_path, unique, tls_files):
    """A mail server that requires STARTTLS and a login, as a real submission port does."""
    certificate, key = tls_files
    box = Mailbox()
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"alerts" and auth_data.password == b"s3cret")

    controller = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=server_tls(certificate, key),
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    process = ServerProcess(tmp_path / "data", env={
        "SAGEWATCH_SMTP_HOST": "127.0.0.1", "SAGEWATCH_SMTP_PORT": str(controller.port),
        "SAGEWATCH_SMTP_SECURITY": "starttls", "SAGEWATCH_SMTP_USERNAME": "alerts",
        "SAGEWATCH_SMTP_PASSWORD": "s3cret", "SAGEWATCH_SMTP_CA_FILE": str(certificate),
    }).start()
    try:
        sns = make_client("sns", process.endpoint)
        topic = sns.create_topic(Name=f"starttls-{unique}")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="secure@example.com")
        received = box.wait_for(lambda m: m["To"] == "secure@example.com")
        assert received["Subject"] == "AWS Notification - Subscription Confirmation"
        assert logins == [(b"alerts", b"s3cret")]
    finally:
        process.stop()
        controller.stop()


def test_without_an_smtp_server_email_fails_saying_why():
    """The failure is kept in the outbox's failure records (what the console and delivery
    reports read), with a reason that says what to configure."""
    with InProcessSagewatch(clock=FakeClock(1_700_000_000.0)) as app:
        sns = app.client("sns")
        topic = sns.create_topic(Name="unmailed")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="nobody@example.com")
        app.settle()
        failures = app.system.delivery_queue.store.failures()
        assert [f.kind for f in failures] == [EMAIL_KIND]
        assert "email is not configured" in failures[0].error and "SAGEWATCH_SMTP_HOST" in failures[0].error


def test_the_signing_certificate_is_served_under_its_fingerprint(server):
    pem = (server.data_dir / "sns-signing.pem").read_bytes()
    certificate = pem[pem.index(b"-----BEGIN CERTIFICATE-----"):]
    fingerprint = x509.load_pem_x509_certificate(certificate).fingerprint(hashes.SHA256()).hex()[:32]
    with urllib.request.urlopen(f"{server.endpoint}/SimpleNotificationService-{fingerprint}.pem", timeout=10) as answer:
        assert answer.read() == certificate
