"""The base of every AWS service implementation.

A service is a plain class with one method per operation, named after it in snake_case
(``CreateLogGroup`` → ``create_log_group``) and taking the operation's input members as keyword
arguments spelled as in the API reference (``logGroupName=...``). It returns the output members
as a dict, or raises ``AWSError``. It never sees the wire: the gateway has already parsed and
validated the request against the service's botocore model.

The structures nested in the input arrive as dicts, or, for a method marked ``@takes_records``,
as records (msgspec Structs read by attribute, absent members ``UNSET``; aws/typed_json.py).
"""

from __future__ import annotations

from .errors import AWSError, Failure, serialization_error, validation_message


def takes_records(method):
    """Mark an operation that takes its nested structures as records rather than dicts: for the
    bulk operations (PutMetricData) where building, reading and freeing a request's own
    objects is most of the work."""
    method.takes_records = True
    return method


class Service:
    #: botocore's name for the service (``logs``, ``cloudwatch``, ...)
    model_name: str

    def invalid_input(self, failures: list[Failure]) -> AWSError:
        """The error AWS answers when a request breaks the model's rules.

        AWS's JSON front end cannot even read a member of the wrong type (SerializationException);
        other rule breaks are reported in one message listing them all. Services whose AWS
        counterpart words these differently override this.
        """
        if any(f.is_type_error for f in failures):
            return serialization_error(None)
        return AWSError("ValidationException", validation_message(failures))
