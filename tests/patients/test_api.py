"""API lookup of a patient: the body, scoped exactly like the patient's page."""

from __future__ import annotations

from datetime import date

import pytest

from rems.auth.models import Role
from tests.certification.helpers import certify, make_site
from tests.patients.helpers import enroll_patient, prepare_patient, publish_guides, team


@pytest.fixture
def admin(factory):
    """A program administrator."""
    return factory.user(Role.ADMIN)


def _get(client, factory, user, path):
    """GET `path` with a fresh token of `user`."""
    return client.get(path, headers={"Authorization": f"Bearer {factory.token(user)}"})


def _certified_site_staff(app, factory, admin):
    """A certified site's representative: site staff whose tokens work."""
    site = make_site(app, factory)
    certify(app, site, admin)
    return site.user


def test_the_prescriber_sees_status_acknowledgments_and_courses(app, client, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    response = _get(client, factory, ours.prescriber.user, f"/api/v1/patients/{patient.rems_id}")
    assert response.status_code == 200
    body = response.get_json()
    acknowledged = sorted(body.pop("acknowledgments"), key=lambda a: a["document"])
    assert acknowledged == [
        {"document": "medication_guide", "version": "2026-01",
         "acknowledged_at": "2026-11-24T09:00:00Z", "method": "in_person"},
        {"document": "patient_guide", "version": "2026-01",
         "acknowledged_at": "2026-11-24T09:00:00Z", "method": "in_person"},
    ]  # fmt: skip
    assert body == {
        "patient_id": patient.rems_id,
        "status": "enrolled",
        "prescriber": {"npi": ours.prescriber.npi, "name": "Elena Ramirez, MD"},
        "documents_missing": [],
        "courses": [],
        "monitoring": {"compliant": True, "monitoring_ends_on": None, "items_due": 0,
                       "items_overdue": 0, "overdue_items": []},
        "adverse_events": [],
    }  # fmt: skip


def test_a_new_guide_version_shows_as_missing(app, client, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    publish_guides(app, admin, label="2026-11", effective_on=date(2026, 11, 24),
                   codes=("patient_guide",))  # fmt: skip
    body = _get(client, factory, ours.delegate, f"/api/v1/patients/{patient.rems_id}").get_json()
    assert body["documents_missing"] == ["patient_guide"]


def test_a_pending_patient_without_guides_misses_both(app, client, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    body = _get(client, factory, admin, f"/api/v1/patients/{patient.rems_id}").get_json()
    assert (body["status"], body["acknowledgments"]) == ("pending", [])
    assert body["documents_missing"] == ["medication_guide", "patient_guide"]


def test_only_the_team_and_the_program_get_the_patient(app, client, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    patient = prepare_patient(app, ours.prescriber)
    path = f"/api/v1/patients/{patient.rems_id}"
    insiders = (ours.prescriber.user, ours.delegate, admin, factory.user(Role.AUDITOR))
    for user in insiders:
        assert _get(client, factory, user, path).status_code == 200, user.role
    staff = _certified_site_staff(app, factory, admin)
    unknown = _get(client, factory, admin, "/api/v1/patients/P00000000000").get_json()
    for user in (theirs.prescriber.user, theirs.delegate, staff):
        response = _get(client, factory, user, path)
        assert response.status_code == 404, user.role
        assert response.get_json() == unknown  # the same answer as an unknown ID: no hint


def test_a_mistyped_patient_id_is_404_in_the_error_shape(app, client, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    last = patient.rems_id[-1]
    typo = patient.rems_id[:-1] + ("0" if last != "0" else "1")
    response = _get(client, factory, ours.prescriber.user, f"/api/v1/patients/{typo}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    lower = _get(
        client, factory, ours.prescriber.user, f"/api/v1/patients/{patient.rems_id.lower()}"
    )
    assert lower.get_json()["patient_id"] == patient.rems_id


def test_without_a_token_the_lookup_is_401(client):
    response = client.get("/api/v1/patients/P00000000000")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_the_openapi_document_describes_the_lookup_as_implemented(app, client, factory, admin):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/patients/{patient_id}"]["get"]
    assert "monitoring" in operation["summary"]
    schema = document["components"]["schemas"]["PatientLookup"]
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    body = _get(client, factory, admin, f"/api/v1/patients/{patient.rems_id}").get_json()
    as_of_only = {"as_of", "status_since"}  # present only when ?as_of= is asked
    assert set(body) == set(schema["properties"]) - as_of_only == set(schema["required"])
    item = _resolve(document, schema["properties"]["acknowledgments"]["items"])
    assert set(body["acknowledgments"][0]) == set(item["required"])


def _resolve(document: dict, schema: dict) -> dict:
    """A schema, or the component its $ref names."""
    if "$ref" not in schema:
        return schema
    return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
