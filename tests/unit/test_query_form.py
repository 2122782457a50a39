"""The query protocol's form reader: one bound on fields for the query string and body together."""

from __future__ import annotations

import pytest

from sagewatch.aws.protocols.query import MAX_FORM_FIELDS, _read_form
from sagewatch.services.errors import AWSError


def test_fields_decode_like_a_form():
    fields: dict[str, str] = {}
    _read_form(b"Action=ListMetrics&Namespace=a%2Fb+c&Empty=", fields)
    assert fields == {"Action": "ListMetrics", "Namespace": "a/b c", "Empty": ""}


def test_query_string_and_body_share_the_field_bound():
    half = b"&".join(b"f%d=1" % i for i in range(MAX_FORM_FIELDS // 2 + 1))
    fields: dict[str, str] = {}
    _read_form(half, fields)  # alone, well under the bound
    with pytest.raises(AWSError) as info:
        _read_form(half.replace(b"f", b"g"), fields)
    assert info.value.code == "SerializationException"
