"""The emails SNS sends: a subscription's confirmation, each notification (with AWS's footer and
unsubscribe link), and the notice that a subscription was deactivated.

Texts are AWS's, as received from SNS and quoted in public code and guides (the quotes are
cited where each text is built), with three deliberate differences, sagewatch's own:

* links point at this server's pages (``links.py``: ``/confirmation.html``,
  ``/unsubscribe.html``, AWS's paths) under the configured public URL, not sns.<region>.amazonaws.com;
* the footer's last sentence sends questions to the server's administrator, not to AWS Support;
* the confirmation email leaves out AWS's sns-opt-out@amazon.com sentence (Amazon's list).

An email is made in two steps: ``*_email`` (pure, at queueing time) gives an ``Email`` whose
``to_payload`` is stored with the delivery; ``mime`` (at delivery time) makes the MIME message
with the sender from the settings.
"""

from __future__ import annotations

import html
import urllib.parse
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

# Subjects: "AWS Notification - Subscription Confirmation" and "AWS Notification -
# Unsubscribe Confirmation" (subjects of SNS's emails matched in public test code run against
# AWS, e.g. EPAM test suites reading a real mailbox); "AWS Notification Message" when the
# publisher gave no Subject (the same suites' notification subject).
CONFIRMATION_SUBJECT = "AWS Notification - Subscription Confirmation"
UNSUBSCRIBE_SUBJECT = "AWS Notification - Unsubscribe Confirmation"
DEFAULT_SUBJECT = "AWS Notification Message"

# The confirmation email's words (AWS CLI user guide, cli-services-sns.html: "You have chosen to
# subscribe to the topic:\narn:...\nTo confirm this subscription, click or visit the following
# link (If this was in error no action is necessary):\nConfirm subscription"; mails received
# since read "the link below").
CONFIRMATION_TEXT = """\
You have chosen to subscribe to the topic:
{topic_arn}

To confirm this subscription, click or visit the link below (If this was in error no action is necessary):
{link}

Please do not reply directly to this email.
"""

# A notification's footer, separated from the message by "\n\n--\n" as AWS's is (emails
# received from SNS, quoted e.g. in sisimai's AmazonSES parser, which splits on it):
# "If you wish to stop receiving notifications from this topic, please click or visit the link
# below to unsubscribe:\nhttps://sns.<region>.amazonaws.com/unsubscribe.html?SubscriptionArn=
# <arn>&Endpoint=<address>\n\nPlease do not reply directly to this email. If you have any
# questions or comments regarding this email, please contact us at https://aws.amazon.com/support"
FOOTER = """

--
If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:
{link}

Please do not reply directly to this email. If you have any questions or comments regarding this email, please contact the administrator of this sagewatch server.
"""

# The notice of a deactivated subscription ("Your subscription to the topic below has been
# deactivated:\n  arn:...\n\nIf this was in error or you wish to resubscribe, click or visit
# the link below:\n  Resubscribe", as received and quoted in public guides).
UNSUBSCRIBE_TEXT = """\
Your subscription to the topic below has been deactivated:
{topic_arn}
"""
RESUBSCRIBE_TEXT = """
If this was in error or you wish to resubscribe, click or visit the link below:
{link}
"""


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str | None = None
    display_name: str | None = None  # the topic's DisplayName: the From header's name
    list_unsubscribe: str | None = None  # SNS sets List-Unsubscribe on notifications

    def to_payload(self) -> dict:
        return asdict(self)

    @classmethod
    def from_payload(cls, payload: dict) -> Email:
        return cls(**{name: payload.get(name) for name in cls.__dataclass_fields__})


def _link(base_url: str, page: str, query: list[tuple[str, str]]) -> str:
    # ARNs' colons and an address's @ are left as they are, as in AWS's links.
    return f"{base_url}/{page}?" + urllib.parse.urlencode(query, safe=":@")


def confirmation_link(base_url: str, topic_arn: str, token: str, endpoint: str) -> str:
    """The "Confirm subscription" link: AWS's ``/confirmation.html?TopicArn=...&Token=...&Endpoint=...``."""
    return _link(base_url, "confirmation.html", [("TopicArn", topic_arn), ("Token", token), ("Endpoint", endpoint)])


def unsubscribe_link(base_url: str, subscription_arn: str, endpoint: str) -> str:
    """The footer's link: AWS's ``/unsubscribe.html?SubscriptionArn=...&Endpoint=...``."""
    return _link(base_url, "unsubscribe.html", [("SubscriptionArn", subscription_arn), ("Endpoint", endpoint)])


def confirmation_email(*, base_url: str, topic_arn: str, token: str, endpoint: str,
                       display_name: str | None = None) -> Email:
    link = confirmation_link(base_url, topic_arn, token, endpoint)
    text = CONFIRMATION_TEXT.format(topic_arn=topic_arn, link=link)
    page = (f"<p>You have chosen to subscribe to the topic:<br>\n{html.escape(topic_arn)}</p>\n"
            f"<p>To confirm this subscription, click or visit the link below (If this was in error no "
            f"action is necessary):<br>\n<a href=\"{html.escape(link)}\">Confirm subscription</a></p>\n"
            f"<p>Please do not reply directly to this email.</p>\n")
    return Email(to=endpoint, subject=CONFIRMATION_SUBJECT, text=text, html=page, display_name=display_name)


def notification_email(*, base_url: str, subscription_arn: str, endpoint: str, message: str,
                       subject: str | None, display_name: str | None = None) -> Email:
    """An ``email`` subscription's notification: the message as published, then the footer."""
    link = unsubscribe_link(base_url, subscription_arn, endpoint)
    return Email(to=endpoint, subject=subject or DEFAULT_SUBJECT, text=message + FOOTER.format(link=link),
                 display_name=display_name, list_unsubscribe=link)


def json_email(*, endpoint: str, subject: str, document: str, display_name: str | None = None,
               list_unsubscribe: str | None = None) -> Email:
    """An ``email-json`` delivery: the JSON document an http endpoint would be POSTed, as the
    email's text (reference §9.2: "email-json delivers the JSON notification document")."""
    return Email(to=endpoint, subject=subject, text=document, display_name=display_name,
                 list_unsubscribe=list_unsubscribe)


def unsubscribed_email(*, base_url: str, topic_arn: str, endpoint: str, token: str | None,
                       display_name: str | None = None) -> Email:
    """The notice that an ``email`` subscription was deactivated, with a link that restores it
    (the confirmation page with the token of the UnsubscribeConfirmation) when there is one."""
    text = UNSUBSCRIBE_TEXT.format(topic_arn=topic_arn)
    if token:
        text += RESUBSCRIBE_TEXT.format(link=confirmation_link(base_url, topic_arn, token, endpoint))
    return Email(to=endpoint, subject=UNSUBSCRIBE_SUBJECT, text=text, display_name=display_name)


def mime(email: Email, sender: str) -> EmailMessage:
    """The message to send: From the configured ``sender`` (its name replaced by the topic's
    DisplayName when the topic has one, as AWS's From is "<DisplayName> <no-reply@sns.amazonaws.com>"),
    plain text, and an HTML alternative when the email has one."""
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage()
    message["From"] = formataddr((email.display_name or sender_name, sender_address))
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = sender_address.rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    if email.list_unsubscribe:
        message["List-Unsubscribe"] = f"<{email.list_unsubscribe}>"
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message

