"""The independent validator itself: FHIR.js is installed, and it refuses what is wrong."""

from __future__ import annotations

import pytest

from tests.interop.conftest import validate, validator_missing


def test_fhir_js_is_installed_and_refuses_an_invalid_resource():
    missing = validator_missing()
    if missing:
        pytest.skip(f"FHIR.js validation is off: {missing}")
    good = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid"}]}  # fmt: skip
    bad = {"resourceType": "GuidanceResponse", "status": "maybe"}
    verdicts = validate([good, bad])
    assert verdicts[0]["valid"] and not verdicts[0]["messages"]
    assert not verdicts[1]["valid"]
