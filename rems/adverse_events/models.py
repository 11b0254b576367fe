"""Follow-ups of adverse events (the event itself is rems.monitoring.models.AdverseEvent)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class AdverseEventFollowUp(db.Model):
    """New information on an adverse event, dated and kept in order; may update the outcome."""

    __tablename__ = "adverse_event_follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("adverse_event.id"), index=True)
    #: The day the information was received.
    received_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.Text)
    #: The outcome this follow-up reports, when it changes it.
    outcome: Mapped[str | None] = mapped_column(sa.String(40))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
