"""SNS delivery policies (services/sns/delivery_policy.py): AWS's four phases and defaults, the
backoff shapes' documented end points, which policy wins, and the validation SetTopicAttributes
and SetSubscriptionAttributes apply."""

from __future__ import annotations

import json

import pytest

from sagewatch.services.errors import AWSError
from sagewatch.services.sns.delivery_policy import (
    BACKOFF_FUNCTIONS,
    DEFAULT_RETRY_POLICY,
    SMTP_RETRY_POLICY,
    RetryPolicy,
    http_policy,
    parse_subscription_policy,
    parse_topic_policy,
    subscription_effective_policy,
    topic_effective_policy,
)


def test_the_default_is_three_retries_twenty_seconds_apart():
    # "By default, if the initial delivery of the message fails, Amazon SNS attempts up to three
    # retries with a delay between failed attempts set at 20 seconds." (SendMessageToHttp.retry)
    assert DEFAULT_RETRY_POLICY.schedule() == [20.0, 20.0, 20.0]
    assert DEFAULT_RETRY_POLICY.delay_before(4) is None


def test_the_four_phases_in_order():
    # AWS's example policy (sns-message-delivery-retries.html): 3 immediately, 2 one second
    # apart, 10 with exponential backoff from 1 to 60 seconds, 35 sixty seconds apart.
    policy = RetryPolicy(min_delay=1, max_delay=60, retries=50, no_delay_retries=3,
                         min_delay_retries=2, max_delay_retries=35, backoff="exponential")
    schedule = policy.schedule()
    assert len(schedule) == 50
    assert schedule[:3] == [0.0, 0.0, 0.0]
    assert schedule[3:5] == [1.0, 1.0]
    backoff = schedule[5:15]
    assert backoff[0] == 1.0 and backoff[-1] == 60.0
    assert backoff == sorted(backoff)
    assert schedule[15:] == [60.0] * 35
    assert policy.delay_before(51) is None


def test_the_documented_linear_example():
    # "set the maximum delay to 40 seconds ... the first retry after 20 seconds, the second retry
    # after 30 seconds, and the final retry after 40 seconds" (DeliveryPolicies.md)
    assert RetryPolicy(min_delay=20, max_delay=40).schedule() == [20.0, 30.0, 40.0]


@pytest.mark.parametrize("backoff", BACKOFF_FUNCTIONS)
def test_every_backoff_goes_from_the_minimum_to_the_maximum(backoff):
    # The graph's setting: 10 retries, 5 to 260 seconds.
    schedule = RetryPolicy(min_delay=5, max_delay=260, retries=10, backoff=backoff).schedule()
    assert schedule[0] == pytest.approx(5) and schedule[-1] == pytest.approx(260)
    assert schedule == sorted(schedule)


def test_the_backoff_shapes_rise_in_the_graphs_order():
    middle = {backoff: RetryPolicy(min_delay=5, max_delay=260, retries=10, backoff=backoff).schedule()[4]
              for backoff in BACKOFF_FUNCTIONS}
    assert middle["linear"] > middle["arithmetic"] > middle["geometric"] > middle["exponential"]


def test_the_smtp_policy_is_awss_fixed_one():
    schedule = SMTP_RETRY_POLICY.schedule()
    assert len(schedule) == 50 and schedule[:2] == [10.0, 10.0] and schedule[-38:] == [600.0] * 38


def test_the_subscription_policy_wins_unless_the_topic_disables_overrides():
    topic = json.dumps({"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 2},
                                 "defaultRequestPolicy": {"headerContentType": "application/json"}}})
    subscription = json.dumps({"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}})
    assert http_policy(None, None).retry == DEFAULT_RETRY_POLICY
    assert http_policy(topic, None).retry.schedule() == [2.0] * 5
    chosen = http_policy(topic, subscription)
    assert chosen.retry.schedule() == [1.0, 1.0]
    assert chosen.content_type == "application/json"  # the topic's, the subscription set none
    locked = json.loads(topic)
    locked["http"]["disableSubscriptionOverrides"] = True
    assert http_policy(json.dumps(locked), subscription).retry.schedule() == [2.0] * 5


def test_a_partial_policy_takes_the_defaults_for_the_rest():
    # AWS's own example: {"healthyRetryPolicy":{"numRetries":5}} (set-sub-attributes-delivery-policy-json)
    assert parse_subscription_policy('{"healthyRetryPolicy":{"numRetries":5}}').retry.schedule() == [20.0] * 5


def test_a_policy_as_aws_writes_it_back_is_accepted():
    stored = ('{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":20,"numRetries":5,'
              '"numMaxDelayRetries":null,"numNoDelayRetries":null,"numMinDelayRetries":null,'
              '"backoffFunction":null},"sicklyRetryPolicy":null,"throttlePolicy":null,"guaranteed":false}')
    assert parse_subscription_policy(stored).retry == RetryPolicy(min_delay=5, max_delay=20, retries=5)


def test_effective_policies_in_awss_shape():
    assert json.loads(topic_effective_policy(None)) == {"http": {
        "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                                      "numMaxDelayRetries": 0, "numNoDelayRetries": 0,
                                      "numMinDelayRetries": 0, "backoffFunction": "linear"},
        "disableSubscriptionOverrides": False,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}
    effective = json.loads(subscription_effective_policy(None, '{"healthyRetryPolicy":{"numRetries":1}}'))
    assert effective["healthyRetryPolicy"]["numRetries"] == 1 and effective["guaranteed"] is False


@pytest.mark.parametrize("parse, text, message", [
    (parse_topic_policy, '{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}',
     "http.defaultHealthyRetryPolicy.numRetries must be less than or equal to 100"),
    (parse_topic_policy, '{"throttlePolicy":{"maxReceivesPerSecond":1}}', "Unexpected JSON member: throttlePolicy"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":5}}',
     "healthyRetryPolicy.minDelayTarget must be greater than or equal to 1"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":3}}',
     "healthyRetryPolicy.maxDelayTarget must be greater than or equal to minDelayTarget"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"maxDelayTarget":3601}}',
     "healthyRetryPolicy.maxDelayTarget must be less than or equal to 3600"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"numRetries":3,"numNoDelayRetries":2,"numMaxDelayRetries":2}}',
     "numRetries must be greater than or equal to total of numMinDelayRetries"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"backoffFunction":"cubic"}}',
     "healthyRetryPolicy.backoffFunction must be one of"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"numRetries":"3"}}', "numRetries must be an integer"),
    (parse_subscription_policy, '{"throttlePolicy":{"maxReceivesPerSecond":0}}',
     "throttlePolicy.maxReceivesPerSecond must be greater than or equal to 1"),
    (parse_subscription_policy, '{"healthyRetryPolicy":{"minDelayTarget":3600,"maxDelayTarget":3600,"numRetries":2}}',
     "total retry time of 7200 seconds is greater than 3600 seconds"),
    (parse_subscription_policy, "not json", "failed to parse JSON"),
    (parse_subscription_policy, "[]", "failed to parse JSON"),
])
def test_bad_policies_are_invalid_parameters(parse, text, message):
    with pytest.raises(AWSError) as raised:
        parse(text)
    assert raised.value.code == "InvalidParameter"
    assert raised.value.message.startswith("Invalid parameter: DeliveryPolicy: ")
    assert message in raised.value.message
