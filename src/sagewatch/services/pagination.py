"""Opaque pagination tokens shared by the services.

A token carries the key of the last item returned (JSON, base64url) and a check on it, so a
mangled or foreign token is refused instead of read from a wrong place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

import orjson


class InvalidToken(Exception):
    pass


# The largest integer a token may carry: SQLite's (and the 64-bit timestamps' and ids') bound.
INT64_MAX = 2**63 - 1


def check_digits(*parts) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10**16


def page_token(kind: str, key) -> str:
    """A token for listing ``kind`` that resumes after ``key`` (a string, number or tuple)."""
    if isinstance(key, tuple):
        key = list(key)
    payload = orjson.dumps([kind, key, check_digits(kind, key)])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def parse_page_token(kind: str, token: str, shape: type | tuple[type, ...] | None = None):
    """The key carried by a listing token of ``kind``; raises InvalidToken. With ``shape`` (a
    type, or a tuple of its items' types) the key must have it: the check digits are no secret,
    so a made-up token can pass them while carrying a list where a name belongs, or an integer
    beyond SQLite's 64 bits (both were 500s the fuzzer found)."""
    try:
        padded = token + "=" * (-len(token) % 4)
        found_kind, key, check = orjson.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, TypeError):
        raise InvalidToken(token) from None
    if found_kind != kind or check != check_digits(kind, key):
        raise InvalidToken(token)
    key = tuple(key) if isinstance(key, list) else key
    if shape is not None and not _has_shape(key, shape):
        raise InvalidToken(token)
    return key


def _has_shape(key, shape: type | tuple[type, ...]) -> bool:
    items, types = (key, shape) if isinstance(shape, tuple) else ((key,), (shape,))
    return isinstance(items, tuple) and len(items) == len(types) and all(
        type(item) is type_ and (type_ is not int or -INT64_MAX - 1 <= item <= INT64_MAX)
        for item, type_ in zip(items, types)
    )
