"""Who may see which patients (everyone else gets a 404), lists, duplicates, history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.asof import StatusAt, status_at
from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.patients.models import Patient, PatientStatus
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


def patient_list(
    user: User, q: str | None, status: str | None, prescriber_ids: list[int] | None = None
) -> sa.Select:
    """The user's patients, searched by name or REMS ID prefix, filtered by status. A list of
    `prescriber_ids` (see `own_prescriber_ids`) lets one prescriber's list walk its index in
    order instead of sorting every patient the user may see."""
    statement = visible_patients(user)
    if prescriber_ids is not None:
        statement = sa.select(Patient).where(Patient.prescriber_id.in_(prescriber_ids))
        if len(prescriber_ids) == 1:
            statement = sa.select(Patient).where(Patient.prescriber_id == prescriber_ids[0])
    if status:
        statement = statement.where(Patient.status == status)
    if q and q.strip():  # each prefix an index seek of its own, the matches united by id
        found = [statement.with_only_columns(Patient.id).where(t) for t in _search(q.strip())]
        statement = sa.select(Patient).where(Patient.id.in_(sa.union(*found)))
    return statement


#: The list's order, which is also its keyset (see rems.common.pagination.seek_page).
PATIENT_LIST_ORDER = (Patient.last_name, Patient.first_name, Patient.id)


def own_prescriber_ids(session: Session, user: User) -> list[int] | None:
    """The ids of the prescribers whose patients a prescriber or delegate sees (None: all)."""
    allowed = visible_prescriber_ids(user)
    return None if allowed is None else list(session.scalars(allowed))


def _search(text: str) -> list:
    """Names starting with the text (as typed, lower, Capitalised or UPPER case) or a REMS ID
    starting with it: prefix ranges the name and ID indexes answer without reading every row."""
    spellings = {text, text.lower(), text.capitalize(), text.upper(), text.title()}
    terms = [
        prefix_range(column, spelling)
        for column in (Patient.last_name, Patient.first_name)
        for spelling in sorted(spellings)
    ]
    code = normalize_identifier(text)
    if code.startswith(PATIENT_ID_PREFIX) and code.isalnum():
        terms.append(prefix_range(Patient.rems_id, code))
    return terms


def prefix_range(column, prefix: str):
    """`column` starts with `prefix`, as a range an index can seek (the LIKE keeps it exact
    whatever the collation; the range lets the planner use the index)."""
    like = column.startswith(prefix, autoescape=True)
    if ord(prefix[-1]) >= 0x10FFFF:
        return like
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return sa.and_(column >= prefix, column < upper, like)


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


def enrollment_at(session: Session, patient: Patient, moment: datetime) -> StatusAt:
    """The patient's enrollment status at `moment`, from the recorded status history."""
    return status_at(session, patient, moment, initial=PatientStatus.PENDING.value)


def patient_history(session: Session, patient: Patient) -> list[AuditEvent]:
    """Everything that happened to the patient's record, oldest first."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity_type == "patient", AuditEvent.entity_id == str(patient.id))
            .order_by(AuditEvent.seq)
        )
    )
