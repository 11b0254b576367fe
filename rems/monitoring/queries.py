"""Monitoring reads: the facts the schedule is computed from, and what the stored state says
today (overdue tests for the gate, a patient's summary, results history)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.common.idlist import among_ids
from rems.infusions.models import Infusion
from rems.monitoring import rules
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.models import LabResult, MonitoringStatus, MonitoringWaiver, ResultAmendment
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


class IdSpan(list):
    """Patient ids that are every patient id from the first to the last (a batch read in id
    order): the queries name them as a range, not one bound parameter per id (a thousand
    parameters cost more to send and parse than the query costs to run)."""


class IdRange(IdSpan):
    """Patient ids in order, not necessarily every id between the first and the last (a batch
    of the patients a report looks at): queried as the range all the same, the rows of the
    patients in between left out by the reader."""


def of_patients(column, ids: list[int]):
    """`column` among these patient ids: a range for an IdSpan, else the ids as one bound
    value (`among_ids`: a thousand scattered ids are one parameter, not a thousand)."""
    if isinstance(ids, IdSpan) and ids:
        return column.between(ids[0], ids[-1])
    return among_ids(column, ids)


def dose_dates(session: Session, patient_id: int) -> list[date]:
    """Every day the patient was given a dose, oldest first: all courses, closed ones and prior
    (historical) ones too."""
    return dose_dates_for(session, [patient_id])[patient_id]


def dose_dates_for(
    session: Session, patient_ids: list[int], recorded_by: datetime | None = None
) -> dict[int, list[date]]:
    """dose_dates of several patients in two queries, by patient id: the infusions recorded
    here and the prior (historical) doses entered from the records of earlier treatment. The
    one place that knows where doses are recorded: a new kind of dose belongs here. With
    `recorded_by`, only the doses recorded by that moment (the as-of answers)."""
    found: dict[int, list[date]] = {patient_id: [] for patient_id in patient_ids}
    for model, day in ((Infusion, Infusion.administered_on), (PriorDose, PriorDose.given_on)):
        statement = sa.select(model.patient_id, day).where(
            of_patients(model.patient_id, patient_ids)
        )
        if recorded_by is not None:
            statement = statement.where(model.recorded_at <= recorded_by)
        rows = session.execute(statement)
        for patient_id, given in rows:
            if (days := found.get(patient_id)) is not None:  # None: in an IdRange's gaps
                days.append(given)
    return {patient_id: sorted(days) for patient_id, days in found.items()}


def schedule_facts(session: Session, patient: Patient) -> rules.ScheduleFacts:
    """The schedule's facts for one patient, from the records."""
    return schedule_facts_for(session, [patient])[patient.id]


def schedule_facts_for(
    session: Session,
    patients: list[Patient],
    ids: list[int] | None = None,
    recorded_by: datetime | None = None,
) -> dict[int, rules.ScheduleFacts]:
    """The schedule's facts of several patients, by patient id: their doses (`dose_dates_for`),
    results and waivers in one query each. `ids`: the patients' ids (an IdSpan) if known.
    `recorded_by`: only what had been recorded by that moment (doses, results, waivers,
    extensions; the closing is `asof`'s)."""  # fmt: skip
    program = _program()
    monitored = rules.monitored_tests(program)
    ids = [patient.id for patient in patients] if ids is None else ids
    results: dict[int, list[rules.ResultFact]] = {pid: [] for pid in ids}
    statement = (
        sa.select(LabResult.patient_id, LabResult.id, LabResult.test_code, LabResult.collected_on)
        .where(of_patients(LabResult.patient_id, ids))
        .where(LabResult.test_code.in_([t.code for t in monitored]))
    )
    if recorded_by is not None:
        statement = statement.where(LabResult.entered_at <= recorded_by)
    rows = session.execute(statement)
    for patient_id, *fact in rows:
        if (own := results.get(patient_id)) is not None:  # None: in an IdRange's gaps
            own.append(rules.ResultFact(*fact))
    waivers: dict[int, list[rules.WaiverFact]] = {pid: [] for pid in ids}
    statement = sa.select(
        MonitoringWaiver.patient_id, MonitoringWaiver.test_code, MonitoringWaiver.due_on
    ).where(of_patients(MonitoringWaiver.patient_id, ids))
    if recorded_by is not None:
        statement = statement.where(MonitoringWaiver.waived_at <= recorded_by)
    rows = session.execute(statement)
    for patient_id, *fact in rows:
        if (own := waivers.get(patient_id)) is not None:
            own.append(rules.WaiverFact(*fact))
    doses = dose_dates_for(session, ids, recorded_by)
    statement = (
        sa.select(MonitoringExtension.patient_id, sa.func.max(MonitoringExtension.ends_on))
        .where(of_patients(MonitoringExtension.patient_id, ids))
        .group_by(MonitoringExtension.patient_id)
    )
    if recorded_by is not None:
        statement = statement.where(MonitoringExtension.extended_at <= recorded_by)
    extended = dict(session.execute(statement).all())
    keeps_overdue = program.monitoring_states.close_keeps_overdue
    return {
        patient.id: rules.ScheduleFacts(
            tests=monitored,
            months_after_last_dose=program.monitoring.months_after_last_dose,
            doses=tuple(doses[patient.id]),
            closed_on=patient.closed_on,
            results=tuple(results[patient.id]),
            waivers=tuple(waivers[patient.id]),
            closed_keeps_overdue=patient.close_reason in keeps_overdue,
            extended_to=extended.get(patient.id),
        )
        for patient in patients
    }


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


def open_items_today(session: Session, patient_id: int, today: date) -> tuple[list, date | None]:
    """The patient's unresolved items whose window has opened (due or overdue today), from the
    stored state in one query; and the last day of monitoring (None before the first dose)."""
    tests = {t.code: t for t in rules.monitored_tests(_program())}
    rows = session.execute(
        sa.select(
            MonitoringStatus.test_code, MonitoringStatus.anchor_on, MonitoringStatus.open_items,
            MonitoringStatus.ends_on,
        ).where(MonitoringStatus.patient_id == patient_id)
    ).all()  # fmt: skip
    items: list[rules.Item] = []
    for code, anchor, ranges, _ in rows:
        test = tests.get(code)
        if test is None:
            continue
        for item in rules.open_items(test, anchor, rules.parse_ranges(ranges)):
            if item.window_start > today:
                break  # later items open later still: upcoming
            items.append(rules.state_on(item, today))
    return items, max((row.ends_on for row in rows), default=None)


def summary(session: Session, patient_id: int, today: date) -> dict:
    """The API's monitoring summary: compliant, how many items are due and overdue, which."""
    items, ends_on = open_items_today(session, patient_id, today)
    overdue = [i for i in items if i.state == rules.ItemState.OVERDUE]
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
