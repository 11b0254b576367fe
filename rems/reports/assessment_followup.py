"""The assessment's figures on what follows a result and a course: abnormal-result alerts
(raised in the period, acknowledged and escalated by its end, days to acknowledge) and the
prescribers' periodic patient statuses (signed in the period, on time or late, and what they
reported). Moments are read as days in the program's time zone, like every period figure."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.alerts.models import LabAlert
from rems.common.localtime import program_zone
from rems.monitoring.followup_models import PatientStatusReport
from rems.reports.sqlfn import start_of


def _bounds(date_from: date, date_to: date):
    return start_of(date_from), start_of(date_to + timedelta(days=1))


def _day(moment: datetime) -> date:
    """A stored moment's day in the program's time zone (SQLite hands back naive UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(program_zone()).date()


def alerts(session: Session, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per alert rule: alerts raised in the period, how many were acknowledged and escalated
    by the period's end, and the median days from raised to acknowledged."""
    start, end = _bounds(date_from, date_to)
    rows = session.execute(
        sa.select(LabAlert.label, LabAlert.raised_at, LabAlert.acknowledged_at,
                  LabAlert.escalated_at)
        .where(LabAlert.raised_at >= start, LabAlert.raised_at < end)
    ).all()  # fmt: skip
    by_rule: dict[str, list] = defaultdict(list)
    for row in rows:
        by_rule[row.label].append(row)
    figures = []
    for rule_label in sorted(by_rule):
        raised = by_rule[rule_label]
        acked = [r for r in raised if r.acknowledged_at is not None and r.acknowledged_at < end]
        days = [(r.acknowledged_at - r.raised_at).total_seconds() / 86400 for r in acked]
        figures.append({
            "rule": rule_label, "raised": len(raised), "acknowledged": len(acked),
            "escalated": sum(1 for r in raised if r.escalated_at is not None
                             and r.escalated_at < end),
            "open": len(raised) - len(acked),
            "median_days": round(statistics.median(days), 1) if days else None,
        })  # fmt: skip
    return figures


def statuses(session: Session, date_from: date, date_to: date) -> dict[str, int]:
    """Periodic statuses signed in the period: on time (by their due date plus the program's
    grace) or late, and how many reported a new autoimmune event, a new malignancy, or a
    patient no longer under care."""
    start, end = _bounds(date_from, date_to)
    grace = current_app.extensions["rems_program"].monitoring_states.status_grace_days
    signed = session.scalars(
        sa.select(PatientStatusReport).where(
            PatientStatusReport.signed_at >= start, PatientStatusReport.signed_at < end
        )
    ).all()
    late = sum(1 for s in signed if _day(s.signed_at) > s.due_on + timedelta(days=grace))
    return {
        "signed": len(signed), "on_time": len(signed) - late, "late": late,
        "autoimmune": sum(1 for s in signed if s.new_autoimmune_event),
        "malignancy": sum(1 for s in signed if s.new_malignancy),
        "left_care": sum(1 for s in signed if not s.still_under_care),
    }  # fmt: skip
