"""Reads of the audit trail for the auditors' pages and exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.common.programday import day_after_end, day_start


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
    if filters.date_from:  # days in the program's time zone, as every period is
        statement = statement.where(AuditEvent.occurred_at >= day_start(filters.date_from))
    if filters.date_to:
        statement = statement.where(AuditEvent.occurred_at < day_after_end(filters.date_to))
    return statement


def entity_types(session) -> list[str]:
    """The kinds of record the trail mentions, for the filter's choices: a loose index scan
    (one index seek per kind) rather than a DISTINCT over every event."""
    table = AuditEvent.__table__
    column = table.c.entity_type
    first = sa.select(sa.func.min(column).label("kind"))
    kinds = first.cte("kinds", recursive=True)
    following = sa.select(
        sa.select(sa.func.min(column)).where(column > kinds.c.kind).scalar_subquery()
    ).where(kinds.c.kind.is_not(None))
    kinds = kinds.union_all(following)
    return list(session.scalars(sa.select(kinds.c.kind).where(kinds.c.kind.is_not(None))))


EXPORT_COLUMNS = (
    "seq", "occurred_at", "actor_label", "action", "entity_type", "entity_id",
    "old_values", "new_values", "reason", "request_id", "ip", "row_hash",
)  # fmt: skip
EXPORT_HEADER = (
    "seq", "occurred_at_utc", "actor", "action", "entity_type", "entity_id",
    "old_values", "new_values", "reason", "request_id", "ip", "row_hash",
)  # fmt: skip


def export_rows(session, filters: EventFilter):
    """The filtered events as CSV rows: a Core select of the columns, streamed from the
    database in batches (no ORM objects); the JSON values read as text and written in their
    canonical spelling."""
    table = AuditEvent.__table__
    columns = [
        sa.cast(table.c[name], sa.Text).label(name) if name in JSON_COLUMNS else table.c[name]
        for name in EXPORT_COLUMNS
    ]
    statement = events_statement(filters).with_only_columns(*columns)
    result = session.connection().execute(statement.execution_options(yield_per=2000))
    for row in result:
        yield (*row[:6], _json_cell(row.old_values), _json_cell(row.new_values), *row[8:])


JSON_COLUMNS = frozenset({"old_values", "new_values"})
#: canonical_json (rems.db) as one reusable encoder: sorted keys, no spaces (stored JSON
#: holds no dates, so no default is needed).
_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode


def _json_cell(text: str | None) -> str:
    """Stored JSON text in its canonical spelling; empty for none (SQL NULL or JSON null).
    Text stored canonical already (the app's JSON serializer) is copied as it is; older text,
    with spaces after separators, is parsed and written again."""
    if text is None or text == "null":
        return ""
    if ", " not in text and ": " not in text:
        return text
    value = json.loads(text)
    return "" if value is None else _canonical(value)
