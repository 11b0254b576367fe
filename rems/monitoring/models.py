"""Monitoring results, administrator waivers of monitoring items, and adverse events."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class LabResult(db.Model):
    """One monitoring test result: test, collection date, optional value, and its source."""

    __tablename__ = "lab_result"
    __table_args__ = (sa.Index("ix_lab_result_patient_test", "patient_id", "test_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    #: The program file's test code (cbc, creatinine, urinalysis, tsh, liver, skin_exam, …).
    test_code: Mapped[str] = mapped_column(sa.String(40))
    collected_on: Mapped[date]
    value: Mapped[str | None] = mapped_column(sa.String(100))
    unit: Mapped[str | None] = mapped_column(sa.String(40))
    abnormal: Mapped[bool | None]
    #: Where it came from: web, csv, api.
    source: Mapped[str] = mapped_column(sa.String(20))
    #: Results entered together share a batch id; a batch is stored whole or not at all.
    batch_id: Mapped[str | None] = mapped_column(sa.String(36))
    entered_at: Mapped[datetime]
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))


class MonitoringWaiver(db.Model):
    """An administrator's waiver of one monitoring item, with the reason."""

    __tablename__ = "monitoring_waiver"
    __table_args__ = (sa.UniqueConstraint("patient_id", "test_code", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    test_code: Mapped[str] = mapped_column(sa.String(40))
    due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    waived_at: Mapped[datetime]
    waived_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))


class AdverseEvent(db.Model):
    """An adverse event reported for a patient (program §6 categories). A serious one waits on
    the administrators' dashboard until an administrator marks it reviewed, with a note."""

    __tablename__ = "adverse_event"
    __table_args__ = (sa.Index("ix_adverse_event_review", "serious", "reviewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    #: The program file's adverse-event category code.
    category: Mapped[str] = mapped_column(sa.String(60))
    #: The day the event began (never in the future).
    onset_on: Mapped[date]
    #: Serious as regulators define it (death, life-threatening, hospitalization, disability…).
    serious: Mapped[bool]
    #: The outcome code (recovered, recovering, not_recovered, …); None when not reported.
    outcome: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    #: The infusion that caused it, when it is an infusion reaction recorded at the site.
    infusion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("infusion.id"))
    reported_at: Mapped[datetime]
    reported_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: Who reported the event (name and role, as the person entering it was told).
    reporter: Mapped[str | None] = mapped_column(sa.String(200))
    #: An administrator's review of a serious event: when, by whom, and the note.
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    review_note: Mapped[str | None] = mapped_column(sa.Text)
