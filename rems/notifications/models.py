"""One message in the outbox: who must hear of what, and whether it was delivered."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rems.auth.models import User
from rems.db import str_enum
from rems.extensions import db


class DeliveryState(StrEnum):
    """queued → sent, or failed (kept, and tried again by the next delivery run)."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Notification(db.Model):
    """A message to one user. It stays on their dashboard whether or not mail delivers it."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        sa.Index("ix_notification_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: What the message is about (a denial, an overdue test, an expiring certification, …).
    kind: Mapped[str] = mapped_column(sa.String(60))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    #: Where in the app the recipient acts on it (a path), if anywhere.
    link: Mapped[str | None] = mapped_column(sa.String(300))
    #: Names the fact the message is about, so the same fact never notifies twice.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    state: Mapped[DeliveryState] = mapped_column(
        str_enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED
    )
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))

    recipient: Mapped[User] = relationship(lazy="joined")
