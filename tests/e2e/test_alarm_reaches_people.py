"""Step 5's promise end to end: an alarm that people hear and that acts.

A training job (Step 4) prints a rising validation loss. Its MetricDefinitions turn the lines
into the metric ``validation:loss``; an alarm on it fires. Through SNS, a real SMTP server
started here (aiosmtpd) receives AWS's plain-text alarm email, and a real HTTP listener receives
the signed SNS notification and verifies it with two SNS message validators from PyPI. Through
EventBridge, a rule on the alarm's state change stops the job and starts a fallback job, with
no code of the user's (the sagewatch extension targets, docs/events.md).

Everything is real: the server process, the job's process and agent, SMTP, HTTP, signatures.
Subscriptions are confirmed the way people confirm them: the email's link is opened, and the
listener GETs the SubscribeURL of the SubscriptionConfirmation it received.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aws_sns_verifier.validator as sns_verifier
import pytest
from aiosmtpd.controller import Controller
from sns_message_validator import SNSMessageValidator

from ..server import ServerProcess, free_port, make_client
from .jobs import training_request, wait_for, wait_training

REGION_NAME = "US East (N. Virginia)"  # us-east-1's long name, as AWS's alarm subjects spell it


class Mailbox:
    """What a real SMTP server (aiosmtpd) received, as parsed email messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout: float = 60.0) -> email.message.EmailMessage:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next((m for m in self.messages if predicate(m)), None), timeout)
        assert found is not None, f"no such email; received: {[m['Subject'] for m in self.messages]}"
        return found


class Webhook:
    """A real HTTP listener subscribed to the topic: it confirms its subscription by GETting the
    SubscribeURL, as an SNS endpoint does, and keeps every POST (headers, parsed body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict, dict]] = []
        self.arrived = threading.Condition()
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(200)
                self.end_headers()
                if body.get("Type") == "SubscriptionConfirmation":
                    urllib.request.urlopen(body["SubscribeURL"], timeout=10).read()
                with webhook.arrived:
                    webhook.posts.append((dict(self.headers), body))
                    webhook.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alarms"

    def wait_for(self, predicate, timeout: float = 60.0) -> tuple[dict, dict]:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next((p for p in self.posts if predicate(p)), None), timeout)
        assert found is not None, f"no such POST; received: {[b.get('Type') for _, b in self.posts]}"
        return found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def mailing_server(tmp_path, mailbox):
    """A sagewatch server whose email goes to the test's SMTP server (docs/notifications.md)."""
    _, smtp_port = mailbox
    process = ServerProcess(tmp_path / "data", env={
        "SAGEWATCH_SMTP_HOST": "127.0.0.1", "SAGEWATCH_SMTP_PORT": str(smtp_port),
        "SAGEWATCH_SMTP_SECURITY": "none",
    }).start()
    yield process
    process.stop()


RISING_LOSS = """\
import time
# The validation loss rises: the model is diverging. It would go on for minutes.
for epoch in range(600):
    print(f"epoch {epoch} validation loss: {0.1 * (epoch + 1):.3f}", flush=True)
    time.sleep(0.2)
"""

FALLBACK = """\
print("fallback training: a smaller learning rate", flush=True)
print("validation loss: 0.05", flush=True)
"""


def test_a_diverging_job_emails_people_calls_the_webhook_is_stopped_and_replaced(
        tmp_path, mailbox, webhook, mailing_server, unique):
    box, _ = mailbox
    endpoint = mailing_server.endpoint
    sns, cloudwatch, events, sagemaker = (make_client(s, endpoint)
                                          for s in ("sns", "cloudwatch", "events", "sagemaker"))

    # People: an email address and a webhook, both confirmed as their owners would.
    topic = sns.create_topic(Name=f"training-alarms-{unique}")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ml-team@example.com")
    confirmation = box.wait_for(lambda m: "Subscription Confirmation" in m["Subject"])
    link = re.search(r"https?://\S+", confirmation.get_body(("plain",)).get_content()).group(0)
    urllib.request.urlopen(link, timeout=10).read()
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=webhook.url)
    webhook.wait_for(lambda p: p[1]["Type"] == "SubscriptionConfirmation")
    wait_for(lambda: sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"],
             lambda subs: len(subs) == 2 and all(s["SubscriptionArn"].startswith(topic) for s in subs),
             timeout=30)

    # The job, its alarm, and the rule that acts on the alarm.
    job = f"diverging-{unique}"
    fallback_job = f"fallback-{unique}"
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text(RISING_LOSS)
    fallback_code = tmp_path / "fallback"
    fallback_code.mkdir()
    (fallback_code / "train.py").write_text(FALLBACK)
    alarm = f"validation-loss-{unique}"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm, Namespace="/aws/sagemaker/TrainingJobs", MetricName="validation:loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": job}], Statistic="Maximum", Period=10,
        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic])
    rule = f"on-{alarm}"
    events.put_rule(Name=rule, EventPattern=json.dumps({
        "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [alarm], "state": {"value": ["ALARM"]}}}))
    sagemaker_target = "arn:aws:sagemaker:us-east-1:000000000000:sagewatch-target/"
    fallback_request = training_request(fallback_job, fallback_code / "train.py", tmp_path / "out-fallback")
    events.put_targets(Rule=rule, Targets=[
        {"Id": "stop-the-diverging-job", "Arn": sagemaker_target + "StopJob"},
        {"Id": "start-the-fallback", "Arn": sagemaker_target + "CreateTrainingJob",
         "Input": json.dumps(fallback_request)},
    ])

    sagemaker.create_training_job(**training_request(
        job, code / "train.py", tmp_path / "out",
        metric_definitions=[{"Name": "validation:loss", "Regex": r"validation loss: ([0-9.]+)"}]))

    # The alarm fires once the loss passes 1.0 ...
    wait_for(lambda: cloudwatch.describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0],
             lambda a: a["StateValue"] == "ALARM", timeout=90)
    subject = f'ALARM: "{alarm}" in {REGION_NAME}'

    # ... people get AWS's alarm email ...
    alarm_email = box.wait_for(lambda m: m["Subject"] == subject)
    text = alarm_email.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's line ends
    assert text.startswith(
        f'You are receiving this email because your Amazon CloudWatch Alarm "{alarm}" in the '
        f"{REGION_NAME} region has entered the ALARM state"), text
    # From OK (the first losses were low) or, had the first values arrived together, from
    # INSUFFICIENT_DATA.
    assert re.search(r"^- State Change: +(OK|INSUFFICIENT_DATA) -> ALARM$", text, re.M), text
    assert "- MetricName:                          validation:loss" in text, text
    assert f"- Dimensions:                          [TrainingJobName = {job}]" in text, text

    # ... the webhook gets the signed notification, which SNS message validators accept ...
    headers, notification = webhook.wait_for(
        lambda p: p[1]["Type"] == "Notification" and p[1].get("Subject") == subject)
    assert headers["x-amz-sns-message-type"] == "Notification"
    trusted = "^" + re.escape(notification["SigningCertURL"]) + "$"
    assert notification["SigningCertURL"].startswith(endpoint)
    SNSMessageValidator(cert_url_regex=trusted, signature_version="1").validate_message(notification)
    previous_pattern = sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX
    sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX = trusted
    try:
        sns_verifier.validate_sns_signature(notification, expected_topic_arn=topic,
                                            auto_confirm_subscription=False)
    finally:
        sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX = previous_pattern
    message = json.loads(notification["Message"])
    assert message["AlarmName"] == alarm and message["NewStateValue"] == "ALARM"
    assert message["Trigger"]["MetricName"] == "validation:loss"
    assert message["Trigger"]["Dimensions"] == [{"value": job, "name": "TrainingJobName"}]

    # ... and the rule stops the diverging job and starts the fallback, which completes.
    stopped = wait_training(sagemaker, job, timeout=90)
    assert stopped["TrainingJobStatus"] == "Stopped", stopped.get("FailureReason")
    fallback = wait_for(lambda: sagemaker.list_training_jobs(NameContains=fallback_job)["TrainingJobSummaries"],
                        lambda jobs: len(jobs) == 1, timeout=60)
    assert fallback[0]["TrainingJobName"] == fallback_job
    done = wait_training(sagemaker, fallback_job, timeout=90)
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")

    # The alarm's history says the action ran, with the message it published.
    actions = cloudwatch.describe_alarm_history(AlarmName=alarm, HistoryItemType="Action")["AlarmHistoryItems"]
    assert any(f"Successfully executed action {topic}" in item["HistorySummary"] for item in actions), actions
