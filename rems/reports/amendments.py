"""Result amendments: every correction of a monitoring result in the period, with who made it,
when and why, and the values it replaced."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import User
from rems.monitoring.models import LabResult, ResultAmendment
from rems.patients.models import Patient
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import within

A = ResultAmendment


def _was(key: str) -> sa.ColumnElement:
    """One of the values the amendment replaced, as text."""
    return A.old_values[key].as_string()


def _now(key: str) -> sa.ColumnElement:
    """One of the values the amendment set, as text."""
    return A.new_values[key].as_string()


def _amendments(filters: Filters, dialect: str) -> sa.Select:
    """Amendments made in the period, with the amender and the result's patient."""
    statement = (
        sa.select(
            A.amended_at.label("amended_at"),
            Patient.rems_id.label("patient_id"),
            LabResult.test_code.label("test"),
            LabResult.collected_on.label("collected_on"),
            (User.full_name + " (" + User.username + ")").label("amended_by"),
            A.reason.label("reason"),
            _was("test_code").label("test_before"),
            _was("collected_on").label("collected_before"),
            _was("value").label("value_before"),
            _now("value").label("value_after"),
        )
        .join(LabResult, LabResult.id == A.result_id)
        .join(Patient, Patient.id == LabResult.patient_id)
        .join(User, User.id == A.amended_by_id)
        .where(within(A.amended_at, filters.date_from, filters.date_to))
    )
    if filters.prescriber_id is not None:
        statement = statement.where(Patient.prescriber_id == filters.prescriber_id)
    return statement


RESULT_AMENDMENTS = Report(
    name="result-amendments",
    title="Amended monitoring results",
    summary="Every correction of a monitoring result made in the period: who made it, when and "
    "why, and the values it replaced (the result's current values beside them).",
    columns=(
        Column("amended_at", "Amended at (UTC)", "datetime"),
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("test", "Test"),
        Column("collected_on", "Collected on", "date", patient_date=True),
        Column("amended_by", "Amended by"),
        # Free text a person typed: it may name the patient, so de-identified exports drop it.
        Column("reason", "Reason", identifier=True, sortable=False),
        Column("test_before", "Test before"),
        Column("collected_before", "Collected on before", identifier=True),
        Column("value_before", "Value before", sortable=False),
        Column("value_after", "Value after", sortable=False),
    ),
    query=_amendments,
    filters=frozenset({"period", "prescriber"}),
    default_sort="amended_at",
    default_descending=True,
    period_of="amended on",
    about_patients=True,
)
