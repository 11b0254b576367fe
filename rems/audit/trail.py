"""Recording audit events in the caller's transaction and chaining them at commit.

Services call `record_event`; the event is queued on the session and written, chained to the
previous row, just before that session commits: the same transaction as the change, so a
rollback leaves no event behind. Chaining happens last and under a lock (an advisory
transaction lock on PostgreSQL; SQLite's single writer already serialises), so concurrent
writers wait their turn instead of failing, and the chain stays a single line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.common.clock import utcnow
from rems.common.statements import Statement
from rems.db import canonical_json

GENESIS_HASH = "0" * 64
_QUEUE_KEY = "rems_audit_queue"
_HEAD_KEY = "rems_audit_head"
#: Arbitrary but fixed key of the PostgreSQL advisory lock that serialises chain appends.
CHAIN_LOCK_KEY = 0x52454D53
#: The chain's statements, built once (`rems.common.statements`).
_LOCK = Statement(sa.select(sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))
_HEAD = Statement(
    sa.select(AuditEvent.seq, AuditEvent.row_hash).order_by(AuditEvent.seq.desc()).limit(1)
)
_INSERT = Statement(sa.insert(AuditEvent.__table__))


@dataclass
class _PendingEvent:
    """An event waiting for its place in the chain."""

    action: str
    entity_type: str
    entity: Any
    entity_id: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    reason: str | None
    actor_id: int | None
    actor_label: str
    occurred_at: datetime
    context: dict[str, str | None] = field(default_factory=dict)


def record_event(
    session: Session,
    action: str,
    *,
    actor: Any,
    entity: Any = None,
    entity_type: str | None = None,
    entity_id: Any = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str | None = None,
    actor_label: str | None = None,
) -> None:
    """Queue an audit event for `entity` (or entity_type/entity_id) in the session's transaction."""
    if entity is not None and entity_type is None:
        entity_type = entity.__tablename__
    if entity_type is None:
        raise ValueError("an audit event needs an entity or an entity_type")
    session.info.setdefault(_QUEUE_KEY, []).append(
        _PendingEvent(
            action=action,
            entity_type=entity_type,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            old_values=_jsonable(old),
            new_values=_jsonable(new),
            reason=reason,
            actor_id=getattr(actor, "id", None),
            actor_label=actor_label or getattr(actor, "username", None) or "system",
            occurred_at=utcnow(),
            context=_request_context(),
        )
    )


def pending_events(session: Session) -> int:
    """How many events wait for the commit (for tests and assertions)."""
    return len(session.info.get(_QUEUE_KEY, ()))


def discard_pending(session: Session) -> None:
    """Forget queued events: their transaction rolled back."""
    session.info.pop(_QUEUE_KEY, None)
    session.info.pop(_HEAD_KEY, None)


def chain_head_columns() -> tuple[sa.Label, sa.Label]:
    """The chain's head (seq, row_hash) as two labelled columns, to read it within another
    statement (a hot path's INSERT … RETURNING) instead of a query of its own. Valid only once
    the chain is locked: on SQLite inside a write transaction, on PostgreSQL after
    `chain_lock_column` or `lock_chain` ran in an earlier statement of the transaction."""
    table = AuditEvent.__table__
    newest = sa.select(table.c.seq, table.c.row_hash).order_by(table.c.seq.desc()).limit(1)
    return (
        newest.with_only_columns(table.c.seq).scalar_subquery().label("chain_seq"),
        newest.with_only_columns(table.c.row_hash).scalar_subquery().label("chain_hash"),
    )


def chain_lock_column(session: Session) -> list[sa.Label]:
    """On PostgreSQL, a column that takes the chain lock when the statement returns a row (an
    UPDATE … RETURNING that succeeds); nothing on SQLite, whose write lock already serialises."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    lock = sa.select(sa.literal_column("1")).select_from(
        sa.func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)
    )
    return [lock.scalar_subquery().label("chain_locked")]


def note_chain_head(session: Session, seq: int | None, row_hash: str | None) -> None:
    """The head a statement of this transaction read under the chain lock: the seal uses it
    instead of locking and reading it again."""
    session.info[_HEAD_KEY] = (seq or 0, row_hash or GENESIS_HASH)


def lock_chain(session: Session) -> None:
    """Serialise chain appends until this transaction ends (PostgreSQL; SQLite needs nothing)."""
    _lock_chain(session)


def seal_pending(session: Session) -> None:
    """Write queued events as the chain's next rows. Runs just before the session commits."""
    queue: list[_PendingEvent] = session.info.pop(_QUEUE_KEY, [])
    known = session.info.pop(_HEAD_KEY, None)
    if not queue:
        return
    session.flush()  # entity ids exist from here on
    if known is None:
        _lock_chain(session)
        head = _HEAD.first(session)
        known = (head.seq, head.row_hash) if head else (0, GENESIS_HASH)
    seq, prev_hash = known
    rows = []
    for pending in queue:
        seq += 1
        row = _build_row(pending, seq, prev_hash)
        rows.append(row)
        prev_hash = row["row_hash"]
    if len(rows) == 1:
        _INSERT.execute(session, rows[0])  # the common case, a hot path's: one row
    else:
        session.execute(sa.insert(AuditEvent.__table__), rows)


def row_content(row: AuditEvent) -> dict[str, Any]:
    """Everything the row hash covers."""
    return {
        "seq": row.seq,
        "occurred_at": row.occurred_at.isoformat(),
        "actor_id": row.actor_id,
        "actor_label": row.actor_label,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "old_values": row.old_values,
        "new_values": row.new_values,
        "reason": row.reason,
        "request_id": row.request_id,
        "ip": row.ip,
        "prev_hash": row.prev_hash,
    }


def compute_row_hash(row: AuditEvent) -> str:
    """SHA-256 over the row's content, which includes the previous row's hash."""
    return hashlib.sha256(canonical_json(row_content(row)).encode()).hexdigest()


def _build_row(pending: _PendingEvent, seq: int, prev_hash: str) -> dict[str, Any]:
    """The audit_event row (column values) for a queued event at position `seq`."""
    entity_id = pending.entity_id
    if entity_id is None and pending.entity is not None:
        entity_id = str(pending.entity.id)
    row = SimpleNamespace(
        seq=seq,
        occurred_at=pending.occurred_at,
        actor_id=pending.actor_id,
        actor_label=pending.actor_label,
        action=pending.action,
        entity_type=pending.entity_type,
        entity_id=entity_id,
        old_values=pending.old_values,
        new_values=pending.new_values,
        reason=pending.reason,
        request_id=pending.context.get("request_id"),
        ip=pending.context.get("ip"),
        prev_hash=prev_hash,
    )
    row.row_hash = compute_row_hash(row)
    return vars(row)


def _lock_chain(session: Session) -> None:
    """Serialise chain appends until this transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        _LOCK.execute(session)


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Dates, enums and decimals as the JSON text they will be stored and hashed as."""
    return None if values is None else json.loads(canonical_json(values))


def _request_context() -> dict[str, str | None]:
    """The request id and client address of the current request, if any."""
    if not has_request_context():
        return {}
    return {"request_id": g.get("request_id"), "ip": request.remote_addr}
