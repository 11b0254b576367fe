"""Reads of the audit trail for the auditors' pages and exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from rems.audit.models import AuditEvent


@dataclass(frozen=True, slots=True)
class EventFilter:
    """What the auditor narrowed the trail to; empty fields do not filter."""

    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def events_statement(filters: EventFilter) -> sa.Select:
    """Events matching the filters, newest first."""
    statement = sa.select(AuditEvent).order_by(AuditEvent.seq.desc())
    if filters.action:
        statement = statement.where(AuditEvent.action.startswith(filters.action.strip()))
    if filters.entity_type:
        statement = statement.where(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        statement = statement.where(AuditEvent.entity_id == filters.entity_id.strip())
    if filters.actor:
        statement = statement.where(AuditEvent.actor_label == filters.actor.strip().lower())
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.occurred_at >= start)
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        statement = statement.where(AuditEvent.occurred_at < end)
    return statement


def entity_types(session) -> list[str]:
    """The kinds of record the trail mentions, for the filter's choices."""
    return list(
        session.scalars(
            sa.select(AuditEvent.entity_type).distinct().order_by(AuditEvent.entity_type)
        )
    )


EXPORT_HEADER = (
    "seq", "occurred_at_utc", "actor", "action", "entity_type", "entity_id",
    "old_values", "new_values", "reason", "request_id", "ip", "row_hash",
)  # fmt: skip


def export_rows(session, filters: EventFilter):
    """The filtered events as CSV rows, streamed from the database in batches."""
    from rems.db import canonical_json

    statement = events_statement(filters).execution_options(yield_per=500)
    for event in session.scalars(statement):
        yield (
            event.seq,
            event.occurred_at,
            event.actor_label,
            event.action,
            event.entity_type,
            event.entity_id,
            canonical_json(event.old_values) if event.old_values is not None else "",
            canonical_json(event.new_values) if event.new_values is not None else "",
            event.reason,
            event.request_id,
            event.ip,
            event.row_hash,
        )
