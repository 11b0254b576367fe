"""The periodic patient status report: per prescriber, the monitored patients whose status is
due and overdue today, and the statuses signed so far (from the stored status state, kept
current with the monitoring state)."""

from __future__ import annotations

import sqlalchemy as sa

from rems.monitoring.followup_models import PatientStatusDue
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import percent

S = PatientStatusDue


def status_figures(today) -> dict[str, sa.ColumnElement]:
    """Aggregates over stored status rows: patients, due (not overdue), overdue, signed."""
    overdue = sa.func.sum(sa.case((S.overdue_after < today, 1), else_=0))
    due = sa.func.sum(sa.case((sa.and_(S.next_due_on <= today, S.overdue_after >= today), 1),
                              else_=0))  # fmt: skip
    monitored = sa.func.count()
    return {
        "patients": monitored,
        "due": due,
        "overdue": overdue,
        "on_time": percent(monitored - overdue, monitored),
        "signed": sa.func.sum(S.signed),
    }


def _statuses(filters: Filters, dialect: str) -> sa.Select:
    """Per prescriber: patients, statuses due and overdue today, signed so far. The rows are
    aggregated by prescriber id alone (the patient is joined only for the state filter), then
    named: one pass over the status rows, whatever their number."""
    figures = status_figures(filters.today)
    per = sa.select(S.prescriber_id, *(value.label(key) for key, value in figures.items()))
    if filters.prescriber_id is not None:
        per = per.where(S.prescriber_id == filters.prescriber_id)
    if filters.state is not None:
        per = per.join(Patient, Patient.id == S.patient_id).where(Patient.state == filters.state)
    per = per.group_by(S.prescriber_id).subquery("per_prescriber")
    return sa.select(
        Prescriber.npi.label("prescriber_npi"),
        (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
        *(per.c[key] for key in figures),
    ).join(per, per.c.prescriber_id == Prescriber.id)


PATIENT_STATUSES = Report(
    name="patient-statuses",
    title="Periodic patient statuses per prescriber",
    summary="For each prescriber: monitored patients, whose periodic status is due today and "
    "overdue today (not signed within its grace), the share on time, and statuses signed so "
    "far.",
    columns=(
        Column("prescriber_npi", "Prescriber NPI"),
        Column("prescriber", "Prescriber"),
        Column("patients", "Patients monitored", "number"),
        Column("due", "Status due", "number"),
        Column("overdue", "Status overdue", "number"),
        Column("on_time", "On time (%)", "percent"),
        Column("signed", "Statuses signed", "number"),
    ),
    query=_statuses,
    filters=frozenset({"prescriber", "state"}),
    default_sort="prescriber",
)
