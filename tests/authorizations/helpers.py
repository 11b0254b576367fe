"""Builders for the gate: certified parties, an enrolled patient, an authorized course, and
API tokens for the pharmacy and the infusion site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Flask

from rems.auth.models import Role, User
from rems.common.clock import today
from rems.common.transactions import writing
from rems.courses.services import authorize_course, baseline_needs
from rems.extensions import db
from rems.patients.models import Patient
from rems.sites.models import Site
from tests.certification.helpers import PartyRef, certify, make_site
from tests.factories import PASSWORD, Factory, UserRef
from tests.patients.helpers import PatientRef, certified_prescriber, enroll_patient, publish_guides


@dataclass(frozen=True)
class Gate:
    """Everything a dispensing request needs."""

    admin: UserRef
    prescriber: PartyRef
    patient: PatientRef
    date_of_birth: str
    pharmacy_code: str
    site_code: str
    pharmacy_token: str
    nurse_token: str

    def request(self, **changes) -> dict:
        """A well-formed request body; change any field."""
        body = {
            "patient_id": self.patient.rems_id,
            "date_of_birth": self.date_of_birth,
            "prescriber_npi": self.prescriber.npi,
            "infusion_site_id": self.site_code,
        }
        return {**body, **changes}


def site_with_staff(
    app: Flask, factory: Factory, admin: UserRef, *, dispenses: bool, infuses: bool, name: str
) -> tuple[str, str]:
    """A certified site and an API token of one of its staff: (site code, token)."""
    party = make_site(app, factory, name=name, dispenses=dispenses, infuses=infuses)
    certify(app, party, admin)
    with app.app_context():
        code = db.session.scalar(sa.select(Site.site_code).where(Site.id == party.id))
    staff = factory.user(Role.SITE_STAFF, site_id=party.id)
    return code, factory.token(staff)


def authorize(
    app: Flask,
    gate_or_patient,
    prescriber: PartyRef,
    *,
    start_in: int = 2,
    baseline_age: int = 5,
    **overrides,
) -> None:
    """Authorize the patient's next course with fresh baseline results."""
    patient_id = gate_or_patient.id
    with app.app_context(), writing():
        patient = db.session.get(Patient, patient_id)
        signer = db.session.get(User, prescriber.user.id)
        number = 1 + len(patient_courses(patient_id))
        collected = today() - timedelta(days=baseline_age)
        baseline = {need.code: collected for need in baseline_needs(number)}
        program = app.extensions["rems_program"]
        authorize_course(
            db.session,
            patient,
            signer,
            password=PASSWORD,
            planned_start=overrides.get("planned_start", today() + timedelta(days=start_in)),
            baseline=overrides.get("baseline", baseline),
            attested=[a.id for a in program.attestations.course],
            today=today(),
        )
        db.session.commit()


def patient_courses(patient_id: int) -> list:
    """The patient's courses (inside an app context)."""
    from rems.courses.models import Course

    return list(db.session.scalars(sa.select(Course).where(Course.patient_id == patient_id)))


def gate(app: Flask, factory: Factory, *, with_course: bool = True) -> Gate:
    """The whole cast, and (by default) an authorized first course."""
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, prescriber)
    pharmacy, pharmacy_token = site_with_staff(
        app, factory, admin, dispenses=True, infuses=False, name="Gate Pharmacy"
    )
    site, nurse_token = site_with_staff(
        app, factory, admin, dispenses=False, infuses=True, name="Gate Infusion Center"
    )
    if with_course:
        authorize(app, patient, prescriber)
    with app.app_context():
        born = db.session.get(Patient, patient.id).date_of_birth
    return Gate(
        admin, prescriber, patient, born.isoformat(), pharmacy, site, pharmacy_token, nurse_token
    )


def infusion(day: date, **changes) -> dict:
    """A complete infusion record for `day` (90-minute infusion, 2-hour observation), over by
    08:30 UTC (03:30 in New York, the day's first hours there): no time of a record may be later
    than now, and the frozen clock starts at 09:00 UTC."""
    record = {
        "administered_on": day.isoformat(),
        "identity_verified": True,
        "no_active_infection": True,
        "corticosteroid_premedication": True,
        "antiviral_prophylaxis": True,
        "infusion_started_at": f"{day}T05:00:00Z",
        "infusion_ended_at": f"{day}T06:30:00Z",
        "observation_ended_at": f"{day}T08:30:00Z",
        "reaction": "none",
        "notes": "",
    }
    return {**record, **changes}


def on_day(clock, day: date) -> None:
    """Move the frozen clock to 14:00 UTC on `day` (09:00 in the program's New York): an
    infusion may be recorded only once its day has come at the site."""
    clock.current = datetime.combine(day, time(14), tzinfo=UTC)
