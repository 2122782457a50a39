"""docs/compatibility.md lists every SageMaker and STS operation, "yes" exactly where served
(the rule of test_compatibility_doc.py, for the services of Step 4)."""

from __future__ import annotations

import botocore.session
import pytest
from botocore import xform_name

from sagewatch.services.sagemaker.service import SageMakerService
from sagewatch.services.sts.service import STSService

from .test_compatibility_doc import _rows


@pytest.mark.parametrize("service", [SageMakerService, STSService], ids=lambda s: s.model_name)
def test_every_operation_is_listed_with_its_true_status(service):
    model = botocore.session.get_session().get_service_model(service.model_name)
    rows = _rows(service.model_name)
    assert set(rows) == set(model.operation_names)
    for operation, status in rows.items():
        implemented = hasattr(service, xform_name(operation))
        assert status == ("yes" if implemented else "no"), operation
