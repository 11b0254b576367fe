"""The dry run answers exactly as the gate would: for every denial reason (and a grant), the
`$rems-etasu` answer is taken first, then the real request is sent, and they must agree."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from rems.auth.models import User
from rems.authorizations.models import Authorization
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.patients.models import Patient
from rems.sites.models import Site
from tests.authorizations.helpers import gate, on_day
from tests.interop.helpers import etasu_parameters, guidance, post_etasu, reason_codes
from tests.patients.helpers import certified_prescriber, prepare_patient, publish_guides


def _granted(app, factory, world):
    return world.pharmacy_token, world.request()


def _pharmacy_not_certified(app, factory, world):
    """The gate's pharmacy suspended after its staff's token was issued (no new token may be
    issued to the staff of a site that is not certified)."""
    with app.app_context(), writing():
        pharmacy = db.session.scalar(sa.select(Site).where(Site.site_code == world.pharmacy_code))
        apply_transition(db.session, pharmacy, Transition.SUSPEND,
                         actor=db.session.get(User, world.admin.id), today=today(),
                         reason="Audit findings.")  # fmt: skip
        db.session.commit()
    return world.pharmacy_token, world.request()


def _site_not_certified(app, factory, world):
    return world.pharmacy_token, world.request(infusion_site_id=world.pharmacy_code)


def _prescriber_not_certified(app, factory, world):
    return world.pharmacy_token, world.request(prescriber_npi="1234567893")


def _prescriber_not_of_record(app, factory, world):
    other = certified_prescriber(app, factory, world.admin, last_name="Okafor")
    return world.pharmacy_token, world.request(prescriber_npi=other.npi)


def _patient_not_found(app, factory, world):
    return world.pharmacy_token, world.request(date_of_birth="1950-01-01")


def _patient_not_enrolled(app, factory, world):
    pending = prepare_patient(app, world.prescriber)
    with app.app_context():
        born = db.session.get(Patient, pending.id).date_of_birth.isoformat()
    return world.pharmacy_token, world.request(patient_id=pending.rems_id, date_of_birth=born)


def _guide_not_acknowledged(app, factory, world):
    publish_guides(app, world.admin, label="2026-11", effective_on=date(2026, 11, 24),
                   codes=("medication_guide",))  # fmt: skip
    return world.pharmacy_token, world.request()


def _doses_exceeded(app, factory, world):
    _real(app.test_client(), world.pharmacy_token, world.request())  # holds every dose
    return world.pharmacy_token, world.request()


WORLDS = {
    "granted": (_granted, True),
    "PHARMACY_NOT_CERTIFIED": (_pharmacy_not_certified, True),
    "SITE_NOT_CERTIFIED": (_site_not_certified, True),
    "PRESCRIBER_NOT_CERTIFIED": (_prescriber_not_certified, True),
    "PRESCRIBER_NOT_OF_RECORD": (_prescriber_not_of_record, True),
    "PATIENT_NOT_FOUND": (_patient_not_found, True),
    "PATIENT_NOT_ENROLLED": (_patient_not_enrolled, True),
    "GUIDE_NOT_ACKNOWLEDGED": (_guide_not_acknowledged, True),
    "COURSE_NOT_AUTHORIZED": (_granted, False),
    "DOSES_EXCEEDED": (_doses_exceeded, True),
}


def _real(client, token, body):
    headers = {"Authorization": f"Bearer {token}"}
    return client.post("/api/v1/authorizations", json=body, headers=headers)


@pytest.mark.parametrize("case", list(WORLDS))
def test_the_dry_run_agrees_with_the_real_request(app, client, factory, case):
    build, with_course = WORLDS[case]
    world = gate(app, factory, with_course=with_course)
    token, body = build(app, factory, world)
    dry = post_etasu(client, token, etasu_parameters(body))
    real = _real(client, token, body)
    assert dry.status_code == 200, dry.get_data(as_text=True)
    codes = {reason["code"] for reason in real.get_json().get("reasons", [])}
    if case != "granted":
        assert case in codes
    status = guidance(dry)["status"]
    if "PATIENT_NOT_FOUND" in codes:
        assert status == "failure"
        return
    assert status == ("success" if real.status_code == 201 else "data-required")
    assert reason_codes(dry) == codes


def test_time_that_has_ended_is_settled_as_the_gate_would_and_then_forgotten(
    app, client, factory, clock
):
    world = gate(app, factory)
    assert _real(client, world.pharmacy_token, world.request()).status_code == 201
    on_day(clock, date(2026, 12, 3))  # the grant (valid until 2026-12-01) has expired
    before = _statuses(app)
    dry = post_etasu(client, world.pharmacy_token, etasu_parameters(world.request()))
    assert guidance(dry)["status"] == "success"
    assert _statuses(app) == before == ["issued"]  # the dry run recorded nothing
    assert _real(client, world.pharmacy_token, world.request()).status_code == 201


def _statuses(app) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Authorization.status).order_by(Authorization.id))
        return [status.value for status in rows]
