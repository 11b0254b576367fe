"""Queueing messages in the outbox, in the caller's transaction, never the same fact twice."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
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


@dataclass(frozen=True, slots=True)
class Message:
    """What one kind of recipient is told: `key` is the fact's dedupe key, to which each
    recipient's user id is appended."""

    subject: str
    body: str
    key: str
    link: str | None = None


def notify_each(session: Session, messages: dict[sa.ColumnElement, Message], *, kind: str) -> int:
    """`notify` for many recipients in one statement (a hot path's): every active user that a
    condition of `messages` selects gets that condition's message, unless its dedupe key (the
    message's key plus the user id) is already in the outbox. One INSERT … SELECT … ON CONFLICT
    DO NOTHING RETURNING; each message queued is audited like `notify`'s. Returns how many."""
    if not messages:
        return 0
    user, table = User.__table__, Notification.__table__

    def pick(part: str):
        whens = [(cond, sa.literal(getattr(m, part), sa.String)) for cond, m in messages.items()]
        return sa.case(*whens, else_=sa.null())

    chosen = sa.select(
        user.c.id, sa.literal(kind, sa.String), pick("subject"), pick("body"), pick("link"),
        pick("key").concat(sa.cast(user.c.id, sa.String)),
        sa.literal(DeliveryState.QUEUED.value, sa.String),
        sa.literal(utcnow(), table.c.created_at.type), sa.literal(0, sa.Integer),
    ).where(user.c.active.is_(True), sa.or_(*messages))  # fmt: skip
    columns = ["recipient_id", "kind", "subject", "body", "link", "dedupe_key", "state",
               "created_at", "attempts"]  # fmt: skip
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(table.c.id, table.c.recipient_id, table.c.subject)
    )
    queued = session.execute(statement).all()
    for row in queued:
        record_event(
            session, "notification.queued", actor=None, actor_label="system",
            entity_type="notification", entity_id=row.id,
            new={"recipient_id": row.recipient_id, "kind": kind, "subject": row.subject},
        )  # fmt: skip
    return len(queued)


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
