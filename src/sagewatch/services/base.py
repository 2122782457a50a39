"""The base of every AWS service implementation.

A service is a plain class with one method per operation, named after it in snake_case
(``CreateLogGroup`` → ``create_log_group``) and taking the operation's input members as keyword
arguments spelled as in the API reference (``logGroupName=...``). It returns the output members
as a dict, or raises ``AWSError``. It never sees the wire: the gateway has already parsed and
validated the request against the service's botocore model.
"""

from __future__ import annotations

from .errors import AWSError, Failure, serialization_error, validation_message


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
