"""botocore's service models: the single source for operations, shapes, and errors.

Everything the gateway knows about a service's wire format comes from here, so a new operation
needs no parsing code: only a method on the service.
"""

from __future__ import annotations

import functools

import botocore.session
from botocore.model import OperationModel, ServiceModel


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def service_model(name: str) -> ServiceModel:
    """The botocore model of ``name`` (``logs``, ``cloudwatch``, ...), loaded once."""
    return _botocore_session().get_service_model(name)


class ServiceSpec:
    """What the gateway needs to know about one service, computed once from its model."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model
        self.name = model.service_name
        metadata = model.metadata
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
        # CBOR requests name the service by the last segment of its Smithy shape id, which
        # botocore calls the target prefix.
        self.protocols = tuple(metadata.get("protocols") or [metadata["protocol"]])
        self.operations: dict[str, OperationModel] = {
            op: model.operation_model(op) for op in model.operation_names
        }
        self._errors_by_code = self._index_errors(model)

    @staticmethod
    def _index_errors(model: ServiceModel) -> dict[str, tuple[str, int, bool]]:
        """Map each wire error code to (shape name, HTTP status, sender fault)."""
        errors: dict[str, tuple[str, int, bool]] = {}
        for shape in model.error_shapes:
            error = shape.metadata.get("error", {})
            code = error.get("code", shape.name)
            status = error.get("httpStatusCode", 400)
            sender = error.get("senderFault", True)
            errors[code] = (shape.name, status, sender)
            errors.setdefault(shape.name, (shape.name, status, sender))
        return errors

    def error_info(self, code: str) -> tuple[str, int, bool] | None:
        """(shape name, HTTP status, sender fault) for a wire error code, if the model lists it."""
        return self._errors_by_code.get(code)


@functools.cache
def service_spec(name: str) -> ServiceSpec:
    return ServiceSpec(service_model(name))
