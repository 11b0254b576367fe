"""The append-only, hash-chained audit trail and the status history of regulated records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class AuditEvent(db.Model):
    """One change to regulated data. Rows are never updated or deleted (database triggers)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),
        sa.CheckConstraint("seq > 0", name="seq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain: 1, 2, 3 … without gaps, assigned under the chain lock.
    seq: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    #: UTC server time of the change.
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The actor's username at the time, or "system" / "cli:<name>" for unattended changes.
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(80), index=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(64))
    old_values: Mapped[dict[str, Any] | None]
    new_values: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    #: Hash of the previous row (64 zeros for the first) and of this row's content plus that.
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    row_hash: Mapped[str] = mapped_column(sa.String(64))


class StatusChange(db.Model):
    """A status history row of a regulated record: from, to, when, who, why."""

    __tablename__ = "status_change"
    __table_args__ = (sa.Index("ix_status_change_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int]
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    changed_at: Mapped[datetime]
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)

    changed_by = db.relationship("User")
