"""Log groups end to end: create / delete / describe (prefix, pattern, pagination), retention
(and its enforcement), and both tagging APIs. Expected error codes and messages are AWS's, as
recorded in the AWS-validated localstack snapshots (tests/aws/services/logs/*.snapshot.json)
unless a comment says otherwise."""

from __future__ import annotations

import pytest

from .helpers import DAY_MS, HOUR_MS, error_of, messages, now_ms, put, read_forward

ACCOUNT = "000000000000"
REGION = "us-east-1"
NAME_PATTERN = r"[\.\-_/#A-Za-z0-9]+"
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653]


def arn(name: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"


def describe_one(logs, name: str) -> dict:
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    found = [g for g in groups if g["logGroupName"] == name]
    assert len(found) == 1, groups
    return found[0]


# -- CreateLogGroup / DescribeLogGroups --------------------------------------------------------


def test_create_then_describe_has_every_member(logs, unique):
    name = f"/aws/sagemaker/TrainingJobs-{unique}"
    before = now_ms()
    logs.create_log_group(logGroupName=name)
    after = now_ms()

    group = describe_one(logs, name)
    assert before - 1000 <= group.pop("creationTime") <= after + 1000
    assert group == {
        "logGroupName": name,
        "metricFilterCount": 0,
        "arn": arn(name) + ":*",
        "logGroupArn": arn(name),
        "storedBytes": 0,
        "logGroupClass": "STANDARD",
        "deletionProtectionEnabled": False,
    }


def test_create_with_kms_key_class_and_tags(logs, unique):
    name = f"/e2e/{unique}/kms"
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{unique}"
    logs.create_log_group(logGroupName=name, kmsKeyId=key, logGroupClass="INFREQUENT_ACCESS",
                          tags={"team": "ml", "env": "test"})
    group = describe_one(logs, name)
    assert group["kmsKeyId"] == key
    assert group["logGroupClass"] == "INFREQUENT_ACCESS"
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"team": "ml", "env": "test"}
    assert logs.list_tags_for_resource(resourceArn=arn(name))["tags"] == {"team": "ml", "env": "test"}


def test_create_duplicate_is_rejected(logs, group):
    assert error_of(logs.create_log_group, logGroupName=group) == (
        "ResourceAlreadyExistsException", "The specified log group already exists", 400)


def test_create_with_invalid_characters(logs, unique):
    name = f"bad name {unique}"
    assert error_of(logs.create_log_group, logGroupName=name) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {NAME_PATTERN}",
        400,
    )


def test_create_with_name_over_512_characters(raw_logs):
    assert error_of(raw_logs.create_log_group, logGroupName="a" * 513) == (
        "InvalidParameterException",
        "Invalid LogGroup or LogStream, both must have length less than or equal to 512.",
        400,
    )


def test_name_of_exactly_512_characters_is_accepted(logs, unique):
    name = (unique + "x" * 512)[:512]
    logs.create_log_group(logGroupName=name)
    assert describe_one(logs, name)["logGroupName"] == name
    logs.delete_log_group(logGroupName=name)


def test_create_with_empty_name(raw_logs):
    code, message, status = error_of(raw_logs.create_log_group, logGroupName="")
    assert (code, status) == ("InvalidParameterException", 400)
    # Both broken rules are listed (in which order AWS lists them is not on record).
    head, _, items = message.partition(": ")
    assert head == "2 validation errors detected"
    assert sorted(items.split("; ")) == [
        "Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater "
        "than or equal to 1",
        "Value '' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular "
        f"expression pattern: {NAME_PATTERN}",
    ]


def test_create_with_unknown_log_group_class(raw_logs, unique):
    code, message, status = error_of(raw_logs.create_log_group, logGroupName=f"/e2e/{unique}",
                                     logGroupClass="COLD")
    assert (code, status) == ("InvalidParameterException", 400)
    assert message == (
        "1 validation error detected: Value 'COLD' at 'logGroupClass' failed to satisfy constraint: "
        "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]"
    )


# -- DeleteLogGroup ----------------------------------------------------------------------------


def test_delete_removes_group_streams_events_and_tags(logs, unique):
    name = f"/e2e/{unique}/deleted"
    logs.create_log_group(logGroupName=name, tags={"k": "v"})
    logs.create_log_stream(logGroupName=name, logStreamName="s")
    put(logs, name, "s", [(now_ms(), "before delete")])

    logs.delete_log_group(logGroupName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] == []
    assert error_of(logs.delete_log_group, logGroupName=name) == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)
    assert error_of(logs.describe_log_streams, logGroupName=name) == (
        "ResourceNotFoundException", "The specified log group does not exist.", 400)

    # A new group of the same name starts empty: no streams, no events, no tags.
    logs.create_log_group(logGroupName=name)
    assert logs.describe_log_streams(logGroupName=name)["logStreams"] == []
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {}
    assert logs.filter_log_events(logGroupName=name)["events"] == []
    assert describe_one(logs, name)["storedBytes"] == 0


def test_delete_protected_group_is_refused(logs, unique):
    name = f"/e2e/{unique}/protected"
    logs.create_log_group(logGroupName=name, deletionProtectionEnabled=True)
    assert describe_one(logs, name)["deletionProtectionEnabled"] is True
    code, message, status = error_of(logs.delete_log_group, logGroupName=name)
    # ValidationException per the model's error list; AWS's exact wording is not on record.
    assert (code, status) == ("ValidationException", 400)
    assert "deletion protection" in message
    assert describe_one(logs, name)["logGroupName"] == name


# -- DescribeLogGroups: prefix, pattern, identifiers, class, pagination ------------------------


@pytest.fixture
def family(logs, unique) -> list[str]:
    """Five groups sharing a unique prefix, plus a decoy with a different case."""
    names = [f"/family/{unique}/{suffix}" for suffix in ("b", "a", "C", "a/x", "d-1")]
    for name in names:
        logs.create_log_group(logGroupName=name)
    logs.create_log_group(logGroupName=f"/Family/{unique}/a")
    return sorted(names)


def test_prefix_lists_exactly_the_matching_groups_in_name_order(logs, unique, family):
    found = logs.describe_log_groups(logGroupNamePrefix=f"/family/{unique}/")["logGroups"]
    # Ordered by name, byte-wise: upper case sorts before lower case.
    assert [g["logGroupName"] for g in found] == family
    assert family[0].endswith("/C")
    narrower = logs.describe_log_groups(logGroupNamePrefix=f"/family/{unique}/a")["logGroups"]
    assert [g["logGroupName"] for g in narrower] == [f"/family/{unique}/a", f"/family/{unique}/a/x"]
    # The prefix is case sensitive.
    upper = logs.describe_log_groups(logGroupNamePrefix=f"/Family/{unique}/")["logGroups"]
    assert [g["logGroupName"] for g in upper] == [f"/Family/{unique}/a"]


def test_pattern_is_a_case_sensitive_substring_with_brief_members(logs, unique, family):
    found = logs.describe_log_groups(logGroupNamePattern=f"{unique}/a")["logGroups"]
    assert [g["logGroupName"] for g in found] == [
        f"/Family/{unique}/a", f"/family/{unique}/a", f"/family/{unique}/a/x"]
    # The members AWS returns when a pattern is given (recorded 2026): no storedBytes and no
    # deletionProtectionEnabled.
    assert set(found[0]) == {"logGroupName", "creationTime", "metricFilterCount", "arn",
                             "logGroupClass", "logGroupArn"}
    assert found[1]["arn"] == arn(f"/family/{unique}/a") + ":*"
    assert logs.describe_log_groups(logGroupNamePattern=f"{unique.upper()}/A")["logGroups"] == []
    assert logs.describe_log_groups(logGroupNamePattern="no-such-group-anywhere")["logGroups"] == []


def test_prefix_and_pattern_together_are_rejected(logs, group):
    assert error_of(logs.describe_log_groups, logGroupNamePrefix=group, logGroupNamePattern=group) == (
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        400,
    )


def test_pagination_by_hand_has_no_gaps_and_ends_without_token(logs, unique, family):
    prefix = f"/family/{unique}/"
    seen, token, pages = [], None, []
    while True:
        args = {"nextToken": token} if token else {}
        page = logs.describe_log_groups(logGroupNamePrefix=prefix, limit=2, **args)
        pages.append(len(page["logGroups"]))
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if token is None:
            break
    assert pages == [2, 2, 1]
    assert seen == family


def test_exact_last_page_has_no_token(logs, unique, family):
    # Five groups, limit 5: everything fits, so no nextToken (a token would make SDK loops spin).
    page = logs.describe_log_groups(logGroupNamePrefix=f"/family/{unique}/", limit=5)
    assert len(page["logGroups"]) == 5
    assert "nextToken" not in page


def test_paginator(logs, unique, family):
    paginator = logs.get_paginator("describe_log_groups")
    pages = list(paginator.paginate(logGroupNamePrefix=f"/family/{unique}/",
                                    PaginationConfig={"PageSize": 3}))
    assert [len(p["logGroups"]) for p in pages] == [3, 2]
    assert [g["logGroupName"] for p in pages for g in p["logGroups"]] == family


def test_pagination_with_pattern(logs, unique, family):
    seen, token = [], None
    while True:
        args = {"nextToken": token} if token else {}
        page = logs.describe_log_groups(logGroupNamePattern=unique, limit=4, **args)
        seen += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if token is None:
            break
    assert seen == sorted(family + [f"/Family/{unique}/a"])


def test_describe_by_identifiers(logs, unique, family):
    wanted = [family[1], arn(family[3])]
    found = logs.describe_log_groups(logGroupIdentifiers=wanted)["logGroups"]
    assert [g["logGroupName"] for g in found] == [family[1], family[3]]


def test_filter_by_log_group_class(logs, unique):
    names = {f"/classy/{unique}/std": "STANDARD", f"/classy/{unique}/ia": "INFREQUENT_ACCESS"}
    for name, log_class in names.items():
        logs.create_log_group(logGroupName=name, logGroupClass=log_class)
    found = logs.describe_log_groups(logGroupNamePrefix=f"/classy/{unique}/",
                                     logGroupClass="INFREQUENT_ACCESS")["logGroups"]
    assert [g["logGroupName"] for g in found] == [f"/classy/{unique}/ia"]


@pytest.mark.parametrize("limit, constraint", [
    (0, "Member must have value greater than or equal to 1"),
    (51, "Member must have value less than or equal to 50"),
])
def test_limit_out_of_range(raw_logs, limit, constraint):
    assert error_of(raw_logs.describe_log_groups, limit=limit) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy constraint: {constraint}",
        400,
    )


@pytest.mark.parametrize("token", ["invalid-token", "eyJhIjoxfQ", "f/00000000000000000000000000000000000000000000000000000001/s"])
def test_invalid_next_token(logs, token):
    assert error_of(logs.describe_log_groups, nextToken=token) == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)


def test_empty_next_token(raw_logs):
    assert error_of(raw_logs.describe_log_groups, nextToken="") == (
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'nextToken' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1",
        400,
    )


# -- retention ---------------------------------------------------------------------------------


def test_put_and_delete_retention_policy(logs, group):
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert describe_one(logs, group)["retentionInDays"] == 7
    logs.put_retention_policy(logGroupName=group, retentionInDays=3653)
    assert describe_one(logs, group)["retentionInDays"] == 3653
    logs.delete_retention_policy(logGroupName=group)
    assert "retentionInDays" not in describe_one(logs, group)


def test_every_allowed_retention_value(logs, group):
    for days in RETENTION_DAYS:
        logs.put_retention_policy(logGroupName=group, retentionInDays=days)
    assert describe_one(logs, group)["retentionInDays"] == 3653


@pytest.mark.parametrize("days", [0, 2, 4000])
def test_retention_not_in_the_allowed_set(logs, group, days):
    assert error_of(logs.put_retention_policy, logGroupName=group, retentionInDays=days) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy "
        "constraint: Member must satisfy enum value set: [" + ", ".join(map(str, RETENTION_DAYS)) + "]",
        400,
    )


def test_retention_on_missing_group(logs, unique):
    for call, kwargs in [(logs.put_retention_policy, {"retentionInDays": 1}),
                         (logs.delete_retention_policy, {})]:
        assert error_of(call, logGroupName=f"/missing/{unique}", **kwargs) == (
            "ResourceNotFoundException", "The specified log group does not exist.", 400)


def test_retention_is_enforced(logs, group, stream):
    now = now_ms()
    put(logs, group, stream, [(now - 3 * DAY_MS, "three days old"), (now - 2 * DAY_MS, "two days old")])
    put(logs, group, stream, [(now - HOUR_MS, "an hour old"), (now, "fresh")])
    full = describe_one(logs, group)["storedBytes"]
    assert full == sum(len(m) + 26 for m in ["three days old", "two days old", "an hour old", "fresh"])

    logs.put_retention_policy(logGroupName=group, retentionInDays=1)

    assert messages(read_forward(logs, group, stream)) == ["an hour old", "fresh"]
    assert messages(logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]) == [
        "an hour old", "fresh"]
    assert messages(logs.filter_log_events(logGroupName=group)["events"]) == ["an hour old", "fresh"]
    assert describe_one(logs, group)["storedBytes"] == len("an hour old") + 26 + len("fresh") + 26

    # Expired events are gone for good: lifting the policy does not bring them back.
    logs.delete_retention_policy(logGroupName=group)
    assert messages(read_forward(logs, group, stream)) == ["an hour old", "fresh"]


def test_events_older_than_retention_are_rejected_as_expired(logs, group, stream):
    logs.put_retention_policy(logGroupName=group, retentionInDays=1)
    now = now_ms()
    response = put(logs, group, stream, [(now - 2 * DAY_MS, "expired"), (now, "kept")])
    assert response["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 1}
    assert messages(read_forward(logs, group, stream)) == ["kept"]


# -- tags --------------------------------------------------------------------------------------


def test_tag_log_group_apis(logs, group):
    logs.tag_log_group(logGroupName=group, tags={"k1": "v1"})
    logs.tag_log_group(logGroupName=group, tags={"k2": "v2"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"k1": "v1", "k2": "v2"}
    logs.tag_log_group(logGroupName=group, tags={"k1": "changed"})
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"k1": "changed", "k2": "v2"}
    logs.untag_log_group(logGroupName=group, tags=["k1", "never-set"])
    assert logs.list_tags_log_group(logGroupName=group)["tags"] == {"k2": "v2"}


def test_tag_resource_apis_share_tags_with_the_old_ones(logs, unique):
    # The sequence of localstack's AWS-recorded test_tag_resource_api.
    name = f"/e2e/{unique}/tags"
    logs.create_log_group(logGroupName=name, tags={"env": "testing1"})
    logs.tag_resource(resourceArn=arn(name), tags={"test1": "val1", "test2": "val2"})
    expected = {"env": "testing1", "test1": "val1", "test2": "val2"}
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == expected
    assert logs.list_tags_for_resource(resourceArn=arn(name))["tags"] == expected

    logs.tag_log_group(logGroupName=name, tags={"test3": "val3"})
    expected["test3"] = "val3"
    assert logs.list_tags_for_resource(resourceArn=arn(name))["tags"] == expected

    logs.untag_log_group(logGroupName=name, tags=["test3"])
    logs.untag_resource(resourceArn=arn(name), tagKeys=["env", "test1"])
    assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"test2": "val2"}
    assert logs.list_tags_for_resource(resourceArn=arn(name))["tags"] == {"test2": "val2"}


def test_tag_resource_wants_the_arn_without_trailing_star(logs, group):
    # The model's pattern for resourceArn has no '*': the ':*' form DescribeLogGroups returns in
    # 'arn' is refused; 'logGroupArn' is the one to use.
    assert error_of(logs.tag_resource, resourceArn=arn(group) + ":*", tags={"a": "1"}) == (
        "InvalidParameterException",
        f"1 validation error detected: Value '{arn(group)}:*' at 'resourceArn' failed to satisfy "
        r"constraint: Member must satisfy regular expression pattern: [\w+=/:,.@-]*",
        400,
    )
    assert logs.list_tags_for_resource(resourceArn=arn(group))["tags"] == {}


def test_tags_on_missing_group(logs, unique):
    missing = f"/missing/{unique}"
    not_found = ("ResourceNotFoundException", "The specified log group does not exist.", 400)
    assert error_of(logs.tag_log_group, logGroupName=missing, tags={"a": "b"}) == not_found
    assert error_of(logs.untag_log_group, logGroupName=missing, tags=["a"]) == not_found
    assert error_of(logs.list_tags_log_group, logGroupName=missing) == not_found
    for call, kwargs in [(logs.tag_resource, {"tags": {"a": "b"}}),
                         (logs.untag_resource, {"tagKeys": ["a"]}),
                         (logs.list_tags_for_resource, {})]:
        code, _, status = error_of(call, resourceArn=arn(missing), **kwargs)
        assert (code, status) == ("ResourceNotFoundException", 400)


def test_more_than_50_tags_is_refused(logs, group):
    logs.tag_log_group(logGroupName=group, tags={f"k{i}": "v" for i in range(30)})
    code, _, status = error_of(logs.tag_resource, resourceArn=arn(group),
                               tags={f"n{i}": "v" for i in range(21)})
    assert (code, status) == ("TooManyTagsException", 400)
    assert len(logs.list_tags_log_group(logGroupName=group)["tags"]) == 30
    # Overwriting existing keys does not count twice.
    logs.tag_resource(resourceArn=arn(group), tags={f"k{i}": "w" for i in range(30)}
                      | {f"n{i}": "v" for i in range(20)})
    assert len(logs.list_tags_for_resource(resourceArn=arn(group))["tags"]) == 50


def test_tags_over_50_in_one_request(raw_logs, group):
    code, message, status = error_of(raw_logs.tag_log_group, logGroupName=group,
                                     tags={f"k{i}": "v" for i in range(51)})
    assert (code, status) == ("InvalidParameterException", 400)
    assert message.startswith("1 validation error detected: Value '{")
    assert message.endswith("' at 'tags' failed to satisfy constraint: "
                            "Member must have length less than or equal to 50")
