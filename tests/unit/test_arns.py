"""ARNs: built and read in one place (sagewatch/arns.py)."""

from __future__ import annotations

import pytest

from sagewatch import arns


def test_build_places_the_partition_by_region():
    assert arns.build("logs", "log-group:/aws/sagemaker/TrainingJobs", "us-east-1", "123456789012") == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs")
    assert arns.build("sagemaker", "training-job/my-job", "cn-north-1", "123456789012") == (
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:training-job/my-job")
    assert arns.build("cloudwatch", "alarm:a", "us-gov-west-1", "1").startswith("arn:aws-us-gov:")
    # A Region botocore does not know (a private name) is in the aws partition.
    assert arns.build("cloudwatch", "alarm:a", "local", "1") == "arn:aws:cloudwatch:local:1:alarm:a"
    # Global resources leave the Region empty.
    assert arns.build("iam", "root", "", "123456789012") == "arn:aws:iam::123456789012:root"


@pytest.mark.parametrize("text, fields, resource_type, resource_id", [
    ("arn:aws:logs:us-east-1:1:log-group:/a/b:log-stream:c/d:e",
     ("aws", "logs", "us-east-1", "1", "log-group:/a/b:log-stream:c/d:e"), "log-group", "/a/b:log-stream:c/d:e"),
    ("arn:aws:sagemaker:eu-west-1:1:training-job/my-job",
     ("aws", "sagemaker", "eu-west-1", "1", "training-job/my-job"), "training-job", "my-job"),
    ("arn:aws:cloudwatch:us-east-1:1:alarm:name:with:colons",
     ("aws", "cloudwatch", "us-east-1", "1", "alarm:name:with:colons"), "alarm", "name:with:colons"),
    ("arn:aws:s3:::bucket", ("aws", "s3", "", "", "bucket"), None, "bucket"),
    ("arn:aws:automate:us-east-1:sagemaker:stop",
     ("aws", "automate", "us-east-1", "sagemaker", "stop"), None, "stop"),
])
def test_parse_reads_fields_and_round_trips(text, fields, resource_type, resource_id):
    arn = arns.parse(text)
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == fields
    assert (arn.resource_type, arn.resource_id) == (resource_type, resource_id)
    assert str(arn) == text
    assert arns.is_arn(text)


@pytest.mark.parametrize("text", [
    "", "arn", "my-alarm", "arn:aws:logs:us-east-1:1", "arn::logs:r:a:x", "arn:aws::r:a:x", "arn:aws:logs:r:a:",
    "ARN:aws:logs:r:a:x", "urn:aws:logs:r:a:x",
])
def test_parse_refuses_what_is_not_an_arn(text):
    with pytest.raises(arns.InvalidArn):
        arns.parse(text)
    assert not arns.is_arn(text)


def test_local_resource_reads_only_this_accounts_and_regions_resources():
    local = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b"
    assert arns.local_resource(local, "cloudwatch", "alarm:", "us-east-1", "123456789012") == "a:b"
    for other in ("arn:aws:cloudwatch:us-west-2:123456789012:alarm:a",   # another Region
                  "arn:aws:cloudwatch:us-east-1:210987654321:alarm:a",   # another account
                  "arn:aws-cn:cloudwatch:us-east-1:123456789012:alarm:a",  # another partition
                  "arn:aws:logs:us-east-1:123456789012:alarm:a",         # another service
                  "arn:aws:cloudwatch:us-east-1:123456789012:dashboard/a",  # another resource
                  "alarm:a"):                                              # no ARN
        assert arns.local_resource(other, "cloudwatch", "alarm:", "us-east-1", "123456789012") is None
    assert arns.parse_or_none("alarm:a") is None
    assert arns.account_root("123456789012") == "arn:aws:iam::123456789012:root"
