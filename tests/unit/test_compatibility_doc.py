"""docs/compatibility.md must list every operation, and say "yes" exactly where it is served."""

from __future__ import annotations

import re
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from sagewatch.services.cloudwatch.service import CloudWatchService
from sagewatch.services.logs.service import LogsService

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"


def _rows(section: str) -> dict[str, str]:
    text = DOC.read_text()
    body = text.split(f"(`{section}`)", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2] for m in re.finditer(r"^\| (\w+) \| (yes|no) \|", body, re.M)}


@pytest.mark.parametrize("service", [LogsService, CloudWatchService], ids=lambda s: s.model_name)
def test_every_operation_is_listed_with_its_true_status(service):
    model = botocore.session.get_session().get_service_model(service.model_name)
    rows = _rows(service.model_name)
    assert set(rows) == set(model.operation_names)
    for operation, status in rows.items():
        implemented = hasattr(service, xform_name(operation))
        assert status == ("yes" if implemented else "no"), operation
