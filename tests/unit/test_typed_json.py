"""The one-pass JSON reader (aws/typed_json.py) against the general path it stands in for.

For every input shape of the services served over JSON, requests are generated from the model
(mostly valid, some mutated into invalid or unusual forms) and read both ways. The reader must
never accept what the general path (orjson, the shape walk, the validator) rejects, must give
the same values when it accepts, and must accept every valid request written the way SDKs
write them (so that it is actually used). Read as records (``takes_records``), the same
request must give the same values, whether the reader decodes it or the general path's result
is converted.
"""

from __future__ import annotations

import json
import random

import botocore.session
import msgspec
import orjson
import pytest

from sagewatch.aws.models import service_spec
from sagewatch.aws.protocols.base import WireRequest
from sagewatch.aws.protocols.json import JSONProtocol
from sagewatch.aws.typed_json import RecordConverter, TypedJSONReader, compile_decoder
from sagewatch.aws.validation import Validator, java_pattern
from sagewatch.services.errors import AWSError

SERVICES = ("cloudwatch", "logs")
REQUESTS_PER_OPERATION = 40
_CANDIDATE_TEXT = (
    "a", "abc", "MyMetric", "AWS/EC2", "Sagewatch/Training", "train:loss", "algo-1", "123", "0",
    "my-group_1.x", "/aws/sagemaker/TrainingJobs", "arn:aws:sns:us-east-1:000000000000:alerts",
    "arn:aws:logs:us-east-1:000000000000:log-group:g", "p90", "Average", "2026-11-27T10:00:00Z",
    "e1", "m1", "SUM(METRICS())", "ALARM(a)", "[ERROR]", "{$.level = \"x\"}", "ab" * 40,
)


def _operations():
    session = botocore.session.get_session()
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.operation_names:
            operation = model.operation_model(name)
            if operation.input_shape is not None:
                yield pytest.param(service, operation, id=f"{service}.{name}")


class Generator:
    """Values for a shape. ``sdk_form`` stays True while every choice is one the reader must
    accept when the value is valid (no nulls, no text timestamps, no non-finite strings, no
    members outside the model)."""

    def __init__(self, rng: random.Random, mutate: float) -> None:
        self.rng = rng
        self.mutate = mutate
        self.sdk_form = True

    def value(self, shape, depth: int = 0):
        if self.rng.random() < self.mutate:
            return self._mutant(shape)
        kind = shape.type_name
        meta = shape.metadata
        if kind == "structure":
            out = {}
            required = set(shape.required_members)
            for name, member in shape.members.items():
                if name in required or (depth < 4 and self.rng.random() < 0.5):
                    out[name] = self.value(member, depth + 1)
            return out
        if kind in ("list", "map"):
            low = int(meta.get("min", 0))
            high = min(int(meta.get("max", low + 3)), low + 3)
            count = self.rng.randint(low, max(low, high)) if depth < 4 else low
            if kind == "list":
                return [self.value(shape.member, depth + 1) for _ in range(count)]
            return {self._text(shape.key, salt=i): self.value(shape.value, depth + 1) for i in range(count)}
        if kind == "string":
            return self._text(shape)
        if kind in ("integer", "long"):
            low, high = meta.get("min", -1000), meta.get("max", 10**6)
            return self.rng.randint(int(low), int(min(high, low + 10**6)))
        if kind in ("float", "double"):
            low, high = meta.get("min", -1e6), meta.get("max", 1e6)
            return self.rng.choice([self.rng.uniform(low, high), int(low), 0.5, 1e-300])
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "timestamp":
            return self.rng.choice([1764000000, 1764000000.25, 0, -5.5])
        if kind == "blob":
            return "aGVsbG8="
        return None

    def _text(self, shape, salt: int = 0) -> str:
        if shape.enum:
            return self.rng.choice(shape.enum)
        meta = shape.metadata
        low, high = int(meta.get("min", 0)), int(meta.get("max", 10**6))
        pattern = java_pattern(meta["pattern"]) if meta.get("pattern") else None
        candidates = [c + (str(salt) if salt else "") for c in _CANDIDATE_TEXT] + ["x" * max(low, 1)]
        self.rng.shuffle(candidates)
        for text in candidates:
            if low <= len(text) <= high and (pattern is None or pattern.fullmatch(text)):
                return text
        return candidates[0]  # nothing fits: an invalid request, which is fine too

    def _mutant(self, shape):
        kind = shape.type_name
        choices = [None, "1", 1, 1.5, True, [], {}, "x" * 2000, -1, 10**30]
        if kind == "timestamp":
            choices += ["2026-11-27T10:00:00Z", "1764000000", 1e20]
        if kind in ("float", "double"):
            choices += ["NaN", "Infinity", "-Infinity"]
        if kind == "structure":
            choices.append({"NotInTheModel": 1})
        value = self.rng.choice(choices)
        self.sdk_form = False
        return value


def _general_path(protocol, validator, spec, operation, body: bytes):
    """(accepted, params) by orjson, the walk and the validator."""
    request = WireRequest("POST", "/", b"", {}, body)
    try:
        params = protocol.parse(spec, operation, request)
    except AWSError:
        return False, None
    return not validator.validate(operation.input_shape, params), params


def _in_model(value, shape):
    """The value without members the model does not have (the reader drops them), and without
    null members (absent, to both paths)."""
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _in_model(v, shape.members[k]) for k, v in value.items()
                if k in shape.members and v is not None}
    if kind == "list" and isinstance(value, list):
        return [_in_model(v, shape.member) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _in_model(v, shape.value) for k, v in value.items()}
    return value


@pytest.mark.parametrize("service, operation", list(_operations()))
def test_reader_accepts_only_what_the_general_path_accepts(service, operation):
    spec = service_spec(service)
    protocol, validator, reader = JSONProtocol(), Validator(), TypedJSONReader()
    converter = RecordConverter()
    shape = operation.input_shape
    rng = random.Random(f"{service}.{operation.name}")
    vouched = valid_sdk_form = 0
    for attempt in range(REQUESTS_PER_OPERATION):
        generator = Generator(rng, mutate=0.0 if attempt % 2 == 0 else 0.08)
        body = json.dumps(generator.value(shape)).encode()  # stdlib: big integers too
        fast = reader.read(shape, body)
        fast_records = reader.read(shape, body, records=True)
        accepted, params = _general_path(protocol, validator, spec, operation, body)
        assert (fast is None) == (fast_records is None), body[:500]
        if fast is not None:
            vouched += 1
            assert accepted, f"reader accepted what the general path rejects: {body[:500]!r}"
            assert fast == _in_model(params, shape), body[:500]
            assert msgspec.to_builtins(fast_records) == fast, body[:500]
        if accepted:
            converted = converter.to_records(shape, params)
            assert msgspec.to_builtins(converted) == _in_model(params, shape), body[:500]
        if accepted and generator.sdk_form:
            valid_sdk_form += 1
            assert fast is not None, f"reader fell back on a valid SDK-form request: {body[:500]!r}"
    if compile_decoder(shape) is not None:
        assert valid_sdk_form == 0 or vouched > 0


def test_reader_covers_the_served_models():
    """Every input shape of the JSON services compiles (none has blobs or recursion today)."""
    session = botocore.session.get_session()
    for service in SERVICES:
        model = session.get_service_model(service)
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            if shape is not None:
                assert compile_decoder(shape) is not None, f"{service}.{name}"


def test_non_finite_doubles_and_text_timestamps_take_the_general_path():
    operation = botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricData")
    reader = TypedJSONReader()
    datum = {"MetricName": "m", "Value": 1.5, "Timestamp": 1764000000}
    assert reader.read(operation.input_shape, orjson.dumps({"Namespace": "n", "MetricData": [datum]})) == {
        "Namespace": "n", "MetricData": [{"MetricName": "m", "Value": 1.5, "Timestamp": 1764000000.0}]}
    records = reader.read(operation.input_shape, orjson.dumps({"Namespace": "n", "MetricData": [datum]}), records=True)
    assert isinstance(records["MetricData"][0], msgspec.Struct)
    assert (records["MetricData"][0].Value, records["MetricData"][0].Unit) == (1.5, msgspec.UNSET)
    for changed in ({"Value": "NaN"}, {"Timestamp": "2026-11-27T10:00:00Z"}, {"Value": None}):
        body = orjson.dumps({"Namespace": "n", "MetricData": [{**datum, **changed}]})
        assert reader.read(operation.input_shape, body) is None
    assert reader.read(operation.input_shape, b'{"Namespace": "n", "MetricData": [{"MetricName": "m", '
                       b'"Value": 1e400}]}') is None
    assert reader.read(operation.input_shape, b'{"Namespace": "\xff"}') is None
