"""A real OAuth 2.0 token endpoint for tests (RFC 6749 §4.4, client credentials grant): an HTTP
server on a free loopback port that checks the client's id and secret (HTTP Basic, §2.3.1) and
``grant_type=client_credentials``, and answers a numbered bearer token. Every request it gets is
recorded, so a test can say what the connection sent and how often it asked."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class TokenRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]   # names lower-cased


@dataclass
class TokenEndpoint:
    client_id: str
    client_secret: str
    expires_in: int | None = 3600
    requests: list[TokenRequest] = field(default_factory=list)
    issued: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._served = threading.Condition(self._lock)
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self._answer()

            def do_PUT(self):
                self._answer()

            def do_GET(self):
                self._answer()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                url = urllib.parse.urlsplit(self.path)
                request = TokenRequest(
                    method=self.command, path=url.path,
                    query=dict(urllib.parse.parse_qsl(url.query)),
                    form=dict(urllib.parse.parse_qsl(body)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                )
                status, answer = endpoint._token_for(request)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/oauth/token"

    def _token_for(self, request: TokenRequest) -> tuple[int, dict]:
        expected = "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        grant = request.form.get("grant_type") or request.query.get("grant_type")
        with self._lock:
            self.requests.append(request)
            try:
                if request.headers.get("authorization") != expected:
                    return 401, {"error": "invalid_client"}
                if grant != "client_credentials":
                    return 400, {"error": "unsupported_grant_type"}
                self.issued += 1
                answer = {"access_token": f"token-{self.issued}", "token_type": "Bearer"}
                if self.expires_in is not None:
                    answer["expires_in"] = self.expires_in
                return 200, answer
            finally:
                self._served.notify_all()

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> None:
        """Block until the endpoint has been asked ``count`` times (a bound, not a measurement)."""
        with self._lock:
            if not self._served.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"the token endpoint got {len(self.requests)} requests, not {count}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
