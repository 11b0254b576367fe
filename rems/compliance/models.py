"""A non-compliance case against one party, its corrective action and the administrator's
review (program §5)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class CaseState(StrEnum):
    """open → action_submitted → closed (accepted), or → more_needed → action_submitted …"""

    OPEN = "open"
    ACTION_SUBMITTED = "action_submitted"
    MORE_NEEDED = "more_needed"
    CLOSED = "closed"


class NonComplianceCase(db.Model):
    """Deviations of one party gathered while the case is open; at most one open case a party."""

    __tablename__ = "noncompliance_case"
    __table_args__ = (
        #: One open case per party, whatever the concurrency: a deviation joins it.
        sa.Index(
            "uq_noncompliance_case_one_open_per_party",
            "party_key",
            unique=True,
            sqlite_where=sa.text("state <> 'closed'"),
            postgresql_where=sa.text("state <> 'closed'"),
        ),
        sa.Index("ix_noncompliance_case_state_order", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: site, prescriber or pharmacy (a pharmacy is a site that dispenses).
    party: Mapped[str] = mapped_column(sa.String(12))
    #: The party as one value, e.g. "site:4", "prescriber:2": the uniqueness above.
    party_key: Mapped[str] = mapped_column(sa.String(40), index=True)
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    prescriber_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prescriber.id"))
    state: Mapped[CaseState] = mapped_column(
        str_enum(CaseState, "case_state"), default=CaseState.OPEN
    )
    #: The highest severity among its deviations.
    severity: Mapped[str] = mapped_column(sa.String(10))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    #: The party's corrective action.
    root_cause: Mapped[str | None] = mapped_column(sa.Text)
    action: Mapped[str | None] = mapped_column(sa.Text)
    due_on: Mapped[date | None]
    action_at: Mapped[datetime | None]
    action_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The administrator's last review.
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    reviewed_at: Mapped[datetime | None]
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    #: When administrators were asked to consider suspending the party (escalation rule).
    escalated_at: Mapped[datetime | None]
