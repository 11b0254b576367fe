"""Who may see which patients (everyone else gets a 404), lists, duplicates, history."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.patients.models import Patient
from rems.patients.rules import same_person_key
from rems.prescribers.models import Prescriber, PrescriberDelegate

PATIENT_ID_PREFIX = "P"


def visible_prescriber_ids(user: User) -> sa.Select | None:
    """The prescribers whose patients the user may see; None means every prescriber."""
    if user.role in (Role.ADMIN, Role.AUDITOR):
        return None
    if user.role == Role.PRESCRIBER:
        return sa.select(Prescriber.id).where(Prescriber.user_id == user.id)
    if user.role == Role.DELEGATE:
        return sa.select(PrescriberDelegate.prescriber_id).where(
            PrescriberDelegate.delegate_id == user.id, PrescriberDelegate.ended_at.is_(None)
        )
    return sa.select(Prescriber.id).where(sa.false())  # site staff see no patient


def visible_patients(user: User) -> sa.Select:
    """The patients the user may see."""
    statement = sa.select(Patient)
    allowed = visible_prescriber_ids(user)
    return statement if allowed is None else statement.where(Patient.prescriber_id.in_(allowed))


def patient_for(session: Session, user: User, patient_id: str) -> Patient | None:
    """The patient with this REMS ID if the user may see them; None (a 404) otherwise."""
    if not is_valid_identifier(patient_id, PATIENT_ID_PREFIX):
        return None
    code = normalize_identifier(patient_id)
    return session.scalar(visible_patients(user).where(Patient.rems_id == code))


def patient_list(user: User, q: str | None, status: str | None) -> sa.Select:
    """The user's patients, searched by name or REMS ID, filtered by status, by name."""
    statement = visible_patients(user).order_by(Patient.last_name, Patient.first_name, Patient.id)
    if q and q.strip():
        pattern = f"%{q.strip().lower()}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(Patient.last_name).like(pattern),
                sa.func.lower(Patient.first_name).like(pattern),
                Patient.rems_id == normalize_identifier(q),
            )
        )
    if status:
        statement = statement.where(Patient.status == status)
    return statement


def possible_duplicates(session: Session, first_name: str, last_name: str, born) -> list[Patient]:
    """Patients already enrolled under the same name and date of birth (any prescriber)."""
    key = same_person_key(first_name, last_name, born)
    candidates = session.scalars(
        sa.select(Patient).where(
            Patient.date_of_birth == born,
            sa.func.lower(Patient.last_name) == key[1],
        )
    )
    return [p for p in candidates if same_person_key(p.first_name, p.last_name, born) == key]


def flagged_duplicates() -> sa.Select:
    """Patients flagged as possibly the same person as another, for the administrator."""
    return (
        sa.select(Patient)
        .where(Patient.possible_duplicate_of_id.is_not(None))
        .order_by(Patient.created_at.desc())
    )


def patient_history(session: Session, patient: Patient) -> list[AuditEvent]:
    """Everything that happened to the patient's record, oldest first."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == str(patient.id))
            .order_by(AuditEvent.seq)
        )
    )
