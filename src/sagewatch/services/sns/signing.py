"""The server's SNS signing identity (an RSA key and its self-signed certificate) and the
signatures of HTTP/S deliveries.

AWS signs every message it POSTs to an http/https subscription so that the endpoint can check
it came from SNS: it builds a canonical *string to sign* from some of the message's fields and
signs it with RSA (PKCS #1 v1.5), SHA-1 for ``SignatureVersion`` 1 and SHA-256 for 2; the body
carries the base64 signature and a ``SigningCertURL`` to download the certificate holding the
public key (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html;
reference §9.2). sagewatch does the same with a key pair of its own: a validator told to trust
sagewatch's certificate URL accepts its messages exactly as it accepts AWS's.

The key and certificate live in one PEM file in a directory given to ``SigningIdentity``, made on
first use. One file, written to a temporary name and then hard-linked into place (``os.link``
fails if the name exists), so two processes starting together on a fresh directory agree on one
identity: the loser of the race reads the winner's file. Two files written one after the other
could pair one process's key with the other's certificate.
"""

from __future__ import annotations

import base64
import datetime
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

IDENTITY_FILE = "sns-signing.pem"

# SignatureVersion → digest (sns-verify-signature-of-message.html: "SignatureVersion1 – Uses an
# SHA1 hash of the message. SignatureVersion2 – Uses an SHA256 hash of the message.").
# Topics default to 1 (same page: "By default, Amazon SNS topics use SignatureVersion 1").
SIGNATURE_DIGESTS = {"1": hashes.SHA1, "2": hashes.SHA256}
DEFAULT_SIGNATURE_VERSION = "1"

# The fields signed, in the order they are written: AWS's list is the fields' names sorted
# byte-wise, each written as "<name>\n<value>\n" (sns-verify-signature-of-message.html, step 3).
NOTIFICATION_SIGNED_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_SIGNED_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")

# AWS's signing certificates are RSA 2048 (SimpleNotificationService-*.pem); ours match.
KEY_BITS = 2048
# A self-signed certificate has no one to renew it: it outlives any message by far. Validators
# that check validity (aws-sns-verifier does) see it valid from an hour before it was made, so
# a clock a little behind the server's does not reject it.
CERTIFICATE_LIFETIME = datetime.timedelta(days=3650)
# The certificate names sagewatch as what it is: an SNS-compatible signer, not Amazon. The
# "AWS SNS-compatible" words let validators that look for AWS in the issuer's name (as
# aws-sns-verifier does, having no other setting) accept it once its URL is trusted.
CERTIFICATE_COMMON_NAME = "sagewatch Simple Notification Service (AWS SNS-compatible)"
CERTIFICATE_ORGANIZATION = "sagewatch"


class UnknownSignatureVersion(ValueError):
    """A SignatureVersion other than "1" or "2" (SetTopicAttributes validates it first)."""


def string_to_sign(message: Mapping[str, str]) -> str:
    """AWS's canonical string for a delivered message (a Notification, a SubscriptionConfirmation
    or an UnsubscribeConfirmation body).

    A Notification's Subject is signed only when the message has one; an empty Subject counts as
    none, as validators decide it (aws-sns-message-validator tests the value's truth), and
    ``messages`` never sends an empty one. Values are signed as they are, unescaped: the JSON
    body's escapes are undone by whoever parses it (step 1 of the same page)."""
    kind = message["Type"]
    if kind == "Notification":
        fields = [name for name in NOTIFICATION_SIGNED_FIELDS if name != "Subject" or message.get("Subject")]
    elif kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation"):
        fields = list(CONFIRMATION_SIGNED_FIELDS)
    else:
        raise ValueError(f"no string to sign for message type {kind!r}")
    return "".join(f"{name}\n{message[name]}\n" for name in fields)


class SigningIdentity:
    """The key pair and certificate that sign this server's SNS deliveries."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.path = self.directory / IDENTITY_FILE
        pem = self._read_or_create()
        self._key = serialization.load_pem_private_key(pem, password=None)
        self.certificate = x509.load_pem_x509_certificate(pem)
        self.certificate_pem = self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def certificate_file_name(self) -> str:
        """The name under which the certificate is served, in AWS's form
        ``SimpleNotificationService-<hex>.pem`` (reference §9.2 SigningCertURL). The hex is the
        certificate's own SHA-256 fingerprint (first 32 digits, AWS's length), so a new identity
        gets a new URL and a validator's cache never pairs it with an old key. Validators such as
        AWS's JavaScript sns-validator also require the ``.pem`` ending."""
        fingerprint = self.certificate.fingerprint(hashes.SHA256()).hex()[:32]
        return f"SimpleNotificationService-{fingerprint}.pem"

    def sign(self, message: Mapping[str, str], signature_version: str = DEFAULT_SIGNATURE_VERSION) -> str:
        """The base64 ``Signature`` of a message's string to sign (SHA1withRSA for version 1,
        SHA256withRSA for 2)."""
        digest = SIGNATURE_DIGESTS.get(signature_version)
        if digest is None:
            raise UnknownSignatureVersion(signature_version)
        signature = self._key.sign(string_to_sign(message).encode("utf-8"), padding.PKCS1v15(), digest())
        return base64.b64encode(signature).decode("ascii")

    def _read_or_create(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            pass
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".sns-signing-", dir=self.directory)
        try:
            # mkstemp makes the file 0600: the private key is readable by the server's user only.
            with os.fdopen(descriptor, "wb") as file:
                file.write(_new_identity_pem())
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, self.path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            os.unlink(temporary)
        return self.path.read_bytes()


def _new_identity_pem() -> bytes:
    """A fresh RSA key and a self-signed certificate for it, as one PEM text (key first)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, CERTIFICATE_COMMON_NAME),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, CERTIFICATE_ORGANIZATION),
    ])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + CERTIFICATE_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem + certificate.public_bytes(serialization.Encoding.PEM)
