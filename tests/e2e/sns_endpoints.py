"""Real endpoints for SNS deliveries in the tests: an SMTP server (aiosmtpd), HTTP and HTTPS
listeners, and the two SNS message validators from PyPI told to trust a server's certificate URL.

Nothing here imitates sagewatch: these are what a user's side of SNS is (a mailbox, a webhook,
a validator), run in the test process.
"""

from __future__ import annotations

import base64
import datetime
import email
import email.policy
import ipaddress
import json
import re
import socket
import ssl
import threading
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aws_sns_verifier.validator as sns_verifier
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sns_message_validator import SNSMessageValidator

from sagewatch.services.sns.signing import string_to_sign

WAIT_SECONDS = 60.0


class Mailbox:
    """What a real SMTP server (aiosmtpd) received, as parsed email messages."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS) -> email.message.EmailMessage:
        with self.arrived:
            found = self.arrived.wait_for(lambda: next((m for m in self.messages if predicate(m)), None), timeout)
        assert found is not None, f"no such email; received: {[(m['To'], m['Subject']) for m in self.messages]}"
        return found

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self.arrived:
            return [m for m in self.messages if m["To"] == address]


def plain_text(message: email.message.EmailMessage) -> str:
    """The text part, with SMTP's CRLF line ends read as newlines."""
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


def first_link(text: str) -> str:
    return re.search(r"https?://\S+", text).group(0)


class Webhook:
    """A real HTTP(S) listener: keeps every POST (path, headers, body), answers with the statuses
    queued in ``answers`` (then 200), and confirms SubscriptionConfirmations by GETting their
    SubscribeURL, as an SNS endpoint does, when ``confirm`` is set."""

    def __init__(self, *, confirm: bool = True, tls: ssl.SSLContext | None = None, port: int = 0) -> None:
        self.posts: list[tuple[str, dict, bytes]] = []
        self.answers: list[int] = []
        self.confirm = confirm
        self.confirmations: list[str] = []  # the XML answers of the SubscribeURLs fetched
        self.arrived = threading.Condition()
        self.tls = tls
        self.scheme = "https" if tls else "http"
        self._port = port
        self.server: ThreadingHTTPServer | None = None
        self.connections: set = set()  # open (kept-alive) connections, closed by stop()
        self.start()

    def start(self) -> None:
        webhook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real webhooks answer

            def setup(self):
                super().setup()
                with webhook.arrived:
                    webhook.connections.add(self.connection)

            def finish(self):
                with webhook.arrived:
                    webhook.connections.discard(self.connection)
                super().finish()

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with webhook.arrived:
                    status = webhook.answers.pop(0) if webhook.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
                if status == 200 and webhook.confirm and self.headers.get("x-amz-sns-message-type") == "SubscriptionConfirmation":
                    url = json.loads(body)["SubscribeURL"]
                    with urllib.request.urlopen(url, timeout=30) as answer:
                        webhook.confirmations.append(answer.read().decode())
                with webhook.arrived:
                    webhook.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    webhook.arrived.notify_all()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        if self.tls:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self._port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._port}/sns"

    def stop(self) -> None:
        """Down: no longer listening, and the connections the server kept alive are cut."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.arrived:
            connections, self.connections = self.connections, set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def received(self, message_type: str | None = None) -> list[tuple[dict, bytes]]:
        with self.arrived:
            return [(h, b) for _, h, b in self.posts
                    if message_type is None or h.get("x-amz-sns-message-type") == message_type]

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS) -> tuple[dict, bytes]:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next(((h, b) for _, h, b in self.posts if predicate(h, b)), None), timeout)
        assert found is not None, f"no such POST; received: {[h.get('x-amz-sns-message-type') for _, h, _ in self.posts]}"
        return found

    def wait_until(self, condition, timeout: float = WAIT_SECONDS) -> list[tuple[dict, bytes]]:
        """Wait until ``condition(every POST so far as (headers, body))`` holds; those POSTs."""
        with self.arrived:
            held = self.arrived.wait_for(lambda: condition([(h, b) for _, h, b in self.posts]), timeout)
            received = [(h, b) for _, h, b in self.posts]
        assert held, f"not met after {len(received)} POSTs"
        return received

    def wait_count(self, predicate, count: int, timeout: float = WAIT_SECONDS) -> list[tuple[dict, bytes]]:
        with self.arrived:
            self.arrived.wait_for(lambda: sum(1 for _, h, b in self.posts if predicate(h, b)) >= count, timeout)
            found = [(h, b) for _, h, b in self.posts if predicate(h, b)]
        assert len(found) >= count, f"{len(found)} of {count} POSTs arrived"
        return found


def of_type(message_type: str):
    return lambda headers, body: headers.get("x-amz-sns-message-type") == message_type


def notification_with(message: str):
    return lambda headers, body: (headers.get("x-amz-sns-message-type") == "Notification"
                                  and (json.loads(body)["Message"] if headers.get("x-amz-sns-rawdelivery") != "true"
                                       else body.decode()) == message)


@contextmanager
def webhook(**options):
    hook = Webhook(**options)
    try:
        yield hook
    finally:
        hook.stop()


# -- validators ----------------------------------------------------------------------------------

def validate(body: dict, cert_url: str, topic_arn: str) -> None:
    """Check a delivered message's signature with both validators, told to trust ``cert_url``
    (aws-sns-message-validator checks SignatureVersion 1 only; aws-sns-verifier needs a Subject
    on a Notification): where neither library can, by AWS's documented procedure with the
    certificate downloaded from the SigningCertURL."""
    assert body["SigningCertURL"] == cert_url
    trusted = "^" + re.escape(cert_url) + "$"
    checked = 0
    if body["SignatureVersion"] == "1":
        SNSMessageValidator(cert_url_regex=trusted, signature_version="1").validate_message(body)
        checked += 1
    if body["Type"] != "Notification" or body.get("Subject"):
        previous = sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX
        sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX = trusted  # its one setting of trusted URLs
        try:
            sns_verifier.validate_sns_signature(body, expected_topic_arn=topic_arn, auto_confirm_subscription=False)
        finally:
            sns_verifier._DEFAULT_CERTIFICATE_URL_REGEX = previous
        checked += 1
    if not checked:
        with urllib.request.urlopen(cert_url, timeout=10) as answer:
            certificate = x509.load_pem_x509_certificate(answer.read())
        certificate.public_key().verify(base64.b64decode(body["Signature"]), string_to_sign(body).encode(),
                                        padding.PKCS1v15(), hashes.SHA256() if body["SignatureVersion"] == "2"
                                        else hashes.SHA1())


# -- TLS -----------------------------------------------------------------------------------------

def self_signed(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key: (certificate, key)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return certificate_path, key_path


def server_tls(certificate: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context
