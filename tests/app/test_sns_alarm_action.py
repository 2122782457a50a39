"""Alarm actions on SNS topics (services/sns/alarm_action.py): what people receive.

The application runs in process with a fake clock (tests/inprocess.py) and sends for real: a
webhook started here (tests/e2e/sns_endpoints.py) gets the notification of the alarm's topic, and
an SMTP server started here (aiosmtpd) gets the email subscription's mail. The webhook's message
is CloudWatch's alarm JSON, the email AWS's plain-text alarm email; the alarm's Action history
item records what was published, or why nothing was.
"""

from __future__ import annotations

import json
import re

import pytest
from aiosmtpd.controller import Controller

from sagewatch.clock import FakeClock
from sagewatch.config import SmtpSettings

from ..e2e.cloudwatch_clients import at, history
from ..e2e.sns_endpoints import Mailbox, Webhook, of_type, plain_text
from ..inprocess import InProcessSagewatch
from ..server import free_port

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC
NS = "app/sns-action"
REGION, ACCOUNT = "us-east-1", "000000000000"
ADDRESS = "oncall@sagewatch.test"


@pytest.fixture
def app(tmp_path):
    box = Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=free_port())
    smtp.start()
    hook = Webhook(confirm=False)
    server = InProcessSagewatch(tmp_path / "data", FakeClock(START), region=REGION, account_id=ACCOUNT,
                                smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, security="none"))
    try:
        with server:
            sns = server.client("sns")
            topic = sns.create_topic(Name="oncall")["TopicArn"]
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=ADDRESS)
            server.settle()
            _, body = hook.wait_for(of_type("SubscriptionConfirmation"))
            sns.confirm_subscription(TopicArn=topic, Token=json.loads(body)["Token"])
            confirmation = box.wait_for(lambda m: m["To"] == ADDRESS)
            token = re.search(r"Token=([0-9a-fA-F]+)", plain_text(confirmation)).group(1)
            sns.confirm_subscription(TopicArn=topic, Token=token)
            yield server, topic, hook, box
    finally:
        hook.stop()
        smtp.stop()


def breach(server, cw, name: str, **extra) -> None:
    cw.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=name, Statistic="Maximum", Period=60,
                        EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold", **extra)
    cw.put_metric_data(Namespace=NS, MetricData=[{"MetricName": name, "Timestamp": at(server.clock.now()),
                                                  "Value": 9.0}])
    server.settle()


def test_an_alarm_notifies_its_topic_with_awss_message_and_email(app):
    server, topic, hook, box = app
    cw = server.client("cloudwatch")
    breach(server, cw, "val-loss", AlarmActions=[topic], AlarmDescription="validation loss rising")

    _, body = hook.wait_for(of_type("Notification"))
    notification = json.loads(body)
    assert notification["Subject"] == 'ALARM: "val-loss" in US East (N. Virginia)'
    message = json.loads(notification["Message"])  # the "default" member: the alarm JSON
    assert (message["AlarmName"], message["NewStateValue"], message["OldStateValue"]) == (
        "val-loss", "ALARM", "INSUFFICIENT_DATA")
    assert message["AlarmDescription"] == "validation loss rising"
    assert message["Trigger"]["MetricName"] == "val-loss" and message["Trigger"]["Threshold"] == 5.0

    mail = box.wait_for(lambda m: m["To"] == ADDRESS and m["Subject"] == notification["Subject"])
    text = plain_text(mail)
    assert text.startswith('You are receiving this email because your Amazon CloudWatch Alarm "val-loss" in the '
                           'US East (N. Virginia) region has entered the ALARM state, because "Threshold Crossed')
    assert "- Description:                validation loss rising\n" in text
    assert f"- ALARM: [{topic}]\n" in text

    (item,) = history(cw, "val-loss", "Action")
    data = json.loads(item["HistoryData"])
    assert data["actionState"] == "Succeeded" and data["notificationResource"] == topic
    published = json.loads(data["publishedMessage"])
    assert list(published) == ["default", "sms", "email"]
    assert json.loads(published["default"]) == message
    assert published["sms"] == notification["Subject"]
    assert text.startswith(published["email"].rstrip("\n"))  # SNS adds its footer to the mail
    assert item["HistorySummary"] == f"Successfully executed action {topic}"


def test_ok_and_insufficient_data_actions_notify_too(app):
    server, topic, hook, box = app
    cw = server.client("cloudwatch")
    breach(server, cw, "flaps", OKActions=[topic])
    cw.set_alarm_state(AlarmName="flaps", StateValue="OK", StateReason="recovered")
    server.settle()
    _, body = hook.wait_for(of_type("Notification"))
    assert json.loads(body)["Subject"] == 'OK: "flaps" in US East (N. Virginia)'
    assert len(hook.received("Notification")) == 1  # the ALARM transition had no action
    mail = box.wait_for(lambda m: m["Subject"] == 'OK: "flaps" in US East (N. Virginia)')
    assert 'has entered the OK state, because "recovered"' in plain_text(mail)


def test_a_topic_that_does_not_exist_fails_the_action_with_the_reason(app):
    server, topic, hook, box = app
    cw = server.client("cloudwatch")
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"
    breach(server, cw, "lost", AlarmActions=[missing, topic])
    failed, succeeded = (json.loads(i["HistoryData"]) for i in sorted(
        history(cw, "lost", "Action"), key=lambda i: json.loads(i["HistoryData"])["notificationResource"] != missing))
    assert (failed["actionState"], failed["notificationResource"]) == ("Failed", missing)
    assert failed["error"].startswith("NotFound")
    assert "publishedMessage" not in failed
    assert (succeeded["actionState"], succeeded["notificationResource"]) == ("Succeeded", topic)
    hook.wait_for(of_type("Notification"))  # the topic that exists is notified all the same
