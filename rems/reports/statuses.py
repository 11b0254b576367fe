"""The periodic patient status report: per prescriber, the monitored patients whose status is
due and overdue, and the statuses signed so far (from the stored status state, kept current with
the monitoring state). Read from the daily snapshot `summarise-reports` takes when there is one:
counting a million status rows on every view is what made the page slow at a national volume,
and due and overdue change only with the day or with a signature."""

from __future__ import annotations

import sqlalchemy as sa

from rems.common.clock import utcnow
from rems.db import UTCDateTime
from rems.extensions import db
from rems.monitoring.followup_models import PatientStatusDue
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reports.daily import total
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import percent
from rems.reports.summary_models import ReportSummaryDay, StatusSnapshot

S = PatientStatusDue
SNAPSHOT = "patient-statuses"
COUNTS = ("patients", "due", "overdue", "signed")


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


def status_rows(today) -> sa.Select:
    """The counts per prescriber (id) and patient's state: the daily snapshot's rows."""
    figures = status_figures(today)
    return (
        sa.select(S.prescriber_id, Patient.state, *(figures[key] for key in COUNTS))
        .join(Patient, Patient.id == S.patient_id)
        .group_by(S.prescriber_id, Patient.state)
    )


def _statuses(filters: Filters, dialect: str) -> sa.Select:
    """Per prescriber: patients, statuses due and overdue, signed so far, from the daily
    snapshot when there is one (its time in "As of"), else from the stored statuses now."""
    taken = db.session.scalar(
        sa.select(sa.func.max(ReportSummaryDay.day)).where(ReportSummaryDay.report == SNAPSHOT)
    )
    if taken is None:
        return _live_statuses(filters)
    T = StatusSnapshot
    sums = {key: total(getattr(T, key)) for key in COUNTS}
    per = sa.select(T.prescriber_id, *(sums[key].label(key) for key in COUNTS),
                    sa.func.max(T.taken_at).label("as_of"))  # fmt: skip
    if filters.prescriber_id is not None:
        per = per.where(T.prescriber_id == filters.prescriber_id)
    if filters.state is not None:
        per = per.where(T.patient_state == filters.state)
    return _named(per.group_by(T.prescriber_id).subquery("per_prescriber"))


def _live_statuses(filters: Filters) -> sa.Select:
    """The figures counted from the stored status rows now: aggregated by prescriber id alone
    (the patient is joined only for the state filter), then named."""
    figures = status_figures(filters.today)
    now = sa.literal(utcnow(), UTCDateTime()).label("as_of")
    per = sa.select(S.prescriber_id, *(figures[key].label(key) for key in COUNTS), now)
    if filters.prescriber_id is not None:
        per = per.where(S.prescriber_id == filters.prescriber_id)
    if filters.state is not None:
        per = per.join(Patient, Patient.id == S.patient_id).where(Patient.state == filters.state)
    return _named(per.group_by(S.prescriber_id).subquery("per_prescriber"))


def _named(per) -> sa.Select:
    """The per-prescriber figures with the prescriber's NPI and name, and the share on time."""
    on_time = percent(per.c.patients - per.c.overdue, per.c.patients)
    return sa.select(
        Prescriber.npi.label("prescriber_npi"),
        (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
        per.c.patients, per.c.due, per.c.overdue, on_time.label("on_time"), per.c.signed,
        per.c.as_of,
    ).join(per, per.c.prescriber_id == Prescriber.id)  # fmt: skip


PATIENT_STATUSES = Report(
    name="patient-statuses",
    title="Periodic patient statuses per prescriber",
    summary="For each prescriber: monitored patients, whose periodic status is due and overdue "
    "(not signed within its grace), the share on time, and statuses signed so far, as of the "
    "time in the As of column: the daily snapshot taken by `summarise-reports` after midnight "
    "(statuses signed since then count from the next snapshot), or now when none has been "
    "taken.",
    columns=(
        Column("prescriber_npi", "Prescriber NPI"),
        Column("prescriber", "Prescriber"),
        Column("patients", "Patients monitored", "number"),
        Column("due", "Status due", "number"),
        Column("overdue", "Status overdue", "number"),
        Column("on_time", "On time (%)", "percent"),
        Column("signed", "Statuses signed", "number"),
        Column("as_of", "As of (UTC)", "datetime"),
    ),
    query=_statuses,
    filters=frozenset({"prescriber", "state"}),
    default_sort="prescriber",
)
