"""Dispensing authorizations: decide, hold doses atomically, reverse, expire. Callers commit.

The dose invariant (given + held by live authorizations ≤ the course's doses) is kept by the
database: holding doses is one conditional UPDATE whose WHERE re-checks the count, and a CHECK
constraint backs it, so concurrent requests cannot over-authorize on SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.authorizations.facts import gather_facts
from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationDecision,
    AuthorizationStatus,
)
from rems.authorizations.presenters import decision_body
from rems.authorizations.rules import DispenseDecision, Reason, decide_dispensing
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.identifiers import new_identifier
from rems.courses.models import Course
from rems.db import canonical_json

AUTHORIZATION_PREFIX = "A"
DECISION_PREFIX = "D"
RACE_LOST = Reason("DOSES_EXCEEDED", "Another authorization took these doses a moment ago.", "site")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request produced: the stored decision, the authorization if granted, whether it
    replays an earlier request with the same Idempotency-Key."""

    decision: AuthorizationDecision
    authorization: Authorization | None
    replayed: bool = False


def request_authorization(
    session: Session,
    requester: User,
    request: dict[str, Any],
    *,
    today: date,
    idempotency_key: str | None = None,
) -> Outcome:
    """Decide a pharmacy's request; store and audit the decision, granted or denied. The
    request holds typed values (date_of_birth a date); it is stored as JSON."""
    digest = hashlib.sha256(canonical_json(request).encode()).hexdigest()
    if idempotency_key and (earlier := _earlier(session, requester, idempotency_key)):
        if earlier.request_sha256 != digest:
            raise ValidationFailed.single(
                "Idempotency-Key", "This key was used with a different request body."
            )
        granted = earlier.authorization_id
        return Outcome(earlier, session.get(Authorization, granted) if granted else None, True)
    facts, refs = gather_facts(session, requester, request, today)
    decision = decide_dispensing(facts)
    authorization = None
    if decision.granted:
        authorization = _grant(session, requester, refs, decision)
        if authorization is None:
            decision = DispenseDecision((RACE_LOST,), decision.warnings)
    stored = _store_decision(
        session, requester, request, decision, authorization, refs, idempotency_key, digest
    )
    return Outcome(stored, authorization)


def _earlier(session: Session, requester: User, key: str) -> AuthorizationDecision | None:
    """The decision an earlier request with this Idempotency-Key produced."""
    return session.scalar(
        sa.select(AuthorizationDecision).where(
            AuthorizationDecision.requested_by_id == requester.id,
            AuthorizationDecision.idempotency_key == key,
        )
    )


def _grant(session: Session, requester: User, refs, decision: DispenseDecision):
    """Hold the doses in one conditional UPDATE; None when a concurrent grant got there first."""
    table = Course.__table__
    held = session.execute(
        table.update()
        .where(table.c.id == refs.course.id)
        .where(table.c.status.in_(["authorized", "in_progress"]))
        .where(table.c.doses_given + table.c.doses_held + decision.doses <= table.c.doses_total)
        .values(doses_held=table.c.doses_held + decision.doses)
    )
    if held.rowcount != 1:
        return None
    session.expire(refs.course, ["doses_held"])
    authorization = Authorization(
        number=new_identifier(AUTHORIZATION_PREFIX),
        course_id=refs.course.id,
        patient_id=refs.patient.id,
        prescriber_id=refs.prescriber.id,
        pharmacy_site_id=refs.pharmacy.id,
        infusion_site_id=refs.site.id,
        doses=decision.doses,
        status=AuthorizationStatus.ISSUED,
        valid_from=decision.valid_from,
        valid_until=decision.valid_until,
        first_dose_by=decision.first_dose_by,
        issued_at=utcnow(),
        issued_by_id=requester.id,
    )
    session.add(authorization)
    session.flush()
    return authorization


def _store_decision(session, requester, request, decision, authorization, refs, key, digest):
    """The decision row, the first answer (replayed on retries), and its audit event."""
    as_json = json.loads(canonical_json(request))
    stored = AuthorizationDecision(
        decision_id=new_identifier(DECISION_PREFIX),
        decided_at=utcnow(),
        requested_by_id=requester.id,
        pharmacy_site_id=requester.site_id,
        request=as_json,
        outcome="authorized" if authorization else "denied",
        reasons=[_asdict(r) for r in decision.reasons],
        warnings=[_asdict(w) for w in decision.warnings],
        authorization_id=authorization.id if authorization else None,
        idempotency_key=key,
        request_sha256=digest,
    )
    stored.response = decision_body(stored, authorization)
    session.add(stored)
    session.flush()
    action = "authorization.granted" if authorization else "authorization.denied"
    record_event(
        session,
        action,
        actor=requester,
        entity=authorization or stored,
        new={
            "decision_id": stored.decision_id,
            "request": as_json,
            "reasons": [r["code"] for r in stored.reasons],
            "doses": authorization.doses if authorization else 0,
        },
    )
    return stored


def _asdict(item) -> dict[str, str]:
    """A reason or warning as stored (slots dataclasses have no __dict__)."""
    return {name: getattr(item, name) for name in item.__slots__}


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
