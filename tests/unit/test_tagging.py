"""Tags: the limits every service enforces (services/tagging.py), each service's error wording,
and the store's count-and-write in one transaction."""

from __future__ import annotations

import threading

import pytest

from sagewatch.services import tagging
from sagewatch.services.errors import AWSError
from sagewatch.store.sqlite.database import Database
from sagewatch.store.sqlite.tags import SQLiteTagStore
from sagewatch.store.tags import TooManyTags

ARN = "arn:aws:sagemaker:us-east-1:000000000000:training-job/job"


@pytest.fixture
def store(tmp_path):
    database = Database(tmp_path / "sagewatch.db")
    yield SQLiteTagStore(database)
    database.close()


def error(call, *args) -> tuple[str, str]:
    with pytest.raises(AWSError) as info:
        call(*args)
    return info.value.code, info.value.message


@pytest.mark.parametrize("tags", [
    {"k": ""},  # a value may be empty
    {"k" * 128: "v" * 256},
    {"Team name": "ML platform", "a_b.c:d/e=f+g-h@i": "x"},
    {"élan": "日本語", "ключ": "значение 2"},  # Unicode letters and numbers
    {"awsome": "aws:fine"},  # only keys are reserved, and only with the colon
])
def test_well_formed_tags_pass(tags):
    for rules in (tagging.LOGS, tagging.CLOUDWATCH, tagging.SAGEMAKER):
        tagging.check(rules, tags)


@pytest.mark.parametrize("tags, which", [
    ({"": "v"}, "key"),
    ({"k" * 129: "v"}, "key"),
    ({"k": "v" * 257}, "value"),
    ({"bad*key": "v"}, "key"),
    ({"k": "tab\there"}, "value"),  # a control character is no \p{Z} separator
    ({"k": "new\nline"}, "value"),
])
def test_malformed_tags_are_refused_in_each_services_words(tags, which):
    assert error(tagging.check, tagging.LOGS, tags)[0] == "InvalidParameterException"
    assert error(tagging.check, tagging.CLOUDWATCH, tags)[0] == "InvalidParameterValue"
    assert error(tagging.check, tagging.SAGEMAKER, tags)[0] == "ValidationException"
    assert which in error(tagging.check, tagging.SAGEMAKER, tags)[1]


@pytest.mark.parametrize("key", ["aws:cloudformation:stack-name", "AWS:x", "Aws:y"])
def test_the_aws_prefix_is_reserved_in_any_case(key):
    # SageMaker's text is AWS-recorded (aws/sagemaker-python-sdk#1301).
    assert error(tagging.check, tagging.SAGEMAKER, {key: "v"}) == (
        "ValidationException", f"System prefix 'aws:' reserved for AWS usage in tag key: {key}")
    assert error(tagging.check, tagging.LOGS, {key: "v"})[0] == "InvalidParameterException"
    assert error(tagging.check, tagging.CLOUDWATCH, {key: "v"})[0] == "InvalidParameterValue"


def test_only_sagemaker_refuses_to_remove_reserved_keys(store):
    store.set_tags(ARN, {"a": "1"})
    assert error(tagging.remove, tagging.SAGEMAKER, store, ARN, ["a", "aws:x"])[0] == "ValidationException"
    assert store.get_tags(ARN) == {"a": "1"}  # nothing removed
    tagging.remove(tagging.LOGS, store, ARN, ["a", "aws:x"])
    assert store.get_tags(ARN) == {}


def test_more_than_fifty_in_one_request():
    tags = {f"k{i}": "v" for i in range(51)}
    assert error(tagging.check, tagging.LOGS, tags) == (
        "TooManyTagsException", "A resource can have no more than 50 tags.")


def test_the_limit_counts_tags_held_and_added_and_overwrites_count_once(store):
    tagging.add(tagging.LOGS, store, ARN, {f"k{i}": "v" for i in range(40)})
    # Overwriting held keys adds nothing to the count.
    tagging.add(tagging.LOGS, store, ARN, {f"k{i}": "w" for i in range(30, 50)})
    assert len(store.get_tags(ARN)) == 50
    code, _ = error(tagging.add, tagging.SAGEMAKER, store, ARN, {"one-more": "v"})
    assert code == "ValidationException"
    assert len(store.get_tags(ARN)) == 50 and "one-more" not in store.get_tags(ARN)


def test_of_pairs_fills_an_absent_value_and_keeps_the_last_of_a_repeated_key():
    assert tagging.of_pairs([{"Key": "a"}, {"Key": "b", "Value": "1"}, {"Key": "b", "Value": "2"}]) == {
        "a": "", "b": "2"}


def test_concurrent_adds_cannot_together_pass_the_limit(store):
    """The count and the write are one transaction: of many requests each adding a distinct
    key to a resource one short of its limit, exactly one succeeds."""
    store.set_tags(ARN, {f"k{i}": "v" for i in range(49)})
    barrier = threading.Barrier(8)
    outcomes = []

    def add(i):
        barrier.wait()
        try:
            store.add_tags(ARN, {f"new{i}": "v"}, limit=50)
            outcomes.append("added")
        except TooManyTags as refused:
            outcomes.append(refused.count)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes, key=str) == [51] * 7 + ["added"]
    assert len(store.get_tags(ARN)) == 50
