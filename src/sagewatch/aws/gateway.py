"""The gateway: one ASGI endpoint that speaks every AWS wire protocol the services need.

For each request it works out, from the request alone, which protocol carried it and which
service and operation it names; parses and validates the input with the service's botocore
model; calls the service's method; and writes the result or error back in the same protocol.

    X-Amz-Target: <prefix>.<Operation>                → json 1.0 / 1.1
    POST /service/<prefix>/operation/<Operation>      → smithy-rpc-v2-cbor
    form body with Action=<Operation>                 → query (service from the SigV4 scope)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import inspect
import logging
import re
import typing
import uuid
import zlib
from dataclasses import dataclass
from typing import Callable

from botocore import xform_name
from botocore.model import OperationModel
from starlette.concurrency import run_in_threadpool

from ..services.base import Service
from ..services.errors import AWSError, internal_failure, serialization_error, unknown_operation
from .models import ServiceSpec, service_spec
from .protocols.base import Protocol, WireRequest, WireResponse
from .protocols.cbor import CBORProtocol
from .protocols.json import JSONProtocol
from .protocols.query import QueryProtocol
from .typed_json import RecordConverter
from .validation import Validator

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
INLINE_BODY_BYTES = 64 * 1024
_CBOR_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")


@dataclass(slots=True)
class Operation:
    model: OperationModel
    method: Callable | None  # None: in the model, not implemented by sagewatch
    accepts: frozenset[str] | None  # input members the method takes (None: takes **kwargs)
    records: bool  # nested structures as records (services/base.py takes_records), not dicts


class Binding:
    """A service implementation tied to its model: the operations it answers."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.spec: ServiceSpec = service_spec(service.model_name)
        self.operations: dict[str, Operation] = {}
        for name, model in self.spec.operations.items():
            method = getattr(service, xform_name(name), None)
            records = getattr(method, "takes_records", False)
            self.operations[name] = Operation(model, method, _accepted_arguments(method), records)


def _accepted_arguments(method: Callable | None) -> frozenset[str] | None:
    if method is None:
        return None
    parameters = inspect.signature(method).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)


class Durability(typing.Protocol):
    """What the gateway needs of the store to acknowledge only durable writes."""

    def last_commit_of_this_thread(self) -> int: ...

    def wait(self, commit: int) -> concurrent.futures.Future: ...


class Gateway:
    def __init__(self, services: list[Service], durability: Durability | None = None) -> None:
        self.durability = durability
        self.validator = Validator()
        self.records = RecordConverter()
        self.json = JSONProtocol()
        self.query = QueryProtocol()
        self.cbor = CBORProtocol()
        self.by_target_prefix: dict[str, Binding] = {}
        self.by_signing_name: dict[str, Binding] = {}
        self.by_api_version: dict[str, Binding] = {}
        for service in services:
            binding = Binding(service)
            spec = binding.spec
            for operation in binding.operations.values():
                if operation.records:
                    self.records.check(operation.model.input_shape)
            if spec.target_prefix:
                self.by_target_prefix[spec.target_prefix] = binding
            self.by_signing_name[spec.signing_name] = binding
            self.by_signing_name.setdefault(spec.endpoint_prefix, binding)
            if "query" in spec.protocols:
                self.by_api_version[spec.api_version] = binding

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope, receive, send) -> None:
        request_id = str(uuid.uuid4())
        try:
            request = await _read_request(scope, receive)
            response = await self.handle(request, request_id)
        except AWSError as error:  # body unreadable before we knew the protocol
            response = self.json.serialize_error(None, None, error, request_id)
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def handle(self, request: WireRequest, request_id: str) -> WireResponse:
        # Reading, validating, the operation and writing the answer run together, on one thread.
        # A large request (bulk ingestion) is answered on the event loop's own thread: its cost
        # is decoding and checking its own body, which moving to a worker thread made about a
        # quarter dearer (measured on PutMetricData: the thread hand-offs, and the loop and the
        # worker taking the GIL from each other), and its writes are short. Smaller requests,
        # whose cost is mostly reading the store, go to worker threads so that a long query
        # never holds up the loop.
        if len(request.body) >= INLINE_BODY_BYTES:
            response, commit = self._answer_noting_commit(request, request_id)
        else:
            response, commit = await run_in_threadpool(self._answer_noting_commit, request, request_id)
        if commit:
            # Acknowledge only what is on disk (group commit: store/sqlite/durability.py).
            try:
                await asyncio.wrap_future(self.durability.wait(commit))
            except OSError:
                log.exception("could not sync the write-ahead log")
                protocol, binding, _ = self.route(request)
                return protocol.serialize_error(binding.spec if binding else None, None, internal_failure(), request_id)
        return response

    def _answer_noting_commit(self, request: WireRequest, request_id: str) -> tuple[WireResponse, int]:
        """The answer, and the number of the newest commit it made (0: it wrote nothing)."""
        if self.durability is None:
            return self.answer(request, request_id), 0
        before = self.durability.last_commit_of_this_thread()
        response = self.answer(request, request_id)
        after = self.durability.last_commit_of_this_thread()
        return response, after if after != before else 0

    def answer(self, request: WireRequest, request_id: str) -> WireResponse:
        protocol, binding, operation_name = self.route(request)
        spec = binding.spec if binding else None
        operation = binding.operations.get(operation_name) if binding and operation_name else None
        try:
            if operation is None:  # no such service, or no such operation in it
                raise unknown_operation(None)
            if operation.method is None:
                raise AWSError(
                    "NotImplemented",
                    f"sagewatch does not implement {spec.model.service_id} {operation_name} yet",
                    status=501,
                    sender_fault=False,
                )
            params = protocol.parse_valid(spec, operation.model, request, operation.records)
            if params is None:
                params = protocol.parse(spec, operation.model, request)
                failures = self.validator.validate(operation.model.input_shape, params)
                if failures:
                    raise binding.service.invalid_input(failures)
                if operation.records:
                    params = self.records.to_records(operation.model.input_shape, params)
            if operation.accepts is not None:
                params = {k: v for k, v in params.items() if k in operation.accepts}
            result = operation.method(**params)
            return protocol.serialize(spec, operation.model, result, request_id)
        except AWSError as error:
            return protocol.serialize_error(spec, operation.model if operation else None, error, request_id)
        except Exception:
            log.exception("internal error in %s", operation_name)
            return protocol.serialize_error(spec, None, internal_failure(), request_id)

    # -- routing ----------------------------------------------------------------------------

    def route(self, request: WireRequest) -> tuple[Protocol, Binding | None, str | None]:
        """(protocol, service binding, operation name) for a request, from its shape alone."""
        headers = request.headers
        target = headers.get("x-amz-target")
        if target:
            prefix, _, operation = target.rpartition(".")
            return self.json, self.by_target_prefix.get(prefix), operation
        match = _CBOR_PATH.match(request.path)
        if match:
            return self.cbor, self.by_target_prefix.get(match.group(1)), match.group(2)
        form = self.query.form(request)
        binding = None
        scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
        if scope:
            binding = self.by_signing_name.get(scope.group(2))
        if binding is None:
            binding = self.by_api_version.get(form.get("Version", ""))
        return self.query, binding, form.get("Action")


async def _read_request(scope, receive) -> WireRequest:
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise serialization_error("Request body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    encoding = headers.get("content-encoding", "").lower()
    if "gzip" in encoding:
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError, zlib.error):
            raise serialization_error("Invalid gzip-encoded request body") from None
    return WireRequest(scope["method"], scope["path"], scope.get("query_string", b""), headers, body)
