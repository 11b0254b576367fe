"""A treatment course and the baseline tests it was authorized on (program §4–5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class CourseStatus(StrEnum):
    """authorized → in_progress → completed; or lapsed, or closed early by the prescriber."""

    AUTHORIZED = "authorized"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    LAPSED = "lapsed"
    CLOSED = "closed"


OPEN_COURSE_STATUSES = (CourseStatus.AUTHORIZED, CourseStatus.IN_PROGRESS)


class Course(db.Model):
    """One treatment course. The database itself holds the dose invariant."""

    __tablename__ = "course"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "number"),
        sa.CheckConstraint("doses_total > 0", name="doses_total_positive"),
        sa.CheckConstraint("doses_given >= 0 AND doses_held >= 0", name="doses_not_negative"),
        #: The dose invariant: doses given plus doses held by live authorizations never exceed
        #: the course's dose count, whatever the concurrency.
        sa.CheckConstraint("doses_given + doses_held <= doses_total", name="dose_invariant"),
        sa.Index(
            "uq_course_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("status IN ('authorized', 'in_progress')"),
            postgresql_where=sa.text("status IN ('authorized', 'in_progress')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    number: Mapped[int]
    doses_total: Mapped[int]
    doses_given: Mapped[int] = mapped_column(default=0)
    #: Doses held by live (issued or partially used) authorizations and not yet given.
    doses_held: Mapped[int] = mapped_column(default=0)
    status: Mapped[CourseStatus] = mapped_column(
        str_enum(CourseStatus, "course_status"), default=CourseStatus.AUTHORIZED
    )
    planned_start: Mapped[date]
    #: The last day the first dose may be given: when the oldest baseline result turns too old.
    first_dose_by: Mapped[date | None]
    first_dose_on: Mapped[date | None]
    last_dose_on: Mapped[date | None]
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    #: The prescriber's course attestations as signed.
    attestations: Mapped[dict[str, Any]]
    signature_id: Mapped[int] = mapped_column(sa.ForeignKey("signature.id"))
    authorized_at: Mapped[datetime]
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: Treatment given before this system (or elsewhere), entered from its source document:
    #: completed or closed from the start, so never open and never dispensed against; its doses
    #: (prior_dose) count for monitoring and for the interval before the next course.
    historical: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The source document(s) the historical course's dates come from.
    source_document: Mapped[str | None] = mapped_column(sa.String(300))


class BaselineTest(db.Model):
    """A baseline test result the course was authorized on, with its collection date."""

    __tablename__ = "baseline_test"
    __table_args__ = (sa.UniqueConstraint("course_id", "test_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    test_code: Mapped[str] = mapped_column(sa.String(40))
    collected_on: Mapped[date]
    lab_result_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lab_result.id"))


class DraftStatus(StrEnum):
    """open → signed (the prescriber authorized the course from it) or discarded."""

    OPEN = "open"
    SIGNED = "signed"
    DISCARDED = "discarded"


class CourseDraft(db.Model):
    """A Patient Authorization and Baseline Lab Form prepared by a prescriber's delegate and
    waiting for the prescriber to review and sign it. At most one is open per patient."""

    __tablename__ = "course_draft"
    __table_args__ = (
        sa.Index(
            "uq_course_draft_one_open_per_patient",
            "patient_id",
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    #: The prescriber of record it was prepared for.
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"))
    status: Mapped[DraftStatus] = mapped_column(
        str_enum(DraftStatus, "course_draft_status"), default=DraftStatus.OPEN
    )
    planned_start: Mapped[date | None]
    #: The baseline tests' collection dates as entered: {test code: "YYYY-MM-DD"}.
    baseline: Mapped[dict[str, Any]]
    #: Counts every save, so that a page showing an older version is caught.
    version: Mapped[int] = mapped_column(default=1)
    prepared_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]
    #: The course the prescriber authorized from it (signed drafts).
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"))
    closed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    discard_reason: Mapped[str | None] = mapped_column(sa.Text)
