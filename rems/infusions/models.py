"""One infusion (one dose) given under an authorization, with its safety checks (program §5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class Reaction(StrEnum):
    """Infusion reaction grade; serious creates an adverse event."""

    NONE = "none"
    MILD = "mild"
    MODERATE = "moderate"
    SERIOUS = "serious"


class Infusion(db.Model):
    """A dose given. One per course dose number, and never two on one day for a patient."""

    __tablename__ = "infusion"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "dose_number"),
        sa.UniqueConstraint("patient_id", "administered_on"),
        sa.CheckConstraint("dose_number > 0", name="dose_number_positive"),
        sa.CheckConstraint(
            "infusion_ended_at > infusion_started_at", name="infusion_ends_after_start"
        ),
        sa.CheckConstraint(
            "observation_ended_at >= infusion_ended_at", name="observation_after_infusion"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_id: Mapped[int] = mapped_column(sa.ForeignKey("authorization.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    dose_number: Mapped[int]
    administered_on: Mapped[date] = mapped_column(index=True)  # the infusions report's period
    #: Pre-infusion checks and premedication, as attested by the infusion site.
    identity_verified: Mapped[bool]
    no_active_infection: Mapped[bool]
    corticosteroid_premedication: Mapped[bool]
    antiviral_prophylaxis: Mapped[bool]
    infusion_started_at: Mapped[datetime]
    infusion_ended_at: Mapped[datetime]
    #: End of post-infusion observation: at least the program's minutes after the infusion ends.
    observation_ended_at: Mapped[datetime]
    reaction: Mapped[Reaction] = mapped_column(str_enum(Reaction, "reaction"))
    #: Given after a gap in the course (allowed, but flagged).
    delayed: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime] = mapped_column(index=True)  # the as-of reads: recorded since
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))


class InfusionDeviation(db.Model):
    """A protocol deviation recorded with its dose (program §5): flagged, never refused, and
    answered for in a non-compliance case."""

    __tablename__ = "infusion_deviation"
    __table_args__ = (sa.UniqueConstraint("infusion_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    infusion_id: Mapped[int] = mapped_column(sa.ForeignKey("infusion.id"))
    #: The program file's deviation code, with the severity and party it had when recorded.
    code: Mapped[str] = mapped_column(sa.String(40), index=True)
    severity: Mapped[str] = mapped_column(sa.String(10))
    party: Mapped[str] = mapped_column(sa.String(12))
    #: The facts that triggered it (dates as ISO strings).
    facts: Mapped[dict[str, Any]]
    #: The reason the person recording gave when confirming "I am recording what happened".
    acknowledged_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The non-compliance case the deviation opened or joined.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("noncompliance_case.id"), index=True)


class NotInfusedVisit(db.Model):
    """A visit under an authorization that ended without an infusion: on record, no dose."""

    __tablename__ = "not_infused_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_id: Mapped[int] = mapped_column(sa.ForeignKey("authorization.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), index=True)
    visit_on: Mapped[date]
    #: One of the program file's `deviations.not_infused_reasons`.
    reason: Mapped[str] = mapped_column(sa.String(40))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
