"""botocore's service models: the single source for operations, shapes, and errors.

Everything the gateway knows about a service's wire format comes from here, so a new operation
needs no parsing code: only a method on the service.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import botocore.session
from botocore.model import OperationModel, ServiceModel


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of ``name`` (``logs``, ``cloudwatch``, ...), loaded once."""
    return _botocore_session().get_service_model(name)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """What the model says about one error."""

    code: str  # the wire code (the awsQueryError code where the shape has one, else its name)
    shape_name: str
    status: int
    sender_fault: bool
    # How the error's message member is spelled: most shapes say "message", some (CloudWatch's
    # ConflictException, InternalServiceFault, Kms*) say "Message". botocore reads an error
    # shape's members by these names, so the body must use the model's spelling.
    message_key: str


class ServiceSpec:
    """What the gateway needs to know about one service, computed once from its model."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.name = model.service_name
        metadata = model.metadata
        # The X-Amz-Target prefix of JSON requests; CBOR requests name the service by the same
        # token (the last segment of its Smithy shape id) in their path.
        self.target_prefix: str | None = metadata.get("targetPrefix")
        self.json_version: str = metadata.get("jsonVersion", "1.0")
        self.api_version: str = metadata["apiVersion"]
        self.endpoint_prefix: str = metadata["endpointPrefix"]
        self.signing_name: str = metadata.get("signingName", self.endpoint_prefix)
        self.xml_namespace: str | None = metadata.get("xmlNamespace")
        self.query_compatible = "awsQueryCompatible" in metadata
        # The Smithy namespace of the service's shapes, which error types are qualified with
        # ("com.amazonaws.cloudwatch#InvalidParameterValueException").
        self.shape_namespace = f"com.amazonaws.{model.service_name}"
        # The wire protocols the service answers, as botocore names them ("json", "query",
        # "smithy-rpc-v2-cbor"); CloudWatch lists three, Logs only json.
        self.protocols = tuple(metadata.get("protocols") or [metadata["protocol"]])
        self.operations: dict[str, OperationModel] = {
            op: model.operation_model(op) for op in model.operation_names
        }
        self._errors_by_code = self._index_errors(model)

    @staticmethod
    def _index_errors(model: ServiceModel) -> dict[str, ErrorInfo]:
        """Map each wire error code (and each error shape name) to what the model says of it."""
        errors: dict[str, ErrorInfo] = {}
        for shape in model.error_shapes:
            error = shape.metadata.get("error", {})
            code = error.get("code", shape.name)
            message_key = "Message" if "Message" in shape.members else "message"
            info = ErrorInfo(code, shape.name, error.get("httpStatusCode", 400),
                             error.get("senderFault", True), message_key)
            errors[code] = info
            errors.setdefault(shape.name, info)
        return errors

    def error_info(self, code: str) -> ErrorInfo | None:
        """What the model says of a wire error code; None for codes it does not list (the front
        end's own errors: SerializationException, UnknownOperationException, ...)."""
        return self._errors_by_code.get(code)

    def speaks(self, protocol: str) -> bool:
        """Whether the service answers requests in ``protocol`` (a botocore protocol name)."""
        return protocol in self.protocols


@functools.cache
def service_spec(name: str) -> ServiceSpec:
    return ServiceSpec(service_model(name))
