"""The gateway: one ASGI endpoint that speaks every AWS wire protocol the services need.

For each request it works out, from the request alone, which protocol carried it and which
service and operation it names; parses and validates the input with the service's botocore
model; calls the service's method; and writes the result or error back in the same protocol.

    X-Amz-Target: <prefix>.<Operation>                → json 1.0 / 1.1
    POST /service/<prefix>/operation/<Operation>      → smithy-rpc-v2-cbor
    form body with Action=<Operation>                 → query (service from the SigV4 scope)

A request is answered in the protocol it is framed in, even when it is refused: one with a
method its protocol does not use, or in a protocol the service it names does not speak, is no
call of any operation (``not_a_call``). Bodies are read under a size limit, as sent and as
inflated (``_read_body``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
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
from ..services.errors import AWSError, internal_failure, serialization_error
from .models import ServiceSpec, service_spec
from .protocols.base import REQUEST_ID_HEADER, Protocol, WireRequest, WireResponse
from .protocols.cbor import CBORProtocol
from .protocols.json import JSONProtocol
from .protocols.query import QueryProtocol
from .typed_json import RecordConverter
from .validation import Validator

log = logging.getLogger(__name__)

# The largest request body the gateway reads: as sent, and again as inflated when it comes
# gzip-encoded, so that neither a large body nor a small one that inflates hugely (a gzip bomb)
# can hold more memory than this. Larger ones are answered 413 (request_too_large).
# 8 MiB: the largest request AWS accepts here is a 1,048,576-byte PutLogEvents batch, at most about
# 6.3 MB on the wire when every byte is a JSON \u escape (CloudWatch refuses bodies over 1 MB:
# aws-behaviour.md, PutMetricData). Parsed bodies take ~30x their size in objects (a 16 MB list of
# {} held 527 MB), so this limit is also what bounds a request's memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
# Gzip bodies are inflated this much at a time, so a bomb is stopped at the limit, not after.
_INFLATE_CHUNK_BYTES = 1024 * 1024
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
        request = _request_head(scope)
        try:
            request.body = await _read_body(request.headers, receive)
        except AWSError as error:  # too large, or an encoding we cannot read: nothing was parsed
            protocol, binding, _ = self.route(request)
            response = protocol.serialize_error(binding.spec if binding else None, None, error, request_id)
        else:
            response = await self.handle(request, request_id)
        # Header names go out as written (REQUEST_ID_HEADER keeps AWS's spelling).
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
            if request.method not in protocol.methods or (binding is None and protocol is not self.json):
                raise not_a_call()
            if operation is None:  # no such service (JSON), or no such operation in it
                raise protocol.unknown_operation(request, operation_name)
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

    def invoke(self, model_name: str, operation_name: str, params: dict) -> dict:
        """Call an operation in-process as a client would over the wire: ``params`` (JSON-like
        values) checked against the model, refused with the AWSError the API answers, then
        given to the service's method. For requests sagewatch makes on a user's behalf from
        the user's own data (an EventBridge target's CreateTrainingJob template), which must
        meet the same rules as the API's."""
        binding = next((b for b in self.by_signing_name.values() if b.service.model_name == model_name), None)
        operation = binding.operations.get(operation_name) if binding else None
        if operation is None or operation.method is None:
            raise ValueError(f"sagewatch does not implement {model_name} {operation_name}")
        params = copy.deepcopy(params)  # validation brings a valid input to its one form in place
        failures = self.validator.validate(operation.model.input_shape, params)
        if failures:
            raise binding.service.invalid_input(failures)
        if operation.records:
            params = self.records.to_records(operation.model.input_shape, params)
        if operation.accepts is not None:
            params = {k: v for k, v in params.items() if k in operation.accepts}
        return operation.method(**params)

    # -- routing ----------------------------------------------------------------------------

    def route(self, request: WireRequest) -> tuple[Protocol, Binding | None, str | None]:
        """(protocol, service binding, operation name) for a request, from its shape alone.

        The binding is None when the request names no service that answers in the protocol it
        is framed in: Logs speaks JSON only, so a Logs request in query form or on a CBOR path
        is not a Logs call (answered by ``answer`` as AWS answers what it cannot route)."""
        headers = request.headers
        target = headers.get("x-amz-target")
        if target is not None:
            prefix, _, operation = target.rpartition(".")
            return self.json, self._speaking(self.json, self.by_target_prefix.get(prefix)), operation
        match = _CBOR_PATH.match(request.path)
        if match:
            binding = self.by_target_prefix.get(match.group(1))
            return self.cbor, self._speaking(self.cbor, binding), match.group(2)
        signed_for = None
        scope = _CREDENTIAL_SCOPE.search(headers.get("authorization", ""))
        if scope:
            signed_for = self.by_signing_name.get(scope.group(2))
        form = self.query.form(request)
        if "Action" not in form and headers.get("content-type", "").lower().startswith("application/x-amz-json-"):
            # A JSON request that lost its X-Amz-Target: a JSON call of no operation.
            return self.json, self._speaking(self.json, signed_for), None
        binding = signed_for or self.by_api_version.get(form.get("Version", ""))
        return self.query, self._speaking(self.query, binding), form.get("Action")

    @staticmethod
    def _speaking(protocol: Protocol, binding: Binding | None) -> Binding | None:
        return binding if binding is not None and binding.spec.speaks(protocol.name) else None


def not_a_call() -> AWSError:
    """The answer to a request that calls no operation: a method its protocol does not use
    (the JSON and CBOR protocols are POST only, the query protocol GET or POST: Smithy awsJson
    and rpcv2Cbor "Protocol behaviors"), or a protocol that no service it names speaks. AWS's
    front end answers these 404 UnknownOperationException (dynalite, which mirrors DynamoDB's
    answers, for a method other than POST or a body that is not JSON); it comes in the shape of
    the protocol the request was framed in, so that the client that sent it can read it."""
    return AWSError("UnknownOperationException", None, status=404, sender_fault=True)


def _request_head(scope) -> WireRequest:
    """The request as far as its head says: method, path, query string, headers; no body yet."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    return WireRequest(scope["method"], scope["path"], scope.get("query_string", b""), headers, b"")


async def _read_body(headers: dict[str, str], receive) -> bytes:
    """The request body, inflated if it is gzip-encoded, never holding more than MAX_BODY_BYTES
    of it: what is sent is inflated as it arrives, and reading stops once either the body as
    sent or the body as inflated passes the limit."""
    inflater = _inflater(headers.get("content-encoding", ""))
    declared = headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > MAX_BODY_BYTES):
        raise request_too_large(int(declared))  # refused before a byte of it is read
    chunks: list[bytes] = []
    received = held = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > MAX_BODY_BYTES:
            raise request_too_large(None)
        pieces = inflater.inflate(chunk, MAX_BODY_BYTES - held) if inflater is not None else [chunk]
        held += sum(len(piece) for piece in pieces)
        if held > MAX_BODY_BYTES:
            raise request_too_large(None)
        chunks += pieces
        if not message.get("more_body"):
            break
    if inflater is not None:
        inflater.finish()
    return b"".join(chunks)


def request_too_large(size: int | None) -> AWSError:
    """The answer to a body over MAX_BODY_BYTES: CloudWatch's front end answers an oversized
    request 413 RequestEntityTooLarge "Request size 45305 exceeded 40960 bytes"
    (aws/aws-sdk-go#4441; micrometer-metrics/micrometer#2302: "Status Code: 413; Error Code:
    RequestEntityTooLarge"; influxdata/telegraf#10842), whatever the protocol. The size is named
    when the request declared it; a chunked or inflated body is stopped before its end, so its
    size is not known."""
    measured = f" {size}" if size is not None else ""
    return AWSError("RequestEntityTooLarge", f"Request size{measured} exceeded {MAX_BODY_BYTES} bytes",
                    status=413, sender_fault=True)


def _inflater(content_encoding: str) -> _GzipInflater | None:
    """How to decode a body sent with this Content-Encoding (None: it is not encoded).

    gzip is the one coding AWS SDKs send (the requestCompression trait; botocore/compress.py);
    x-gzip is its alias (RFC 9110 8.4.1.3) and identity means none. Any other coding cannot be
    read: SerializationException, as for a body that is not what it claims to be."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if codings in (["gzip"], ["x-gzip"]):
        return _GzipInflater()
    raise serialization_error(f"Unsupported Content-Encoding '{content_encoding[:64]}'")


class _GzipInflater:
    """Inflates a gzip body as it arrives, never producing more than it is allowed to.

    Like gzip.decompress, it reads one gzip member after another, skips zero padding between
    and after them, and takes an empty body as empty."""

    def __init__(self) -> None:
        self._member = _gzip_member()
        self._member_begun = False  # the current member has had input (so it must end)
        self._members_ended = 0

    def inflate(self, data: bytes, allowance: int) -> list[bytes]:
        """What ``data`` inflates to, in pieces (joined once, by the caller, when the whole body
        is in), stopped just past ``allowance`` bytes (the caller refuses the request then), so
        that a bomb never inflates beyond the limit."""
        out: list[bytes] = []
        produced = 0
        pending = data
        cut_short = False  # the last step filled its allowance: zlib may hold more output
        while produced <= allowance:
            if self._member.eof:  # what follows a member: padding, the next member, or nothing
                pending = self._member.unused_data + pending
                self._member, self._member_begun, cut_short = _gzip_member(), False, False
                self._members_ended += 1
            if self._members_ended and not self._member_begun:
                pending = pending.lstrip(b"\0")  # zero padding, which may come a byte at a time
            if not pending and not cut_short:
                break  # all inflated; the rest needs more of the body
            self._member_begun = self._member_begun or bool(pending)
            step = min(_INFLATE_CHUNK_BYTES, allowance - produced + 1)
            try:
                piece = self._member.decompress(pending, step)
            except zlib.error:
                raise serialization_error("Invalid gzip-encoded request body") from None
            out.append(piece)
            produced += len(piece)
            pending = self._member.unconsumed_tail
            cut_short = len(piece) == step
        return out

    def finish(self) -> None:
        """The body has ended: so must the member it was in."""
        if self._member_begun and not self._member.eof:
            raise serialization_error("Invalid gzip-encoded request body")  # truncated


def _gzip_member():
    return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # a gzip header and trailer, not zlib's
