"""docs/compatibility.md must list every operation of every service the server wires into its
gateway, and say "yes" exactly where the gateway serves it.

The services are found from the application server.py builds (the gateway's bindings), so a
service added there is held to the document with no change here.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from sagewatch.config import Settings
from sagewatch.server import Sagewatch

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


def _rows(section: str) -> dict[str, str]:
    """The operation table under the heading that names ``section`` (botocore's service name)."""
    text = DOC.read_text()
    assert f"(`{section}`)" in text, f"docs/compatibility.md has no section for {section}"
    body = text.split(f"(`{section}`)", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2] for m in re.finditer(r"^\| (\w+) \| (yes|no) \|", body, re.M)}


def wired_services() -> dict[str, dict[str, bool]]:
    """Per service the gateway serves (botocore name), each operation of its model: served?"""
    with tempfile.TemporaryDirectory(prefix="sagewatch-compatibility-") as data_dir:
        system = Sagewatch(Settings(data_dir=Path(data_dir)))
        try:
            gateway = system.gateway
            bindings = {id(b): b for b in (*gateway.by_target_prefix.values(), *gateway.by_signing_name.values(),
                                           *gateway.by_api_version.values())}
            return {
                binding.spec.name: {name: op.method is not None for name, op in binding.operations.items()}
                for binding in bindings.values()
            }
        finally:
            system.database.close()


SERVICES = wired_services()


def test_the_services_of_the_server_are_found():
    # Guards the discovery itself: finding none would make the test below check nothing.
    assert {"logs", "cloudwatch", "sagemaker", "sts"} <= set(SERVICES)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_operation_is_listed_with_its_true_status(service):
    served = SERVICES[service]
    rows = _rows(service)
    assert set(rows) == set(served), "the table's operations are not the model's"
    wrong = {operation: status for operation, status in rows.items()
             if status != ("yes" if served[operation] else "no")}
    assert wrong == {}, "rows whose status is not what the gateway serves"
