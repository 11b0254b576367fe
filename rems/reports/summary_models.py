"""Daily summaries of the aggregate reports, refreshed by `flask rems summarise-reports`.

A summary is derived, never a record: the rows it counts stay the truth. A day's summary rows
are used only while `report_summary_day` marks the day summarised and no `report_summary_stale`
row names it (a write that lands in a closed day adds one, in its own transaction); otherwise
the report counts that day from the rows, as it counts today.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class ReportSummaryDay(db.Model):
    """A closed program day whose summary rows of one report are complete."""

    __tablename__ = "report_summary_day"

    report: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime]


class ReportSummaryStale(db.Model):
    """A closed day whose rows changed after it was summarised: read live until refreshed."""

    __tablename__ = "report_summary_stale"
    __table_args__ = (sa.Index("ix_report_summary_stale_report_day", "report", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report: Mapped[str] = mapped_column(sa.String(40))
    day: Mapped[date]
    marked_at: Mapped[datetime]


class GateDecisionDay(db.Model):
    """Dispensing decisions of one program day at one pharmacy (none: requests that named no
    certified pharmacy)."""

    __tablename__ = "summary_gate_decision_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    pharmacy_site_id: Mapped[int | None]
    requests: Mapped[int]
    authorized: Mapped[int]
    denied: Mapped[int]


class GateDenialDay(db.Model):
    """Denials of one program day at one pharmacy, per reason code and who must act."""

    __tablename__ = "summary_gate_denial_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    pharmacy_site_id: Mapped[int | None]
    code: Mapped[str | None] = mapped_column(sa.Text)
    action_by: Mapped[str | None] = mapped_column(sa.Text)
    denials: Mapped[int]


class InfusionDay(db.Model):
    """Doses given on one day at one infusion site, with how the checklist was kept."""

    __tablename__ = "summary_infusion_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    site_id: Mapped[int]
    infusions: Mapped[int]
    deviation_free: Mapped[int]
    premedicated: Mapped[int]
    observed: Mapped[int]
    reactions: Mapped[int]
    serious_reactions: Mapped[int]


class ComplianceSnapshot(db.Model):
    """Monitoring compliance per prescriber, test and patient's state, as the daily job found
    it at `taken_at` (one snapshot: each run replaces the last)."""

    __tablename__ = "summary_monitoring_compliance"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime]
    prescriber_id: Mapped[int] = mapped_column(index=True)
    test_code: Mapped[str] = mapped_column(sa.String(40))
    patient_state: Mapped[str | None] = mapped_column(sa.String(2))
    patients: Mapped[int]
    overdue: Mapped[int]
    satisfied: Mapped[int]
    waived: Mapped[int]


class CoverageSnapshot(db.Model):
    """Enrolled patients per prescriber, planned site and state, as the daily job found them
    at `taken_at`: all of them (`document_version_id` None), and those who had acknowledged
    each document version (one snapshot: each run replaces the last)."""

    __tablename__ = "summary_acknowledgment_coverage"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime]
    document_version_id: Mapped[int | None]
    prescriber_id: Mapped[int]
    planned_site_id: Mapped[int | None]
    patient_state: Mapped[str | None] = mapped_column(sa.String(2))
    patients: Mapped[int]


class StatusSnapshot(db.Model):
    """Periodic patient statuses per prescriber and patient's state, as the daily job found
    them at `taken_at` (one snapshot: each run replaces the last)."""

    __tablename__ = "summary_patient_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime]
    prescriber_id: Mapped[int] = mapped_column(index=True)
    patient_state: Mapped[str | None] = mapped_column(sa.String(2))
    patients: Mapped[int]
    due: Mapped[int]
    overdue: Mapped[int]
    signed: Mapped[int]
