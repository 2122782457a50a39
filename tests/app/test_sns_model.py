"""SNS topics and subscriptions against a model: any sequence of creating and deleting topics,
subscribing, confirming, unsubscribing, publishing and letting days pass leaves the API saying
what a plain model of AWS's rules says, and the endpoints receiving exactly what it says.

The application runs in process on a fake clock (tests/inprocess.py) and delivers for real to a
webhook started here (tests/e2e/sns_endpoints.py): the tokens confirmed are the ones the webhook
received. The rules modelled (reference §9.1, and the recorded answers test_sns_api.py cites):
Subscribe is idempotent per topic, protocol and endpoint and answers "pending confirmation"
until confirmed; a confirmation token is valid two days from when it was last sent; an
unconfirmed subscription is deleted after three days; a message reaches every confirmed
subscription of its topic and no other; deleting a topic deletes its subscriptions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sagewatch.clock import FakeClock

from ..e2e.sns_endpoints import Webhook
from ..inprocess import InProcessSagewatch

START = 1_767_225_605.0  # 2026-01-01 00:00:05 UTC
DAY = 86400.0
TOPICS = ("alpha", "beta")
PATHS = ("one", "two", "three")


@dataclass
class Modelled:
    arn: str
    confirmed: bool
    created: float
    token_sent: float  # when its confirmation was last sent


class SnsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.hook = Webhook(confirm=False)
        self.app = InProcessSagewatch(clock=FakeClock(START), settle_after_requests=True)
        self.app.__enter__()
        self.sns = self.app.client("sns")
        self.topics: set[str] = set()
        self.subscriptions: dict[tuple[str, str], Modelled] = {}  # (topic, path) -> what it is
        self.published = 0

    def teardown(self) -> None:
        try:
            self.app.__exit__(None, None, None)
        finally:
            self.hook.stop()

    def arn(self, topic: str) -> str:
        return f"arn:aws:sns:us-east-1:000000000000:{topic}"

    def endpoint(self, path: str) -> str:
        return f"{self.hook.url}/{path}"

    def now(self) -> float:
        return self.app.clock.now()

    def posts(self, topic: str, path: str, message_type: str) -> list[dict]:
        with self.hook.arrived:
            return [json.loads(body) for at, headers, body in self.hook.posts
                    if at.endswith(f"/{path}") and headers.get("x-amz-sns-message-type") == message_type
                    and json.loads(body)["TopicArn"] == self.arn(topic)]

    # -- rules ----------------------------------------------------------------------------------

    @rule(topic=st.sampled_from(TOPICS))
    def create_topic(self, topic):
        assert self.sns.create_topic(Name=topic)["TopicArn"] == self.arn(topic)
        self.topics.add(topic)

    @rule(topic=st.sampled_from(TOPICS))
    def delete_topic(self, topic):
        self.sns.delete_topic(TopicArn=self.arn(topic))
        self.topics.discard(topic)
        for key in [key for key in self.subscriptions if key[0] == topic]:
            del self.subscriptions[key]

    @rule(topic=st.sampled_from(TOPICS), path=st.sampled_from(PATHS))
    def subscribe(self, topic, path):
        try:
            answer = self.sns.subscribe(TopicArn=self.arn(topic), Protocol="http", Endpoint=self.endpoint(path),
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
        except ClientError as error:
            assert topic not in self.topics and error.response["Error"]["Code"] == "NotFound"
            return
        assert topic in self.topics
        known = self.subscriptions.get((topic, path))
        if known is None:
            self.subscriptions[(topic, path)] = Modelled(answer, False, self.now(), self.now())
        else:
            assert answer == known.arn  # the same subscription
            if not known.confirmed:
                known.token_sent = self.now()  # its confirmation is sent again

    @rule(topic=st.sampled_from(TOPICS), path=st.sampled_from(PATHS))
    def confirm_with_the_last_token_received(self, topic, path):
        received = self.posts(topic, path, "SubscriptionConfirmation")
        if not received:
            return
        known = self.subscriptions.get((topic, path))
        token = received[-1]["Token"]
        valid = known is not None and (known.confirmed or self.now() - known.token_sent < 2 * DAY)
        try:
            arn = self.sns.confirm_subscription(TopicArn=self.arn(topic), Token=token)["SubscriptionArn"]
        except ClientError as error:
            assert not valid, error.response["Error"]
            assert error.response["Error"]["Message"] == "Invalid parameter: Token"
            return
        assert valid and arn == known.arn
        known.confirmed = True

    @rule(topic=st.sampled_from(TOPICS), path=st.sampled_from(PATHS))
    def unsubscribe(self, topic, path):
        known = self.subscriptions.pop((topic, path), None)
        if known is not None:
            self.sns.unsubscribe(SubscriptionArn=known.arn)

    @rule(topic=st.sampled_from(TOPICS))
    def publish(self, topic):
        self.published += 1
        message = f"message {self.published}"
        before = {path: len(self.posts(topic, path, "Notification")) for path in PATHS}
        try:
            self.sns.publish(TopicArn=self.arn(topic), Message=message)
        except ClientError as error:
            assert topic not in self.topics and error.response["Error"]["Code"] == "NotFound"
            return
        assert topic in self.topics
        for path in PATHS:
            new = self.posts(topic, path, "Notification")[before[path]:]
            known = self.subscriptions.get((topic, path))
            if known is not None and known.confirmed:
                assert [n["Message"] for n in new] == [message], path
            else:
                assert new == [], path

    @precondition(lambda self: self.subscriptions)
    @rule(days=st.sampled_from([0.5, 1.0, 2.5]))
    def days_pass(self, days):
        self.app.advance(days * DAY)
        self.app.system.sns.expire_subscriptions()  # the hourly duty, run now
        for key, known in list(self.subscriptions.items()):
            if not known.confirmed and self.now() - known.created > 3 * DAY:
                del self.subscriptions[key]

    # -- what the API says ------------------------------------------------------------------------

    @invariant()
    def listings_match_the_model(self):
        listed_topics = {t["TopicArn"] for t in self.sns.list_topics()["Topics"]}
        assert listed_topics == {self.arn(topic) for topic in self.topics}
        for topic in self.topics:
            listed = self.sns.list_subscriptions_by_topic(TopicArn=self.arn(topic))["Subscriptions"]
            expected = {(self.endpoint(path), known.arn if known.confirmed else "PendingConfirmation")
                        for (t, path), known in self.subscriptions.items() if t == topic}
            assert {(s["Endpoint"], s["SubscriptionArn"]) for s in listed} == expected
            attributes = self.sns.get_topic_attributes(TopicArn=self.arn(topic))["Attributes"]
            mine = [known for (t, _), known in self.subscriptions.items() if t == topic]
            assert int(attributes["SubscriptionsConfirmed"]) == sum(k.confirmed for k in mine)
            assert int(attributes["SubscriptionsPending"]) == sum(not k.confirmed for k in mine)


SnsMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None,
                                        suppress_health_check=[HealthCheck.too_slow])
TestSnsModel = SnsMachine.TestCase
