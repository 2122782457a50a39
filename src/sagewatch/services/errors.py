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

    path: str  # as AWS writes it: 'limit', 'logEvents.1.member.message'
    value: object
    constraint: str  # 'Member must have value less than or equal to 10000'
    is_type_error: bool = False  # the value has the wrong type (unreadable, not merely invalid)

    def render(self) -> str:
        return (
            f"Value {render_value(self.value)} at '{self.path}' "
            f"failed to satisfy constraint: {self.constraint}"
        )


def render_value(value: object) -> str:
    """How AWS's (Java) front end prints a value inside a validation message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, (list, tuple)):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    return f"'{value}'"


def validation_message(failures: list[Failure]) -> str:
    """'1 validation error detected: Value ... ; Value ...' as AWS's front end words it."""
    count = len(failures)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(f.render() for f in failures)
