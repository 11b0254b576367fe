"""Follow-ups of an adverse event, and sending a serious event to the sponsor's safety team
(which stops its reporting clock). Every write is audited; callers commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rems.adverse_events.models import AdverseEventFollowUp
from rems.adverse_events.rules import follow_up_problems
from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict, ValidationFailed
from rems.common.localtime import after_today, patient_practice_today, program_today
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient


def add_follow_up(
    session: Session, event: AdverseEvent, patient: Patient, actor: User, *,
    received_on: date | None, note: str, outcome: str | None,
) -> AdverseEventFollowUp:  # fmt: skip
    """New information on the event, dated; an outcome given here becomes the event's outcome.
    The date is checked against today at the patient's practice (where the news arrives)."""
    today, where = patient_practice_today(session, patient)
    problems = follow_up_problems(
        received_on=received_on, note=note, outcome=outcome or None, aware_on=event.aware_on,
        today=today, where=where,
    )  # fmt: skip
    if problems:
        raise ValidationFailed(problems)
    follow_up = AdverseEventFollowUp(
        event_id=event.id, received_on=received_on, note=note.strip(), outcome=outcome or None,
        recorded_at=utcnow(), recorded_by_id=actor.id,
    )  # fmt: skip
    session.add(follow_up)
    session.flush()
    old = {"outcome": event.outcome}
    if outcome and outcome != event.outcome:
        event.outcome = outcome
    record_event(
        session, "adverse_event.follow_up", actor=actor, entity=event, old=old,
        new={"received_on": received_on, "note": follow_up.note, "outcome": event.outcome,
             "follow_up_id": follow_up.id},
    )  # fmt: skip
    return follow_up


def mark_submitted(
    session: Session, event: AdverseEvent, actor: User, *, submitted_on: date | None
) -> None:
    """An administrator records the day the serious event was sent to the sponsor's safety
    team: not after today (the program's), not before the awareness date; once."""
    if actor.role != Role.ADMIN:
        raise StateConflict("Only an administrator records sending an event to the safety team.")
    if not event.serious:
        raise StateConflict("Only a serious event is sent to the safety team on the clock.")
    if event.submitted_on is not None:
        raise StateConflict(f"This event was recorded as sent on {event.submitted_on}.")
    errors = Collector()
    if submitted_on is None:
        errors.add("submitted_on", "Enter the day the event was sent (YYYY-MM-DD).")
    elif problem := after_today(
        "Sent on", submitted_on, today=program_today(), where="the program"
    ):
        errors.add("submitted_on", problem)
    elif event.aware_on is not None and submitted_on < event.aware_on:
        errors.add("submitted_on", f"Sent on: before the awareness date ({event.aware_on}).")
    errors.raise_if_any()
    event.submitted_on, event.submitted_by_id = submitted_on, actor.id
    record_event(
        session, "adverse_event.submitted", actor=actor, entity=event,
        old={"submitted_on": None}, new={"submitted_on": submitted_on},
    )  # fmt: skip
