"""Recording adverse events and the program's review of serious ones. Callers commit."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.rules import (
    INFUSION_REACTION,
    Report,
    ReportContext,
    report_problems,
    review_problems,
)
from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.infusions.models import Infusion
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient


def report_event(
    session: Session,
    patient: Patient,
    actor: User,
    report: Report,
    *,
    today: date,
    infusion: Infusion | None = None,
) -> AdverseEvent:
    """Check the report against the program's categories and dates, then store it."""
    program = current_app.extensions["rems_program"]
    context = ReportContext(
        categories=[c.code for c in program.adverse_events.categories],
        today=today,
        born=patient.date_of_birth,
        infusion_on=infusion.administered_on if infusion is not None else None,
    )
    problems = report_problems(report, context)
    if problems:
        raise ValidationFailed(problems)
    event = AdverseEvent(
        patient_id=patient.id,
        category=report.category,
        onset_on=report.onset_on,
        serious=bool(report.serious),
        outcome=report.outcome,
        reporter=report.reporter.strip(),
        description=report.description.strip() or None,
        infusion_id=infusion.id if infusion is not None else None,
        reported_at=utcnow(),
        reported_by_id=actor.id,
    )
    _store(session, event, actor, asdict(report) | {"reporter": event.reporter})
    return event


def record_serious_reaction(
    session: Session, infusion: Infusion, actor: User, notes: str | None
) -> AdverseEvent:
    """A serious reaction on the infusion record is an adverse event of the patient."""
    event = AdverseEvent(
        patient_id=infusion.patient_id,
        category=INFUSION_REACTION,
        onset_on=infusion.administered_on,
        serious=True,
        description=notes or "Serious infusion reaction recorded by the site.",
        reporter=f"{actor.full_name} (infusion site staff)",
        infusion_id=infusion.id,
        reported_at=utcnow(),
        reported_by_id=actor.id,
    )
    new = {"category": INFUSION_REACTION, "serious": True, "infusion_id": infusion.id}
    _store(session, event, actor, new)
    return event


def _store(session: Session, event: AdverseEvent, actor: User, new: dict) -> None:
    """The event row and its audit event."""
    session.add(event)
    session.flush()
    record_event(session, "adverse_event.reported", actor=actor, entity=event, new=new)


def review_event(session: Session, event: AdverseEvent, actor: User, *, note: str) -> None:
    """An administrator marks a serious event reviewed, with a note; it leaves the dashboard."""
    if actor.role != Role.ADMIN:
        raise StateConflict("Only an administrator reviews adverse events.")
    problems = review_problems(
        serious=event.serious, reviewed=event.reviewed_at is not None, note=note
    )
    if problems:
        raise ValidationFailed(problems)
    event.reviewed_at, event.reviewed_by_id = utcnow(), actor.id
    event.review_note = note.strip()
    record_event(
        session,
        "adverse_event.reviewed",
        actor=actor,
        entity=event,
        old={"reviewed": False},
        new={"reviewed": True},
        reason=event.review_note,
    )
