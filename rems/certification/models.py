"""Certification status, submitted enrollment forms and knowledge-assessment attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class CertStatus(StrEnum):
    """The certification lifecycle shared by prescribers and healthcare settings (program §2)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


class PartyType(StrEnum):
    """Who is certified: a prescriber or a healthcare setting."""

    PRESCRIBER = "prescriber"
    SITE = "site"


class CertificationSubmission(db.Model):
    """A signed enrollment form, initial or recertification, and the program's decision on it."""

    __tablename__ = "certification_submission"
    __table_args__ = (
        sa.CheckConstraint(
            "(prescriber_id IS NULL) <> (site_id IS NULL)", name="exactly_one_party"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_type: Mapped[PartyType] = mapped_column(str_enum(PartyType, "party_type"))
    prescriber_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prescriber.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    is_recertification: Mapped[bool] = mapped_column(default=False)
    #: The form exactly as submitted, attestations included (also inside the signature's content).
    form: Mapped[dict[str, Any]]
    signature_id: Mapped[int] = mapped_column(sa.ForeignKey("signature.id"))
    submitted_at: Mapped[datetime]
    submitted_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    decision: Mapped[str | None] = mapped_column(sa.String(16))  # certified / rejected
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)

    signature = db.relationship("Signature")


class AssessmentAttempt(db.Model):
    """One attempt at the prescriber knowledge assessment, with every answer and the score."""

    __tablename__ = "assessment_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"), index=True)
    #: The question ids in the order they were shown.
    question_order: Mapped[list[str]] = mapped_column(sa.JSON)
    #: Question id → the choice the prescriber picked.
    answers: Mapped[dict[str, Any]]
    score: Mapped[int]
    passed: Mapped[bool]
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime]
    taken_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
