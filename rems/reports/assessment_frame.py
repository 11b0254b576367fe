"""The assessment's frame around its figures: the cover page (program, sponsor, interval, the
assessment's number on the timetable of the program file), the goals with their metrics, and
every metric for the period beside the previous period of the same length."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app

from rems.reports.assessment import Assessment


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period of the same length that ends the day before `date_from`."""
    length = date_to - date_from
    last = date_from - timedelta(days=1)
    return last - length, last


def _pct(value) -> str:
    return "—" if value is None else f"{value}%"


def _num(value) -> str:
    return "—" if value is None else str(value)


def _total(rows, key) -> int:
    return sum(int(row[key] or 0) for row in rows)


def _resolved(result: Assessment) -> str:
    rows = result.denial_resolution
    return f"{_total(rows, 'resolved')} of {_total(rows, 'denials')}"


#: Every metric a goal may name: its label and how it reads off an assessment.
METRICS: dict[str, tuple[str, Callable[[Assessment], str]]] = {
    "certified_prescribers": ("Prescribers certified at the period's end",
                              lambda r: _num(r.parties[0]["active"])),
    "certified_pharmacies": ("Pharmacies certified at the period's end",
                             lambda r: _num(r.parties[1]["active"])),
    "certified_infusion_sites": ("Infusion sites certified at the period's end",
                                 lambda r: _num(r.parties[2]["active"])),
    "patients_enrolled": ("Patients enrolled in the period",
                          lambda r: _num(r.patients["enrolled_in_period"])),
    "knowledge_pass_rate": ("Knowledge assessments passed",
                            lambda r: _pct(r.knowledge["pass_rate"])),
    "guide_acknowledged": ("Enrolled patients who acknowledged the Medication Guide",
                           lambda r: _pct(r.guide["share"])),
    "gate_requests": ("Requests at the gate", lambda r: _num(r.decisions["requests"])),
    "gate_denials": ("Requests denied", lambda r: _num(r.decisions["denied"])),
    "unauthorized_doses": ("Doses without a valid authorization",
                           lambda r: _num(r.gate_proof.total)),
    "checklist_compliance": ("Infusion checklist compliance",
                             lambda r: _pct(r.infusions.get("checklist_rate"))),
    "deviations": ("Protocol deviations", lambda r: _num(_total(r.deviations, "deviations"))),
    "monitoring_compliance": ("Monitoring items due in the period met",
                              lambda r: _pct(r.monitoring["total"]["compliance"])),
    "adverse_events": ("Adverse events (onset in the period)",
                       lambda r: _num(_total(r.adverse_events, "events"))),
    "days_to_first_dose": ("Median days from enrollment to first dose",
                           lambda r: _num(r.first_dose["median_days"])),
    "denial_resolution_days": ("Denials followed by a grant by the period's end", _resolved),
    "cases_opened": ("Non-compliance cases opened", lambda r: _num(_total(r.cases, "opened"))),
}  # fmt: skip


@dataclass
class Frame:
    """The cover, the goals and the side-by-side metrics of one assessment."""

    cover: dict[str, Any]
    goals: list[dict[str, Any]]
    metrics: list[dict[str, str]]
    previous: Assessment


def frame(result: Assessment, previous: Assessment, generated_on: date) -> Frame:
    """The frame of `result`, compared with `previous`."""
    program = current_app.extensions["rems_program"]
    reports = program.assessment_reports
    number, due = reports.number_of(result.date_to)
    cover = {
        "program": program.name, "drug": program.drug, "sponsor": reports.sponsor,
        "approved_on": reports.approved_on, "number": number, "due_on": due,
        "timetable": [f"{months} months" for months in reports.timetable_months],
        "generated_on": generated_on,
    }  # fmt: skip

    def metric(code: str) -> dict[str, str]:
        label, read = METRICS[code]
        return {"code": code, "label": label, "current": read(result), "previous": read(previous)}

    goals = [
        {"code": goal.code, "text": goal.text, "metrics": [metric(c) for c in goal.metrics]}
        for goal in reports.goals
    ]
    return Frame(cover, goals, [metric(code) for code in METRICS], previous)
