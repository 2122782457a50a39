"""A real HTTP endpoint for EventBridge API destinations in the tests: an HTTP server on a free
loopback port that records every request (method, path, query, headers, body) *before* it
answers, so a delivery the server saw succeed is already recorded, and answers the statuses
queued in ``answers`` (then 200)."""

from __future__ import annotations

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ApiEndpoint:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []  # (status, headers) for the next requests
        self.arrived = threading.Condition()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urllib.parse.urlsplit(self.path)
                with endpoint.arrived:
                    status, headers = endpoint.answers.pop(0) if endpoint.answers else (200, {})
                    endpoint.requests.append({
                        "method": self.command, "path": url.path, "query": dict(urllib.parse.parse_qsl(url.query)),
                        "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body.decode(),
                    })
                    endpoint.arrived.notify_all()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_PUT = do_GET = do_DELETE = do_PATCH = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_count(self, count: int, timeout: float = 60.0) -> list[dict]:
        """Every request so far, once there are ``count`` (a bound, not a measurement)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            assert len(self.requests) >= count, f"{len(self.requests)} of {count} requests arrived"
            return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
