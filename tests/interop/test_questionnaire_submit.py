"""`QuestionnaireResponse/$submit`: a patient enrollment form becomes a pending enrollment
(signed later in the app); each bad linkId is named; other forms and roles are refused; nothing
is stored on a refusal."""

from __future__ import annotations

import json

import sqlalchemy as sa

from rems.auth.models import Role
from rems.extensions import db
from rems.patients.models import Patient, PatientStatus
from tests.authorizations.helpers import site_with_staff
from tests.patients.helpers import certified_prescriber

SUBMIT = "/fhir/QuestionnaireResponse/$submit"
FORM = "http://localhost/fhir/Questionnaire/lemtrada-patient-enrollment"


def _answer(link_id: str, kind: str, value) -> dict:
    return {"linkId": link_id, "answer": [{kind: value}]}


def _response(form: str = FORM, **changes) -> dict:
    items = {
        "first_name": _answer("first_name", "valueString", "Lena"),
        "last_name": _answer("last_name", "valueString", "Fischer"),
        "date_of_birth": _answer("date_of_birth", "valueDate", "1985-04-12"),
        "sex": _answer("sex", "valueString", "female"),
        "can_become_pregnant": _answer("can_become_pregnant", "valueBoolean", True),
    } | changes
    group = {"linkId": "patient", "item": [i for i in items.values() if i is not None]}
    return {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": form, "item": [group]}  # fmt: skip


def _post(client, token, body):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    return client.post(SUBMIT, data=json.dumps(body), headers=headers)


def _patients(app) -> list[Patient]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Patient)))


def _prescriber_token(app, factory):
    prescriber = certified_prescriber(app, factory, factory.user(Role.ADMIN))
    return factory.token(prescriber.user)


def test_a_patient_enrollment_becomes_a_pending_enrollment(app, client, factory):
    token = _prescriber_token(app, factory)
    response = _post(client, token, _response())
    assert response.status_code == 201, response.get_data(as_text=True)
    (patient,) = _patients(app)
    assert patient.status == PatientStatus.PENDING and patient.can_become_pregnant
    outcome = response.get_json(force=True)
    assert patient.rems_id in outcome["issue"][0]["diagnostics"]
    assert response.headers["Location"].endswith(f"/patients/{patient.rems_id}")


def test_each_bad_link_id_is_named_and_nothing_is_stored(app, client, factory):
    token = _prescriber_token(app, factory)
    colour = _answer("favourite_colour", "valueString", "x")
    bad_date = _answer("date_of_birth", "valueDate", "1985-13-40")
    body = _response(date_of_birth=bad_date, sex=None, favourite_colour=colour)
    response = _post(client, token, body)
    assert response.status_code == 422
    issues = response.get_json(force=True)["issue"]
    named = {issue["expression"][0] for issue in issues}
    assert named == {f"QuestionnaireResponse.repeat(item).where(linkId='{link}')"
                     for link in ("date_of_birth", "sex", "favourite_colour")}  # fmt: skip
    assert _patients(app) == []


def test_other_forms_and_other_roles_are_refused(app, client, factory):
    token = _prescriber_token(app, factory)
    other = FORM.replace("patient-enrollment", "knowledge-assessment")
    refused = _post(client, token, _response(form=other))
    assert refused.status_code == 422 and "in the LEMTRADA REMS app" in refused.get_data(
        as_text=True
    )
    assert _post(client, token, _response(form=FORM + "|0.0")).status_code == 422
    assert _post(client, token, {"resourceType": "Patient"}).status_code == 400
    admin = factory.user(Role.ADMIN)
    staff = site_with_staff(app, factory, admin, dispenses=True, infuses=False, name="Rx")[1]
    assert _post(client, staff, _response()).status_code == 403
    assert _patients(app) == []
