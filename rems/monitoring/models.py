"""Monitoring results and their amendments, administrator waivers of monitoring items, the
stored monitoring state per patient and test (see rems.monitoring.services), adverse events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from rems.auth.models import User
from rems.extensions import db


def duplicate_key(value: str | None) -> str:
    """A result's value as duplicates compare it: case-folded, no value as ""."""
    return (value or "").casefold()


class LabResult(db.Model):
    """One monitoring test result: test, collection date, optional value, and its source."""

    __tablename__ = "lab_result"
    __table_args__ = (
        sa.Index("ix_lab_result_patient_test", "patient_id", "test_code"),
        #: Duplicates (same patient, test, date and value) are stored once: the database
        #: refuses a second one, whichever request or session sends it.
        sa.UniqueConstraint("patient_id", "test_code", "collected_on", "value_key"),
    )
    #: Column names of the values an amendment may change (the old ones stay in its history).
    AMENDABLE = ("test_code", "collected_on", "value", "unit", "abnormal")

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    #: The program file's test code (cbc, creatinine, urinalysis, tsh, liver, skin_exam, …).
    test_code: Mapped[str] = mapped_column(sa.String(40))
    collected_on: Mapped[date]
    value: Mapped[str | None] = mapped_column(sa.String(100))
    #: `duplicate_key(value)`, kept with the value; NULL only on a duplicate stored before the
    #: database enforced uniqueness (0019), which is kept but no longer counts as the result.
    value_key: Mapped[str | None] = mapped_column(sa.String(300))
    unit: Mapped[str | None] = mapped_column(sa.String(40))
    abnormal: Mapped[bool | None]
    #: Where it came from: web, csv, api.
    source: Mapped[str] = mapped_column(sa.String(20))
    #: Results entered together share a batch id; a batch is stored whole or not at all.
    batch_id: Mapped[str | None] = mapped_column(sa.String(36))
    #: Indexed: the as-of reads (the assessment) find what was entered since a moment.
    entered_at: Mapped[datetime] = mapped_column(index=True)
    entered_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: How many times the result was amended; each amendment keeps the values it replaced.
    amendments: Mapped[int] = mapped_column(default=0, server_default="0")
    #: A finding test's structured finding (normal / abnormal) and its description.
    finding: Mapped[str | None] = mapped_column(sa.String(20))
    finding_description: Mapped[str | None] = mapped_column(sa.Text)
    #: The coded values (rems.monitoring.values), by analyte.
    coded_values: Mapped[list[ResultValue]] = relationship(
        lazy="selectin", order_by="ResultValue.id", viewonly=True
    )

    @validates("value")
    def _keep_value_key(self, _name: str, value: str | None) -> str | None:
        """Every value set (stored or amended) sets the key duplicates are compared by."""
        self.value_key = duplicate_key(value)
        return value


class ResultValue(db.Model):
    """One coded value of a result: the analyte (program file code and LOINC), the number in
    the analyte's stored UCUM unit, and the number and unit as reported."""

    __tablename__ = "result_value"
    __table_args__ = (
        sa.UniqueConstraint("result_id", "analyte"),
        sa.Index("ix_result_value_analyte", "analyte", "result_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("lab_result.id"))
    analyte: Mapped[str] = mapped_column(sa.String(40))
    loinc: Mapped[str] = mapped_column(sa.String(20))
    value: Mapped[float] = mapped_column(sa.Float)
    unit: Mapped[str] = mapped_column(sa.String(40))
    reported_value: Mapped[float] = mapped_column(sa.Float)
    reported_unit: Mapped[str] = mapped_column(sa.String(40))
    #: "low" or "high" against the program's reference range when stored; None inside it.
    flag: Mapped[str | None] = mapped_column(sa.String(10))


class ResultAmendment(db.Model):
    """A correction of a result: the values before and after, why, who. Results are never
    deleted; their history is these rows."""

    __tablename__ = "result_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = mapped_column(sa.ForeignKey("lab_result.id"), index=True)
    #: The values the amendment replaced, and the values it set (test, date, value, unit, flag).
    old_values: Mapped[dict[str, Any]]
    new_values: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(sa.Text)
    amended_at: Mapped[datetime]
    amended_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))

    #: Who made the amendment (shown beside it on every page and in the exports).
    amended_by: Mapped[User] = relationship(lazy="joined")


class MonitoringWaiver(db.Model):
    """An administrator's waiver of one monitoring item, with the reason."""

    __tablename__ = "monitoring_waiver"
    __table_args__ = (sa.UniqueConstraint("patient_id", "test_code", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    test_code: Mapped[str] = mapped_column(sa.String(40))
    due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.Text)
    waived_at: Mapped[datetime] = mapped_column(index=True)  # the as-of reads
    waived_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The administrator's e-signature of the waiver (password asked again).
    signature_id: Mapped[int] = mapped_column(sa.ForeignKey("signature.id"))


class MonitoringStatus(db.Model):
    """Where one patient stands on one monitored test, kept current by refresh_patient in the
    transaction of every write that changes the schedule. The earliest unresolved item's dates
    are columns, so due and overdue are date comparisons in SQL at read time."""

    __tablename__ = "monitoring_status"
    __table_args__ = (
        sa.Index("ix_monitoring_status_worklist", "prescriber_id", "next_window_start"),
        sa.Index("ix_monitoring_status_overdue", "prescriber_id", "overdue_after"),
        sa.Index("ix_monitoring_status_due", "prescriber_id", "next_due_on"),
        # The overdue report's order: most overdue first, the patients of a day in enrollment
        # order (the first page reads 50 index entries, not the whole first day).
        sa.Index("ix_monitoring_status_overdue_order", "overdue_after", "patient_id", "test_code"),
        # The rows whose item_states is not computed yet (none once rebuild-monitoring has run):
        # the assessment counts their patients the slow way.
        sa.Index(
            "ix_monitoring_status_unstated",
            "patient_id",
            postgresql_where=sa.text("item_states IS NULL"),
            sqlite_where=sa.text("item_states IS NULL"),
        ),
    )

    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), primary_key=True)
    test_code: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: The patient's prescriber of record (copied, so a worklist reads one table).
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    #: The first dose (items are due from it) and the last day of monitoring.
    anchor_on: Mapped[date]
    ends_on: Mapped[date]
    #: The earliest item neither satisfied, waived nor closed; all None when there is none.
    next_k: Mapped[int | None]
    next_due_on: Mapped[date | None]
    #: The first day a result counts for that item: from then on it is due.
    next_window_start: Mapped[date | None]
    #: Its due date + grace: from the day after, it is overdue.
    overdue_after: Mapped[date | None]
    #: Every unresolved item number, as ranges ("1-3,5,7-48").
    open_items: Mapped[str] = mapped_column(sa.String(400))
    satisfied: Mapped[int]
    waived: Mapped[int]
    closed: Mapped[int]
    items_total: Mapped[int]
    #: Every item's state, one letter per item in item order (`tally.STATE_LETTERS`: open,
    #: satisfied, waived, closed): the states the assessment counts for a period. NULL: not
    #: computed yet (rows stored before 0030 until rebuild-monitoring fills them).
    item_states: Mapped[str | None] = mapped_column(sa.Text)


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
    #: The day the program (the reporting team) first knew of the event: not before the onset,
    #: not after the day it was recorded. The 15-day clock of a serious event starts here.
    #: Set by every report; filled from `reported_at` for events recorded before it existed.
    aware_on: Mapped[date | None]
    #: ICH seriousness criteria of a serious event, comma-separated codes (rules.CRITERIA).
    serious_criteria: Mapped[str | None] = mapped_column(sa.String(200))
    #: The day an administrator sent the event to the sponsor's safety team (stops the clock).
    submitted_on: Mapped[date | None]
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
