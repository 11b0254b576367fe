"""A certified prescriber's delegates: added, listed and ended. Callers commit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth import users
from rems.auth.models import Role, User
from rems.certification.models import CertStatus
from rems.certification.rules import effective_status
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.prescribers.models import Prescriber, PrescriberDelegate


def add_delegate(
    session: Session, prescriber: Prescriber, actor: User, *, today: date, username: str,
    full_name: str = "", email: str = "", password: str = "",
) -> PrescriberDelegate:  # fmt: skip
    """Link an existing delegate account, or create one, to work for this prescriber."""
    if actor.id != prescriber.user_id:
        raise StateConflict("Only the prescriber adds their own delegates.")
    if effective_status(prescriber.status, prescriber.expires_on, today) != CertStatus.CERTIFIED:
        raise StateConflict("Only a certified prescriber can add delegates.")
    delegate = users.find_user(session, username)
    if delegate is None:
        delegate = users.create_user(
            session, actor=actor, username=username, email=email, full_name=full_name,
            role=Role.DELEGATE, password=password,
        )  # fmt: skip
    elif delegate.role != Role.DELEGATE:
        raise ValidationFailed.single("username", "That account is not a delegate account.")
    if active_link(session, prescriber, delegate) is not None:
        raise ValidationFailed.single("username", "This delegate already works for you.")
    link = PrescriberDelegate(
        prescriber_id=prescriber.id, delegate_id=delegate.id, invited_at=utcnow(),
        invited_by_id=actor.id,
    )  # fmt: skip
    session.add(link)
    session.flush()
    record_event(session, "prescriber_delegate.added", actor=actor, entity=link,
                 new={"prescriber_id": prescriber.id, "delegate": delegate.username})  # fmt: skip
    return link


def active_link(session: Session, prescriber: Prescriber, delegate: User):
    """The current link between a prescriber and a delegate, if any."""
    return session.scalar(
        sa.select(PrescriberDelegate).where(
            PrescriberDelegate.prescriber_id == prescriber.id,
            PrescriberDelegate.delegate_id == delegate.id,
            PrescriberDelegate.ended_at.is_(None),
        )
    )


def end_delegation(
    session: Session, link: PrescriberDelegate, actor: User, *, reason: str | None = None
) -> None:
    """The delegate stops working for the prescriber (their account stays)."""
    if link.ended_at is not None:
        raise StateConflict("This delegate no longer works for you.")
    link.ended_at = utcnow()
    record_event(session, "prescriber_delegate.ended", actor=actor, entity=link,
                 old={"active": True}, new={"active": False}, reason=reason)  # fmt: skip


def delegates_of(session: Session, prescriber: Prescriber) -> list[tuple[PrescriberDelegate, User]]:
    """The prescriber's current delegates with their accounts."""
    rows = session.execute(
        sa.select(PrescriberDelegate, User)
        .join(User, User.id == PrescriberDelegate.delegate_id)
        .where(PrescriberDelegate.prescriber_id == prescriber.id)
        .where(PrescriberDelegate.ended_at.is_(None))
        .order_by(User.full_name)
    )
    return [tuple(row) for row in rows]


def prescribers_for_delegate(session: Session, delegate: User) -> list[Prescriber]:
    """The prescribers a delegate currently works for."""
    return list(
        session.scalars(
            sa.select(Prescriber)
            .join(PrescriberDelegate, PrescriberDelegate.prescriber_id == Prescriber.id)
            .where(PrescriberDelegate.delegate_id == delegate.id)
            .where(PrescriberDelegate.ended_at.is_(None))
            .order_by(Prescriber.last_name, Prescriber.first_name)
        )
    )
