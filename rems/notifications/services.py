"""Queueing messages in the outbox, in the caller's transaction, never the same fact twice."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.notifications.models import DeliveryState, Notification

SUBJECT_MAX = 200


def notify(
    session: Session,
    recipient: User,
    *,
    kind: str,
    subject: str,
    body: str,
    key: str | None = None,
    link: str | None = None,
) -> Notification | None:
    """Queue one message for `recipient`; with a `key` already used, store nothing (None).

    The message is written with its audit event in the caller's transaction, so a rollback of
    the change that caused it takes the message back too. The caller commits.
    """
    if key is not None and _key_used(session, key):
        return None
    message = Notification(
        recipient_id=recipient.id,
        kind=kind,
        subject=_one_line(subject)[:SUBJECT_MAX],
        body=body,
        link=link,
        dedupe_key=key,
        state=DeliveryState.QUEUED,
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    record_event(
        session,
        "notification.queued",
        actor=None,
        actor_label="system",
        entity=message,
        entity_id=message.id,
        new={"recipient": recipient.username, "kind": kind, "subject": message.subject},
    )
    return message


def _key_used(session: Session, key: str) -> bool:
    """Whether a message for this fact is already in the outbox (pending ones included)."""
    pending = (
        obj for obj in session.new if isinstance(obj, Notification) and obj.dedupe_key == key
    )
    if any(pending):
        return True
    found = session.scalar(sa.select(Notification.id).where(Notification.dedupe_key == key))
    return found is not None


def _one_line(text: str) -> str:
    """Mail headers are one line: fold any line breaks a subject carries."""
    return " ".join(text.split())
