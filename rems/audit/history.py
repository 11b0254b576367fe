"""Status history rows (from, to, when, who, why), always with their audit event."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.audit.trail import record_event
from rems.common.clock import utcnow


def change_status(
    session: Session,
    record: Any,
    to_status: str,
    *,
    actor: Any,
    action: str,
    reason: str | None = None,
) -> StatusChange:
    """Move `record` to `to_status`, keeping a history row and an audit event."""
    from_status = record.status.value if record.status is not None else None
    record.status = to_status
    session.flush()
    change = StatusChange(
        entity_type=record.__tablename__,
        entity_id=record.id,
        from_status=from_status,
        to_status=str(to_status),
        changed_at=utcnow(),
        changed_by_id=getattr(actor, "id", None),
        reason=reason,
    )
    session.add(change)
    record_event(
        session,
        action,
        actor=actor,
        entity=record,
        old={"status": from_status},
        new={"status": str(to_status)},
        reason=reason,
    )
    return change
