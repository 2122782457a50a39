"""The SNS fuzz seeds (see seeds.py for what seeds are): a topic with tags, and a second topic
with an email subscription and an http subscription to a real listener of the test's
(tests/e2e/sns_endpoints.py), confirmed with the token it received, so that ConfirmSubscription
has a request AWS accepts (confirming again is idempotent); requests AWS accepts for every
operation sagewatch serves.

The subscriptions' topic is not among the values the fuzz draws: DeleteTopic's turn comes before
the subscription operations' (operations take turns in the model's order), and a subscription
deleted with its topic cannot come back under its ARN, which the corpus, made once, names.

Nothing the fuzz makes reaches further: email goes nowhere (the fuzz server has no SMTP server,
so each email delivery fails at once, recorded), and the http endpoints the fuzz draws are a
closed loopback port (refused at once, then retried by AWS's default policy and given up).
"""

from __future__ import annotations

import json
from pathlib import Path

from botocore.exceptions import ClientError

from ..e2e.sns_endpoints import Webhook, of_type
from ..server import make_client

CLOSED_PORT_URL = "http://127.0.0.1:9/sns"  # port 9 (discard): nothing listens on loopback
UNKNOWN_TOKEN = "0123456789abcdef" * 18  # the shape of AWS's tokens, naming nothing


class SNSSeeds:
    def __init__(self, endpoint: str, suffix: str, work_dir: Path) -> None:
        self.client = make_client("sns", endpoint)
        self.topic_name = f"fuzz-{suffix}"
        self.topic = self.client.create_topic(Name=self.topic_name)["TopicArn"]
        self.subscribed = self.client.create_topic(Name=f"fuzz-subscribed-{suffix}")["TopicArn"]
        self.email = f"fuzz-{suffix}@example.com"
        self.listener = Webhook(confirm=False)
        self.restore()
        self.known = {
            "topicName": [self.topic_name], "topicARN": [self.topic], "AmazonResourceName": [self.topic],
            "subscriptionARN": [self.subscription], "protocol": ["email", "email-json", "http", "https"],
            "endpoint": [self.email, CLOSED_PORT_URL], "token": [self.token, UNKNOWN_TOKEN],
            "attributeName": ["DisplayName", "DeliveryPolicy", "RawMessageDelivery", "FilterPolicy",
                              "FilterPolicyScope", "SignatureVersion"],
            "TagKey": ["team"], "messageStructure": ["json"],
        }

    def corpus(self) -> dict[str, list[dict]]:
        # aws-behaviour.md §9; botocore:sns shapes; AWS's attribute names (SetTopicAttributes,
        # SetSubscriptionAttributes references).
        topic, subscribed, subscription = self.topic, self.subscribed, self.subscription
        delivery_policy = json.dumps({"http": {"defaultHealthyRetryPolicy": {
            "minDelayTarget": 1, "maxDelayTarget": 2, "numRetries": 1, "backoffFunction": "linear"}}})
        attributes = {"n": {"DataType": "Number", "StringValue": "7"},
                      "kind": {"DataType": "String", "StringValue": "alarm"},
                      "tags": {"DataType": "String.Array", "StringValue": '["a", 1]'},
                      "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"}}
        return {
            "CreateTopic": [{"Name": f"{self.topic_name}-more", "Attributes": {"DisplayName": "fuzz",
                                                                               "DeliveryPolicy": delivery_policy},
                             "Tags": [{"Key": "team", "Value": "fuzz"}]}],
            "DeleteTopic": [{"TopicArn": topic}],
            "ListTopics": [{}],
            "GetTopicAttributes": [{"TopicArn": topic}],
            "SetTopicAttributes": [{"TopicArn": topic, "AttributeName": "DisplayName", "AttributeValue": "Fuzz"},
                                   {"TopicArn": topic, "AttributeName": "DeliveryPolicy",
                                    "AttributeValue": delivery_policy}],
            "GetDataProtectionPolicy": [{"ResourceArn": topic}],
            "PutDataProtectionPolicy": [{"ResourceArn": topic, "DataProtectionPolicy": json.dumps(
                {"Name": "fuzz", "Version": "2021-06-01", "Statement": []})}],
            "Subscribe": [
                {"TopicArn": subscribed, "Protocol": "email", "Endpoint": f"more-{self.email}",
                 "Attributes": {"FilterPolicy": '{"kind": ["alarm"], "n": [{"numeric": [">", 5]}]}'}},
                {"TopicArn": topic, "Protocol": "http", "Endpoint": CLOSED_PORT_URL, "ReturnSubscriptionArn": True,
                 "Attributes": {"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
                                "FilterPolicy": '{"job": {"status": ["Failed"]}}'}}],
            "ConfirmSubscription": [{"TopicArn": subscribed, "Token": self.token, "AuthenticateOnUnsubscribe": "false"}],
            "Unsubscribe": [{"SubscriptionArn": subscription}],
            "ListSubscriptions": [{}],
            "ListSubscriptionsByTopic": [{"TopicArn": subscribed}],
            "GetSubscriptionAttributes": [{"SubscriptionArn": subscription}],
            "SetSubscriptionAttributes": [
                {"SubscriptionArn": subscription, "AttributeName": "FilterPolicy", "AttributeValue": '{"n": [1, 2]}'},
                {"SubscriptionArn": subscription, "AttributeName": "FilterPolicyScope",
                 "AttributeValue": "MessageAttributes"}],
            "Publish": [
                {"TopicArn": subscribed, "Message": "fuzz", "Subject": "Fuzz", "MessageAttributes": attributes},
                {"TargetArn": topic, "Message": json.dumps({"default": "d", "email": "e", "http": "h"}),
                 "MessageStructure": "json"}],
            "PublishBatch": [{"TopicArn": subscribed, "PublishBatchRequestEntries": [
                {"Id": "one", "Message": "fuzz", "MessageAttributes": attributes},
                {"Id": "two", "Message": '{"default": "d"}', "MessageStructure": "json", "Subject": "Two"}]}],
            "TagResource": [{"ResourceArn": topic, "Tags": [{"Key": "stage", "Value": "test"}]}],
            "UntagResource": [{"ResourceArn": topic, "TagKeys": ["stage"]}],
            "ListTagsForResource": [{"ResourceArn": topic}],
        }

    def restore(self) -> None:
        # Tagged apart from the creation: the fuzz may have changed the tag, and CreateTopic with
        # a tag the topic does not hold is refused.
        self.client.create_topic(Name=self.topic_name)
        self.client.tag_resource(ResourceArn=self.topic, Tags=[{"Key": "team", "Value": "fuzz"}])
        self.client.create_topic(Name=self.subscribed.rsplit(":", 1)[1])
        self.subscription = self.client.subscribe(
            TopicArn=self.subscribed, Protocol="email", Endpoint=self.email, ReturnSubscriptionArn=True)["SubscriptionArn"]
        self.token = self._confirmed_listener()

    def _confirmed_listener(self) -> str:
        """Subscribe the listener (again, if the fuzz removed it) and confirm it with the token it
        received; the token."""
        arn = self.client.subscribe(TopicArn=self.subscribed, Protocol="http", Endpoint=self.listener.url,
                                    ReturnSubscriptionArn=True)["SubscriptionArn"]
        seen = 0
        while True:  # until the confirmation sent for this subscription has come
            posts = self.listener.wait_count(of_type("SubscriptionConfirmation"), seen + 1)
            tokens = [json.loads(body)["Token"] for _, body in posts]
            for token in reversed(tokens):  # the newest first: a new subscription's is the last sent
                try:
                    if self.client.confirm_subscription(TopicArn=self.subscribed, Token=token)["SubscriptionArn"] == arn:
                        return token
                except ClientError:
                    continue  # a token of a subscription the fuzz deleted
            seen = len(tokens)

    def close(self) -> None:
        self.listener.stop()
