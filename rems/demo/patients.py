"""Demo documents and patients: every patient status, a flagged duplicate, a transfer, and
patients who still have to acknowledge the newest Medication Guide."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth import users
from rems.demo.accounts import DEMO_PASSWORD
from rems.demo.clock import on_day
from rems.documents.services import acknowledge, publish_version
from rems.patients import lifecycle, services
from rems.patients.models import Patient
from rems.prescribers.services import prescriber_for

#: (first, last, born, sex, able to become pregnant, prescriber, prepared by, what happens)
PATIENTS = (
    ("Maria", "Lopez", date(1984, 2, 29), "female", True, "dr.ramirez", "nurse.lee", "enrolled"),
    ("James", "Carter", date(1979, 6, 12), "male", False, "dr.ramirez", "dr.ramirez", "enrolled"),
    ("Aisha", "Khan", date(1991, 9, 3), "female", True, "dr.ramirez", "nurse.lee", "pending"),
    ("Tom", "Baker", date(1975, 1, 20), "male", False, "dr.ramirez", "dr.ramirez",
     "discontinued"),
    ("Lucy", "Gray", date(1988, 11, 30), "female", False, "dr.ramirez", "dr.ramirez", "closed"),
    ("Robert", "Chen", date(1969, 4, 8), "male", False, "dr.nguyen", "dr.nguyen", "enrolled"),
    ("Emma", "Wilson", date(1995, 7, 17), "female", True, "dr.nguyen", "dr.nguyen",
     "transferred"),
    ("Maria", "Lopez", date(1984, 2, 29), "female", True, "dr.nguyen", "dr.nguyen",
     "duplicate"),
)  # fmt: skip
#: The demo patients were enrolled this many days before the demo's today; the newer Medication
#: Guide took effect (and the first patient acknowledged it) this many days before it.
ENROLLED_DAYS_AGO, NEWER_GUIDE_DAYS_AGO = 30, 5
GUIDE_TEXT = {
    "medication_guide": "LEMTRADA (alemtuzumab) Medication Guide — demo text, version {label}.",
    "patient_guide": "LEMTRADA REMS Patient Guide — demo text, version {label}.",
}


def ensure_demo_patients(session: Session, today: date) -> list[str]:
    """Publish the first guides, enroll the patients, then publish a newer Medication Guide."""
    if session.scalar(sa.select(sa.func.count()).select_from(Patient)):
        return []
    admin = users.find_user(session, "admin")
    first_guides = today - timedelta(days=400)
    with on_day(first_guides):
        for code in GUIDE_TEXT:
            _publish(session, admin, code, "2025-01", first_guides)
    enrolled_on = today - timedelta(days=ENROLLED_DAYS_AGO)
    lines = [enroll_demo(session, row, enrolled_on, today) for row in PATIENTS]
    newer = today - timedelta(days=NEWER_GUIDE_DAYS_AGO)
    with on_day(newer):
        newest = _publish(session, admin, "medication_guide", "2026-10", newer)
        first = session.scalar(sa.select(Patient).order_by(Patient.id).limit(1))
        acknowledge(session, first, newest, witness=users.find_user(session, "nurse.lee"),
                    method="paper_form", today=newer)  # fmt: skip
    return [
        *lines,
        "Medication Guide 2026-10 published: every enrolled patient but "
        f"{first.rems_id} must acknowledge it before the next dispensing",
    ]


def _publish(session: Session, admin, code: str, label: str, effective_on: date):
    """One demo version of a guide."""
    return publish_version(
        session, admin, document_code=code, label=label, effective_on=effective_on,
        filename=f"{code}-{label}.txt", content=GUIDE_TEXT[code].format(label=label).encode(),
    )  # fmt: skip


def enroll_demo(session: Session, row: tuple, enrolled_on: date, today: date) -> str:
    """One demo patient enrolled on `enrolled_on`, then taken to its state today."""
    with on_day(enrolled_on):
        patient = _enroll(session, row, enrolled_on)
    first, last, *_, doctor, _, outcome = row
    _after(session, patient, users.find_user(session, doctor), outcome, today)
    return f"{patient.rems_id}  {first + ' ' + last:<14} ({doctor}): {_told(patient, outcome)}"


def _enroll(session: Session, row: tuple, today: date) -> Patient:
    """The enrollment form, the patient's signature and (unless pending) the prescriber's."""
    first, last, born, sex, pregnant, doctor, preparer, outcome = row
    doctor_user = users.find_user(session, doctor)
    prescriber = prescriber_for(session, doctor_user)
    actor = users.find_user(session, preparer)
    values = {"first_name": first, "last_name": last, "date_of_birth": born, "sex": sex,
              "can_become_pregnant": pregnant, "city": "Boston", "state": "MA"}  # fmt: skip
    patient = services.prepare_enrollment(session, actor, prescriber, values, today=today,
                                          confirm_not_duplicate=outcome == "duplicate")  # fmt: skip
    attested = [a.id for a in _program().patient_attestations(pregnant)]
    services.record_patient_signature(
        session, patient, actor, typed_name=f"{first} {last}", attested=attested,
        method="in_person", today=today,
    )  # fmt: skip
    if outcome != "pending":
        services.sign_enrollment(session, patient, doctor_user, password=DEMO_PASSWORD, today=today)
    return patient


def _told(patient: Patient, outcome: str) -> str:
    """What the summary says was loaded: the patient's status, with what happened besides, so
    the line never contradicts the patient's line above it."""
    status = patient.status.value
    if outcome == "transferred":
        return f"{status}; care moved to dr.ramirez"
    if outcome == "duplicate":
        return f"{status}; flagged as a possible duplicate for the administrator"
    return status


def _after(session: Session, patient: Patient, doctor, outcome: str, today: date) -> None:
    """What happened to the patient after enrollment."""
    if outcome == "discontinued":
        lifecycle.discontinue(session, patient, doctor, reason="Patient chose another therapy.")
    elif outcome == "closed":
        lifecycle.close(session, patient, doctor, close_reason="lost_to_follow_up",
                        closed_on=today - timedelta(days=3), note="Three letters unanswered.",
                        today=today)  # fmt: skip
    elif outcome == "transferred":
        new = prescriber_for(session, users.find_user(session, "dr.ramirez"))
        lifecycle.transfer(session, patient, doctor, new_prescriber=new, today=today,
                           reason="Patient moved closer to Dr. Ramirez's practice.")  # fmt: skip


def _program():
    return current_app.extensions["rems_program"]
