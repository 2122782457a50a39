"""The SNS API over HTTP, with boto3 and the aws CLI: topics, subscriptions, publishing, tags, and
every refusal with AWS's code, message and status.

AWS's answers are those recorded against AWS in localstack's snapshot tests (tests/aws/services/
sns/test_sns.snapshot.json), unless a comment says otherwise. What a webhook or a mailbox then
receives, signed and retried, is tests/e2e/test_sns_delivery.py's; here a real HTTP listener
stands in for a subscriber where the API's behaviour depends on what it receives (the
confirmation token, the UnsubscribeConfirmation that restores a subscription).
"""

from __future__ import annotations

import json

import pytest

from ..server import make_client
from .helpers import error_of
from .sns_endpoints import notification_with, of_type, webhook

REGION, ACCOUNT = "us-east-1", "000000000000"


@pytest.fixture(scope="module")
def sns(server):
    return make_client("sns", server.endpoint)


@pytest.fixture(scope="module")
def raw_sns(server):
    """Sends what it is given: the server's own validation is what answers."""
    return make_client("sns", server.endpoint, parameter_validation=False)


@pytest.fixture
def topic(sns, unique) -> str:
    return sns.create_topic(Name=f"api-{unique}")["TopicArn"]


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"


def invalid(message: str) -> tuple[str, str, int]:
    return ("InvalidParameter", f"Invalid parameter: {message}", 400)


# -- topics ----------------------------------------------------------------------------------------

def test_create_topic_is_idempotent_and_refuses_a_different_twin(sns, unique):
    name = f"twin-{unique}"
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Twin"}, Tags=tags)["TopicArn"]
    assert arn == topic_arn(name)
    # The same name again, with the same, fewer or no tags and attributes: the same topic (recorded).
    for again in ({"Tags": tags}, {"Tags": tags[:1]}, {"Tags": []}, {"Attributes": {"DisplayName": "Twin"}}, {}):
        assert sns.create_topic(Name=name, **again)["TopicArn"] == arn
    assert error_of(sns.create_topic, Name=name, Tags=[{"Key": "a", "Value": "other"}]) == invalid(
        "Tags Reason: Topic already exists with different tags")
    assert error_of(sns.create_topic, Name=name, Attributes={"DisplayName": "Other"}) == invalid(
        "Attributes Reason: Topic already exists with different attributes")


@pytest.mark.parametrize("name", ["", "a" * 257, "a:b", "a;b", "a!b", "a@b", "a|b", "a^b", "a%b", "a b", "a.b"])
def test_topic_names_are_letters_digits_hyphens_and_underscores(sns, name):
    assert error_of(sns.create_topic, Name=name) == invalid("Topic Name")


def test_a_topic_name_of_256_characters_is_accepted(sns, unique):
    name = (unique + "x" * 256)[:256]
    assert sns.create_topic(Name=name)["TopicArn"] == topic_arn(name)
    sns.delete_topic(TopicArn=topic_arn(name))


def test_new_topics_have_awss_default_attributes(sns, topic):
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    policy = json.loads(attributes.pop("Policy"))
    effective = json.loads(attributes.pop("EffectiveDeliveryPolicy"))
    assert attributes == {
        "DisplayName": "", "Owner": ACCOUNT, "SubscriptionsConfirmed": "0", "SubscriptionsDeleted": "0",
        "SubscriptionsPending": "0", "TopicArn": topic,
    }
    assert policy["Id"] == "__default_policy_ID"
    assert policy["Statement"][0]["Resource"] == topic
    assert policy["Statement"][0]["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
    assert effective == {"http": {
        "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                      "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                                      "backoffFunction": "linear"},
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}


def test_topic_arns_are_checked_before_topics_are_looked_for(sns, topic):
    assert error_of(sns.get_topic_attributes, TopicArn=topic + "-gone") == ("NotFound", "Topic does not exist", 404)
    assert error_of(sns.get_topic_attributes, TopicArn="test-topic") == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 1")
    assert error_of(sns.get_topic_attributes, TopicArn=topic.replace(REGION, "eu-west-1")) == invalid("TopicArn")
    other_account = topic.replace(ACCOUNT, "111122223333")
    code, message, status = error_of(sns.get_topic_attributes, TopicArn=other_account)
    assert (code, status) == ("AuthorizationError", 403)
    assert message == (f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: SNS:GetTopicAttributes on "
                       f"resource: {other_account} because no resource-based policy allows the "
                       f"SNS:GetTopicAttributes action")


def test_set_topic_attributes_sets_validates_and_removes(sns, topic):
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DisplayName", AttributeValue="Training alarms")
    policy = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1},
                       "disableSubscriptionOverrides": False}}
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(policy))
    sns.set_topic_attributes(TopicArn=topic, AttributeName="SignatureVersion", AttributeValue="2")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["DisplayName"] == "Training alarms"
    assert attributes["SignatureVersion"] == "2"
    assert json.loads(attributes["DeliveryPolicy"]) == policy
    # Recorded: the effective policy is the set one over AWS's defaults.
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"] == {
        "minDelayTarget": 5, "maxDelayTarget": 6, "numRetries": 1, "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"}
    # An empty value takes it back to the default (recorded for DeliveryPolicy).
    sns.set_topic_attributes(TopicArn=topic, AttributeName="DeliveryPolicy", AttributeValue="")
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert "DeliveryPolicy" not in attributes
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3


def test_set_topic_attributes_refusals(sns, topic):
    assert error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="FifoTopic",
                    AttributeValue="false") == invalid("AttributeName")  # recorded
    assert error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="Colour",
                    AttributeValue="blue") == invalid("AttributeName")
    code, message, status = error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="DeliveryPolicy",
                                     AttributeValue='{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}')
    assert (code, status) == ("InvalidParameter", 400)
    assert message == ("Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be less "
                       "than or equal to 100")
    assert error_of(sns.set_topic_attributes, TopicArn=topic, AttributeName="SignatureVersion",
                    AttributeValue="3")[0] == "InvalidParameter"
    assert error_of(sns.set_topic_attributes, TopicArn=topic + "-gone", AttributeName="DisplayName",
                    AttributeValue="x") == ("NotFound", "Topic does not exist", 404)


def test_list_topics_pages_by_100(sns, unique):
    names = [f"page-{unique}-{i:03d}" for i in range(101)]
    for name in names:
        sns.create_topic(Name=name)
    seen, pages, token = [], [], None
    while True:
        page = sns.list_topics(**({"NextToken": token} if token else {}))
        pages.append(len(page["Topics"]))
        seen += [t["TopicArn"] for t in page["Topics"]]
        token = page.get("NextToken")
        if not token:
            break
    assert max(pages) <= 100 and len(pages) >= 2
    assert len(seen) == len(set(seen))
    assert {topic_arn(name) for name in names} <= set(seen)
    assert error_of(sns.list_topics, NextToken="not-a-token") == invalid("NextToken")
    for name in names:
        sns.delete_topic(TopicArn=topic_arn(name))


def test_delete_topic_deletes_its_subscriptions_and_is_idempotent(sns, topic):
    subscription = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com",
                                 ReturnSubscriptionArn=True)["SubscriptionArn"]
    sns.delete_topic(TopicArn=topic)
    sns.delete_topic(TopicArn=topic)  # recorded: deleting it again succeeds
    assert error_of(sns.get_topic_attributes, TopicArn=topic) == ("NotFound", "Topic does not exist", 404)
    assert error_of(sns.get_subscription_attributes, SubscriptionArn=subscription) == (
        "NotFound", "Subscription does not exist", 404)
    assert subscription not in [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]


# -- subscriptions ---------------------------------------------------------------------------------

def test_subscribing_gives_pending_confirmation_unless_the_arn_is_asked_for(sns, topic):
    assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"] == \
        "pending confirmation"
    arn = sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="b@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(topic + ":")
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in listed) == [
        ("email", "a@example.com", "PendingConfirmation"), ("email-json", "b@example.com", "PendingConfirmation")]
    assert all(s["Owner"] == ACCOUNT and s["TopicArn"] == topic for s in listed)
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes == {
        "ConfirmationWasAuthenticated": "false", "Endpoint": "b@example.com", "Owner": ACCOUNT,
        "PendingConfirmation": "true", "Protocol": "email-json", "RawMessageDelivery": "false",
        "SubscriptionArn": arn, "SubscriptionPrincipal": f"arn:aws:iam::{ACCOUNT}:root", "TopicArn": topic}
    topic_attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (topic_attributes["SubscriptionsPending"], topic_attributes["SubscriptionsConfirmed"]) == ("2", "0")


def test_an_identical_subscription_is_the_same_one(sns, topic):
    first = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="same@example.com", ReturnSubscriptionArn=True,
                          Attributes={"FilterPolicy": '{"k":["v"]}'})["SubscriptionArn"]
    for attributes in ({}, {"FilterPolicy": '{"k":["v"]}'}):
        assert sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="same@example.com",
                             ReturnSubscriptionArn=True, Attributes=attributes)["SubscriptionArn"] == first
    assert error_of(sns.subscribe, TopicArn=topic, Protocol="email", Endpoint="same@example.com",
                    Attributes={"FilterPolicy": '{"k":["w"]}'}) == invalid(
        "Attributes Reason: Subscription already exists with different attributes")  # recorded


def test_subscribe_refusals(sns, topic):
    def refused(**request):
        return error_of(sns.subscribe, TopicArn=request.pop("TopicArn", topic), **request)

    assert refused(Protocol="test-protocol", Endpoint="x") == invalid(
        "Amazon SNS does not support this protocol string: test-protocol")  # recorded
    assert refused(Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:000000000000:q")[0] == "InvalidParameter"
    assert refused(Protocol="email", Endpoint="foo@bar.com;foo@baz.io") == invalid("Email address")
    assert refused(Protocol="email", Endpoint="not an email") == invalid("Email address")
    assert refused(Protocol="http", Endpoint="https://example.com/hook") == invalid(
        "Endpoint must match the specified protocol")
    assert refused(Protocol="https", Endpoint="ftp://example.com/hook") == invalid(
        "Endpoint must match the specified protocol")
    assert refused(TopicArn=topic + "-gone", Protocol="email", Endpoint="a@example.com") == (
        "NotFound", "Topic does not exist", 404)  # recorded
    assert refused(TopicArn="arn:aws:sns:us-east-1:000000000000", Protocol="email", Endpoint="a@example.com") == \
        invalid("TopicArn Reason: An ARN must have at least 6 elements, not 5")  # recorded
    assert refused(Protocol="email", Endpoint="a@example.com", Attributes={"RawMessageDelivery": "wrongvalue"}) == \
        invalid("Attributes Reason: RawMessageDelivery: Invalid value [wrongvalue]. Must be true or false.")
    assert refused(Protocol="email", Endpoint="a@example.com", Attributes={"RawMessageDelivery": "true"}) == \
        invalid("Attributes Reason: Delivery protocol [email] does not support raw message delivery.")
    assert refused(Protocol="email", Endpoint="a@example.com", Attributes={"Colour": "blue"}) == \
        invalid("Attributes Reason: AttributeName")
    assert refused(Protocol="email", Endpoint="a@example.com",
                   Attributes={"FilterPolicy": '{"key":[{"suffix":100}]}'}) == \
        invalid("Attributes Reason: FilterPolicy: suffix match pattern must be a string")  # recorded
    assert refused(Protocol="email", Endpoint="a@example.com",
                   Attributes={"FilterPolicy": '{"object":{"key":["x"]}}'}) == \
        invalid("Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy")


def test_set_subscription_attributes_checks_as_aws_does(sns, topic):
    arn = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint="http://127.0.0.1:9/never",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]

    def refused(name, value):
        return error_of(sns.set_subscription_attributes, SubscriptionArn=arn, AttributeName=name, AttributeValue=value)

    # All recorded (test_validate_set_sub_attributes, test_set_subscription_filter_policy_scope).
    assert refused("Fake", "x") == invalid("AttributeName")
    assert refused("RawMessageDelivery", "test-ValUe") == invalid(
        "RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false.")
    assert refused("RawMessageDelivery", "") == invalid("RawMessageDelivery: Invalid value []. Must be true or false.")
    assert refused("RedrivePolicy", '{"deadLetterTargetArn": "not-an-arn"}') == invalid(
        "RedrivePolicy: deadLetterTargetArn is an invalid arn")
    redacted = "\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]"
    jackson = "Unexpected character ('i' (code 105)): was expecting double-quote to start field name"
    assert refused("RedrivePolicy", "{invalidjson}") == invalid(f"RedrivePolicy: failed to parse JSON. {jackson}{redacted}")
    assert refused("FilterPolicy", "{invalidjson}") == invalid(f"FilterPolicy: failed to parse JSON. {jackson}{redacted}")
    assert refused("FilterPolicyScope", "RandomValue") == invalid(
        "FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes")
    assert refused("FilterPolicy", '{"object":{"key":[{"prefix":"auto-"}]}}') == invalid(
        "Filter policy scope MessageAttributes does not support nested filter policy")
    assert refused("FilterPolicy", '{"a":["x"],"b":["x"],"c":["x"],"d":["x"],"e":["x"],"f":["x"]}') == invalid(
        "FilterPolicy: Filter policy can not have more than 5 keys")
    assert error_of(sns.set_subscription_attributes, SubscriptionArn=arn + "0", AttributeName="RawMessageDelivery",
                    AttributeValue="true") == ("NotFound", "Subscription does not exist", 404)

    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="TRUE")
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope", AttributeValue="MessageBody")
    # A scope without a policy is not shown (recorded).
    assert "FilterPolicyScope" not in sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue='{"object":{"key":[{"prefix":"auto-"}]}}')
    delivery_policy = {"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 0}}
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps(delivery_policy))
    attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert attributes["RawMessageDelivery"] == "true"
    assert attributes["FilterPolicyScope"] == "MessageBody"
    assert json.loads(attributes["FilterPolicy"]) == {"object": {"key": [{"prefix": "auto-"}]}}
    assert json.loads(attributes["DeliveryPolicy"]) == delivery_policy
    assert json.loads(attributes["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 0
    # Back to the attribute scope, the nested policy no longer fits.
    assert refused("FilterPolicyScope", "MessageAttributes") == invalid(
        "Filter policy scope MessageAttributes does not support nested filter policy")
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy", AttributeValue="")
    assert "FilterPolicy" not in sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


def test_a_webhook_confirms_with_the_token_it_receives_and_unsubscribing_can_be_undone(sns, topic):
    with webhook(confirm=False) as hook:
        assert sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)["SubscriptionArn"] == \
            "pending confirmation"
        headers, body = hook.wait_for(of_type("SubscriptionConfirmation"))
        confirmation = json.loads(body)
        assert confirmation["TopicArn"] == topic and len(confirmation["Token"]) == 288
        # Nothing is delivered to a pending subscription.
        sns.publish(TopicArn=topic, Message="before confirming")

        arn = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"]
        assert arn.startswith(topic + ":")
        # Idempotent (recorded: confirming again answers the same ARN).
        assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == arn
        attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        assert (attributes["PendingConfirmation"], attributes["ConfirmationWasAuthenticated"]) == ("false", "true")
        assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [arn]
        assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsConfirmed"] == "1"

        sns.publish(TopicArn=topic, Message="after confirming")
        hook.wait_for(notification_with("after confirming"))
        assert not [b for h, b in hook.received("Notification") if json.loads(b)["Message"] == "before confirming"]

        sns.unsubscribe(SubscriptionArn=arn)
        sns.unsubscribe(SubscriptionArn=arn)  # recorded: idempotent
        headers, body = hook.wait_for(of_type("UnsubscribeConfirmation"))
        goodbye = json.loads(body)
        assert headers["x-amz-sns-subscription-arn"] == arn
        assert goodbye["Message"] == (f"You have chosen to deactivate subscription {arn}.\nTo cancel this operation "
                                      f"and restore the subscription, visit the SubscribeURL included in this message.")
        attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        assert (attributes["SubscriptionsConfirmed"], attributes["SubscriptionsDeleted"]) == ("0", "1")
        assert error_of(sns.get_subscription_attributes, SubscriptionArn=arn) == (
            "NotFound", "Subscription does not exist", 404)

        # The UnsubscribeConfirmation's token restores the subscription, confirmed, same ARN.
        assert sns.confirm_subscription(TopicArn=topic, Token=goodbye["Token"])["SubscriptionArn"] == arn
        sns.publish(TopicArn=topic, Message="restored")
        hook.wait_for(notification_with("restored"))


def test_confirm_subscription_refusals(sns, topic):
    token = "51b2ff3edb475b7d" * 18
    assert error_of(sns.confirm_subscription, TopicArn=topic, Token="randomtoken") == (
        "InvalidParameter", "Invalid token", 400)  # recorded
    assert error_of(sns.confirm_subscription, TopicArn=topic, Token=token) == invalid("Token")  # recorded
    assert error_of(sns.confirm_subscription, TopicArn=topic[:-1] + "i", Token=token) == invalid("Token")  # recorded
    assert error_of(sns.confirm_subscription, TopicArn="not-an-arn", Token=token) == invalid("Topic")
    assert error_of(sns.confirm_subscription, TopicArn=topic.replace(REGION, "eu-west-1"), Token=token) == \
        invalid("Topic")  # recorded


def test_unsubscribe_refusals(sns, topic):
    assert error_of(sns.unsubscribe, SubscriptionArn="randomstring") == invalid(
        "SubscriptionArn Reason: An ARN must have at least 6 elements, not 1")  # recorded
    assert error_of(sns.unsubscribe, SubscriptionArn="arn:aws:sns:us-east-1:000000000000") == invalid(
        "SubscriptionArn Reason: An ARN must have at least 6 elements, not 5")  # recorded
    assert error_of(sns.unsubscribe, SubscriptionArn=topic) == invalid("SubscriptionId")  # recorded
    assert error_of(sns.unsubscribe, SubscriptionArn="") == invalid(
        "SubscriptionArn Reason: no value for required parameter")  # recorded
    sns.unsubscribe(SubscriptionArn=f"{topic}:00000000-0000-0000-0000-000000000000")  # recorded: no error


def test_list_subscriptions_pages_by_100(sns, topic):
    addresses = [f"user{i}@example.com" for i in range(101)]
    for address in addresses:
        sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)
    first = sns.list_subscriptions_by_topic(TopicArn=topic)
    assert len(first["Subscriptions"]) == 100 and first["NextToken"]
    second = sns.list_subscriptions_by_topic(TopicArn=topic, NextToken=first["NextToken"])
    assert "NextToken" not in second
    listed = [s["Endpoint"] for s in first["Subscriptions"] + second["Subscriptions"]]
    assert sorted(listed) == sorted(addresses)
    everything, token = [], None
    while True:
        page = sns.list_subscriptions(**({"NextToken": token} if token else {}))
        everything += [s["Endpoint"] for s in page["Subscriptions"] if s["TopicArn"] == topic]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(everything) == sorted(addresses)
    # A token is tied to its listing.
    assert error_of(sns.list_subscriptions, NextToken=first["NextToken"]) == invalid("NextToken")
    sns.delete_topic(TopicArn=topic)


# -- publishing ------------------------------------------------------------------------------------

def test_publish_answers_a_message_id(sns, topic):
    answer = sns.publish(TopicArn=topic, Message="hello", Subject="Greeting",
                         MessageAttributes={"n": {"DataType": "Number", "StringValue": "1"}})
    assert len(answer["MessageId"]) == 36
    assert "MessageId" in sns.publish(TargetArn=topic, Message="by TargetArn")  # recorded: TargetArn works too


def test_publish_refusals(sns, topic):
    def refused(**request):
        return error_of(sns.publish, **request)

    assert refused(TopicArn="randomstring", Message="m") == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 1")  # recorded
    assert refused(TopicArn="randomstring:1", Message="m") == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 2")  # recorded
    assert refused(TopicArn="", Message="m") == invalid(
        "TopicArn Reason: An ARN must have at least 6 elements, not 1")  # recorded
    assert refused(TopicArn=topic + "-fake", Message="m") == ("NotFound", "Topic does not exist", 404)  # recorded
    assert refused(TopicArn=topic.replace(REGION, "eu-west-1"), Message="m") == invalid("TopicArn")  # recorded
    assert refused(Message="m") == invalid("TopicArn or TargetArn Reason: no value for required parameter")
    assert refused(TopicArn=topic, Message="") == invalid("Empty message")  # recorded
    assert refused(TopicArn=topic, Message="m", Subject="") == invalid("Subject")  # recorded
    assert refused(TopicArn=topic, Message="m", Subject="two\nlines") == invalid("Subject")
    assert refused(TopicArn=topic, Message="m", Subject="x" * 101) == invalid("Subject")
    assert "MessageId" in sns.publish(TopicArn=topic, Message="m", Subject="x" * 100)
    assert refused(TopicArn=topic, Message="x" * 262_145) == invalid("Message too long")  # recorded
    assert refused(TopicArn=topic, Message="x" * 262_000, MessageAttributes={
        "big": {"DataType": "String", "StringValue": "y" * 200}}) == invalid("Message too long")  # recorded
    assert "MessageId" in sns.publish(TopicArn=topic, Message="x" * 262_144)
    assert refused(TopicArn=topic, Message='{"other": "x"}', MessageStructure="json") == invalid(
        "Message Structure - No default entry in JSON message body")  # recorded
    assert refused(TopicArn=topic, Message="not json", MessageStructure="json") == invalid(
        "Message Structure - JSON message body failed to parse")  # recorded
    assert refused(TopicArn=topic, Message='{"default": 1}', MessageStructure="json") == invalid(
        "Message Structure - No default entry in JSON message body")  # recorded: not a string
    assert refused(TopicArn=topic, Message="m", MessageDeduplicationId="d") == invalid(
        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid "
        "for this topic type")  # recorded
    assert refused(TargetArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:endpoint/GCM/app/1", Message="m") == invalid(
        "TargetArn Reason: No endpoint found for the target arn specified")  # recorded


@pytest.mark.parametrize(("attributes", "message"), [
    # All recorded (test_empty_or_wrong_message_attributes, test_message_attributes_prefixes).
    ({"attr1": {"DataType": "String", "StringValue": ""}},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."),
    ({"attr1": {"DataType": "String"}},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'String'."),
    ({"attr1": {"DataType": "Binary", "BinaryValue": b""}},
     "The message attribute 'attr1' must contain non-empty message attribute value for message attribute type 'Binary'."),
    ({"attr1": {"DataType": "String", "BinaryValue": b"\x02"}},
     "The message attribute 'attr1' with type 'String' must use field 'String'."),
    ({"attr1": {"DataType": "Number", "BinaryValue": b"\x02"}},
     "The message attribute 'attr1' with type 'Number' must use field 'String'."),
    ({"attr1": {"DataType": "Binary", "StringValue": "x"}},
     "The message attribute 'attr1' with type 'Binary' must use field 'Binary'."),
    ({"attr1": {"DataType": "Stringy", "StringValue": "x"}},
     "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"attr1": {"DataType": "String.", "StringValue": "x"}},
     "The message attribute 'attr1' has an invalid message attribute type, the set of supported type prefixes is "
     "Binary, Number, and String."),
    ({"a" * 256: {"DataType": "String", "StringValue": "x"}},
     "Length of message attribute name must be less than 256 bytes."),
    ({"attr^1": {"DataType": "String", "StringValue": "x"}},
     "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. Can only include "
     "alphanumeric characters, hyphens, underscores, or dots."),
    ({".attr": {"DataType": "String", "StringValue": "x"}},
     "Invalid message attribute name starting with character '.' was found."),
    ({"attr.": {"DataType": "String", "StringValue": "x"}},
     "Invalid message attribute name ending with character '.' was found."),
    ({"at..tr": {"DataType": "String", "StringValue": "x"}},
     "Message attribute name can not have successive '.' character."),
    ({"price": {"DataType": "Number", "StringValue": "cheap"}},
     "Could not cast message attribute 'price' value to number."),
])
def test_message_attribute_refusals(raw_sns, topic, attributes, message):
    assert error_of(raw_sns.publish, TopicArn=topic, Message="m", MessageAttributes=attributes) == (
        "ParameterValueInvalid", message, 400)
    assert error_of(raw_sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m", "MessageAttributes": attributes}]) == ("ParameterValueInvalid", message, 400)


def test_custom_attribute_types_are_accepted(sns, topic):
    assert "MessageId" in sns.publish(TopicArn=topic, Message="m", MessageAttributes={
        "a": {"DataType": "String.custom", "StringValue": "x"},
        "b": {"DataType": "Number.float", "StringValue": "1.5"},
        "c": {"DataType": "Binary.gif", "BinaryValue": b"GIF89a"},
        "d": {"DataType": "String.Array", "StringValue": '["x", 1, true, null]'}})


def test_a_missing_data_type_is_a_validation_error_naming_its_place(raw_sns, topic):
    expected = ("ValidationError", "1 validation error detected: Value null at 'messageAttributes.attr1.member.dataType' "
                "failed to satisfy constraint: Member must not be null", 400)  # recorded
    assert error_of(raw_sns.publish, TopicArn=topic, Message="m",
                    MessageAttributes={"attr1": {"StringValue": "x"}}) == expected
    batch = error_of(raw_sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m", "MessageAttributes": {"attr1": {"StringValue": "x"}}}])
    assert batch == ("ValidationError", "1 validation error detected: Value null at 'publishBatchRequestEntries.1."
                     "member.messageAttributes.attr1.member.dataType' failed to satisfy constraint: Member must not "
                     "be null", 400)  # recorded


def test_publish_batch_answers_per_entry(sns, topic):
    answer = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "one"}, {"Id": "2", "Message": "two", "Subject": ""},
        {"Id": "3", "Message": '{"default": "three"}', "MessageStructure": "json"}])
    assert [s["Id"] for s in answer["Successful"]] == ["1", "3"]
    assert answer["Failed"] == [{"Id": "2", "Code": "InvalidParameter", "Message": "Invalid parameter: Subject",
                                 "SenderFault": True}]


def test_publish_batch_refusals(sns, raw_sns, topic):
    entries = [{"Id": str(i), "Message": "m"} for i in range(11)]
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=entries) == (
        "TooManyEntriesInBatchRequest", "The batch request contains more entries than permissible.", 400)  # recorded
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "a"}, {"Id": "1", "Message": "b"}]) == (
        "BatchEntryIdsNotDistinct", "Two or more batch entries in the request have the same Id.", 400)  # recorded
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a b", "Message": "m"}]) == (
        "InvalidBatchEntryId", "The Id of a batch entry in the batch request contains an impermissible character: a b", 400)
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "x" * 200_000}, {"Id": "2", "Message": "x" * 100_000}]) == (
        "BatchRequestTooLong", "The length of all the messages put together is more than the limit.", 400)  # recorded
    assert error_of(sns.publish_batch, TopicArn=topic + "-gone", PublishBatchRequestEntries=[
        {"Id": "1", "Message": "m"}]) == ("NotFound", "Topic does not exist", 404)  # recorded
    assert error_of(sns.publish_batch, TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "1", "Message": "{}", "MessageStructure": "json"}]) == invalid(
        "Message Structure - No default entry in JSON message body")  # recorded


def test_publish_fans_out_through_filter_policies(sns, topic):
    with webhook(confirm=False) as hook:
        for name, policy in (("all", None), ("big", '{"size":[{"numeric":[">",100]}]}'),
                             ("body", '{"job":{"status":["Failed"]}}')):
            attributes = {} if policy is None else {"FilterPolicy": policy}
            if name == "body":
                attributes["FilterPolicyScope"] = "MessageBody"
            sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=f"{hook.url}/{name}", Attributes=attributes)
        for _, body in hook.wait_count(of_type("SubscriptionConfirmation"), 3):
            sns.confirm_subscription(TopicArn=topic, Token=json.loads(body)["Token"])
        by_path = {}
        sns.publish(TopicArn=topic, Message="small", MessageAttributes={"size": {"DataType": "Number", "StringValue": "5"}})
        sns.publish(TopicArn=topic, Message="large", MessageAttributes={"size": {"DataType": "Number", "StringValue": "500"}})
        sns.publish(TopicArn=topic, Message='{"job": {"status": "Failed"}}')
        hook.wait_count(of_type("Notification"), 3 + 1 + 1)
        with hook.arrived:
            for path, headers, body in hook.posts:
                if headers.get("x-amz-sns-message-type") == "Notification":
                    by_path.setdefault(path.rsplit("/", 1)[-1], []).append(json.loads(body)["Message"])
        assert sorted(by_path["all"]) == sorted(["small", "large", '{"job": {"status": "Failed"}}'])
        assert by_path["big"] == ["large"]
        assert by_path["body"] == ['{"job": {"status": "Failed"}}']


# -- tags ------------------------------------------------------------------------------------------

def test_tags(sns, topic):
    assert error_of(sns.tag_resource, ResourceArn=topic, Tags=[
        {"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}, {"Key": "k2", "Value": "v2"}]) == invalid(
        "Duplicated keys are not allowed.")  # recorded
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [
        {"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}]
    sns.untag_resource(ResourceArn=topic, TagKeys=["k1"])
    sns.tag_resource(ResourceArn=topic, Tags=[{"Key": "k2", "Value": "v2b"}])
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "k2", "Value": "v2b"}]  # recorded
    too_many = [{"Key": f"tag_key_{i}", "Value": "v"} for i in range(50)]
    assert error_of(sns.tag_resource, ResourceArn=topic, Tags=too_many) == (
        "TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded", 400)
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "k2", "Value": "v2b"}]
    for call, request in ((sns.tag_resource, {"Tags": [{"Key": "a", "Value": "b"}]}),
                          (sns.untag_resource, {"TagKeys": ["a"]}), (sns.list_tags_for_resource, {})):
        assert error_of(call, ResourceArn=topic + "-gone", **request) == (
            "ResourceNotFound", "Resource does not exist", 404)


def test_a_topic_recreated_after_deletion_has_only_its_new_tags(sns, unique):
    name = f"retag-{unique}"
    arn = sns.create_topic(Name=name, Tags=[{"Key": "Name", "Value": "pqr"}])["TopicArn"]
    sns.delete_topic(TopicArn=arn)
    assert sns.create_topic(Name=name, Tags=[{"Key": "Name", "Value": "abc"}])["TopicArn"] == arn  # recorded
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "Name", "Value": "abc"}]


# -- the aws CLI -----------------------------------------------------------------------------------

def test_the_aws_cli(aws, unique):
    arn = aws.json("sns", "create-topic", "--name", f"cli-{unique}")["TopicArn"]
    assert arn == topic_arn(f"cli-{unique}")
    assert arn in [t["TopicArn"] for t in aws.json("sns", "list-topics")["Topics"]]
    assert aws.json("sns", "subscribe", "--topic-arn", arn, "--protocol", "email",
                    "--notification-endpoint", "ops@example.com")["SubscriptionArn"] == "pending confirmation"
    assert aws.json("sns", "publish", "--topic-arn", arn, "--message", "hello", "--subject", "Hi",
                    "--message-attributes", '{"n":{"DataType":"Number","StringValue":"3"}}')["MessageId"]
    failed = aws("sns", "publish", "--topic-arn", arn + "-gone", "--message", "x", check=False)
    assert failed.returncode != 0
    assert "An error occurred (NotFound) when calling the Publish operation: Topic does not exist" in failed.stderr
    aws("sns", "delete-topic", "--topic-arn", arn)
