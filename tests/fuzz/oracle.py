"""Sending fuzz requests and judging the answers.

The rules every answer must keep, whatever was sent:

- its status is below 500, except 501 ``NotImplemented`` for an operation docs/compatibility.md
  lists as unsupported (and never 501 for one it lists as supported);
- an error is in the shape its protocol gives errors, with a code an SDK reads from the body
  (botocore's own response parsers read it: a code they fall back to the HTTP status for is
  not one), and a success is readable against the operation's output shape;
- it comes at all: no socket timeout (a hang), no dropped connection, the server still running
  (``Connection.send`` and ``ServerWatch``);
- nothing failed behind it: no traceback in the server's log (``ServerWatch.new_log``; the
  caller checks, as a background duty's failure belongs to no one request).

Keep-alive: one connection serves every request; a connection the server has closed while
idle is reopened once, transparently.
"""

from __future__ import annotations

import http.client
import re
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from botocore.parsers import ResponseParserError, create_parser

from .generate import CBOR, JSON, QUERY, FuzzRequest, Target, service_model

REQUEST_TIMEOUT_S = 30.0  # a hundred times the dearest answer here (a refused gzip bomb): a hang


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes


class Unanswered(Exception):
    """The server hung or dropped the connection instead of answering."""


class Connection:
    def __init__(self, host: str, port: int, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._http: http.client.HTTPConnection | None = None

    def send(self, request: FuzzRequest) -> Answer:
        for attempt in (1, 2):
            if self._http is None:
                self._http = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._http.request(request.method, request.path, body=request.body, headers=request.headers)
                response = self._http.getresponse()
                body = response.read()
                if response.will_close:
                    self.close()
                return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
            except socket.timeout:
                self.close()
                raise Unanswered(f"no answer within {self.timeout:.0f} s (a hang)") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as error:
                self.close()
                if attempt == 2:  # a fresh connection dropped too: the request itself did it
                    raise Unanswered(f"connection dropped without an answer: {error!r}") from None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None


# -- the rules ------------------------------------------------------------------------------------

_PROTOCOL_BY_CONTENT_TYPE = (
    ("application/x-amz-json-", JSON),
    ("application/cbor", CBOR),
    ("text/xml", QUERY),
)


def answering_protocol(answer: Answer) -> str | None:
    content_type = answer.headers.get("content-type", "")
    for prefix, protocol in _PROTOCOL_BY_CONTENT_TYPE:
        if content_type.startswith(prefix):
            return protocol
    return None


def problems(request: FuzzRequest, answer: Answer, unsupported: frozenset[str]) -> list[str]:
    """What is wrong with an answer to a request (nothing: an empty list)."""
    target = request.target
    found = []
    not_implemented = target.operation in unsupported
    if answer.status >= 500 and not (answer.status == 501 and not_implemented):
        found.append(f"HTTP {answer.status}")
    if answer.status == 501 and not not_implemented:
        found.append("501 for an operation docs/compatibility.md lists as supported")
    protocol = answering_protocol(answer)
    if protocol is None:
        return found + [f"content type {answer.headers.get('content-type')!r} is no AWS protocol's"]
    if request.routes_as_sent and protocol != target.protocol:
        found.append(f"answered in {protocol} to a {target.protocol} request")
    if answer.status >= 300:
        code = error_code(protocol, answer)
        if not code or code.isdigit():
            found.append("an error without a code an SDK can read")
        elif answer.status == 501 and code != "NotImplemented":
            found.append(f"501 with code {code[:60]!r}")
    elif protocol == target.protocol:
        try:
            _parse(protocol, answer, target.model.output_shape)
        except (ResponseParserError, ValueError, KeyError, TypeError):
            found.append(f"a success an SDK cannot read ({target.operation})")
    return found


def error_code(protocol: str, answer: Answer) -> str | None:
    """The error code botocore reads from an error answer (None: it could not read one)."""
    try:
        parsed = _parse(protocol, answer, None)
    except (ResponseParserError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return parsed.get("Error", {}).get("Code")


def _parse(protocol: str, answer: Answer, shape):
    response = {"status_code": answer.status, "headers": answer.headers, "body": answer.body}
    return create_parser(protocol).parse(response, shape)


# -- the server under test ----------------------------------------------------------------------


_FRAME = re.compile(r'File "([^"]*sagewatch/[^"]+)", line (\d+), in (\S+)')


class ServerWatch:
    """The server process: is it running, how much memory it holds, what it logged."""

    def __init__(self, pid: int, log_path: Path) -> None:
        self.pid = pid
        self.log_path = log_path
        self._log_offset = log_path.stat().st_size if log_path.exists() else 0

    def alive(self) -> bool:
        return Path(f"/proc/{self.pid}").exists() and "zombie" not in self._status().get("State", "")

    def anonymous_kib(self) -> int:
        """Resident anonymous memory (RssAnon): the heap, without the file pages SQLite's mmap
        reads map in and the kernel may drop at will."""
        return int(self._status()["RssAnon"].split()[0])

    def _status(self) -> dict[str, str]:
        try:
            lines = Path(f"/proc/{self.pid}/status").read_text().splitlines()
        except OSError:
            return {}
        return dict(line.split(":\t", 1) for line in lines if ":\t" in line)

    def new_log(self) -> str:
        """What the server logged since the last call."""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_offset)
            text = log.read()
        self._log_offset += len(text)
        return text.decode("utf-8", "replace")

    @staticmethod
    def last_failure(log: str) -> str | None:
        """'ExceptionType: message at sagewatch/path.py:line (function)' for the last traceback in
        a log: the exception and the innermost frame in sagewatch's own code (None: none)."""
        start = log.rfind("Traceback (most recent call last):")
        if start < 0:
            return None
        block = log[start:].splitlines()
        frames = _FRAME.findall("\n".join(block))
        exception = next((line for line in block[1:] if line and not line.startswith((" ", "\t"))), "?")
        if not frames:
            return exception[:300]
        path, line, function = frames[-1]
        return f"{exception[:300]} at sagewatch/{path.split('sagewatch/', 1)[-1]}:{line} ({function})"


# -- the tally ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests sent and answers got, per service and protocol, and every distinct failure."""

    statuses: Counter = field(default_factory=Counter)  # (service, protocol, class) -> count
    failures: dict[str, str] = field(default_factory=dict)  # distinct key -> first report, in order
    started: float = field(default_factory=time.monotonic)

    def record(self, target: Target, status: int | None) -> None:
        if status is None:
            group = "none"
        elif status == 501:
            group = "501"
        else:
            group = f"{status // 100}xx"
        self.statuses[(target.service, target.protocol, group)] += 1

    @property
    def sent(self) -> int:
        return sum(self.statuses.values())

    def failure(self, key: str, example: str) -> bool:
        """Note a failure; True if it is a new one."""
        if key in self.failures:
            return False
        self.failures[key] = example
        return True

    def summary(self) -> str:
        groups: dict[tuple[str, str], Counter] = {}
        for (service, protocol, group), count in self.statuses.items():
            groups.setdefault((service, protocol), Counter())[group] += count
        total = self.sent
        parts = []
        for (service, protocol), counts in sorted(groups.items()):
            detail = " ".join(f"{g} {counts[g]}" for g in ("2xx", "4xx", "501", "5xx", "none") if counts[g])
            parts.append(f"{service}/{protocol} {sum(counts.values())} ({detail})")
        fivexx = sum(c for (_, _, g), c in self.statuses.items() if g in ("5xx", "none"))
        return (f"fuzz: {total} requests in {time.monotonic() - self.started:.0f} s; "
                + "; ".join(parts)
                + f"; 5xx or no answer: {fivexx}; distinct failures: {len(self.failures)}")


def unsupported_operations(compatibility_doc: Path) -> dict[str, frozenset[str]]:
    """Per service (botocore name), the operations docs/compatibility.md marks unsupported."""
    found: dict[str, set[str]] = {}
    service = None
    for line in compatibility_doc.read_text().splitlines():
        heading = re.match(r"## .*\(`([\w-]+)`\)", line)
        if heading:
            service = heading.group(1)
            continue
        row = re.match(r"\| (\w+) \| (yes|no) \|", line)
        if row and service:
            names = found.setdefault(service, set())
            if row.group(2) == "no":
                names.add(row.group(1))
    return {service: frozenset(names) for service, names in found.items()}


def all_models_listed(unsupported: dict[str, frozenset[str]], services: tuple[str, ...]) -> None:
    for service in services:
        assert service in unsupported, f"docs/compatibility.md has no table for {service}"
        assert unsupported[service] <= set(service_model(service).operation_names)
