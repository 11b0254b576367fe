"""A small hand-made program for the report tests, whose every figure a person can count.

Through the real services and API: a certified prescriber (Ramirez), a certified pharmacy and a
certified infusion site; Pat (born 1984-02-29) enrolled with an authorized first course;
Bruno Costa (born 1931-02-03, so over 89) enrolled without a course; Carla Duarte pending.
At the gate: one grant of 3 doses for Pat, one denial for Pat's wrong date of birth, one denial
for Bruno (no course). Infusions: Pat's dose 1 (no reaction) and dose 2 (a serious reaction,
which reports an adverse event). Written directly, as a record imported from paper would be:
Pat's dose 3 observed for only 60 minutes, and an infection (not serious) for Bruno.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from rems.authorizations.models import Authorization
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from tests.authorizations.helpers import Gate, gate, infusion, on_day
from tests.factories import Factory
from tests.patients.helpers import PatientRef, enroll_patient, prepare_patient

BIRTHS = (date(1984, 2, 29), date(1931, 2, 3), date(1985, 7, 9))


@dataclass(frozen=True)
class World:
    """What the report tests need to know."""

    gate: Gate
    bruno: PatientRef
    carla: PatientRef
    number: str  # Pat's authorization
    start: date  # Pat's first dose

    @property
    def rems_ids(self) -> tuple[str, ...]:
        return (self.gate.patient.rems_id, self.bruno.rems_id, self.carla.rems_id)


def _post(client, token, path, body):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def build(app: Flask, factory: Factory, client, clock) -> World:
    """The program described in the module docstring, all on 2026-11-24; the clock then moves
    ten days on, so every dose is in the past."""
    world = gate(app, factory)
    bruno = enroll_patient(
        app, world.prescriber, first_name="Bruno", last_name="Costa", date_of_birth=BIRTHS[1],
        sex="male", can_become_pregnant=False,
    )  # fmt: skip
    carla = prepare_patient(
        app, world.prescriber, first_name="Carla", last_name="Duarte", date_of_birth=BIRTHS[2]
    )
    path = "/api/v1/authorizations"
    granted = _post(client, world.pharmacy_token, path, world.request(doses=3)).get_json()
    _post(client, world.pharmacy_token, path, world.request(date_of_birth="1984-03-01"))
    with app.app_context():
        bruno_born = db.session.get(Patient, bruno.id).date_of_birth.isoformat()
    _post(
        client, world.pharmacy_token, path,
        world.request(patient_id=bruno.rems_id, date_of_birth=bruno_born),
    )  # fmt: skip
    number = granted["authorization_number"]
    infusions = f"{path}/{number}/infusions"
    with app.app_context():
        start = db.session.scalar(
            sa.select(Authorization.valid_from).where(Authorization.number == number)
        )
    start = max(start, _today(app) + timedelta(days=2))
    ten_days_on = clock.now() + timedelta(days=10)
    on_day(clock, start)  # a dose is recorded on its day, never ahead of it
    assert _post(client, world.nurse_token, infusions, infusion(start)).status_code == 201
    second = infusion(start + timedelta(days=1), reaction="serious")
    on_day(clock, start + timedelta(days=1))
    assert _post(client, world.nurse_token, infusions, second).status_code == 201
    third_day = start + timedelta(days=2)
    on_day(clock, third_day)
    short = {"observation_ended_at": f"{third_day}T07:30:00Z", "deviations_acknowledged": True}
    third = infusion(third_day, antiviral_prophylaxis=False, reaction="mild", **short)
    assert _post(client, world.nurse_token, infusions, third).status_code == 201
    _imported_records(app, world, bruno, third_day)
    clock.current = ten_days_on
    return World(world, bruno, carla, number, start)


def _today(app: Flask) -> date:
    from rems.common.clock import today

    with app.app_context():
        return today()


def _imported_records(app: Flask, world: Gate, bruno: PatientRef, day: date):
    """Bruno's infection, as imported."""
    with app.app_context(), writing():
        at = datetime(day.year, day.month, day.day, 13, tzinfo=UTC)
        db.session.add(AdverseEvent(
            patient_id=bruno.id, category="infection", onset_on=day, serious=False,
            reported_at=at, reported_by_id=world.admin.id,
        ))  # fmt: skip
        db.session.commit()
