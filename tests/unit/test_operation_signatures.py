"""Every operation method takes exactly its operation's input members, as the model spells them.

The gateway calls a service method with the request's members as keyword arguments and drops
any member the method does not name (aws/gateway.py, ``Operation.accepts``). So a parameter
misspelt in a method (``logGroupname=None``) would silently arrive as None, and a member the
method forgot would silently vanish: this test holds each method's parameters to the botocore
input shape of its operation, for every service the server wires into its gateway (found from
the gateway's bindings, so a service added in server.py is checked without touching this file).

It also refuses a parameter that shadows a module, class or function the service's module
imports or defines (a parameter named ``MetricData`` in a module that imports the class
``MetricData`` leaves the method unable to reach the class, and reads as if it were one).
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap

import pytest

from sagewatch.config import Settings
from sagewatch.server import Sagewatch

POSITIONAL = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def wired_operations():
    """(service name, operation name, operation) for every operation a wired service implements."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="sagewatch-signatures-") as data_dir:
        system = Sagewatch(Settings(data_dir=Path(data_dir)))
        try:
            gateway = system.gateway
            bindings = {id(b): b for b in (*gateway.by_target_prefix.values(), *gateway.by_signing_name.values(),
                                           *gateway.by_api_version.values())}
            return [
                (binding.spec.name, name, operation)
                for binding in bindings.values()
                for name, operation in sorted(binding.operations.items())
                if operation.method is not None
            ]
        finally:
            system.database.close()


OPERATIONS = wired_operations()


def test_the_services_of_the_server_are_found():
    # Guards the discovery itself: a gateway without Logs and CloudWatch means it found nothing.
    services = {service for service, _, _ in OPERATIONS}
    assert {"logs", "cloudwatch"} <= services


def keys_read_from(method, mapping: str) -> set[str]:
    """The string keys a method's body reads from its ``**mapping``: ``mapping["X"]``,
    ``mapping.get("X")``, ``mapping.pop("X")`` and ``"X" in mapping``."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_name(node.value, mapping) and _is_text(node.slice):
            found.add(node.slice.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop") and _is_name(node.func.value, mapping)
              and node.args and _is_text(node.args[0])):
            found.add(node.args[0].value)
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
              and _is_text(node.left) and _is_name(node.comparators[0], mapping)):
            found.add(node.left.value)
    return found


def _is_name(node, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def signature_problems(operation_name: str, operation) -> list[str]:
    shape = operation.model.input_shape
    members = set(shape.members) if shape is not None else set()
    required = set(shape.required_members) if shape is not None else set()
    parameters = inspect.signature(operation.method).parameters.values()
    named = {p.name: p for p in parameters if p.kind in POSITIONAL}
    var_keyword = next((p.name for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD), None)
    problems = [f"{name} is not a member of {operation_name}'s input" for name in sorted(named.keys() - members)]
    problems += [f"*{p.name}: the gateway passes members by keyword only"
                 for p in parameters if p.kind is inspect.Parameter.VAR_POSITIONAL]
    problems += [f"{name} has no default, but {operation_name} may leave it out"
                 for name, p in sorted(named.items())
                 if p.default is inspect.Parameter.empty and name in members and name not in required]
    if var_keyword is None:
        problems += [f"member {name} of {operation_name}'s input never reaches the method"
                     for name in sorted(members - named.keys())]
    else:
        problems += [f"{name} read from **{var_keyword} is not a member of {operation_name}'s input"
                     for name in sorted(keys_read_from(operation.method, var_keyword) - members)]
    return problems


def shadowing_problems(operation) -> list[str]:
    module = sys.modules[operation.method.__module__]
    problems = []
    for name in inspect.signature(operation.method).parameters:
        held = vars(module).get(name)
        if inspect.ismodule(held) or inspect.isclass(held) or inspect.isroutine(held):
            kind = "module" if inspect.ismodule(held) else "class" if inspect.isclass(held) else "function"
            problems.append(f"parameter {name} shadows the {kind} {name} of {module.__name__}")
    return problems


@pytest.mark.parametrize("service, operation_name, operation", OPERATIONS,
                         ids=[f"{s}.{o}" for s, o, _ in OPERATIONS])
def test_operation_method_takes_its_input_members(service, operation_name, operation):
    assert signature_problems(operation_name, operation) + shadowing_problems(operation) == []


# -- the checks themselves catch what they are for ---------------------------------------------


class _Model:
    def __init__(self, members, required=()):
        self.input_shape = type("Shape", (), {"members": dict.fromkeys(members), "required_members": list(required)})


class _Operation:
    def __init__(self, method, members, required=()):
        self.method, self.model = method, _Model(members, required)


def test_the_check_catches_a_misspelt_a_forgotten_and_a_wrongly_required_member():
    def describe(logGroupname=None, limit=None):
        pass

    def create(logGroupName, tags):
        pass

    assert signature_problems("Describe", _Operation(describe, ["logGroupName", "limit"])) == [
        "logGroupname is not a member of Describe's input",
        "member logGroupName of Describe's input never reaches the method",
    ]
    assert signature_problems("Create", _Operation(create, ["logGroupName", "tags"], ["logGroupName"])) == [
        "tags has no default, but Create may leave it out",
    ]


def test_the_check_reads_what_a_method_takes_from_its_keyword_mapping():
    def put(AlarmName, **members):
        if "Tagz" in members:
            return members["Threshold"], members.get("Unit"), members.pop("ActionsEnabled", None)

    assert keys_read_from(put, "members") == {"Tagz", "Threshold", "Unit", "ActionsEnabled"}
    assert signature_problems("Put", _Operation(put, ["AlarmName", "Threshold", "Unit", "ActionsEnabled"],
                                                ["AlarmName"])) == [
        "Tagz read from **members is not a member of Put's input"]


def test_the_check_catches_a_parameter_shadowing_an_import():
    assert shadowing_problems(_Operation(_shadows, [])) == [
        f"parameter inspect shadows the module inspect of {__name__}",
        f"parameter Settings shadows the class Settings of {__name__}",
    ]


def _shadows(inspect=None, Settings=None, plain=None):  # noqa: A002 (on purpose)
    pass
