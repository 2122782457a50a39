"""Pagination tokens for CloudWatch Logs.

Event positions: a position sits *between* events of a stream, as the pair (timestamp, event id)
of the first event at or after it. GetLogEvents tokens are positions spelled like AWS's
(``f/<56 digits>/s`` forward, ``b/<56 digits>/s`` backward), so a token is a resumable cursor:
handing it back later returns the events appended since, and at the end of the stream the same
token comes back. The last 16 digits are a check on the rest (and on the stream it belongs to),
so a mangled or foreign token is answered with "The specified nextToken is invalid." rather than
read from a wrong place.

Listing tokens (DescribeLogGroups, DescribeLogStreams, FilterLogEvents) are the shared ones of
``services/pagination.py``: the key of the last item returned, with the same kind of check.
"""

from __future__ import annotations

import re

from ..pagination import INT64_MAX, InvalidToken, check_digits, page_token, parse_page_token  # noqa: F401

# The largest 64-bit integer: later than any timestamp, the upper bound of an open range.
END_OF_TIME = INT64_MAX

_EVENT_TOKEN = re.compile(r"^([fb])/(\d{20})(\d{20})(\d{16})/s$")


def _check(*parts) -> int:
    return check_digits(*parts)


def event_token(direction: str, position: tuple[int, int], stream_id: int) -> str:
    timestamp, event_id = position
    return f"{direction}/{timestamp:020d}{event_id:020d}{_check(direction, timestamp, event_id, stream_id):016d}/s"


def parse_event_token(token: str, stream_id: int) -> tuple[str, tuple[int, int]]:
    """('f' | 'b', position) of a GetLogEvents token; raises InvalidToken."""
    match = _EVENT_TOKEN.match(token)
    if not match:
        raise InvalidToken(token)
    direction, timestamp, event_id, check = match[1], int(match[2]), int(match[3]), int(match[4])
    if check != _check(direction, timestamp, event_id, stream_id) or max(timestamp, event_id) > END_OF_TIME:
        # The check is no secret: a made-up token can pass it, but not carry positions beyond
        # the 64-bit integers that timestamps and ids are.
        raise InvalidToken(token)
    return direction, (timestamp, event_id)
