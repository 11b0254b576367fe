"""Dispensing authorizations after the decision (rems.authorizations.deciding): reverse, expire,
release held doses. Callers commit.

The dose invariant (given + held by live authorizations ≤ the course's doses) is kept by the
database: holding doses is one conditional UPDATE whose WHERE re-checks the count, and a CHECK
constraint backs it, so concurrent requests cannot over-authorize on SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationStatus,
)
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.courses.models import Course


def needs_settling(authorization: Authorization, today: date) -> bool:
    """Live, but past its last day: its expiry is still to be recorded."""
    live = authorization.status in LIVE_AUTHORIZATION_STATUSES
    return live and today > authorization.valid_until


def settle_authorization(session: Session, authorization: Authorization, today: date) -> None:
    """Past its last day, a live authorization expires and its unused doses return."""
    if needs_settling(authorization, today):
        _end(
            session,
            authorization,
            AuthorizationStatus.EXPIRED,
            actor=None,
            reason=f"Validity ended on {authorization.valid_until}.",
        )


def reverse_authorization(
    session: Session, authorization: Authorization, actor: User, *, reason: str, today: date
) -> None:
    """The pharmacy takes back an authorization before any dose is given."""
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for the reversal.")
    settle_authorization(session, authorization, today)
    table = Authorization.__table__
    changed = session.execute(
        table.update()
        .where(table.c.id == authorization.id, table.c.status == "issued", table.c.doses_given == 0)
        .values(status="reversed")
    )
    if changed.rowcount != 1:
        session.refresh(authorization)
        raise StateConflict(
            f"Only an issued authorization with no dose given can be reversed; "
            f"this one is {authorization.status.value}."
        )
    session.refresh(authorization)
    _release(session, authorization)
    authorization.ended_at, authorization.ended_by_id = utcnow(), actor.id
    authorization.end_reason = reason.strip()
    record_event(
        session,
        "authorization.reversed",
        actor=actor,
        entity=authorization,
        old={"status": "issued"},
        new={"status": "reversed"},
        reason=reason.strip(),
    )


def _end(session, authorization, status: AuthorizationStatus, *, actor, reason: str) -> None:
    """Expire (or otherwise end) a live authorization and return its unused doses."""
    old = authorization.status.value
    authorization.status = status
    authorization.ended_at = utcnow()
    authorization.ended_by_id = getattr(actor, "id", None)
    authorization.end_reason = reason
    _release(session, authorization)
    record_event(
        session,
        f"authorization.{status.value}",
        actor=actor,
        entity=authorization,
        old={"status": old},
        new={"status": status.value},
        reason=reason,
    )


def _release(session: Session, authorization: Authorization) -> None:
    """Give the course back the doses this authorization held but did not use."""
    unused = authorization.doses - authorization.doses_given
    if unused:
        table = Course.__table__
        session.execute(
            table.update()
            .where(table.c.id == authorization.course_id)
            .values(doses_held=table.c.doses_held - unused)
        )
        course = session.get(Course, authorization.course_id)
        session.expire(course, ["doses_held"])


def end_live_authorizations(session: Session, course: Course, *, reason: str) -> None:
    """When a course lapses or closes, its live authorizations end and release their doses."""
    for authorization in session.scalars(
        sa.select(Authorization).where(
            Authorization.course_id == course.id,
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES),
        )
    ):
        _end(session, authorization, AuthorizationStatus.EXPIRED, actor=None, reason=reason)


def expire_authorizations(session: Session, today: date) -> int:
    """The daily job: expire every live authorization past its last day (idempotent)."""
    lapsed = session.scalars(
        sa.select(Authorization).where(
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES), Authorization.valid_until < today
        )
    ).all()
    for authorization in lapsed:
        settle_authorization(session, authorization, today)
    return len(lapsed)
