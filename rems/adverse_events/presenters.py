"""Adverse events as pages show them: category and outcome in words, names of people."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.queries import user_names
from rems.adverse_events.rules import OUTCOMES
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
        }
        for e in events
    ]
