"""Errors as AWS sends them, independent of the wire protocol, and invalid-input reports.

A service raises ``AWSError("ResourceNotFoundException", "The specified log group does not
exist.")`` using the error *code* AWS documents for that case. The protocol that carried the
request decides how the error looks on the wire (a JSON ``__type``, an XML ``<Error>``, a CBOR
map) and, from the service's botocore model, which shape name and HTTP status go with the code.
"""

from __future__ import annotations

from dataclasses import dataclass


class AWSError(Exception):
    """An error answered to the client: code, message, HTTP status, and who is at fault.

    ``status`` and ``sender_fault`` default to what the service model says for ``code``;
    set them only for errors the model does not list (SerializationException, ...).
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        sender_fault: bool | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.sender_fault = sender_fault


# Errors that every AWS JSON service answers without listing them in its model. The statuses are
# those AWS's front end uses for them.
def serialization_error(message: str | None = None) -> AWSError:
    return AWSError("SerializationException", message, status=400, sender_fault=True)


def unknown_operation(message: str | None = None) -> AWSError:
    return AWSError("UnknownOperationException", message, status=400, sender_fault=True)


def internal_failure() -> AWSError:
    return AWSError(
        "InternalFailure",
        "The request processing has failed because of an unknown error, exception or failure.",
        status=500,
        sender_fault=False,
    )


@dataclass(slots=True)
class Failure:
    """One member of a request that broke a rule of the service model."""

    # Where: member names and 1-based list indexes from the top of the input, e.g.
    # ("logEvents", 3, "message"); services spell it the way their AWS counterpart does.
    path: tuple[str | int, ...] | str
    value: object
    constraint: str  # 'Member must have value less than or equal to 10000'
    is_type_error: bool = False  # the value has the wrong type (unreadable, not merely invalid)

    @property
    def is_missing(self) -> bool:
        return self.constraint == "Member must not be null"

    def render(self) -> str:
        return (
            f"Value {render_value(self.value)} at '{coral_path(self.path)}' "
            f"failed to satisfy constraint: {self.constraint}"
        )


def coral_path(path: tuple | str) -> str:
    """AWS's validation-message spelling: 'logEvents.3.member.message', 'stateValue'."""
    if isinstance(path, str):
        return path
    parts = []
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"{segment}.member")
        else:
            parts.append(segment[:1].lower() + segment[1:])
    return ".".join(parts)


def query_path(path: tuple | str) -> str:
    """The query-protocol spelling AWS uses in CloudWatch messages: 'MetricData.member.1.Value'."""
    if isinstance(path, str):
        return path
    return ".".join(f"member.{s}" if isinstance(s, int) else s for s in path)


class JavaText(str):
    """A value already printed the way AWS's Java front end prints it (see aws/validation.py)."""


# A message quotes at most this much of a value: a 9 MB invalid value was echoed whole (an 11.7 MB
# error answer, issue 8). AWS's own cut is not recorded, but it quotes a 1,025-character filter
# pattern whole (test_logs_filter.py), so the cut sits above every length limit of these models
# that a value can just miss (4,000 for StateReasonData); the rule a message names stays whole.
MAX_QUOTED_CHARS = 4096


def render_value(value: object) -> str:
    """How AWS's (Java) front end prints a value inside a validation message, cut to a bounded
    prefix (``MAX_QUOTED_CHARS``) ending in "..." when the value is longer."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, (list, tuple)):
        return "'" + _bounded("[" + ", ".join(str(v) for v in value[:MAX_QUOTED_CHARS]) + "]") + "'"
    return f"'{_bounded(str(value))}'"


def _bounded(text: str) -> str:
    """The text, or its first MAX_QUOTED_CHARS characters and "...", keeping the closing bracket
    of a rendered list or structure (its shape stays readable)."""
    if len(text) <= MAX_QUOTED_CHARS:
        return text
    closing = text[-1] if text[0] + text[-1] in ("[]", "{}") else ""
    return text[:MAX_QUOTED_CHARS] + "..." + closing


def validation_message(failures: list[Failure]) -> str:
    """'1 validation error detected: Value ... ; Value ...' as AWS's front end words it."""
    count = len(failures)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(f.render() for f in failures)
