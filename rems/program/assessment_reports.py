"""The program file's `[assessment_reports]` table: who sponsors the REMS, when it was approved,
the timetable of its assessments to the FDA (months after approval), and the program's goals,
each with the metrics of the assessment that measure it (FDA draft guidance 2019, REMS logic
model 2024)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from rems.program._fields import Node

#: The figures of the assessment a goal may name as its metrics (rems.reports.assessment_frame).
METRICS = (
    "certified_prescribers",
    "certified_pharmacies",
    "certified_infusion_sites",
    "patients_enrolled",
    "knowledge_pass_rate",
    "guide_acknowledged",
    "gate_requests",
    "gate_denials",
    "unauthorized_doses",
    "checklist_compliance",
    "deviations",
    "monitoring_compliance",
    "adverse_events",
    "days_to_first_dose",
    "denial_resolution_days",
    "cases_opened",
)


@dataclass(slots=True, frozen=True)
class Goal:
    """One goal of the REMS and the metrics that measure it."""

    code: str
    text: str
    metrics: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class AssessmentReports:
    """The assessments the sponsor owes the FDA, and the goals they measure."""

    sponsor: str
    approved_on: date
    timetable_months: tuple[int, ...]
    goals: tuple[Goal, ...]

    def number_of(self, period_end: date) -> tuple[int | None, date | None]:
        """The assessment on the timetable that a period ending on `period_end` reports:
        (its number counted from 1, its due date), the first due on or after that day;
        (None, None) past the timetable's end."""
        for number, months in enumerate(self.timetable_months, start=1):
            due = _months_after(self.approved_on, months)
            if due >= period_end:
                return number, due
        return None, None


def _months_after(day: date, months: int) -> date:
    """`day` moved on by whole calendar months, clamped to the month's end (as the program's
    `add_months`, which this module cannot import: the program model imports this one)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def load_assessment_reports(node: Node) -> AssessmentReports:
    """The `[assessment_reports]` table, strict."""
    node.refuse_unknown("sponsor", "approved_on", "timetable_months", "goals")
    approved = node.value("approved_on")
    if not isinstance(approved, date):
        raise node.error("approved_on", "expected a date (YYYY-MM-DD, unquoted)")
    months = node.value("timetable_months")
    if not (
        isinstance(months, list) and months
        and all(isinstance(m, int) and not isinstance(m, bool) and m > 0 for m in months)
        and months == sorted(set(months))
    ):  # fmt: skip
        raise node.error("timetable_months", "expected increasing positive whole months")
    return AssessmentReports(
        sponsor=node.text("sponsor"),
        approved_on=approved,
        timetable_months=tuple(months),
        goals=node.each("goals", _goal, "code", "goal code"),
    )


def _goal(node: Node) -> Goal:
    node.refuse_unknown("code", "text", "metrics")
    metrics = node.texts("metrics", identifiers=True)
    for metric in metrics:
        if metric not in METRICS:
            raise node.error("metrics", f"unknown metric {metric!r}")
    return Goal(code=node.identifier("code"), text=node.text("text"), metrics=metrics)
