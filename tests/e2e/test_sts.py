"""STS GetCallerIdentity through boto3 and the aws CLI (query protocol): every caller is the
account's root user (services/sts/service.py)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ..server import make_client


def test_get_caller_identity_names_the_account_root(server):
    identity = make_client("sts", server.endpoint).get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["UserId"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_the_aws_cli_reads_it_too(aws):
    assert aws.json("sts", "get-caller-identity") == {
        "UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}


def test_an_sts_operation_sagewatch_does_not_serve_is_501(server):
    with pytest.raises(ClientError) as raised:
        make_client("sts", server.endpoint).get_session_token()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert raised.value.response["Error"]["Code"] == "NotImplemented"
