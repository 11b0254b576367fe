"""Abnormal-result alerts by rule: how many were raised in the period, acknowledged, still
open, and escalated to the administrators."""

from __future__ import annotations

import sqlalchemy as sa

from rems.alerts.models import LabAlert
from rems.patients.models import Patient
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import within


def _count_when(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def _alerts(filters: Filters, dialect: str) -> sa.Select:
    """Alerts raised in the period, by rule."""
    statement = (
        sa.select(
            LabAlert.rule.label("rule"),
            sa.func.max(LabAlert.label).label("label"),
            sa.func.count().label("raised"),
            _count_when(LabAlert.acknowledged_at.is_not(None)).label("acknowledged"),
            _count_when(LabAlert.acknowledged_at.is_(None)).label("open"),
            _count_when(LabAlert.escalated_at.is_not(None)).label("escalated"),
        )
        .join(Patient, Patient.id == LabAlert.patient_id)
        .where(within(LabAlert.raised_at, filters.date_from, filters.date_to))
        .group_by(LabAlert.rule)
    )
    if filters.prescriber_id is not None:
        statement = statement.where(Patient.prescriber_id == filters.prescriber_id)
    return statement


ALERTS = Report(
    name="alerts",
    title="Abnormal-result alerts by rule",
    summary="Alerts the program's rules raised on results stored in the period: how many were "
    "acknowledged with an action, are still open, and were escalated to the administrators.",
    columns=(
        Column("rule", "Rule"),
        Column("label", "Alert"),
        Column("raised", "Raised", "number"),
        Column("acknowledged", "Acknowledged", "number"),
        Column("open", "Open", "number"),
        Column("escalated", "Escalated", "number"),
    ),
    query=_alerts,
    filters=frozenset({"period", "prescriber"}),
    default_sort="raised",
    default_descending=True,
    period_of="raised on",
)
