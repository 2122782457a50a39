"""A real HTTP listener for the SNS benchmarks: what an SNS http subscriber runs.

One asyncio server on a free loopback port, in a thread of its own, speaking HTTP/1.1 with
keep-alive (a sender that reuses connections expects it). It is written for speed on purpose: a
thread-per-connection ``http.server`` spends ~0.5 ms of Python per request, so 100 notifications
arriving at once would queue behind the listener itself and the benchmark would time the
listener, not the sender. Its own CPU time is measured (``cpu_s``, the loop thread's, when it
stops): about 0.1-0.2 ms per POST on the 2-core benchmark machine.

Every path is its own endpoint (``/hook/000`` ... ``/hook/099``): a topic's subscriptions need
distinct endpoints, and paths give 100 of them on one port. Each POST is recorded with its
arrival time (``time.time()`` once its body has been read: the benchmark, the servers and this
listener share the machine's clock) and its parsed JSON body, and answered 200. A
``SubscriptionConfirmation`` is only recorded: the benchmark confirms it through the API
(ConfirmSubscription with the token).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


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
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.cpu_s = 0.0            # the loop thread's CPU time, set when it stops
        self._writers: set[asyncio.StreamWriter] = set()
        self._started = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0, backlog=1024))
        self.port = server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self.cpu_s = time.thread_time()
            server.close()
            # Open keep-alive connections are tasks waiting for a next request: closing their
            # sockets ends them (cancelling them instead makes Python 3.11's stream callback log
            # the CancelledError).
            for writer in list(self._writers):
                writer.transport.abort()
            pending = asyncio.all_tasks(self.loop)
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(server.wait_closed())
            self.loop.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("iso-8859-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    raw = b""
                    while True:
                        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                        raw += await reader.readexactly(size + 2)
                        if size == 0:
                            break
                        raw = raw[:-2]
                else:
                    raw = await reader.readexactly(int(headers.get("content-length") or 0))
                arrived = time.time()
                writer.write(_OK)
                if method == "POST":
                    self._record(target, arrived, headers, raw)
                if headers.get("connection", "").lower() == "close":
                    await writer.drain()
                    return
        finally:
            self._writers.discard(writer)
            writer.close()

    def _record(self, path: str, arrived: float, headers: dict, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {"unparsed": raw.decode("utf-8", "replace")}
        post = Post(path, arrived, headers.get("x-amz-sns-message-type", ""), body)
        with self.changed:
            self.posts.append(post)
            self.by_message_id.setdefault(body.get("MessageId"), []).append(post)
            self.notifications += body.get("Type") == "Notification"
            self.changed.notify_all()

    def __enter__(self) -> "Webhook":
        self.thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

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

