"""What each prescriber was reminded of, so that no item is in two digests in the same state."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class MonitoringReminder(db.Model):
    """One monitoring item, in one state (due, then overdue), put in one digest."""

    __tablename__ = "monitoring_reminder"
    __table_args__ = (sa.UniqueConstraint("patient_id", "test_code", "item", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"))
    test_code: Mapped[str] = mapped_column(sa.String(40))
    #: The item number k of the test's schedule, and its due date.
    item: Mapped[int]
    due_on: Mapped[date]
    #: due or overdue: the state the item was in when the digest told of it.
    state: Mapped[str] = mapped_column(sa.String(10))
    #: The digest (outbox message) the item was in.
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notification.id"), index=True)
    reminded_on: Mapped[date]
