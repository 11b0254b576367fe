"""Monitoring reports from the stored monitoring state (one row per patient and monitored test,
kept current by every write that changes a schedule): each patient's state per test, the
overdue list, and compliance per prescriber and test."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from rems.common.clock import utcnow
from rems.db import UTCDateTime
from rems.monitoring.models import MonitoringStatus
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reports.daily import total
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import day_after, days_between, percent
from rems.reports.summary_models import ComplianceSnapshot, ReportSummaryDay

STATES = ("overdue", "due", "due_soon", "upcoming", "complete")
M = MonitoringStatus


def state_today(today):
    """Where the patient stands on the test today (the worklist's states)."""
    soon = current_app.extensions["rems_program"].monitoring_states.due_soon_days
    return sa.case(
        (M.overdue_after < today, "overdue"),
        (M.next_due_on <= today, "due"),
        (M.next_due_on <= today + timedelta(days=soon), "due_soon"),
        (M.next_k.is_not(None), "upcoming"),
        else_="complete",
    )


def _narrow(statement: sa.Select, filters: Filters) -> sa.Select:
    """Prescriber of record and the patient's state of residence."""
    if filters.prescriber_id is not None:
        statement = statement.where(M.prescriber_id == filters.prescriber_id)
    if filters.state is not None:
        statement = statement.where(Patient.state == filters.state)
    return statement


def _states(filters: Filters, dialect: str) -> sa.Select:
    """Every patient's state on every monitored test today."""
    state = state_today(filters.today)
    overdue = sa.case((M.overdue_after < filters.today, day_after(M.overdue_after, dialect)))
    statement = (
        sa.select(
            Patient.rems_id.label("patient_id"),
            Prescriber.npi.label("prescriber_npi"),
            M.test_code.label("test"),
            state.label("state"),
            M.anchor_on.label("first_dose"),
            M.ends_on.label("ends_on"),
            M.items_total.label("items_total"),
            M.satisfied.label("satisfied"),
            M.waived.label("waived"),
            M.next_due_on.label("next_due_on"),
            overdue.label("overdue_since"),
        )
        .join(Patient, Patient.id == M.patient_id)
        .join(Prescriber, Prescriber.id == M.prescriber_id)
    )
    if filters.status is not None:
        statement = statement.where(state == filters.status)
    return _narrow(statement, filters)


MONITORING = Report(
    name="monitoring",
    title="Monitoring: every patient's state per test",
    summary="Each patient's standing on each monitored test today: overdue, due, upcoming or "
    "complete; items in the schedule, satisfied and waived; the next due date. Unsorted, "
    "patients come in the order they were enrolled.",
    columns=(
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("prescriber_npi", "Prescriber NPI"),
        Column("test", "Test"),
        Column("state", "State today"),
        Column("first_dose", "First dose", "date", patient_date=True),
        Column("ends_on", "Monitoring ends", "date", patient_date=True),
        Column("items_total", "Items", "number"),
        Column("satisfied", "Satisfied", "number"),
        Column("waived", "Waived", "number"),
        Column("next_due_on", "Next due", "date", patient_date=True),
        Column("overdue_since", "Overdue since", "date", patient_date=True),
    ),
    query=_states,
    filters=frozenset({"prescriber", "state", "status"}),
    default_sort="patient_id",
    default_order=lambda: (M.patient_id, M.test_code),
    statuses=STATES,
    status_label="State today",
    about_patients=True,
)


def _overdue(filters: Filters, dialect: str) -> sa.Select:
    """Patients with an overdue item, most overdue first, with who must act."""
    statement = (
        sa.select(
            Patient.rems_id.label("patient_id"),
            Patient.last_name.label("last_name"),
            Patient.first_name.label("first_name"),
            Prescriber.npi.label("prescriber_npi"),
            (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
            M.test_code.label("test"),
            M.next_due_on.label("due_on"),
            day_after(M.overdue_after, dialect).label("overdue_since"),
            days_between(M.overdue_after, sa.literal(filters.today, sa.Date), dialect).label(
                "days_overdue"
            ),
        )
        .join(Patient, Patient.id == M.patient_id)
        .join(Prescriber, Prescriber.id == M.prescriber_id)
        .where(M.overdue_after < filters.today)
    )
    return _narrow(statement, filters)


OVERDUE = Report(
    name="monitoring-overdue",
    title="Overdue monitoring",
    summary="Every patient with an overdue monitoring item today, with the prescriber who must "
    "act; the earliest overdue item of each test. Unsorted: most overdue first; patients of the "
    "same day in enrollment order.",
    columns=(
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("last_name", "Last name", identifier=True),
        Column("first_name", "First name", identifier=True),
        Column("prescriber_npi", "Prescriber NPI"),
        Column("prescriber", "Prescriber"),
        Column("test", "Test"),
        Column("due_on", "Due", "date", patient_date=True),
        Column("overdue_since", "Overdue since", "date", patient_date=True),
        Column("days_overdue", "Days overdue", "number", days_to_today=True),
    ),
    query=_overdue,
    filters=frozenset({"prescriber", "state"}),
    default_sort="days_overdue",
    default_descending=True,
    # The same order as days overdue, most first, then the patient in enrollment order: the
    # index ix_monitoring_status_overdue_order, so a page reads its own rows only.
    default_order=lambda: (M.overdue_after.asc(), M.patient_id.asc(), M.test_code.asc()),
    about_patients=True,
)


def compliance_figures(today) -> dict[str, sa.ColumnElement]:
    """Aggregates over stored states: patients monitored, with an overdue item, compliant."""
    overdue = sa.func.sum(sa.case((M.overdue_after < today, 1), else_=0))
    monitored = sa.func.count()
    return {
        "patients": monitored,
        "overdue": overdue,
        "compliance": percent(monitored - overdue, monitored),
        "satisfied": sa.func.sum(M.satisfied),
        "waived": sa.func.sum(M.waived),
    }


SNAPSHOT = "monitoring-compliance"


def compliance_rows(today) -> sa.Select:
    """The counts per prescriber (id), test and patient's state: the daily snapshot's rows."""
    figures = compliance_figures(today)
    return (
        sa.select(
            M.prescriber_id,
            M.test_code,
            Patient.state,
            *(figures[key] for key in ("patients", "overdue", "satisfied", "waived")),
        )
        .join(Patient, Patient.id == M.patient_id)
        .group_by(M.prescriber_id, M.test_code, Patient.state)
    )


def _compliance(filters: Filters, dialect: str) -> sa.Select:
    """Per prescriber and test: patients monitored, overdue, and the compliance rate, from the
    daily snapshot when there is one (its time in "As of"), else from the stored states now."""
    from rems.extensions import db

    taken = db.session.scalar(
        sa.select(sa.func.max(ReportSummaryDay.day)).where(ReportSummaryDay.report == SNAPSHOT)
    )
    if taken is None:
        return _live_compliance(filters)
    S = ComplianceSnapshot
    sums = {key: total(getattr(S, key)) for key in ("patients", "overdue", "satisfied", "waived")}
    statement = (
        sa.select(
            Prescriber.npi.label("prescriber_npi"),
            (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
            S.test_code.label("test"),
            sums["patients"].label("patients"),
            sums["overdue"].label("overdue"),
            percent(sums["patients"] - sums["overdue"], sums["patients"]).label("compliance"),
            sums["satisfied"].label("satisfied"),
            sums["waived"].label("waived"),
            sa.func.max(S.taken_at).label("as_of"),
        )
        .join(Prescriber, Prescriber.id == S.prescriber_id)
        .group_by(Prescriber.npi, Prescriber.last_name, Prescriber.first_name, S.test_code)
    )
    if filters.prescriber_id is not None:
        statement = statement.where(S.prescriber_id == filters.prescriber_id)
    if filters.state is not None:
        statement = statement.where(S.patient_state == filters.state)
    return statement


def _live_compliance(filters: Filters) -> sa.Select:
    """The compliance figures counted from the stored states now."""
    figures = compliance_figures(filters.today)
    statement = (
        sa.select(
            Prescriber.npi.label("prescriber_npi"),
            (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
            M.test_code.label("test"),
            *(value.label(key) for key, value in figures.items()),
            sa.literal(utcnow(), UTCDateTime()).label("as_of"),
        )
        .join(Prescriber, Prescriber.id == M.prescriber_id)
        .join(Patient, Patient.id == M.patient_id)
        .group_by(Prescriber.npi, Prescriber.last_name, Prescriber.first_name, M.test_code)
    )
    return _narrow(statement, filters)


COMPLIANCE = Report(
    name="monitoring-compliance",
    title="Monitoring compliance per prescriber and test",
    summary="For each prescriber and test: patients monitored, patients with an overdue item, "
    "the share compliant (no overdue item), and items satisfied and waived, as of the time in "
    "the As of column: the daily snapshot taken by `summarise-reports` after midnight (results "
    "recorded since then count from the next snapshot), or now when none has been taken.",
    columns=(
        Column("prescriber_npi", "Prescriber NPI"),
        Column("prescriber", "Prescriber"),
        Column("test", "Test"),
        Column("patients", "Patients monitored", "number"),
        Column("overdue", "With an overdue item", "number"),
        Column("compliance", "Compliant (%)", "percent"),
        Column("satisfied", "Items satisfied", "number"),
        Column("waived", "Items waived", "number"),
        Column("as_of", "As of (UTC)", "datetime"),
    ),
    query=_compliance,
    filters=frozenset({"prescriber", "state"}),
    default_sort="prescriber",
)
