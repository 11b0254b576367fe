"""Reads of adverse events: a patient's, the serious ones awaiting review, and who may see one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.adverse_events.models import AdverseEventFollowUp
from rems.auth.models import User
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from rems.patients.queries import visible_prescriber_ids


def events_of(session: Session, patient_id: int) -> list[AdverseEvent]:
    """The patient's adverse events, latest onset first."""
    return list(
        session.scalars(
            sa.select(AdverseEvent)
            .where(AdverseEvent.patient_id == patient_id)
            .order_by(AdverseEvent.onset_on.desc(), AdverseEvent.id.desc())
        )
    )


def awaiting_review() -> sa.Select:
    """Serious events no administrator has reviewed yet, oldest report first, with patients."""
    return (
        sa.select(AdverseEvent, Patient)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(AdverseEvent.serious.is_(True), AdverseEvent.reviewed_at.is_(None))
        .order_by(AdverseEvent.reported_at, AdverseEvent.id)
    )


def awaiting_review_count(session: Session) -> int:
    """How many serious events wait for an administrator's review."""
    return session.scalar(sa.select(sa.func.count()).select_from(awaiting_review().subquery()))


def all_events(which: str, user: User | None = None) -> sa.Select:
    """Every event the user may see (None: every event), newest report first; `which` narrows
    to serious, awaiting review, or serious and not yet sent to the safety team."""
    statement = sa.select(AdverseEvent)
    if user is not None and (allowed := visible_prescriber_ids(user)) is not None:
        statement = statement.join(Patient, Patient.id == AdverseEvent.patient_id).where(
            Patient.prescriber_id.in_(allowed)
        )
    if which in ("awaiting", "serious", "unsent"):
        statement = statement.where(AdverseEvent.serious.is_(True))
    if which == "awaiting":
        statement = statement.where(AdverseEvent.reviewed_at.is_(None))
    if which == "unsent":
        statement = statement.where(AdverseEvent.submitted_on.is_(None))
    return statement.order_by(AdverseEvent.reported_at.desc(), AdverseEvent.id.desc())


def patients_by_id(session: Session, ids) -> dict[int, Patient]:
    """The patients with these ids."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in session.scalars(sa.select(Patient).where(Patient.id.in_(wanted)))}


def event_for(session: Session, user: User, event_id: int) -> tuple[AdverseEvent, Patient] | None:
    """The event and its patient if the user may see the patient; None (a 404) otherwise."""
    statement = (
        sa.select(AdverseEvent, Patient)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(AdverseEvent.id == event_id)
    )
    allowed = visible_prescriber_ids(user)
    if allowed is not None:
        statement = statement.where(Patient.prescriber_id.in_(allowed))
    row = session.execute(statement).first()
    return None if row is None else (row[0], row[1])


def follow_ups_of(session: Session, event_id: int) -> list[AdverseEventFollowUp]:
    """The event's follow-ups in the order they arrived."""
    return list(
        session.scalars(
            sa.select(AdverseEventFollowUp)
            .where(AdverseEventFollowUp.event_id == event_id)
            .order_by(AdverseEventFollowUp.received_on, AdverseEventFollowUp.id)
        )
    )


def user_names(session: Session, ids) -> dict[int, str]:
    """Full names of the users with these ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(sa.select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {row.id: row.full_name for row in rows}
