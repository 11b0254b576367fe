"""Pharmacy and infusion staff see a patient as the REMS ID with the initials and date of birth
beside it (what their identity check needs) on every list and decision page, never more."""

from __future__ import annotations

import re

import pytest

from rems.extensions import db
from rems.patients.models import Patient
from tests.authorizations.helpers import gate
from tests.infusions.test_pages import staff_of


@pytest.fixture
def world(app, factory, client):
    """The gate, and an authorization the pharmacy was granted for the infusion site."""
    world = gate(app, factory)
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    granted = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert granted.status_code == 201
    return world, granted.get_json()["authorization_number"]


@pytest.fixture
def identity(app, world):
    """(initials, date of birth, first name, last name) of the gate's patient."""
    gate_, _ = world
    with app.app_context():
        patient = db.session.get(Patient, gate_.patient.id)
        return (
            patient.initials,
            patient.date_of_birth.isoformat(),
            patient.first_name,
            patient.last_name,
        )


def _shows_only_the_check(page: str, rems_id: str, identity) -> None:
    initials, born, first, last = identity
    check = f'<code>{rems_id}</code> <span class="patient-check">{initials}'
    assert check in page and f"born {born}</span>" in page
    assert not re.search(rf"\b({first}|{last})\b", page)  # neither name, even alone


def test_pharmacy_staff_see_initials_and_birth_date_beside_the_id(app, factory, world, identity):
    gate_, number = world
    pharmacist = factory.signed_in(staff_of(app, factory, gate_.pharmacy_code))
    rems_id = gate_.patient.rems_id
    for path in ("/authorizations", "/authorizations/decisions", f"/authorizations/{number}"):
        _shows_only_the_check(pharmacist.get(path).get_data(as_text=True), rems_id, identity)
    history = pharmacist.get("/authorizations/decisions").get_data(as_text=True)
    decision_id = history.split('href="/authorizations/decisions/', 1)[1].split('"', 1)[0]
    decision = pharmacist.get(f"/authorizations/decisions/{decision_id}").get_data(as_text=True)
    _shows_only_the_check(decision, rems_id, identity)


def test_infusion_staff_see_initials_and_birth_date_beside_the_id(app, factory, world, identity):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    rems_id = gate_.patient.rems_id
    for path in ("/infusions", f"/authorizations/{number}"):
        _shows_only_the_check(nurse.get(path).get_data(as_text=True), rems_id, identity)
    record = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    initials, born, first, last = identity
    assert f"<dd>{initials}</dd>" in record and born in record
    assert not re.search(rf"\b({first}|{last})\b", record)


def test_a_denial_for_an_unmatched_patient_shows_the_id_alone(app, factory, client, world):
    gate_, _ = world
    headers = {"Authorization": f"Bearer {gate_.pharmacy_token}"}
    denied = client.post(
        "/api/v1/authorizations", json=gate_.request(date_of_birth="1901-01-01"), headers=headers
    )
    assert denied.get_json()["decision"] == "denied"
    pharmacist = factory.signed_in(staff_of(app, factory, gate_.pharmacy_code))
    decision_id = denied.get_json()["decision_id"]
    page = pharmacist.get(f"/authorizations/decisions/{decision_id}").get_data(as_text=True)
    assert "patient-check" not in page and gate_.patient.rems_id in page
