"""`$rems-etasu` by name and birth date (the prototype pharmacy system's demographic body):
answered only for a patient of record of the prescriber named by NPI; otherwise `failure`."""

from __future__ import annotations

from rems.extensions import db
from rems.patients.models import Patient
from tests.authorizations.helpers import gate
from tests.interop.helpers import etasu_parameters, guidance, post_etasu
from tests.patients.helpers import certified_prescriber


def _demographic(app, world, npi: str | None) -> dict:
    """The patient by name and birth date only (no REMS ID), as the prototype sends it."""
    with app.app_context():
        patient = db.session.get(Patient, world.patient.id)
        name = {"family": patient.last_name.upper(), "given": [patient.first_name]}
    body = etasu_parameters(world.request(prescriber_npi=npi or "0"), with_npi=npi is not None)
    body["parameter"][0]["resource"] = {"resourceType": "Patient", "name": [name],
                                        "birthDate": world.date_of_birth}  # fmt: skip
    return body


def test_name_and_birth_date_with_the_prescriber_of_record_is_answered(app, client, factory):
    world = gate(app, factory)
    response = post_etasu(
        client, world.pharmacy_token, _demographic(app, world, world.prescriber.npi)
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert guidance(response)["status"] == "success"


def test_name_and_birth_date_with_another_prescriber_or_none_is_a_failure(app, client, factory):
    world = gate(app, factory)
    other = certified_prescriber(app, factory, world.admin, last_name="Okafor")
    for npi in (other.npi, None):
        response = post_etasu(client, world.pharmacy_token, _demographic(app, world, npi))
        answer = guidance(response)
        assert answer["status"] == "failure"
        assert "contained" not in answer
