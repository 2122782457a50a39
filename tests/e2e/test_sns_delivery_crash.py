"""Acknowledged SNS messages survive ``kill -9`` of the server: published while the webhook is
down, the server killed with deliveries waiting and some in flight, restarted on the same data
directory, the webhook back up: every message is delivered. Duplicates are allowed only as AWS
allows them (at-least-once: a POST sent just before the kill, not yet recorded as delivered, is
sent again; docs/notifications.md).
"""

from __future__ import annotations

import json

from ..server import ServerProcess, make_client
from .sns_endpoints import Webhook, of_type

# Retries every second, for long enough that the restart happens while they go on (AWS's limits:
# at most 100 retries, 3,600 seconds in all).
PATIENT = json.dumps({"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 1, "numRetries": 100}})
MESSAGES = 40


def test_nothing_acknowledged_is_lost_across_kill_9(tmp_path):
    hook = Webhook()
    port = int(hook.url.split(":")[2].split("/")[0])
    server = ServerProcess(tmp_path / "data").start()
    try:
        sns = make_client("sns", server.endpoint)
        topic = sns.create_topic(Name="survives")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url, Attributes={"DeliveryPolicy": PATIENT})
        hook.wait_for(of_type("SubscriptionConfirmation"))  # and confirmed: the webhook GETs its SubscribeURL
        hook.stop()  # the webhook goes down

        acknowledged = [sns.publish(TopicArn=topic, Message=f"message {n}")["MessageId"] for n in range(MESSAGES)]
        server.kill()
        server.start()  # the same data directory and port
        hook = Webhook(port=port)  # the webhook comes back

        def notified(posts) -> set[str]:
            return {json.loads(body)["MessageId"] for headers, body in posts
                    if headers.get("x-amz-sns-message-type") == "Notification"}

        posts = hook.wait_until(lambda posts: set(acknowledged) <= notified(posts), timeout=120)
        texts = {json.loads(body)["Message"] for headers, body in posts
                 if headers.get("x-amz-sns-message-type") == "Notification"}
        assert texts == {f"message {n}" for n in range(MESSAGES)}
        assert notified(posts) == set(acknowledged)
    finally:
        hook.stop()
        server.stop()
