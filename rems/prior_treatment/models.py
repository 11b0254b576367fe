"""A dose of a prior (historical) course: given before this system, or elsewhere."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class PriorDose(db.Model):
    """One dose of a historical course, with its real date and where that date comes from.
    Never two doses on one day for a patient."""

    __tablename__ = "prior_dose"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "dose_number"),
        sa.UniqueConstraint("patient_id", "given_on"),
        sa.CheckConstraint("dose_number > 0", name="prior_dose_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    dose_number: Mapped[int]
    #: The day the dose was given, as the source document shows it.
    given_on: Mapped[date]
    #: The document the date comes from (chart, infusion record, letter).
    source_document: Mapped[str] = mapped_column(sa.String(300))
    recorded_at: Mapped[datetime] = mapped_column(index=True)  # the as-of reads: recorded since
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
