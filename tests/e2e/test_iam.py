"""IAM: sagewatch has none, and says so the way AWS refuses a caller without IAM permissions
(the SageMaker SDK v3's role check goes on with a warning on AccessDenied)."""

from __future__ import annotations

import pytest

from ..server import make_client
from .helpers import error_of


@pytest.fixture(scope="module")
def iam(server):
    return make_client("iam", server.endpoint)


def test_get_role_is_access_denied(iam):
    code, message, status = error_of(iam.get_role, RoleName="SageMakerRole")
    assert (code, status) == ("AccessDenied", 403)
    assert message.startswith("User: arn:aws:iam::000000000000:root is not authorized to perform: iam:GetRole")


def test_simulate_principal_policy_is_access_denied(iam):
    code, _, status = error_of(
        iam.simulate_principal_policy,
        PolicySourceArn="arn:aws:iam::000000000000:role/SageMakerRole", ActionNames=["s3:GetObject"])
    assert (code, status) == ("AccessDenied", 403)


def test_other_operations_are_not_implemented(iam):
    code, _, status = error_of(iam.list_roles)
    assert status == 501
