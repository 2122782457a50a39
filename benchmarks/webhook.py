"""A real HTTP listener for the SNS benchmarks: what an SNS http subscriber runs.

One ``ThreadingHTTPServer`` on a free loopback port, HTTP/1.1 (keep-alive, as a sender that
reuses connections expects), one thread per connection. Every path is its own endpoint
(``/hook/000`` ... ``/hook/099``): a topic's subscriptions need distinct endpoints, and paths
give 100 of them on one port. Each POST is answered 200 at once and recorded with its arrival
time (``time.time()``: the benchmark, the servers and this listener share the machine's clock)
and its parsed JSON body. A ``SubscriptionConfirmation`` is only recorded: the benchmark confirms
it through the API (ConfirmSubscription with the token), off the listener's thread.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True, slots=True)
class Post:
    path: str
    arrived: float          # time.time() when the whole body had been read
    message_type: str       # the x-amz-sns-message-type header ("" when absent)
    body: dict


class Webhook:
    """Start with ``with Webhook() as hook``; ``hook.url(path)`` is an endpoint to subscribe.

    ``posts`` holds every POST in arrival order; ``by_message_id`` the same by the body's
    ``MessageId`` and ``notifications`` counts the ``Notification`` ones, so that a waiter can
    test a condition in constant time on every arrival (the lock is held while it does)."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.by_message_id: dict[str, list[Post]] = {}
        self.notifications = 0
        self.changed = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                post = Post(self.path, arrived, self.headers.get("x-amz-sns-message-type", ""), body)
                with hook.changed:
                    hook.posts.append(post)
                    hook.by_message_id.setdefault(body.get("MessageId"), []).append(post)
                    hook.notifications += body.get("Type") == "Notification"
                    hook.changed.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Webhook":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait(self, predicate, timeout: float) -> bool:
        """Wait until ``predicate(hook)`` is true (called under the lock on every arrival)."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def snapshot(self) -> list[Post]:
        with self.changed:
            return list(self.posts)


def confirm_all(sns, hook: Webhook, topic_arn: str, endpoints: list[str], timeout: float = 60) -> int:
    """Wait for the SubscriptionConfirmation of every endpoint (sagewatch POSTs one per http
    subscription) and confirm each with ConfirmSubscription. Returns how many were confirmed.
    moto confirms http subscriptions by itself and sends nothing: call this only for servers
    that send confirmations."""
    paths = {urllib.parse.urlsplit(e).path for e in endpoints}

    def confirmations(posts: list[Post]) -> dict[str, Post]:
        return {p.path: p for p in posts if p.body.get("Type") == "SubscriptionConfirmation"
                and p.body.get("TopicArn") == topic_arn and p.path in paths}

    if not hook.wait(lambda hook: len(confirmations(hook.posts)) >= len(paths), timeout):
        raise RuntimeError(f"only {len(confirmations(hook.snapshot()))} of {len(paths)} "
                           f"SubscriptionConfirmations arrived in {timeout:.0f} s")
    for post in confirmations(hook.snapshot()).values():
        sns.confirm_subscription(TopicArn=topic_arn, Token=post.body["Token"])
    return len(paths)
