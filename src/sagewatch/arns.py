"""Amazon Resource Names: the one place sagewatch builds and reads them.

The format (AWS General Reference, "Amazon Resource Names (ARNs)"):
``arn:partition:service:region:account-id:resource``, where the resource is ``resource-id``,
``resource-type/resource-id`` or ``resource-type:resource-id``; some ARNs leave the Region or the
account empty. The partition follows from the Region (``aws``, ``aws-cn`` for China,
``aws-us-gov`` for GovCloud, ...): botocore's partition table says which, and a Region it does
not know (a private name such as ``local``) is taken to be in ``aws``.

A resource id may itself contain ``:`` and ``/`` (``log-group:/aws/sagemaker/TrainingJobs``,
``log-group:g:log-stream:s``), so only the first five ``:`` separate fields.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

DEFAULT_PARTITION = "aws"


class InvalidArn(ValueError):
    """Text that is not an ARN (the caller words the AWS error its service answers)."""


@dataclass(frozen=True, slots=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the fifth ":"

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str | None:
        """``training-job`` of ``training-job/name``, ``alarm`` of ``alarm:name``; None for a
        resource of one part (an S3 bucket). The type ends at the first ``/`` or ``:``."""
        cut = _first_separator(self.resource)
        return None if cut < 0 else self.resource[:cut]

    @property
    def resource_id(self) -> str:
        """The resource after its type and separator (all of it when it has no type)."""
        cut = _first_separator(self.resource)
        return self.resource if cut < 0 else self.resource[cut + 1:]


def _first_separator(resource: str) -> int:
    positions = [i for i in (resource.find("/"), resource.find(":")) if i >= 0]
    return min(positions) if positions else -1


@functools.cache
def partition_of(region: str) -> str:
    """The partition a Region belongs to, as botocore's partition table places it."""
    import botocore.session  # only when first needed: lightweight users of this module stay light

    try:
        return botocore.session.get_session().get_partition_for_region(region)
    except Exception:  # UnknownRegionError: a private Region name
        return DEFAULT_PARTITION


def build(service: str, resource: str, region: str, account: str) -> str:
    """``arn:<partition of region>:<service>:<region>:<account>:<resource>``."""
    return str(Arn(partition_of(region) if region else DEFAULT_PARTITION, service, region, account, resource))


def parse(text: str) -> Arn:
    """The fields of an ARN; InvalidArn unless it is ``arn:`` and six fields with a partition, a
    service and a resource (Region and account may be empty, as for S3 buckets)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        raise InvalidArn(text)
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


def parse_or_none(text: str) -> Arn | None:
    """The fields of an ARN, or None for text that is not one."""
    try:
        return parse(text)
    except InvalidArn:
        return None


def local_resource(text: str, service: str, prefix: str, region: str, account: str) -> str | None:
    """What follows ``prefix`` in the resource of an ARN of ``service`` in this Region and
    account (and the Region's partition): ``name`` of ``arn:aws:cloudwatch:<region>:<account>:
    alarm:name`` with prefix ``alarm:``. None when ``text`` names nothing of this account and
    Region, or is no ARN."""
    arn = parse_or_none(text)
    if (arn is None or arn.service != service or arn.region != region or arn.account != account
            or arn.partition != partition_of(region) or not arn.resource.startswith(prefix)):
        return None
    return arn.resource[len(prefix):]


def account_root(account: str) -> str:
    """``arn:aws:iam::<account>:root``, the account's root user (IAM is global: no Region)."""
    return build("iam", "root", "", account)


def is_arn(text: str) -> bool:
    try:
        parse(text)
    except InvalidArn:
        return False
    return True
