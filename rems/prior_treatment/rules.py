"""What a prior course must hold, as pure functions: each dose date checked on its own, then
the course as a whole. Prior treatment is history, so the dosing rules of program §4 are not
re-applied; the dates must only be real and in order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rems.common.localtime import after_today

SOURCE_MAX = 300
FORMULA_TRIGGERS = ("=", "+", "-", "@")


def dose_date_problem(
    day: date, *, today: date, born: date, after: date | None, where: str = "the practice"
) -> str | None:
    """Why one dose date cannot be right (None: it can); `today` is the practice's."""
    if problem := after_today("Dose date", day, today=today, where=where):
        return problem
    if day < born:
        return "The date is before the patient's date of birth."
    if after is not None and day <= after:
        return f"The previous course ended on {after}: this course's doses come after it."
    return None


def course_problems(days: Sequence[date], doses_allowed: int, number: int) -> list[str]:
    """Problems of the course's dose dates taken together."""
    if not days:
        return ["Enter the date of at least one dose given."]
    problems = []
    if len(days) > doses_allowed:
        problems.append(f"Course {number} has {doses_allowed} doses: {len(days)} dates were given.")
    if len(set(days)) != len(days):
        problems.append("Two doses are on the same day: one infusion a day.")
    return problems


def source_problem(source: str) -> str | None:
    """The source document is named, briefly, and not as a spreadsheet formula."""
    text = source.strip()
    if not text:
        return (
            "Name the source document (the chart, infusion record or letter the dates come from)."
        )
    if len(text) > SOURCE_MAX:
        return f"Use at most {SOURCE_MAX} characters."
    if text.startswith(FORMULA_TRIGGERS):
        return "The text may not begin with =, +, - or @ (it would read as a spreadsheet formula)."
    return None
