"""What keeps monitoring going after the schedule's own end, and the prescriber's periodic word
on each monitored patient: monitoring extensions and periodic patient statuses."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class MonitoringExtension(db.Model):
    """The prescriber extends a patient's monitoring to a later end ("or longer if clinically
    indicated"), with the reason. The latest end of all extensions counts."""

    __tablename__ = "monitoring_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    #: The new last day of monitoring, and the one it replaced.
    ends_on: Mapped[date]
    previous_ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    extended_at: Mapped[datetime] = mapped_column(index=True)  # the as-of reads
    extended_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))


class PatientStatusReport(db.Model):
    """The periodic status of a monitored patient for one period (every `status_every_months`
    from the first dose): prepared by the prescriber or a delegate, counted once the prescriber
    signs it (password asked again)."""

    __tablename__ = "patient_status_report"
    __table_args__ = (sa.UniqueConstraint("patient_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    #: Period n falls due n × status_every_months after the first dose.
    period: Mapped[int]
    due_on: Mapped[date]
    results_reviewed: Mapped[bool]
    new_autoimmune_event: Mapped[bool]
    new_malignancy: Mapped[bool]
    #: not_applicable, not_pregnant, pregnant, unknown.
    pregnancy_status: Mapped[str] = mapped_column(sa.String(20))
    still_under_care: Mapped[bool]
    note: Mapped[str | None] = mapped_column(sa.Text)
    prepared_at: Mapped[datetime]
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The prescriber's signature; None while a delegate's draft waits for it.
    signed_at: Mapped[datetime | None]
    signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    signature_id: Mapped[int | None] = mapped_column(sa.ForeignKey("signature.id"))


class PatientStatusDue(db.Model):
    """Where one monitored patient stands on the periodic status, kept current with the
    monitoring state (rems.monitoring.statuses.refresh_statuses): the earliest unsigned
    period's dates are columns, so the worklist and the digest read due and overdue statuses
    with the same date comparisons as the tests'."""

    __tablename__ = "patient_status_due"
    __table_args__ = (sa.Index("ix_patient_status_due_due", "prescriber_id", "next_due_on"),)

    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), primary_key=True)
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    anchor_on: Mapped[date]
    ends_on: Mapped[date]
    #: The earliest period not signed (nor closed); all None when there is none.
    next_period: Mapped[int | None]
    next_due_on: Mapped[date | None]
    #: Its due date + grace: overdue from the day after.
    overdue_after: Mapped[date | None]
    #: Every unsigned period number, as ranges ("1-3,5").
    open_periods: Mapped[str] = mapped_column(sa.String(400))
    signed: Mapped[int]
    periods_total: Mapped[int]
