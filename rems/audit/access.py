"""The access log: who read a patient's record (page, API, export), kept apart from the
hash-chained trail.

HIPAA asks that reads of health data be logged. A read is not a change, and logging it must not
make reads queue behind the audit chain's lock, so each read is one row in `record_access`,
written at once in a short transaction of its own (the app's database role may only INSERT and
SELECT it, like the trail).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Mapped, mapped_column

from rems.common.clock import utcnow
from rems.common.transactions import writing
from rems.extensions import db

CHANNELS = ("page", "api", "export")
#: From this many reads at once (an export naming every patient), PostgreSQL takes them with
#: one COPY: a million rows in seconds instead of a minute of INSERT batches.
COPY_FROM = 1000


class RecordAccess(db.Model):
    """One read of a regulated record by a person or system."""

    __tablename__ = "record_access"
    __table_args__ = (
        sa.Index("ix_record_access_entity", "entity_type", "entity_id"),
        #: The access log page filtered by reader, newest first.
        sa.Index("ix_record_access_actor", "actor_label", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: UTC server time of the read.
    accessed_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The reader's username at the time.
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    #: How the record was read: page, api or export.
    channel: Mapped[str] = mapped_column(sa.String(16))
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    #: The record's public identifier (a REMS patient ID), or a description of an export.
    entity_id: Mapped[str] = mapped_column(sa.String(200))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip: Mapped[str | None] = mapped_column(sa.String(45))


def note_read(actor: Any, channel: str, entity_type: str, entity_id: str) -> None:
    """Log one read now, in a transaction of its own (the request's stays untouched)."""
    note_reads(actor, channel, entity_type, [entity_id])


def note_reads(
    actor: Any, channel: str, entity_type: str, entity_ids: Iterable[str],
    *, actor_label: str | None = None,
) -> None:  # fmt: skip
    """Log the read of several records at once (a report page, an export), one row each, in
    a transaction of its own; nothing when there are none."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown access channel {channel!r}")
    ids = sorted({str(entity_id)[:200] for entity_id in entity_ids})
    if not ids:
        return
    in_request = has_request_context()
    common = {
        "accessed_at": utcnow(),
        "user_id": getattr(actor, "id", None),
        "actor_label": actor_label or getattr(actor, "username", None) or "system",
        "channel": channel,
        "entity_type": entity_type,
        "request_id": g.get("request_id") if in_request else None,
        "ip": request.remote_addr if in_request else None,
    }
    with writing(), db.engine.begin() as connection:
        if connection.dialect.name == "postgresql" and len(ids) >= COPY_FROM:
            _copy(connection, common, ids)
        else:
            connection.execute(
                sa.insert(RecordAccess.__table__), [common | {"entity_id": i} for i in ids]
            )


def _copy(connection: sa.Connection, common: dict[str, Any], ids: list[str]) -> None:
    """The rows with one `COPY … FROM STDIN`, in the connection's transaction."""
    names = ", ".join([*common, "entity_id"])
    fixed = tuple(common.values())
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {RecordAccess.__tablename__} ({names}) FROM STDIN") as copy:
        for entity_id in ids:
            copy.write_row((*fixed, entity_id))
