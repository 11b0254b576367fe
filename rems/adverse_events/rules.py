"""What an adverse-event report and a review must hold, as pure functions: plain values in,
every problem out, each naming its field."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from rems.common.localtime import after_today

#: Outcomes as pharmacovigilance reports name them (ICH E2B), code → words.
OUTCOMES: dict[str, str] = {
    "recovered": "Recovered or resolved",
    "recovering": "Recovering or resolving",
    "not_recovered": "Not recovered or not resolved",
    "recovered_with_sequelae": "Recovered with lasting effects (sequelae)",
    "fatal": "Fatal",
    "unknown": "Unknown",
}
INFUSION_REACTION = "infusion_reaction"
REPORTER_MAX = 200
DESCRIPTION_MAX = 4000
NOTE_MAX = 2000


@dataclass(frozen=True, slots=True)
class Report:
    """An adverse event as the person recording it entered it."""

    category: str | None
    onset_on: date | None
    serious: bool | None
    outcome: str | None
    reporter: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a report is checked against: the program's categories, today, the patient's date
    of birth, and for a reaction recorded by an infusion site, the infusion's day."""

    categories: Collection[str]
    today: date
    born: date
    infusion_on: date | None = None
    #: The party whose today it is (the practice, or the site that gave the infusion).
    where: str = "the practice"


def report_problems(report: Report, context: ReportContext) -> dict[str, list[str]]:
    """Every problem of the report, by field (empty: it may be stored)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if report.category not in context.categories:
        add("category", "Choose the category of the event.")
    elif context.infusion_on is not None and report.category != INFUSION_REACTION:
        add("category", "An infusion site records infusion reactions only.")
    for field, message in _onset_problems(report.onset_on, context):
        add(field, message)
    if report.serious is None:
        add("serious", "Say whether the event is serious.")
    if report.outcome not in OUTCOMES:
        add("outcome", "Choose the outcome (Unknown when it is not known yet).")
    if not report.reporter.strip():
        add("reporter", "Name who reported the event.")
    elif len(report.reporter.strip()) > REPORTER_MAX:
        add("reporter", f"Use at most {REPORTER_MAX} characters.")
    if len(report.description.strip()) > DESCRIPTION_MAX:
        add("description", f"Use at most {DESCRIPTION_MAX} characters.")
    return problems


def _onset_problems(onset: date | None, context: ReportContext) -> list[tuple[str, str]]:
    """The onset date: given, not in the future, not before birth or the infusion."""
    if onset is None:
        return [("onset_on", "Enter the onset date (YYYY-MM-DD).")]
    if problem := after_today("Onset date", onset, today=context.today, where=context.where):
        return [("onset_on", problem)]
    if onset < context.born:
        return [("onset_on", "The onset date is before the patient's date of birth.")]
    if context.infusion_on is not None and onset < context.infusion_on:
        return [
            ("onset_on", f"A reaction to this infusion begins on {context.infusion_on} or later.")
        ]
    return []


def review_problems(*, serious: bool, reviewed: bool, note: str) -> dict[str, list[str]]:
    """Only a serious event not reviewed yet is reviewed, with a note."""
    if not serious:
        return {"note": ["Only a serious event is reviewed by the program."]}
    if reviewed:
        return {"note": ["This event was reviewed already."]}
    if not note.strip():
        return {"note": ["Write what the review found or did."]}
    if len(note.strip()) > NOTE_MAX:
        return {"note": [f"Use at most {NOTE_MAX} characters."]}
    return {}
