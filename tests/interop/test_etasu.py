"""`$rems-etasu`: the IG's example (a drug not ours), a ready patient, a missing Medication
Guide, case numbers, malformed bodies; nothing is ever created, and the read is logged."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.audit.models import AuditEvent
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.extensions import db
from tests.authorizations.helpers import gate
from tests.interop.helpers import (
    etasu_parameters,
    guidance,
    ig_example_text,
    post_etasu,
    reason_codes,
    requirements,
)
from tests.patients.helpers import publish_guides


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
        return count(AuthorizationDecision), count(Authorization), count(AuditEvent)


def test_the_ig_example_verbatim_is_a_failure_for_a_drug_not_ours(app, client, factory):
    world = gate(app, factory)
    response = post_etasu(client, world.pharmacy_token, ig_example_text())
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    answer = guidance(response)
    assert answer["status"] == "failure"
    assert "not one this REMS administers" in answer["note"][0]["text"]


def test_the_ig_example_with_its_trailing_comma_is_a_400(app, client, factory):
    world = gate(app, factory)
    text = ig_example_text("ig-rems-etasu-input-trailing-comma.json")
    response = post_etasu(client, world.pharmacy_token, text)
    assert response.status_code == 400
    outcome = response.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    assert "not valid JSON" in outcome["issue"][0]["diagnostics"]


def test_a_ready_patient_is_success_and_nothing_is_created(app, client, factory):
    world = gate(app, factory)
    before = _counts(app)
    response = post_etasu(client, world.pharmacy_token, etasu_parameters(world.request()))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert guidance(response)["status"] == "success"
    parts = requirements(response)
    assert {r["status"] for r in parts.values()} == {"success"}
    assert "Infusion Site Certification" in parts and "Medication Guide" in parts
    assert _counts(app) == before
    with app.app_context():
        logged = db.session.scalars(sa.select(RecordAccess.entity_id)).all()
    assert world.patient.rems_id in logged


def test_without_site_or_prescriber_the_prescriber_of_record_is_asked_and_site_left_out(
    app, client, factory
):
    world = gate(app, factory)
    body = etasu_parameters(world.request(), with_site=False, with_npi=False)
    response = post_etasu(client, world.pharmacy_token, body)
    assert guidance(response)["status"] == "success"
    assert "Infusion Site Certification" not in requirements(response)


def test_a_new_medication_guide_not_acknowledged_is_data_required_naming_it(app, client, factory):
    world = gate(app, factory)
    publish_guides(app, world.admin, label="2026-11", effective_on=date(2026, 11, 24),
                   codes=("medication_guide",))  # fmt: skip
    response = post_etasu(client, world.pharmacy_token, etasu_parameters(world.request()))
    assert guidance(response)["status"] == "data-required"
    guide = requirements(response)["Medication Guide"]
    assert guide["status"] == "data-required"
    assert "medication guide" in guide["note"][0]["text"]
    assert reason_codes(response) == {"GUIDE_NOT_ACKNOWLEDGED"}
    actors = {e["valueCode"] for e in guide["extension"][0]["extension"] if e["url"] == "actionBy"}
    assert actors == {"prescriber"}


def test_an_unknown_patient_is_a_failure_and_counts_against_the_guessing_limit(
    app, client, factory
):
    world = gate(app, factory)
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "2 per hour"
    wrong = etasu_parameters(world.request(date_of_birth="1950-01-01"))
    for _ in range(2):
        assert guidance(post_etasu(client, world.pharmacy_token, wrong))["status"] == "failure"
    refused = post_etasu(client, world.pharmacy_token, wrong)
    assert refused.status_code == 429
    assert refused.get_json(force=True)["issue"][0]["code"] == "throttled"
    assert "Retry-After" in refused.headers


def test_a_case_number_redecides_the_pharmacys_stored_request(app, client, factory):
    world = gate(app, factory)
    denied = client.post(
        "/api/v1/authorizations",
        json=world.request(infusion_site_id=world.pharmacy_code),
        headers={"Authorization": f"Bearer {world.pharmacy_token}"},
    ).get_json()
    for name in ("caseNumber", "case_number", "authNumber"):
        body = {"resourceType": "Parameters",
                "parameter": [{"name": name, "valueString": denied["decision_id"]}]}  # fmt: skip
        response = post_etasu(client, world.pharmacy_token, body)
        assert guidance(response)["status"] == "data-required"
        assert reason_codes(response) == {"SITE_NOT_CERTIFIED"}
    other = {"resourceType": "Parameters",
             "parameter": [{"name": "caseNumber", "valueString": "D00000000000"}]}  # fmt: skip
    assert guidance(post_etasu(client, world.pharmacy_token, other))["status"] == "failure"


def test_bad_bodies_are_operation_outcomes(app, client, factory):
    world = gate(app, factory)
    token = world.pharmacy_token
    cases = [
        ({"resourceType": "Patient"}, 400, "resourceType"),
        ({"resourceType": "Parameters", "parameter": []}, 400, "patient"),
        ({"resourceType": "Parameters", "parameter": "x"}, 400, "Parameters"),
        ("[1, 2]", 400, None),
    ]
    for body, status, named in cases:
        response = post_etasu(client, token, body)
        assert response.status_code == status, body
        outcome = response.get_json(force=True)
        assert outcome["resourceType"] == "OperationOutcome"
        if named:
            issue = outcome["issue"][0]
            assert named in issue["diagnostics"] + " ".join(issue.get("expression", []))
    assert post_etasu(client, "nope", {"resourceType": "Parameters"}).status_code == 401
    assert post_etasu(client, token, "{}", content_type="text/plain").status_code == 415


def test_metadata_lists_the_operation_it_serves(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    statement = response.get_json(force=True)
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"GuidanceResponse", "Questionnaire", "QuestionnaireResponse"}
    assert [op["name"] for op in resources["QuestionnaireResponse"]["operation"]] == ["submit"]
    assert [op["name"] for op in resources["GuidanceResponse"]["operation"]] == ["rems-etasu"]
    package = resources["Questionnaire"]["operation"]
    assert [op["name"] for op in package] == ["questionnaire-package"]
