"""Point in time: a party's certification and a patient's enrollment as of a past moment, read
from the recorded history (not today's row), on their pages; and the facts a gate decision was
made on, on the decision page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.auth.models import Role, User
from rems.authorizations.models import AuthorizationDecision
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.patients import lifecycle
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from tests.authorizations.helpers import gate


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def history(app, factory, clock):
    """Certified and enrolled on 2026-11-24 09:00; on the 25th at 09:00 the prescriber is
    suspended and the patient discontinued; on the 26th the prescriber is reinstated."""
    world = gate(app, factory)
    clock.advance(days=1)
    with app.app_context(), writing():
        admin = db.session.get(User, world.admin.id)
        prescriber = db.session.get(Prescriber, world.prescriber.id)
        apply_transition(db.session, prescriber, Transition.SUSPEND, actor=admin, today=today(),
                         reason="License under review")  # fmt: skip
        patient = db.session.get(Patient, world.patient.id)
        lifecycle.discontinue(db.session, patient, admin, reason="Relapse")
        db.session.commit()
    clock.advance(days=1)
    with app.app_context(), writing():
        admin = db.session.get(User, world.admin.id)
        prescriber = db.session.get(Prescriber, world.prescriber.id)
        apply_transition(db.session, prescriber, Transition.REINSTATE, actor=admin, today=today(),
                         reason="Cleared")  # fmt: skip
        db.session.commit()
    return world


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_a_party_page_answers_as_of_any_past_moment(history, factory, role):
    reader = factory.signed_in(factory.user(role))
    page = f"/admin/certification/prescribers/{history.prescriber.id}"
    answers = {
        "2026-11-23": "did not exist yet",
        "2026-11-24T10:00:00Z": "was certified",
        "2026-11-25": "was suspended",
        "2026-11-25T08:59:59Z": "was certified",
        "2026-11-26T09:00:00+00:00": "was certified",
    }
    for asked, expected in answers.items():
        text = _text(reader.get(page, query_string={"as_of": asked}))
        assert expected in text, asked
    suspended = _text(reader.get(page, query_string={"as_of": "2026-11-25"}))
    assert "Reason: License under review" in suspended
    assert "Suspended" not in _text(reader.get(page)).split("as of a past date")[0]


@pytest.mark.parametrize(
    ("asked", "message"),
    [
        ("2026-11-27", "in the future"),
        ("2026-11-26T23:00:00Z", "in the future"),
        ("last tuesday", "Give a date"),
        ("2026-11-25T10:00:00", "time zone"),
    ],
)
def test_a_future_or_unreadable_as_of_is_a_field_error(history, factory, asked, message):
    reader = factory.signed_in(factory.user(Role.AUDITOR))
    response = reader.get(
        f"/admin/certification/prescribers/{history.prescriber.id}", query_string={"as_of": asked}
    )
    assert response.status_code == 400
    assert message in _text(response) and 'aria-invalid="true"' in response.get_data(as_text=True)


def test_a_patient_page_answers_enrollment_as_of(history, factory):
    reader = factory.signed_in(factory.user(Role.AUDITOR))
    page = f"/patients/{history.patient.rems_id}"
    assert "was enrolled" in _text(reader.get(page, query_string={"as_of": "2026-11-24"}))
    later = _text(reader.get(page, query_string={"as_of": "2026-11-26"}))
    assert "was discontinued" in later and "Reason: Relapse" in later
    prescriber = factory.signed_in(history.prescriber.user)
    assert "was enrolled" in _text(prescriber.get(page, query_string={"as_of": "2026-11-24"}))


def test_a_decision_page_shows_the_facts_it_was_decided_on(app, factory, clock, client):
    world = gate(app, factory)
    client.post(
        "/api/v1/authorizations", json=world.request(),
        headers={"Authorization": f"Bearer {world.pharmacy_token}"},
    )  # fmt: skip
    with app.app_context():
        decision_id = db.session.scalar(sa.select(AuthorizationDecision.decision_id))
    clock.advance(days=1)
    with app.app_context(), writing():
        admin = db.session.get(User, world.admin.id)
        prescriber = db.session.get(Prescriber, world.prescriber.id)
        apply_transition(db.session, prescriber, Transition.REVOKE, actor=admin, today=today(),
                         reason="Revoked after the grant")  # fmt: skip
        db.session.commit()
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    text = _text(auditor.get(f"/authorizations/decisions/{decision_id}"))
    facts = text.split("The facts it was decided on", 1)[1].split("The request as received")[0]
    assert re.search(r"Prescriber .*?\(\d{10}\) certified", facts)
    assert re.search(r"Pharmacy Gate Pharmacy \(S\w+\) certified", facts)
    assert re.search(r"Receiving infusion site Gate Infusion Center \(S\w+\) certified", facts)
    assert f"Patient {world.patient.rems_id} enrolled" in facts
    assert "revoked" not in facts


def test_a_wrong_date_of_birth_reveals_nothing_about_the_patient(app, factory, client):
    world = gate(app, factory)
    denial = client.post(
        "/api/v1/authorizations", json=world.request(date_of_birth="1950-01-01"),
        headers={"Authorization": f"Bearer {world.pharmacy_token}"},
    ).get_json()  # fmt: skip
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    text = _text(auditor.get(f"/authorizations/decisions/{denial['decision_id']}"))
    facts = text.split("The facts it was decided on", 1)[1].split("The request as received")[0]
    assert "Patient" not in facts and "Pharmacy" in facts


def _api(client, token, path, **query):
    return client.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})


def test_api_lookups_answer_as_of(history, factory, client):
    token = factory.token(factory.user(Role.AUDITOR))
    npi = f"/api/v1/prescribers/{history.prescriber.npi}"
    assert _api(client, token, npi).get_json()["status"] == "certified"
    then = _api(client, token, npi, as_of="2026-11-25T12:00:00Z").get_json()
    assert then["status"] == "suspended" and then["as_of"] == "2026-11-25T12:00:00Z"
    assert then["status_since"] == "2026-11-25T09:00:00Z"
    assert _api(client, token, npi, as_of="2026-11-20").status_code == 404
    site = _api(client, token, f"/api/v1/sites/{history.site_code}", as_of="2026-11-24")
    assert site.get_json()["status"] == "certified"
    patient = f"/api/v1/patients/{history.patient.rems_id}"
    assert _api(client, token, patient).get_json()["status"] == "discontinued"
    before = _api(client, token, patient, as_of="2026-11-24T12:00:00Z").get_json()
    assert before["status"] == "enrolled" and before["courses"][0]["status"] == "authorized"
    assert len(before["acknowledgments"]) == 2 and before["documents_missing"] == []


@pytest.mark.parametrize(
    ("asked", "status", "code"),
    [("2026-12-01", 422, "validation_error"), ("soon", 400, "bad_request"), ("", 400, None)],
)
def test_api_refuses_a_future_or_unreadable_as_of(history, factory, client, asked, status, code):
    token = factory.token(factory.user(Role.AUDITOR))
    for path in (
        f"/api/v1/prescribers/{history.prescriber.npi}",
        f"/api/v1/sites/{history.site_code}",
        f"/api/v1/patients/{history.patient.rems_id}",
    ):
        response = _api(client, token, path, as_of=asked)
        assert response.status_code == status, path
        error = response.get_json()["error"]
        assert "as_of" in error["details"] and (code is None or error["code"] == code)


def test_monitoring_as_of_is_the_schedule_from_what_was_recorded_then(app, factory, clock):
    from tests.monitoring.helpers import treated_patient

    treated = treated_patient(app, factory, clock)
    last_dose = treated.doses[-1].isoformat()
    clock.advance(days=100)  # no result recorded since: monthly tests are overdue now
    token = factory.token(factory.user(Role.AUDITOR))
    client = app.test_client()
    path = f"/api/v1/patients/{treated.world.patient.rems_id}"
    now = _api(client, token, path).get_json()["monitoring"]
    then = _api(client, token, path, as_of=last_dose).get_json()["monitoring"]
    assert now["items_overdue"] > 0 and not now["compliant"]
    assert then["compliant"] and then["items_overdue"] == 0
    assert then["monitoring_ends_on"] == now["monitoring_ends_on"]
    reader = factory.signed_in(factory.user(Role.AUDITOR))
    page = _text(reader.get(path.replace("/api/v1", ""), query_string={"as_of": last_dose}))
    assert "Monitoring then: compliant" in page


def test_facts_of_patients_read_together_leave_out_the_patients_between(app, factory, clock):
    """A batch in id order is read as a range: a patient in its gaps adds nothing to the others."""
    from rems.monitoring.asof import facts_as_of, facts_as_of_for
    from tests.monitoring.helpers import more_treated_patients, treated_patient

    treated = treated_patient(app, factory, clock)
    between, last = more_treated_patients(app, treated.world, clock, 2)
    with app.app_context():
        moment = clock.now()
        first, gap, end = (db.session.get(Patient, p.id) for p in
                           (treated.world.patient, between, last))  # fmt: skip
        assert first.id < gap.id < end.id
        together = facts_as_of_for(db.session, [first, end], moment)
        assert together == {p.id: facts_as_of(db.session, p, moment) for p in (first, end)}
        assert together[first.id].doses and together[end.id].doses
        assert len(together[end.id].doses) == len(facts_as_of(db.session, gap, moment).doses)
