"""Arrows point down only (docs/ARCHITECTURE.md): the gateway (sagewatch.aws) imports services,
services import stores, stores import neither. And what a service once read from the gateway's
models, it now lists itself: the lists are held here to the pinned botocore's shapes."""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
import pytest

from sagewatch.services.sagemaker.jobs import PROCESSING_JOB, TRAINING_JOB
from sagewatch.services.sagemaker.service import ECHOED_MEMBERS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "sagewatch"


def _imported_modules(path: Path) -> set[str]:
    """The sagewatch modules a file imports, as dotted names (relative imports resolved)."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ((node.module,) if node.module else ()))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "sagewatch" or name.startswith("sagewatch.")}


@pytest.mark.parametrize("layer, forbidden", [
    ("services", ("sagewatch.aws",)),
    ("store", ("sagewatch.aws", "sagewatch.services")),
])
def test_no_module_imports_a_layer_above_it(layer, forbidden):
    upward = {
        str(path.relative_to(PACKAGE)): sorted(name for name in _imported_modules(path)
                                               if name.startswith(forbidden))
        for path in sorted((PACKAGE / layer).rglob("*.py"))
    }
    assert {path: names for path, names in upward.items() if names} == {}


def test_the_import_check_sees_relative_imports():
    """The check above would pass vacuously if it resolved relative imports wrongly: the
    SageMaker service's own imports must come out as absolute names."""
    names = _imported_modules(PACKAGE / "services" / "sagemaker" / "service.py")
    assert "sagewatch.store.jobs" in names
    assert "sagewatch.services.tagging" in names


@pytest.mark.parametrize("kind, create, describe", [
    (TRAINING_JOB, "CreateTrainingJob", "DescribeTrainingJob"),
    (PROCESSING_JOB, "CreateProcessingJob", "DescribeProcessingJob"),
])
def test_describe_echoes_exactly_the_request_members_its_output_shape_has(kind, create, describe):
    model = botocore.session.get_session().get_service_model("sagemaker")
    request = set(model.operation_model(create).input_shape.members)
    answer = set(model.operation_model(describe).output_shape.members)
    assert ECHOED_MEMBERS[kind] == request & answer
