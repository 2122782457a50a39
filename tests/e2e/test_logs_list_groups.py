"""ListLogGroups: name patterns (prefix and substring alternatives), class and tag filters, paging."""

from __future__ import annotations

import pytest

from .helpers import error_of


@pytest.fixture
def family(logs, unique):
    """Five groups under one unique root, two of them tagged and one INFREQUENT_ACCESS."""
    root = f"/ll/{unique}"
    names = [f"{root}/train/a", f"{root}/train/b", f"{root}/proc/a", f"{root}/xtrain", f"{root}/ia"]
    for name in names:
        logs.create_log_group(
            logGroupName=name,
            logGroupClass="INFREQUENT_ACCESS" if name.endswith("/ia") else "STANDARD",
            **({"tags": {"team": "ml", "stage": name.rsplit("/", 1)[1]}}
               if "/train/" in name else {}),
        )
    return root, sorted(names)


def listed(logs, **kwargs) -> list[str]:
    """Every group ListLogGroups returns, following nextToken."""
    names, token = [], None
    for _ in range(1000):
        page = logs.list_log_groups(**kwargs, **({"nextToken": token} if token else {}))
        names += [g["logGroupName"] for g in page["logGroups"]]
        token = page.get("nextToken")
        if token is None:
            return names
    raise AssertionError("ListLogGroups pagination did not end")


def test_prefix_and_substring_alternatives(logs, family):
    root, names = family
    assert listed(logs, logGroupNamePattern=f"^{root}") == names
    # "train" as a substring also matches xtrain; "^.../proc" only the prefix.
    substring = [n for n in names if "train" in n and n.startswith(root)]
    assert [n for n in listed(logs, logGroupNamePattern="train") if n.startswith(root)] == substring
    both = listed(logs, logGroupNamePattern=f"^{root}/proc|^{root}/ia")
    assert both == [f"{root}/ia", f"{root}/proc/a"]


def test_members_are_name_arn_and_class(logs, family):
    root, _ = family
    group = logs.list_log_groups(logGroupNamePattern=f"^{root}/ia")["logGroups"]
    assert group == [{
        "logGroupName": f"{root}/ia",
        "logGroupArn": f"arn:aws:logs:us-east-1:000000000000:log-group:{root}/ia",
        "logGroupClass": "INFREQUENT_ACCESS",
    }]


def test_class_and_tag_filters_and_together(logs, family):
    root, _ = family
    assert listed(logs, logGroupNamePattern=f"^{root}", logGroupClass="INFREQUENT_ACCESS") == [
        f"{root}/ia"]
    tagged = listed(logs, logGroupNamePattern=f"^{root}", logGroupTags=[{"key": "team"}])
    assert tagged == [f"{root}/train/a", f"{root}/train/b"]
    one = listed(logs, logGroupNamePattern=f"^{root}",
                 logGroupTags=[{"key": "team", "values": ["ml"]}, {"key": "stage", "values": ["b"]}])
    assert one == [f"{root}/train/b"]
    assert listed(logs, logGroupNamePattern=f"^{root}", logGroupTags=[{"key": "absent"}]) == []


def test_pages_have_no_gaps_and_the_last_has_no_token(logs, family):
    root, names = family
    for limit in (1, 2, 4, 5, 6):
        assert listed(logs, logGroupNamePattern=f"^{root}", limit=limit) == names
    assert "nextToken" not in logs.list_log_groups(logGroupNamePattern=f"^{root}", limit=5)


def test_deleted_group_is_not_listed(logs, family):
    root, names = family
    logs.delete_log_group(logGroupName=names[0])
    assert listed(logs, logGroupNamePattern=f"^{root}") == names[1:]


def test_invalid_token_and_pattern(logs, raw_logs, family):
    assert error_of(logs.list_log_groups, nextToken="garbage") == (
        "InvalidParameterException", "The specified nextToken is invalid.", 400)
    code, _, status = error_of(raw_logs.list_log_groups, logGroupNamePattern="ab")  # under 3
    assert (code, status) == ("InvalidParameterException", 400)
