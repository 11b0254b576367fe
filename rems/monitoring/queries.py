"""Monitoring reads: the facts the schedule is computed from, and what the stored state says
today (overdue tests for the gate, a patient's summary, results history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.infusions.models import Infusion
from rems.monitoring import rules
from rems.monitoring.models import LabResult, MonitoringStatus, MonitoringWaiver, ResultAmendment
from rems.patients.models import Patient


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


def dose_dates(session: Session, patient_id: int) -> list[date]:
    """Every day the patient was given a dose, oldest first: all courses, closed ones too."""
    return list(
        session.scalars(
            sa.select(Infusion.administered_on)
            .where(Infusion.patient_id == patient_id)
            .order_by(Infusion.administered_on)
        )
    )


def schedule_facts(session: Session, patient: Patient) -> rules.ScheduleFacts:
    """The schedule's facts for one patient, from the records."""
    program = _program()
    monitored = rules.monitored_tests(program)
    codes = [t.code for t in monitored]
    results = session.execute(
        sa.select(LabResult.id, LabResult.test_code, LabResult.collected_on).where(
            LabResult.patient_id == patient.id, LabResult.test_code.in_(codes)
        )
    )
    waivers = session.execute(
        sa.select(MonitoringWaiver.test_code, MonitoringWaiver.due_on).where(
            MonitoringWaiver.patient_id == patient.id
        )
    )
    return rules.ScheduleFacts(
        tests=monitored,
        months_after_last_dose=program.monitoring.months_after_last_dose,
        doses=tuple(dose_dates(session, patient.id)),
        closed_on=patient.closed_on,
        results=tuple(rules.ResultFact(*row) for row in results),
        waivers=tuple(rules.WaiverFact(*row) for row in waivers),
    )


def patient_schedule(session: Session, patient: Patient, today: date) -> list[rules.Item]:
    """Every item of the patient's schedule with its state today (computed from the facts)."""
    return rules.schedule(schedule_facts(session, patient), today)


@dataclass(frozen=True, slots=True)
class OverdueTest:
    """A test with at least one overdue item: the oldest one's due date and last day."""

    test_code: str
    name: str
    due_on: date
    overdue_after: date


def overdue_tests(session: Session, patient_id: int, today: date) -> list[OverdueTest]:
    """The patient's tests with an overdue item, most overdue first: one indexed query."""
    program = _program()
    rows = session.execute(
        sa.select(
            MonitoringStatus.test_code, MonitoringStatus.next_due_on, MonitoringStatus.overdue_after
        )
        .where(MonitoringStatus.patient_id == patient_id, MonitoringStatus.overdue_after < today)
        .order_by(MonitoringStatus.overdue_after, MonitoringStatus.test_code)
    )
    return [OverdueTest(code, program.test(code).name, due, end) for code, due, end in rows]


def stored_items(session: Session, patient_id: int, today: date) -> list[rules.Item]:
    """The patient's unresolved items, from the stored state, with their state today."""
    tests = {t.code: t for t in rules.monitored_tests(_program())}
    rows = session.scalars(
        sa.select(MonitoringStatus).where(MonitoringStatus.patient_id == patient_id)
    )
    items: list[rules.Item] = []
    for row in rows:
        test = tests.get(row.test_code)
        if test is not None:
            ks = rules.parse_ranges(row.open_items)
            items += [rules.state_on(i, today) for i in rules.open_items(test, row.anchor_on, ks)]
    return items


def summary(session: Session, patient_id: int, today: date) -> dict:
    """The API's monitoring summary: compliant, how many items are due and overdue, which."""
    items = stored_items(session, patient_id, today)
    overdue = [i for i in items if i.state == rules.ItemState.OVERDUE]
    ends_on = session.scalar(
        sa.select(sa.func.max(MonitoringStatus.ends_on)).where(
            MonitoringStatus.patient_id == patient_id
        )
    )
    return {
        "compliant": not overdue,
        "monitoring_ends_on": ends_on.isoformat() if ends_on else None,
        "items_due": sum(1 for i in items if i.state == rules.ItemState.DUE),
        "items_overdue": len(overdue),
        "overdue_items": [
            {"test": i.test_code, "item": i.k, "due_on": i.due_on.isoformat(),
             "overdue_since": _day_after(i.window_end)}
            for i in sorted(overdue, key=lambda i: (i.window_end, i.test_code))
        ],
    }  # fmt: skip


def _day_after(day: date) -> str:
    """The next day, as YYYY-MM-DD."""
    return date.fromordinal(day.toordinal() + 1).isoformat()


def results_of(session: Session, patient_id: int) -> list[LabResult]:
    """The patient's results, newest collection first."""
    return list(
        session.scalars(
            sa.select(LabResult)
            .where(LabResult.patient_id == patient_id)
            .order_by(LabResult.collected_on.desc(), LabResult.id.desc())
        )
    )


def amendments_of(session: Session, result_ids: list[int]) -> dict[int, list[ResultAmendment]]:
    """The amendments of these results, oldest first, by result id."""
    found: dict[int, list[ResultAmendment]] = {}
    if not result_ids:
        return found
    rows = session.scalars(
        sa.select(ResultAmendment)
        .where(ResultAmendment.result_id.in_(result_ids))
        .order_by(ResultAmendment.id)
    )
    for row in rows:
        found.setdefault(row.result_id, []).append(row)
    return found
