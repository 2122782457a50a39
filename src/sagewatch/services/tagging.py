"""Tags: the one place their limits are enforced, worded per service as AWS words them.

The limits are the same in every service sagewatch has (AWS General Reference, "Tagging your AWS
resources"; each service's API reference):

- at most 50 tags on a resource, counting those it holds and those added (CloudWatch Logs
  TagResource: "You can associate as many as 50 tags"; CloudWatch TagResource: the same;
  SageMaker: "SageMaker AI resources have a 50 tag limit", developer guide, custom-tags);
- a key of 1 to 128 characters, a value of 0 to 256;
- letters, numbers, spaces (Unicode ``\\p{L}\\p{Z}\\p{N}``) and ``_ . : / = + - @`` only: the
  pattern the Logs and SageMaker models give their TagKey/TagValue shapes, and the general rule
  of the tagging guide. CloudWatch's model gives no pattern; the general rule is applied to it
  too (unconfirmed whether CloudWatch refuses other characters);
- keys starting with ``aws:`` are reserved for AWS ("Do not use aws:, AWS:, or any upper or
  lowercase combination of such as a prefix for keys as it is reserved for AWS use", tagging
  guide / Clean Rooms TagResource reference). SageMaker also refuses to remove them.

The gateway has already checked what the botocore model states (lengths, counts per request,
patterns) for requests that come over the wire; these checks repeat them for in-process callers
(a SageMaker job created with tags) and add the rules the models cannot state.

What AWS answers differs by service, and much of its exact wording is unpublished: each
``TagRules`` says which parts are AWS-recorded and which are sagewatch's wording (unconfirmed).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..store.tags import TagStore, TooManyTags
from .errors import AWSError

MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"
_PUNCTUATION = frozenset("_.:/=+-@")
_SEPARATORS = frozenset(("Zs", "Zl", "Zp"))  # \p{Z}


@dataclass(frozen=True, slots=True)
class TagRules:
    """How one service answers a tag that breaks a rule."""

    #: more tags than a resource may hold (``count`` is how many it would have had)
    too_many: Callable[[int], AWSError]
    #: a key or value of bad length or characters: (which, "key" or "value"; the text)
    malformed: Callable[[str, str], AWSError]
    #: a key with the reserved prefix
    reserved: Callable[[str], AWSError]
    #: whether removing a key with the reserved prefix is refused too
    reserved_on_removal: bool = False


def _logs_invalid(message: str) -> AWSError:
    return AWSError("InvalidParameterException", message)


# CloudWatch Logs: TagResource lists TooManyTagsException ("A resource can have no more than 50
# tags." is sagewatch's wording, unconfirmed) and InvalidParameterException (botocore:logs).
LOGS = TagRules(
    too_many=lambda count: AWSError(
        "TooManyTagsException", f"A resource can have no more than {MAX_TAGS} tags."),
    malformed=lambda which, text: _logs_invalid(f"Invalid tag {which}: {text}"),
    reserved=lambda key: _logs_invalid(
        f"Invalid tag key: {key}. Tag keys starting with '{RESERVED_PREFIX}' are reserved for AWS use."),
)

# CloudWatch: TagResource lists InvalidParameterValueException (wire code InvalidParameterValue),
# PutMetricAlarm/PutCompositeAlarm LimitExceededFault (botocore:cloudwatch). Worded the way
# CloudWatch words its query-era parameter errors ("The collection MetricData must not have a
# size greater than 1000."); the tag texts themselves are unconfirmed.
CLOUDWATCH = TagRules(
    too_many=lambda count: AWSError(
        "InvalidParameterValue", f"The collection Tags must not have a size greater than {MAX_TAGS}."),
    malformed=lambda which, text: AWSError("InvalidParameterValue", f"The value {text} for tag {which} is invalid."),
    reserved=lambda key: AWSError(
        "InvalidParameterValue", f"The tag key {key} is invalid: the prefix '{RESERVED_PREFIX}' is reserved."),
)

# SageMaker answers ValidationException. Recorded from AWS (DeleteTags; aws/sagemaker-python-sdk
# issue #1301): "System prefix 'aws:' reserved for AWS usage in tag key: aws:cloudformation:
# stack-name"; the same text is used for AddTags and Create* tags. The count and malformed
# texts are unconfirmed.
SAGEMAKER = TagRules(
    too_many=lambda count: AWSError(
        "ValidationException", f"The number of tags ({count}) exceeds the limit of {MAX_TAGS} tags per resource."),
    malformed=lambda which, text: AWSError("ValidationException", f"Invalid tag {which}: {text}"),
    reserved=lambda key: AWSError(
        "ValidationException", f"System prefix '{RESERVED_PREFIX}' reserved for AWS usage in tag key: {key}"),
    reserved_on_removal=True,
)


def is_reserved(key: str) -> bool:
    """Whether a key uses AWS's prefix, in any case ("aws:, AWS:, or any upper or lowercase
    combination")."""
    return key[:len(RESERVED_PREFIX)].lower() == RESERVED_PREFIX


def _allowed_characters(text: str) -> bool:
    return all(
        c.isalnum() or c in _PUNCTUATION or unicodedata.category(c) in _SEPARATORS
        for c in text
    )


def of_pairs(pairs: Iterable[Mapping]) -> dict[str, str]:
    """``[{"Key": k, "Value": v}, ...]`` (CloudWatch, SageMaker) as a dict; a Value left out is
    the empty string ("If you don't specify a value, SageMaker sets the value to an empty
    string", AddTags reference); a key given twice keeps its last value."""
    return {pair["Key"]: pair.get("Value") or "" for pair in pairs}


def check(rules: TagRules, tags: Mapping[str, str]) -> None:
    """The rules a set of tags must keep on its own (before counting those a resource holds)."""
    if len(tags) > MAX_TAGS:
        raise rules.too_many(len(tags))
    for key, value in tags.items():
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not _allowed_characters(key):
            raise rules.malformed("key", key)
        if len(value) > MAX_VALUE_LENGTH or not _allowed_characters(value):
            raise rules.malformed("value", value)
        if is_reserved(key):
            raise rules.reserved(key)


def check_removal(rules: TagRules, keys: Iterable[str]) -> None:
    if rules.reserved_on_removal:
        for key in keys:
            if is_reserved(key):
                raise rules.reserved(key)


def add(rules: TagRules, store: TagStore, arn: str, tags: Mapping[str, str]) -> None:
    """Check ``tags`` and add them to the resource, its limit counted in the same transaction
    as the write (so two concurrent adds cannot together pass it)."""
    check(rules, tags)
    try:
        store.add_tags(arn, dict(tags), limit=MAX_TAGS)
    except TooManyTags as error:
        raise rules.too_many(error.count) from None


def remove(rules: TagRules, store: TagStore, arn: str, keys: Iterable[str]) -> None:
    keys = list(keys)
    check_removal(rules, keys)
    store.remove_tags(arn, keys)
