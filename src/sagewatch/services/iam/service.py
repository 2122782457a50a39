"""AWS IAM as sagewatch has it: none. Every IAM call is refused the way AWS refuses a caller
without IAM permissions, AccessDenied (HTTP 403, Sender), so that clients which probe IAM and
proceed when they may not look (the SageMaker Python SDK v3 validates a training role with
SimulatePrincipalPolicy and GetRole, and goes on with a warning on AccessDenied:
sagemaker/core/helper/iam_role_resolver.py _evaluate_permissions and _role_trusts_service) work
unchanged, while anything that truly needs IAM learns it plainly.

Message wording: AWS's "User: <arn> is not authorized to perform: iam:<Action> on resource: <arn>"
(IAM User Guide, "Troubleshoot access denied error messages").
"""

from __future__ import annotations

from ... import arns
from ..base import Service
from ..errors import AWSError


class IAMService(Service):
    model_name = "iam"

    def __init__(self, *, account_id: str) -> None:
        self.account_id = account_id

    def _denied(self, action: str, resource: str) -> AWSError:
        caller = arns.account_root(self.account_id)
        return AWSError("AccessDenied",
                        f"User: {caller} is not authorized to perform: iam:{action} on resource: "
                        f"{resource} (sagewatch has no IAM)", status=403, sender_fault=True)

    def simulate_principal_policy(self, PolicySourceArn, ActionNames, PolicyInputList=None,
                                  PermissionsBoundaryPolicyInputList=None, PolicyExclusionList=None,
                                  ResourceArns=None, ResourcePolicy=None, ResourceOwner=None,
                                  CallerArn=None, ContextEntries=None, ResourceHandlingOption=None,
                                  MaxItems=None, Marker=None):
        raise self._denied("SimulatePrincipalPolicy", PolicySourceArn)

    def get_role(self, RoleName):
        raise self._denied("GetRole", f"role {RoleName}")
