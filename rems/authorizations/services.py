"""Dispensing authorizations after the decision (rems.authorizations.deciding): the pharmacy
reverses one (expiry and released doses are settled in rems.courses.settling). Callers commit.

The dose invariant (given + held by live authorizations ≤ the course's doses) is kept by the
database: holding doses is one conditional UPDATE whose WHERE re-checks the count, and a CHECK
constraint backs it, so concurrent requests cannot over-authorize on SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.authorizations.models import (
    Authorization,
)
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.courses.settling import release_doses, settle_authorization


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
    release_doses(session, authorization)
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
