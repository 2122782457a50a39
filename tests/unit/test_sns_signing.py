"""The server's SNS signing identity and AWS's string to sign (services/sns/signing.py).

Validation of whole delivered bodies by independent SNS validator libraries is in
test_sns_messages.py; here: the identity's life on disk, and the canonical strings, checked
against the field lists of https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html."""

from __future__ import annotations

import base64
import os
import stat
import threading

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sagewatch.services.sns.signing import (
    IDENTITY_FILE,
    SigningIdentity,
    UnknownSignatureVersion,
    string_to_sign,
)

NOTIFICATION = {
    "Type": "Notification",
    "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
    "Subject": "My First Message",
    "Message": "Hello world!",
    "Timestamp": "2012-05-02T00:54:06.655Z",
}
CONFIRMATION = {
    "Type": "SubscriptionConfirmation",
    "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
    "Token": "2336412f37",
    "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
    "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\n"
               "To confirm the subscription, visit the SubscribeURL included in this message.",
    "SubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f37",
    "Timestamp": "2012-04-26T20:45:04.751Z",
}


def test_a_notification_signs_its_fields_in_byte_order_subject_included():
    assert string_to_sign(NOTIFICATION) == (
        "Message\nHello world!\n"
        "MessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n"
        "Subject\nMy First Message\n"
        "Timestamp\n2012-05-02T00:54:06.655Z\n"
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
        "Type\nNotification\n"
    )


@pytest.mark.parametrize("subject", [None, ""])
def test_a_notification_without_a_subject_leaves_it_out(subject):
    message = {k: v for k, v in NOTIFICATION.items() if k != "Subject"}
    if subject is not None:
        message["Subject"] = subject
    assert "Subject" not in string_to_sign(message)
    assert string_to_sign(message).startswith("Message\nHello world!\nMessageId\n")


@pytest.mark.parametrize("kind", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_confirmations_sign_subscribe_url_and_token(kind):
    message = {**CONFIRMATION, "Type": kind}
    assert string_to_sign(message) == (
        f"Message\n{CONFIRMATION['Message']}\n"
        "MessageId\n165545c9-2a5c-472c-8df2-7ff2be2b3b1b\n"
        f"SubscribeURL\n{CONFIRMATION['SubscribeURL']}\n"
        "Timestamp\n2012-04-26T20:45:04.751Z\n"
        "Token\n2336412f37\n"
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
        f"Type\n{kind}\n"
    )


def test_unknown_message_types_have_no_string_to_sign():
    with pytest.raises(ValueError):
        string_to_sign({**NOTIFICATION, "Type": "Bogus"})


def test_the_identity_is_made_on_first_use_private_and_kept(tmp_path):
    directory = tmp_path / "signing"
    first = SigningIdentity(directory)
    path = directory / IDENTITY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(directory) == [IDENTITY_FILE]  # no temporary left behind
    again = SigningIdentity(directory)
    assert again.certificate_pem == first.certificate_pem
    assert again.certificate_file_name == first.certificate_file_name
    assert first.certificate_file_name.startswith("SimpleNotificationService-")
    assert first.certificate_file_name.endswith(".pem")
    # A signature made by one is verified with the certificate the other serves.
    signature = base64.b64decode(first.sign(NOTIFICATION, "2"))
    again.certificate.public_key().verify(signature, string_to_sign(NOTIFICATION).encode(),
                                          padding.PKCS1v15(), hashes.SHA256())


def test_processes_starting_together_agree_on_one_identity(tmp_path):
    identities: list[SigningIdentity] = []
    barrier = threading.Barrier(4)

    def start():
        barrier.wait()
        identities.append(SigningIdentity(tmp_path))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({identity.certificate_pem for identity in identities}) == 1
    assert os.listdir(tmp_path) == [IDENTITY_FILE]


def test_a_different_directory_is_a_different_identity(tmp_path):
    assert (SigningIdentity(tmp_path / "a").certificate_file_name
            != SigningIdentity(tmp_path / "b").certificate_file_name)


@pytest.mark.parametrize("version, digest", [("1", hashes.SHA1), ("2", hashes.SHA256)])
def test_signature_versions_use_sha1_and_sha256_with_rsa(tmp_path, version, digest):
    identity = SigningIdentity(tmp_path)
    signature = base64.b64decode(identity.sign(NOTIFICATION, version))
    public_key = identity.certificate.public_key()
    data = string_to_sign(NOTIFICATION).encode()
    public_key.verify(signature, data, padding.PKCS1v15(), digest())
    other = hashes.SHA256 if digest is hashes.SHA1 else hashes.SHA1
    with pytest.raises(InvalidSignature):
        public_key.verify(signature, data, padding.PKCS1v15(), other())


def test_an_unknown_signature_version_is_refused(tmp_path):
    with pytest.raises(UnknownSignatureVersion):
        SigningIdentity(tmp_path).sign(NOTIFICATION, "3")
