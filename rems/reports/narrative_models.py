"""The auditor's narrative of a REMS assessment: one row per version and period. A draft may
be edited; a signed version is locked (its text is what was signed) and a new version may be
started from it."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rems.auth.models import Signature
from rems.extensions import db

DRAFT, SIGNED = "draft", "signed"


class AssessmentNarrative(db.Model):
    """One version of the narrative of the assessment of one period."""

    __tablename__ = "assessment_narrative"
    __table_args__ = (sa.UniqueConstraint("period_from", "period_to", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_from: Mapped[date]
    period_to: Mapped[date]
    version: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(10))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The auditor's e-signature (password asked again); set once, then the row is locked.
    signature_id: Mapped[int | None] = mapped_column(sa.ForeignKey("signature.id"))
    signed_at: Mapped[datetime | None]
    signature: Mapped[Signature | None] = relationship()
