"""Every FHIR resource the interop tests produce is validated by FHIR.js (the npm `fhir`
package with its bundled R4 definitions), run once per test over all of them. Install it with
`npm ci` in this folder; without node or that folder the validation is skipped (see
test_validator.py, which says so)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import request_finished

HERE = Path(__file__).parent
VALIDATOR = HERE / "validate.js"
FHIR_JSON = "application/fhir+json"


def validator_missing() -> str | None:
    """Why FHIR.js cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "fhir").is_dir():
        return "FHIR.js is not installed: run `npm ci` in tests/interop"
    return None


def validate(resources: list[dict]) -> list[dict]:
    """FHIR.js's verdict on each resource: {valid, messages}."""
    done = subprocess.run(
        ["node", str(VALIDATOR)], input=json.dumps(resources), capture_output=True,
        text=True, check=True, timeout=120,
    )  # fmt: skip
    return json.loads(done.stdout)


@pytest.fixture(autouse=True)
def fhir_js_validates_every_answer(app):
    """Collect every application/fhir+json answer of the test; FHIR.js must accept each."""
    produced: list[dict] = []

    def collect(_sender, response, **_extra):
        if response.mimetype == FHIR_JSON:
            produced.append(json.loads(response.get_data(as_text=True)))

    request_finished.connect(collect, app)
    yield produced
    request_finished.disconnect(collect, app)
    if not produced or validator_missing():
        return
    for resource, verdict in zip(produced, validate(produced), strict=True):
        assert verdict["valid"] and not verdict["messages"], (verdict["messages"], resource)
