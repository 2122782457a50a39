"""The alarm action that notifies an SNS topic: an ``arn:aws:sns:<region>:<account>:<topic>`` in
an alarm's OKActions / AlarmActions / InsufficientDataActions.

It publishes what CloudWatch publishes: Subject ``ALARM: "<name>" in <Region>`` and a
MessageStructure=json message whose ``default`` is the alarm's JSON message (every protocol but
email gets it: the http/https notification's Message, email-json's), ``email`` the plain-text
alarm email, and ``sms`` the subject. That is the message a 2022 composite alarm's Action history
item shows AWS published (``{"default":...,"sms":...,"email":...}``, compact; see alarm_email.py),
and the history item's ``publishedMessage`` here is the same text.

It runs on the alarm engine's actions worker (services/cloudwatch/alarms.AlarmActions): the
publish queues the deliveries durably and returns, so the action's history item says
"Succeeded" once SNS has accepted the message, as AWS's does, whatever later happens to each
delivery. A topic that does not exist (or any error Publish answers) fails the action, and the
history item carries the error as Publish words it ("NotFound: Topic does not exist";
AWS's wording of a failed SNS action in the history is not published: sagewatch's).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ... import arns
from ..cloudwatch.alarms import StateChange
from .alarm_email import alarm_email
from .alarm_messages import alarm_notification

# Publish refuses a Subject of 100 characters or more (botocore:sns Publish: "must be less than
# 100 characters long"); an alarm name may have 255. CloudWatch's handling of such a name is not
# published: sagewatch cuts the subject rather than fail the notification.
MAX_SUBJECT_CHARS = 99


class SnsAlarmAction:
    """Registered with ``AlarmActions.register(action.accepts, action)``."""

    def __init__(self, sns_publish: Callable[..., dict], region: str, account_id: str) -> None:
        """``sns_publish`` is ``SNSService.publish`` (keyword arguments as the API spells them)."""
        self.publish = sns_publish
        self.region = region
        self.account_id = account_id

    @staticmethod
    def accepts(arn: str) -> bool:
        """Any SNS ARN: a topic of another Region or account is Publish's to refuse (NotFound),
        which the history then shows, as CloudWatch does not check actions when they are set."""
        parsed = arns.parse_or_none(arn)
        return parsed is not None and parsed.service == "sns"

    def message(self, change: StateChange) -> tuple[str, str]:
        """(Subject, Message) of the publish for this state change."""
        notification = alarm_notification(change, region=self.region, account_id=self.account_id)
        message = json.dumps(
            {"default": notification.message, "sms": notification.subject,
             "email": alarm_email(change, region=self.region, account_id=self.account_id)},
            separators=(",", ":"), ensure_ascii=False)
        return notification.subject[:MAX_SUBJECT_CHARS], message

    def __call__(self, arn: str, change: StateChange) -> str:
        subject, message = self.message(change)
        self.publish(TopicArn=arn, Subject=subject, Message=message, MessageStructure="json")
        return message
