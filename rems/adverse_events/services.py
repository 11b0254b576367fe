"""Recording adverse events and the program's review of serious ones. Callers commit."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.presenters import category_label
from rems.adverse_events.rules import (
    INFUSION_REACTION,
    Report,
    ReportContext,
    report_due_on,
    report_problems,
    review_problems,
)
from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import (
    local_today_for_prescriber,
    local_today_for_site,
    practice_place,
    site_place,
)
from rems.infusions.models import Infusion
from rems.monitoring.models import AdverseEvent
from rems.notifications.services import notify
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


def report_event(
    session: Session,
    patient: Patient,
    actor: User,
    report: Report,
    *,
    infusion: Infusion | None = None,
) -> AdverseEvent:
    """Check the report against the program's categories and dates, then store it. The onset
    may not be after today where the event is recorded: at the site that gave the infusion, or
    at the patient's practice."""
    problems = report_problems(report, _context(session, patient, infusion))
    if problems:
        raise ValidationFailed(problems)
    event = AdverseEvent(
        patient_id=patient.id, category=report.category, onset_on=report.onset_on,
        serious=bool(report.serious), outcome=report.outcome, reporter=report.reporter.strip(),
        description=report.description.strip() or None,
        infusion_id=infusion.id if infusion is not None else None,
        reported_at=utcnow(), reported_by_id=actor.id, aware_on=report.aware_on,
        serious_criteria=",".join(report.criteria) or None,
    )  # fmt: skip
    _store(session, event, actor, asdict(report) | {"reporter": event.reporter})
    return event


def _context(session: Session, patient: Patient, infusion: Infusion | None) -> ReportContext:
    """What a report of this patient (and infusion) is checked against: today is the site's for
    a reaction to its infusion, the practice's otherwise."""
    program = current_app.extensions["rems_program"]
    if infusion is not None:
        site = session.get(Site, infusion.site_id)
        today, where = local_today_for_site(site), site_place(site)
    else:
        prescriber = session.get(Prescriber, patient.prescriber_id)
        today, where = local_today_for_prescriber(prescriber), practice_place(prescriber)
    return ReportContext(
        categories=[c.code for c in program.adverse_events.categories],
        today=today,
        born=patient.date_of_birth,
        infusion_on=infusion.administered_on if infusion is not None else None,
        where=where,
    )


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
        aware_on=local_today_for_site(session.get(Site, infusion.site_id)),
    )
    new = {"category": INFUSION_REACTION, "serious": True, "infusion_id": infusion.id,
           "aware_on": event.aware_on}  # fmt: skip
    _store(session, event, actor, new)
    return event


def _store(session: Session, event: AdverseEvent, actor: User, new: dict) -> None:
    """The event row and its audit event; a serious event is told to the administrators and
    the patient's prescriber through the outbox."""
    session.add(event)
    session.flush()
    record_event(session, "adverse_event.reported", actor=actor, entity=event, new=new)
    if event.serious:
        _notify_serious(session, event)


def _notify_serious(session: Session, event: AdverseEvent) -> None:
    """One message per active administrator and the prescriber of record, once per event."""
    patient = session.get(Patient, event.patient_id)
    prescriber = session.get(Prescriber, patient.prescriber_id)
    admins = session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.active))
    recipients = {u.id: u for u in admins}
    doctor = session.get(User, prescriber.user_id)
    if doctor is not None and doctor.active:
        recipients[doctor.id] = doctor
    label = category_label(event.category)
    body = (
        f"A serious adverse event was recorded for patient {patient.rems_id}: {label}, onset "
        f"{event.onset_on.isoformat()}, reported by {event.reporter or 'the site'}. "
        f"It is due to the sponsor's safety team by {_due_on(event)}; "
        "an administrator reviews it from the dashboard."
    )
    for user in recipients.values():
        notify(
            session, user, kind="adverse_event.serious",
            subject=f"Serious adverse event: {label} (patient {patient.rems_id})", body=body,
            key=f"adverse_event:{event.id}:user:{user.id}", link=f"/adverse-events/{event.id}",
        )  # fmt: skip


def _due_on(event: AdverseEvent):
    """The last day of the event's reporting clock."""
    days = current_app.extensions["rems_program"].safety_reporting.serious_report_days
    return report_due_on(event.aware_on, days).isoformat()


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
