"""Builders for monitoring tests: a patient given a course through the real gate (request,
infusions), and reading the stored monitoring state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from rems.extensions import db
from rems.monitoring.models import MonitoringStatus
from rems.patients.models import Patient
from tests.authorizations.helpers import Gate, authorize, gate, infusion
from tests.patients.helpers import PatientRef, enroll_patient


@dataclass(frozen=True)
class Treated:
    """A gate world whose patient has been given doses on `doses`."""

    world: Gate
    doses: tuple[date, ...]

    @property
    def first_dose(self) -> date:
        return self.doses[0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def give_course(
    app, world: Gate, clock, *, doses: int | None = None, patient: PatientRef | None = None
) -> tuple[date, ...]:
    """Authorize dispensing and record `doses` infusions (all by default) on consecutive days,
    moving the clock to each day; returns the dose dates. The gate's patient by default."""
    client = app.test_client()
    body = world.request()
    if patient is not None:
        with app.app_context():
            born = db.session.get(Patient, patient.id).date_of_birth.isoformat()
        body |= {"patient_id": patient.rems_id, "date_of_birth": born}
    granted = client.post(
        "/api/v1/authorizations", json=body, headers=_bearer(world.pharmacy_token)
    ).get_json()
    assert granted["decision"] == "authorized", granted
    given = []
    for _ in range(doses or granted["doses"]):
        clock.advance(days=1)
        day = clock.now().date()
        path = f"/api/v1/authorizations/{granted['authorization_number']}/infusions"
        answer = client.post(path, json=infusion(day), headers=_bearer(world.nurse_token))
        assert answer.status_code == 201, answer.get_json()
        given.append(day)
    return tuple(given)


def treated_patient(app, factory, clock, *, doses: int | None = None) -> Treated:
    """An enrolled patient with course 1 authorized and given."""
    world = gate(app, factory)
    return Treated(world, give_course(app, world, clock, doses=doses))


def more_treated_patients(app, world: Gate, clock, count: int) -> list[PatientRef]:
    """`count` more patients of the gate's prescriber, each given course 1."""
    refs = []
    for _ in range(count):
        ref = enroll_patient(app, world.prescriber)
        authorize(app, ref, world.prescriber)
        give_course(app, world, clock, patient=ref)
        refs.append(ref)
    return refs


def stored_state(app, patient_id: int) -> dict[str, MonitoringStatus]:
    """The stored monitoring rows of a patient, by test code (detached)."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(MonitoringStatus).where(MonitoringStatus.patient_id == patient_id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return {row.test_code: row for row in rows}


def move_to(clock, day: date) -> None:
    """Move the frozen clock forward to 09:00 UTC on `day`."""
    clock.advance(days=(day - clock.now().date()).days)


def days(n: int) -> timedelta:
    return timedelta(days=n)
