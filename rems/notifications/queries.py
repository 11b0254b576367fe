"""Reading the outbox: a user's own messages, the whole outbox for administrators, and one
message with its delivery attempts."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.auth.models import User
from rems.notifications.models import DeliveryState, Notification

DASHBOARD_LIMIT = 5


def recent_for(session: Session, user: User, limit: int = DASHBOARD_LIMIT) -> list[Notification]:
    """The user's newest messages, for their dashboard."""
    return list(session.scalars(own_statement(user).limit(limit)))


def own_statement(user: User) -> sa.Select:
    """Every message to `user`, newest first."""
    return (
        sa.select(Notification)
        .where(Notification.recipient_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def outbox_statement(state: str | None, recipient: str | None) -> sa.Select:
    """The whole outbox, newest first, filtered by delivery state and recipient username."""
    statement = sa.select(Notification).order_by(
        Notification.created_at.desc(), Notification.id.desc()
    )
    if state in set(DeliveryState):
        statement = statement.where(Notification.state == DeliveryState(state))
    if recipient:
        statement = statement.join(User, User.id == Notification.recipient_id).where(
            User.username.startswith(recipient.strip().lower(), autoescape=True)
        )
    return statement


def state_counts(session: Session) -> dict[str, int]:
    """How many messages are in each delivery state."""
    rows = session.execute(
        sa.select(Notification.state, sa.func.count()).group_by(Notification.state)
    )
    counts = {state.value: 0 for state in DeliveryState}
    counts.update({state.value: number for state, number in rows})
    return counts


#: The audit actions of a delivery attempt, in the words the outbox shows.
DELIVERY_OUTCOMES = {"notification.sent": "sent", "notification.failed": "failed"}


def delivery_attempts(session: Session, message: Notification) -> list[AuditEvent]:
    """Each attempt to mail the message, oldest first (the audit trail keeps one per try)."""
    return list(
        session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.entity_type == Notification.__tablename__,
                AuditEvent.entity_id == str(message.id),
                AuditEvent.action.in_(DELIVERY_OUTCOMES),
            )
            .order_by(AuditEvent.seq)
        )
    )
