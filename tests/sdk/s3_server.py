"""A real S3-compatible server for tests: moto's standalone server on a free local port.

moto.server.ThreadedMotoServer serves the S3 REST API (and more) over plain HTTP in a thread of
the test process; clients reach it through AWS_ENDPOINT_URL_S3, the service-specific endpoint
variable botocore reads (docs: "Service-specific endpoints", AWS SDKs and Tools reference guide).
It keeps everything in memory and accepts any credentials.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from ..server import free_port


@contextmanager
def s3_compatible_server() -> Iterator[str]:
    """Start moto's server; yield its endpoint URL; stop it on exit."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
