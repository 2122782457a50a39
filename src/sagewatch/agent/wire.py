"""AWS JSON requests over plain HTTP, SigV4-signed, without botocore (it costs ~0.5 s to import).

Two protocols are spoken, each as botocore sends it:

- CloudWatch Logs, JSON 1.1: ``X-Amz-Target: Logs_20140328.<Op>``,
  ``Content-Type: application/x-amz-json-1.1`` (botocore logs model metadata: ``jsonVersion
  1.1``, ``targetPrefix Logs_20140328``; aws-behaviour.md §0 item 10);
- CloudWatch, JSON 1.0: ``X-Amz-Target: GraniteServiceVersion20100801.<Op>``,
  ``Content-Type: application/x-amz-json-1.0`` and ``x-amzn-query-mode: true``, because the
  service is ``awsQueryCompatible`` (aws-behaviour.md, protocols table, CloudWatch row).

Requests are signed with SigV4 for real (credential scope ``<date>/<region>/<service>/
aws4_request``, services ``logs`` and ``monitoring``) with the credentials in the environment
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), or placeholder ones when there
are none. sagewatch does not check signatures, but its gateway routes query-form requests by the
credential scope, and a real signature lets the agent write to AWS CloudWatch itself. Hashing a
1 MB batch costs about half a millisecond.

One persistent connection; any failure closes it and the next request opens a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import os
import time
import urllib.parse
from dataclasses import dataclass

import orjson

LOGS = ("logs", "Logs_20140328", "application/x-amz-json-1.1", {})
CLOUDWATCH = ("monitoring", "GraniteServiceVersion20100801", "application/x-amz-json-1.0",
              {"x-amzn-query-mode": "true"})

REQUEST_TIMEOUT_SECONDS = 30.0


class Unreachable(Exception):
    """No answer: the connection failed, broke, or timed out. The request may have been applied."""


@dataclass
class Answer:
    status: int
    body: dict

    @property
    def error_code(self) -> str | None:
        """The error's code (``__type`` without its namespace), None for a success."""
        if self.status < 300:
            return None
        code = str(self.body.get("__type") or self.body.get("code") or f"HTTP{self.status}")
        return code.rsplit("#", 1)[-1]

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("Message") or "")


class Credentials:
    def __init__(self, environ=os.environ) -> None:
        self.access_key = environ.get("AWS_ACCESS_KEY_ID") or "sagewatch-agent"
        self.secret_key = environ.get("AWS_SECRET_ACCESS_KEY") or "sagewatch-agent"
        self.token = environ.get("AWS_SESSION_TOKEN")


class Signer:
    """SigV4 for POST / with a JSON body (the AWS General Reference, "Create a signed AWS API
    request"; botocore ``auth.SigV4Auth``)."""

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region
        self._keys: dict[tuple[str, str], bytes] = {}

    def headers(self, service: str, host: str, headers: dict[str, str], body: bytes,
                now: float | None = None) -> dict[str, str]:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        day = stamp[:8]
        signed = {k.lower(): v.strip() for k, v in headers.items()}
        signed["host"] = host
        signed["x-amz-date"] = stamp
        if self.credentials.token:
            signed["x-amz-security-token"] = self.credentials.token
        names = sorted(signed)
        canonical = "\n".join([
            "POST", "/", "",
            *(f"{name}:{signed[name]}" for name in names), "",
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ])
        scope = f"{day}/{self.region}/{service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._key(day, service), to_sign.encode(), hashlib.sha256).hexdigest()
        result = dict(headers)
        result["Host"] = host
        result["X-Amz-Date"] = stamp
        if self.credentials.token:
            result["X-Amz-Security-Token"] = self.credentials.token
        result["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return result

    def _key(self, day: str, service: str) -> bytes:
        key = self._keys.get((day, service))
        if key is None:
            key = ("AWS4" + self.credentials.secret_key).encode()
            for part in (day, self.region, service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {(day, service): key, **{k: v for k, v in self._keys.items() if k[0] == day}}
        return key


class Client:
    def __init__(self, endpoint: str, region: str, credentials: Credentials | None = None,
                 timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        url = urllib.parse.urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) endpoint: {endpoint!r}")
        self.https = url.scheme == "https"
        self.hostname = url.hostname
        default_port = 443 if self.https else 80
        self.port = url.port or default_port
        self.host = url.netloc if self.port != default_port else url.hostname
        self.timeout = timeout
        self.signer = Signer(credentials or Credentials(), region)
        self._connection: http.client.HTTPConnection | None = None

    def call(self, protocol: tuple, operation: str, params: dict | bytes) -> Answer:
        """``params`` as a dict, or already serialized as JSON bytes."""
        service, prefix, content_type, extra = protocol
        body = params if isinstance(params, bytes) else orjson.dumps(params)
        headers = self.signer.headers(service, self.host, {
            "Content-Type": content_type, "X-Amz-Target": f"{prefix}.{operation}", **extra,
        }, body)
        try:
            connection = self._connection or self._connect()
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            data = response.read()
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise Unreachable(f"{type(error).__name__}: {error}") from None
        try:
            parsed = orjson.loads(data) if data else {}
        except orjson.JSONDecodeError:
            parsed = {"message": data[:200].decode("utf-8", "replace")}
        return Answer(response.status, parsed if isinstance(parsed, dict) else {})

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self._connection = kind(self.hostname, self.port, timeout=self.timeout)
        return self._connection
