"""The reporting clock of serious adverse events: due to the sponsor's safety team within the
program's calendar days of awareness (15). Overdue events are on the administrators'
dashboard, and the daily job tells each administrator of each one once, through the outbox."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.presenters import category_label
from rems.auth.models import Role, User
from rems.monitoring.models import AdverseEvent
from rems.notifications.services import notify
from rems.patients.models import Patient


def report_days() -> int:
    """The program's calendar days from awareness to the safety team."""
    return current_app.extensions["rems_program"].safety_reporting.serious_report_days


def due_on(event: AdverseEvent) -> date | None:
    """The last day the serious event may reach the safety team (None: not on the clock)."""
    if not event.serious or event.aware_on is None:
        return None
    return event.aware_on + timedelta(days=report_days())


def clock_state(event: AdverseEvent, today: date) -> str | None:
    """`sent`, `overdue` or `open` for a serious event; None for a non-serious one."""
    due = due_on(event)
    if due is None:
        return None
    if event.submitted_on is not None:
        return "sent"
    return "overdue" if today > due else "open"


def unsent() -> sa.Select:
    """Serious events not yet sent to the safety team, with their patients, oldest awareness
    first (`overdue_on` narrows them to those past their day)."""
    return (
        sa.select(AdverseEvent, Patient)
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(AdverseEvent.serious.is_(True), AdverseEvent.submitted_on.is_(None))
        .order_by(AdverseEvent.aware_on, AdverseEvent.id)
    )


def overdue_on(today: date) -> sa.Select:
    """Serious events overdue to the safety team on `today` (due day already past)."""
    cutoff = today - timedelta(days=report_days())
    return unsent().where(AdverseEvent.aware_on < cutoff)


def overdue_count(session: Session, today: date) -> int:
    """How many serious events are overdue to the safety team today."""
    return session.scalar(sa.select(sa.func.count()).select_from(overdue_on(today).subquery()))


def notify_overdue(session: Session, today: date) -> int:
    """Tell every active administrator of each overdue event, once per event (the outbox key);
    how many messages were queued."""
    admins = list(session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.active)))
    queued = 0
    for event, patient in session.execute(overdue_on(today)).all():
        due = due_on(event)
        label = category_label(event.category)
        for admin in admins:
            message = notify(
                session, admin, kind="adverse_event.overdue",
                subject=f"Overdue to the safety team: {label} (patient {patient.rems_id})",
                body=f"The serious adverse event of patient {patient.rems_id} ({label}, aware "
                f"since {event.aware_on}) was due to the sponsor's safety team by {due}. Send "
                "it, then record the day it was sent on the event's page.",
                key=f"adverse_event:{event.id}:overdue:user:{admin.id}",
                link=f"/adverse-events/{event.id}",
            )  # fmt: skip
            queued += message is not None
    return queued


def dashboard_facts(session: Session, today: date, limit: int = 10) -> dict:
    """The administrators' dashboard: the oldest overdue events (row, patient, clock), the count."""
    from rems.adverse_events.presenters import clock_of, event_rows

    found = session.execute(overdue_on(today).limit(limit)).all()
    rows = event_rows(session, [event for event, _ in found])
    return {
        "overdue_events": [
            (row, patient, clock_of(event, today))
            for row, (event, patient) in zip(rows, found, strict=True)
        ],
        "overdue_total": overdue_count(session, today),
    }


def api_events(
    session: Session, patient_id: int, today: date, until: datetime | None = None
) -> list[dict]:
    """The patient's adverse events as the API's patient lookup lists them, latest onset first;
    with `until`, only those recorded by then."""
    from rems.adverse_events.models import AdverseEventFollowUp
    from rems.adverse_events.presenters import category_label
    from rems.adverse_events.queries import events_of

    events = [e for e in events_of(session, patient_id) if until is None or e.reported_at <= until]
    counts = dict(
        session.execute(
            sa.select(AdverseEventFollowUp.event_id, sa.func.count())
            .where(AdverseEventFollowUp.event_id.in_([e.id for e in events]))
            .group_by(AdverseEventFollowUp.event_id)
        ).all()
    )
    return [
        {
            "id": e.id,
            "category": e.category,
            "category_label": category_label(e.category),
            "onset_on": e.onset_on.isoformat(),
            "aware_on": e.aware_on.isoformat() if e.aware_on else None,
            "serious": e.serious,
            "seriousness_criteria": [c for c in (e.serious_criteria or "").split(",") if c],
            "outcome": e.outcome,
            "follow_ups": counts.get(e.id, 0),
            "report_due_on": due.isoformat() if (due := due_on(e)) else None,
            "sent_on": e.submitted_on.isoformat() if e.submitted_on else None,
            "clock": clock_state(e, today),
        }
        for e in events
    ]
