"""What an adverse-event report and a review must hold, as pure functions: plain values in,
every problem out, each naming its field."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

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
#: ICH E2A/E2B(R3) seriousness criteria, code → words.
CRITERIA: dict[str, str] = {
    "death": "Results in death",
    "life_threatening": "Is life-threatening",
    "hospitalisation": "Requires or prolongs hospitalisation",
    "disability": "Results in persistent or significant disability or incapacity",
    "congenital_anomaly": "Is a congenital anomaly or birth defect",
    "other_medically_important": "Other medically important condition",
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
    #: The day the reporting team first knew of the event (None: not given).
    aware_on: date | None = None
    criteria: tuple[str, ...] = ()


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
    onset_problems = _onset_problems(report.onset_on, context)
    for field, message in onset_problems:
        add(field, message)
    onset = None if onset_problems else report.onset_on  # compared only when it is right
    for field, message in _aware_problems(report.aware_on, onset, context):
        add(field, message)
    if report.serious is None:
        add("serious", "Say whether the event is serious.")
    for message in criteria_problems(report.serious, report.criteria):
        add("criteria", message)
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


def _aware_problems(aware: date | None, onset: date | None, context: ReportContext):
    """The awareness date: given, not after today, not before the onset."""
    if aware is None:
        return [("aware_on", "Enter the date you became aware of the event (YYYY-MM-DD).")]
    if problem := after_today("Awareness date", aware, today=context.today, where=context.where):
        return [("aware_on", problem)]
    if onset is not None and aware < onset:
        return [("aware_on", f"The awareness date is before the onset date ({onset}).")]
    return []


def criteria_problems(serious: bool | None, criteria: Collection[str]) -> list[str]:
    """A serious event names at least one ICH criterion, a non-serious one none."""
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown:
        return [f"Unknown seriousness criterion: {', '.join(sorted(unknown))}."]
    if serious and not criteria:
        return ["Tick at least one seriousness criterion of a serious event."]
    if serious is False and criteria:
        return ["A non-serious event has no seriousness criteria: untick them or say serious."]
    return []


def report_due_on(aware_on: date, days: int) -> date:
    """The last day a serious event may reach the safety team: awareness + the program's days."""
    return aware_on + timedelta(days=days)


def follow_up_problems(
    *, received_on: date | None, note: str, outcome: str | None, aware_on: date | None,
    today: date, where: str,
) -> dict[str, list[str]]:  # fmt: skip
    """A follow-up: dated (not after today, not before awareness), with a note; outcome optional."""
    problems: dict[str, list[str]] = {}
    if received_on is None:
        problems["received_on"] = ["Enter the date the information was received (YYYY-MM-DD)."]
    elif problem := after_today("Received date", received_on, today=today, where=where):
        problems["received_on"] = [problem]
    elif aware_on is not None and received_on < aware_on:
        problems["received_on"] = [f"The date is before the awareness date ({aware_on})."]
    if not note.strip():
        problems["details"] = ["Write what was learned."]
    elif len(note.strip()) > DESCRIPTION_MAX:
        problems["details"] = [f"Use at most {DESCRIPTION_MAX} characters."]
    if outcome and outcome not in OUTCOMES:
        problems["outcome"] = ["Choose an outcome from the list, or leave it unchanged."]
    return problems


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
