"""After enrollment: discontinue, close, transfer to another certified prescriber. Each keeps a
history row and an audit event. Discontinuation does not end monitoring. Callers commit."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.certification.models import CertStatus
from rems.certification.queries import status_today
from rems.common.errors import Collector, StateConflict, ValidationFailed
from rems.common.localtime import after_today, patient_practice_today
from rems.monitoring.services import refresh_patient
from rems.patients.models import Patient, PatientStatus
from rems.patients.rules import PatientMove, next_patient_status
from rems.patients.services import record_history
from rems.prescribers.models import Prescriber


def _may_manage(session: Session, patient: Patient, actor: User) -> bool:
    """The prescriber of record, or a program administrator."""
    if actor.role == Role.ADMIN:
        return True
    prescriber = session.get(Prescriber, patient.prescriber_id)
    return actor.role == Role.PRESCRIBER and prescriber.user_id == actor.id


def _move(session, patient: Patient, move: PatientMove, actor: User, reason: str) -> None:
    """Apply a lifecycle move with its history row and audit event."""
    if not _may_manage(session, patient, actor):
        raise StateConflict("Only the prescriber of record or an administrator can do this.")
    target = next_patient_status(patient.status, move)
    if target is None:
        raise StateConflict(
            f"Cannot {move.value} a patient whose status is {patient.status.value}."
        )
    old = patient.status
    record_history(session, patient, old, target, actor, reason)
    patient.status = target
    patient.status_reason = reason
    record_event(
        session, f"patient.{target.value}", actor=actor, entity=patient,
        old={"status": old.value}, new={"status": target.value}, reason=reason,
    )  # fmt: skip


def discontinue(session: Session, patient: Patient, actor: User, *, reason: str) -> None:
    """Stop treatment; monitoring continues."""
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for discontinuing.")
    _move(session, patient, PatientMove.DISCONTINUE, actor, reason.strip())


def close(
    session: Session, patient: Patient, actor: User, *, close_reason: str, closed_on: date | None,
    note: str, today: date,
) -> None:  # fmt: skip
    """Close the record (death, withdrawal of consent, lost to follow-up) from a given date."""
    errors = Collector()
    reasons = current_app.extensions["rems_program"].patient.close_reasons
    if close_reason not in reasons:
        errors.add("close_reason", f"Choose one of: {', '.join(reasons)}.")
    if closed_on is None:
        errors.add("closed_on", "Give the date the record closes.")
    else:
        local_today, where = patient_practice_today(session, patient)
        if problem := after_today("Closing date", closed_on, today=local_today, where=where):
            errors.add("closed_on", problem)
    errors.raise_if_any()
    patient.closed_on = closed_on
    patient.close_reason = close_reason
    text = f"{close_reason.replace('_', ' ')} on {closed_on.isoformat()}"
    _move(session, patient, PatientMove.CLOSE, actor, f"{text}. {note}".strip() if note else text)
    refresh_patient(session, patient.id, today=today)


def transfer(
    session: Session, patient: Patient, actor: User, *, new_prescriber: Prescriber | None,
    reason: str, today: date,
) -> None:  # fmt: skip
    """Hand the patient to another certified prescriber, who becomes prescriber of record."""
    if not _may_manage(session, patient, actor):
        raise StateConflict("Only the prescriber of record or an administrator can transfer.")
    if patient.status == PatientStatus.CLOSED:
        raise StateConflict("A closed record cannot be transferred.")
    errors = Collector()
    if new_prescriber is None or status_today(new_prescriber, today) != CertStatus.CERTIFIED:
        errors.add("new_prescriber", "Choose a certified prescriber (by NPI).")
    elif new_prescriber.id == patient.prescriber_id:
        errors.add("new_prescriber", "This is already the patient's prescriber of record.")
    if not (reason or "").strip():
        errors.add("reason", "Give the reason for the transfer.")
    errors.raise_if_any()
    old = patient.prescriber_id
    patient.prescriber_id = new_prescriber.id
    record_event(session, "patient.transferred", actor=actor, entity=patient,
                 old={"prescriber_id": old}, new={"prescriber_id": new_prescriber.id},
                 reason=reason.strip())  # fmt: skip
    refresh_patient(session, patient.id, today=today)
