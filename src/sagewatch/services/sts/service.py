"""AWS STS, the one operation SDKs need of it: GetCallerIdentity (the SageMaker Python SDK asks
it for the account id to name its default bucket, ``sagemaker-<region>-<account>``).

sagewatch has no IAM: every caller is the account's root user, whose identity AWS reports with
the account id as UserId and ``arn:aws:iam::<account>:root`` as Arn (IAM User Guide, "Policy
variables", Principal table: "AWS account root user — aws:userid: account ID"; STS API reference,
GetCallerIdentity).
"""

from __future__ import annotations

from ... import arns
from ..base import Service


class STSService(Service):
    model_name = "sts"

    def __init__(self, *, account_id: str) -> None:
        self.account_id = account_id

    def get_caller_identity(self) -> dict:
        return {
            "UserId": self.account_id,
            "Account": self.account_id,
            "Arn": arns.account_root(self.account_id),
        }
