"""Demo courses, authorizations and infusions: a course in progress that can take today's dose
(its first visit ended not infused, its dose 2 was observed too briefly: a deviation with its
open case), one authorized but not started (its patient must still acknowledge the new
Medication Guide), and a denial on record. Every date is counted back from the app's today."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth import users
from rems.authorizations.deciding import request_authorization
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.common.localtime import program_zone
from rems.compliance.models import NonComplianceCase
from rems.courses.services import authorize_course, baseline_needs
from rems.demo import compliance
from rems.demo.accounts import DEMO_PASSWORD
from rems.demo.clock import on_day
from rems.demo.patients import NEWER_GUIDE_DAYS_AGO
from rems.infusions.services import record_infusion
from rems.patients.models import Patient, PatientStatus
from rems.sites.models import Site


def ensure_demo_gate(session: Session, today: date) -> list[str]:
    """Courses for the first two enrolled patients of dr.ramirez, and what happened since."""
    if session.scalar(sa.select(sa.func.count()).select_from(AuthorizationDecision)):
        return []
    doctor = users.find_user(session, "dr.ramirez")
    first, second = session.scalars(
        sa.select(Patient)
        .where(
            Patient.status == PatientStatus.ENROLLED,
            Patient.prescriber_id == doctor.prescriber_record.id,
        )
        .order_by(Patient.id)
        .limit(2)
    ).all()
    started = today - timedelta(days=2)
    authorized_on = today - timedelta(days=NEWER_GUIDE_DAYS_AGO)  # once the guide was signed
    with on_day(authorized_on):
        _authorize(session, first, doctor, authorized_on, started)
    _authorize(session, second, doctor, today, today)
    number = _dispense_and_infuse(session, first, started, today)
    denial = _request(session, second, today)
    return [
        f"{first.rems_id}: course 1 in progress, authorization {number}: not infused on "
        f"{started - timedelta(days=1)} (declined), doses 1 and 2 given the two days before "
        "(dose 2 observed 90 minutes: a deviation, its case awaits review): dose 3 may be "
        "recorded today",
        f"{second.rems_id}: course 1 authorized; the pharmacy's request was denied "
        f"({', '.join(r['code'] for r in denial.decision.reasons)})",
    ]


def _authorize(session: Session, patient: Patient, doctor, today: date, start: date) -> None:
    """Course 1, authorized `today` to start on `start`, with baseline results taken the week
    before."""
    program = current_app.extensions["rems_program"]
    collected = today - timedelta(days=7)
    authorize_course(
        session,
        patient,
        doctor,
        password=DEMO_PASSWORD,
        planned_start=start,
        baseline={need.code: collected for need in baseline_needs(1)},
        attested=[a.id for a in program.attestations.course],
        today=today,
    )


def _request(session: Session, patient: Patient, today: date):
    """Riverside Specialty Pharmacy asks for the course's doses, for Beacon Infusion Center."""
    pharmacist = users.find_user(session, "pharmacy.tech")
    beacon = session.scalar(sa.select(Site).where(Site.name == "Beacon Infusion Center"))
    request = {
        "patient_id": patient.rems_id,
        "date_of_birth": patient.date_of_birth,
        "prescriber_npi": patient.prescriber.npi,
        "infusion_site_id": beacon.site_code,
    }
    return request_authorization(session, pharmacist, request, today=today)


def _dispense_and_infuse(session: Session, patient: Patient, started: date, today: date) -> str:
    """Granted the day before `started`, when the visit ended not infused; Beacon's infusion
    nurse gave dose 1 on `started` and dose 2 the next day (observed 90 minutes only, confirmed
    as a deviation, its case answered by a drafted corrective action), so today's dose (3 of
    5) is still to be recorded, under an authorization still valid."""
    granted_on = started - timedelta(days=1)
    with on_day(granted_on):
        outcome = _request(session, patient, granted_on)
        authorization = session.get(Authorization, outcome.authorization_id)
        compliance.not_infused_visit(session, authorization, granted_on)
    nurse = users.find_user(session, "infusion.nurse")
    with on_day(started):
        record_infusion(session, authorization, nurse, _infusion(started), today=started)
    second = started + timedelta(days=1)
    short = _infusion(second, observed=compliance.SHORT_OBSERVATION_MINUTES)
    with on_day(second):
        recorded = record_infusion(session, authorization, nurse, short, today=second)
    case = session.get(NonComplianceCase, recorded.deviations[0].case_id)
    compliance.draft_corrective_action(session, case, today)
    return authorization.number


def _infusion(day: date, observed: int | None = None) -> dict:
    """An infusion of 4 hours, then the program's observation; or only `observed` minutes,
    confirmed as a deviation with the nurse's reason."""
    start = datetime.combine(day, time(9, 0), tzinfo=program_zone())
    minutes = observed or current_app.extensions["rems_program"].dosing.observation_minutes
    return {
        "administered_on": day,
        "identity_verified": True,
        "no_active_infection": True,
        "corticosteroid_premedication": True,
        "antiviral_prophylaxis": True,
        "infusion_started_at": start,
        "infusion_ended_at": start + timedelta(hours=4),
        "observation_ended_at": start + timedelta(hours=4, minutes=minutes),
        "reaction": "none",
        "notes": "",
        "deviations_acknowledged": observed is not None,
        "deviation_reason": "The patient asked to leave early." if observed else "",
    }
