"""An in-process sagewatch: the real application, its lifespan and boto3 clients, without a socket.

``InProcessSagewatch`` builds the ASGI application exactly as ``sagewatch server`` does
(``server.create_app``) on a temporary data directory, runs its lifespan (the components start,
their duties run, they stop on exit) through Starlette's ``TestClient``, and gives out boto3
clients that reach it through a botocore ``before-send`` handler: botocore builds, signs and
serializes each request as it would for the network, the handler hands the prepared request to
the ASGI application and returns its answer to botocore as the HTTP response. Everything between
the wire bytes and the disk is the real thing; only the socket and uvicorn are left out.

With a ``FakeClock`` the test owns time: ``advance``/``advance_to`` move the clock through each
moment the alarm engine has something due (as real time would pass through them) and wait until
the engine has caught up, so a test that needed a minute of sleeping runs in milliseconds and
its outcome does not depend on how busy the machine is.

Tests that need a real server process (the aws CLI, kill -9 and restart, uvicorn's own
behaviour) keep using ``tests/server.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from botocore.awsrequest import AWSResponse
from starlette.testclient import TestClient

from sagewatch.clock import SYSTEM_CLOCK, Clock
from sagewatch.config import Settings
from sagewatch.server import Sagewatch, create_app

from .server import make_client

ENDPOINT = "http://sagewatch.inprocess"


class _Body:
    """What botocore reads a response body from (the part of urllib3's response it uses)."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_):
        yield self._content


class InProcessSagewatch:
    """``with InProcessSagewatch(clock=FakeClock(t)) as app: cw = app.client("cloudwatch")``.

    ``settle_after_requests``: after each request, wait until the alarm engine has evaluated
    everything the request made due and run the actions that queued, so the next request sees
    the outcome (as if the test waited for it, without the wait)."""

    def __init__(self, data_dir: Path | None = None, clock: Clock = SYSTEM_CLOCK, *,
                 settle_after_requests: bool = False, **settings) -> None:
        self._temporary = None
        if data_dir is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="sagewatch-inprocess-")
            data_dir = Path(self._temporary.name)
        self.settings = Settings(data_dir=Path(data_dir), **settings)
        self.clock = clock
        self.settle_after_requests = settle_after_requests
        self.app = create_app(self.settings, clock)
        self._http: TestClient | None = None

    @property
    def system(self) -> Sagewatch:
        return self.app.state.system

    def __enter__(self) -> InProcessSagewatch:
        self._http = TestClient(self.app, base_url=ENDPOINT)
        self._http.__enter__()  # runs the lifespan: components start
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._http is not None:
                self._http.__exit__(*exc)  # components stop
                self._http = None
        finally:
            if self._temporary is not None:
                self._temporary.cleanup()

    # -- clients ------------------------------------------------------------------------------------

    def client(self, service: str, **config):
        """A boto3 client of ``service`` that talks to this application (no retries)."""
        return self.attach(make_client(service, ENDPOINT, **config))

    def attach(self, client):
        """Route an existing botocore client's requests to this application (e.g. a CloudWatch
        client forced onto one protocol by tests/e2e/cloudwatch_clients.py)."""
        client.meta.events.register("before-send", self._send)
        return client

    def _send(self, request, **_) -> AWSResponse:
        assert self._http is not None, "use the application inside `with`"
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {name: value.decode("latin-1") if isinstance(value, bytes) else value
                   for name, value in request.headers.items()}
        answer = self._http.request(request.method, request.url, headers=headers, content=body or b"")
        if self.settle_after_requests:
            self.settle()
        return AWSResponse(request.url, answer.status_code, dict(answer.headers.items()), _Body(answer.content))

    def run_duty(self, name: str) -> None:
        """Run one of the application's background duties now (``Lifecycle.run_now``), e.g.
        "logs.retention" or "metrics.compaction", instead of waiting for its period."""
        self.system.lifecycle.run_now(name)

    # -- time ---------------------------------------------------------------------------------------

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the alarm engine has nothing due and no action pending, and the delivery
        queue nothing due and nothing running. Twice over: an alarm action queues deliveries,
        and a delivery (an EventBridge target acting on a job) can cause evaluations."""
        for _ in range(2):
            if not self.system.alarm_engine.settle(timeout):
                raise AssertionError(f"the alarm engine did not settle within {timeout} s")
            if not self.system.delivery_queue.settle(timeout):
                raise AssertionError(f"the delivery queue did not settle within {timeout} s")

    def _next_due(self) -> float | None:
        """The next moment the alarm engine or the delivery queue has something due."""
        due = [self.system.alarm_engine.next_due(), self.system.delivery_queue.next_due()]
        return min((d for d in due if d is not None), default=None)

    def advance_to(self, moment: float) -> None:
        """Move the fake clock to ``moment``, stopping at every time the alarm engine has an
        evaluation due on the way (each minute tick, each 10-second tick, a suppression
        period's end) or the delivery queue a delivery (a retry), and letting them work there,
        as real time passing would."""
        clock = self.clock
        if not hasattr(clock, "set"):
            raise TypeError("only a FakeClock can be moved")
        self.settle()
        while True:
            due = self._next_due()
            if due is None or due > moment:
                break
            clock.set(max(due, clock.now()))
            self.settle()
        clock.set(moment)
        self.settle()

    def advance(self, seconds: float) -> None:
        self.advance_to(self.clock.now() + seconds)
