"""Adverse events as pages show them: category and outcome in words, names of people."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.queries import follow_ups_of, user_names
from rems.adverse_events.rules import CRITERIA, OUTCOMES
from rems.monitoring.models import AdverseEvent


def category_label(code: str) -> str:
    """The program's words for a category (the code itself if the program dropped it)."""
    program = current_app.extensions["rems_program"]
    try:
        return program.adverse_event_category(code).label
    except KeyError:
        return code


def event_rows(session: Session, events: Iterable[AdverseEvent]) -> list[dict[str, Any]]:
    """Each event with its words and the names of who entered and reviewed it."""
    events = list(events)
    names = user_names(
        session, [e.reported_by_id for e in events] + [e.reviewed_by_id for e in events]
    )
    return [
        {
            "event": e,
            "category": category_label(e.category),
            "outcome": OUTCOMES.get(e.outcome or "", "Not reported"),
            "entered_by": names.get(e.reported_by_id, "—"),
            "reviewed_by": names.get(e.reviewed_by_id, "—") if e.reviewed_by_id else None,
            "awaiting_review": e.serious and e.reviewed_at is None,
            "criteria": criteria_words(e.serious_criteria),
        }
        for e in events
    ]


def criteria_words(codes: str | None) -> list[str]:
    """The seriousness criteria in words, in ICH order."""
    chosen = set((codes or "").split(","))
    return [words for code, words in CRITERIA.items() if code in chosen]


def clock_of(event: AdverseEvent, today: date) -> dict[str, Any] | None:
    """A serious event's reporting clock: due day, days left (negative: overdue), sent day."""
    if not event.serious or event.aware_on is None:
        return None
    days = current_app.extensions["rems_program"].safety_reporting.serious_report_days
    due = event.aware_on + timedelta(days=days)
    return {
        "days": days,
        "due_on": due,
        "left": (due - today).days,
        "sent_on": event.submitted_on,
        "overdue": event.submitted_on is None and today > due,
    }


def follow_up_rows(session: Session, event_id: int) -> list[dict[str, Any]]:
    """The event's follow-ups with who recorded each and the outcome in words."""
    follow_ups = follow_ups_of(session, event_id)
    names = user_names(session, [f.recorded_by_id for f in follow_ups])
    return [
        {
            "follow_up": f,
            "by": names.get(f.recorded_by_id, "—"),
            "outcome": OUTCOMES.get(f.outcome) if f.outcome else None,
        }
        for f in follow_ups
    ]
