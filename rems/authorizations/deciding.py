"""A pharmacy's request, decided: the gate's hot path. Callers commit.

Reads first, writes briefly. The facts come from one joined read (`facts.gather_facts`); the pure
rules decide; then, in the write phase (on SQLite: the write lock, taken only now), a grant holds
its doses with one conditional `UPDATE … RETURNING` whose WHERE re-checks the count (a CHECK
constraint backs it), so concurrent requests cannot over-authorize whatever they read before.
The authorization, the decision and the audit event are inserted without being read back; the
chain's head is read inside the authorization's (or the denial's) INSERT … RETURNING.
At most six statements per decision, the token check included (pinned by a test); a denial
that someone else must act on queues its notices in one more INSERT … SELECT (still within six).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit import trail
from rems.authorizations import notices, presenters
from rems.authorizations.facts import OPEN, Gathered, Refs, gather_facts
from rems.authorizations.models import (
    Authorization,
    AuthorizationDecision,
    AuthorizationStatus,
)
from rems.authorizations.rules import DispenseDecision, Reason, decide_dispensing
from rems.common.clock import utcnow
from rems.common.errors import ValidationFailed
from rems.common.identifiers import new_identifier
from rems.common.statements import Statement
from rems.common.transactions import reading, write_phase
from rems.courses.models import Course
from rems.courses.settling import settle_course_and_grants
from rems.db import canonical_json
from rems.observability import metrics

AUTHORIZATION_PREFIX = "A"
DECISION_PREFIX = "D"
RACE_LOST = Reason("DOSES_EXCEEDED", "Another authorization took these doses a moment ago.", "site")


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """The decision row as written (it is not read back)."""

    id: int
    decision_id: str
    outcome: str
    response: dict[str, Any]
    authorization_id: int | None
    reasons: list[dict[str, str]]
    warnings: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a request produced: the stored decision (a StoredDecision, or the earlier
    AuthorizationDecision a retry replays), and whether it replays an earlier request."""

    decision: StoredDecision | AuthorizationDecision
    replayed: bool = False

    @property
    def authorization_id(self) -> int | None:
        """The granted authorization's id, if granted."""
        return self.decision.authorization_id


def request_authorization(
    session: Session,
    requester,
    request: dict[str, Any],
    *,
    today: date,
    idempotency_key: str | None = None,
) -> Outcome:
    """Decide a pharmacy's request; store and audit the decision, granted or denied. The
    requester is a User or a token identity (id, username, site_id); the request holds typed
    values (date_of_birth a date) and is stored as JSON."""
    digest = hashlib.sha256(canonical_json(request).encode()).hexdigest()
    with reading():
        gathered = gather_facts(session, requester, request, today, idempotency_key)
    if gathered.earlier_id is not None:
        return _replay(session, gathered.earlier_id, digest)
    with write_phase(session):
        if gathered.needs_settling:
            _settle(session, gathered.refs, today)
            gathered = gather_facts(session, requester, request, today, idempotency_key)
        decision = decide_dispensing(gathered.facts)
        course = _hold(session, gathered.refs, decision) if decision.granted else None
        if decision.granted and course is None:
            decision = DispenseDecision((RACE_LOST,), decision.warnings)
        stored = _store(session, requester, request, decision, gathered, course, idempotency_key,
                        digest)  # fmt: skip
    metrics.note_decision(session, stored.outcome, stored.reasons)
    return Outcome(stored)


def dry_run(session: Session, requester, request: dict[str, Any], *, today: date):
    """What `request_authorization` would decide now, creating nothing: the same facts and the
    same pure decision. Time that has ended (expired grants, a lapsed course) is settled first
    exactly as the real request does, then rolled back. Returns (Gathered, DispenseDecision)."""
    with reading():
        gathered = gather_facts(session, requester, request, today)
    if gathered.needs_settling:
        try:
            with write_phase(session):
                _settle(session, gathered.refs, today)
                gathered = gather_facts(session, requester, request, today)
        finally:
            session.rollback()
    return gathered, decide_dispensing(gathered.facts)


def _replay(session: Session, decision_id: int, digest: str) -> Outcome:
    """The answer an earlier request with this Idempotency-Key got (its body must match)."""
    earlier = session.get(AuthorizationDecision, decision_id)
    if earlier.request_sha256 != digest:
        raise ValidationFailed.single(
            "Idempotency-Key", "This key was used with a different request body."
        )
    return Outcome(earlier, replayed=True)


def _settle(session: Session, refs: Refs, today: date) -> None:
    """Record what time has ended before deciding: expired grants, a lapsed course."""
    settle_course_and_grants(session, session.get(Course, refs.course_id), today)
    session.flush()


def _hold(session: Session, refs: Refs, decision: DispenseDecision):
    """Hold the doses in one conditional UPDATE … RETURNING the course's counts (and, on
    PostgreSQL, the chain lock); None when a concurrent grant got there first."""
    params = {"course_id": refs.course_id, "doses": decision.doses}
    return _hold_statement(session).first(session, params)


#: Statements built once (per dialect where they differ), run through the session.
_STATEMENTS: dict[str, Statement] = {}


def _hold_statement(session: Session):
    dialect = session.get_bind().dialect.name
    if f"hold-{dialect}" not in _STATEMENTS:
        table, doses = Course.__table__, sa.bindparam("doses", type_=sa.Integer)
        _STATEMENTS[f"hold-{dialect}"] = Statement(
            table.update()
            .where(table.c.id == sa.bindparam("course_id"), table.c.status.in_(OPEN))
            .where(table.c.doses_given + table.c.doses_held + doses <= table.c.doses_total)
            .values(doses_held=table.c.doses_held + doses)
            .returning(table.c.number, table.c.doses_total, table.c.doses_given,
                       table.c.doses_held, *trail.chain_lock_column(session))
        )  # fmt: skip
    return _STATEMENTS[f"hold-{dialect}"]


def _insert_statement(name: str, table, head: bool):
    """INSERT … RETURNING the id (and the chain head), values bound per request."""
    if name not in _STATEMENTS:
        extra = trail.chain_head_columns() if head else ()
        _STATEMENTS[name] = Statement(table.insert().returning(table.c.id, *extra))
    return _STATEMENTS[name]


def _insert_authorization(session, requester, refs: Refs, decision: DispenseDecision):
    """The authorization row, RETURNING its id and the chain head (read under the lock)."""
    number = new_identifier(AUTHORIZATION_PREFIX)
    values = {
        "number": number, "course_id": refs.course_id, "patient_id": refs.patient_id,
        "prescriber_id": refs.prescriber_id, "pharmacy_site_id": refs.pharmacy_id,
        "infusion_site_id": refs.site_id, "doses": decision.doses, "doses_given": 0,
        "status": AuthorizationStatus.ISSUED, "valid_from": decision.valid_from,
        "valid_until": decision.valid_until, "first_dose_by": decision.first_dose_by,
        "issued_at": utcnow(), "issued_by_id": requester.id, "ended_at": None,
        "ended_by_id": None, "end_reason": None,
    }  # fmt: skip
    statement = _insert_statement("authorization", Authorization.__table__, head=True)
    row = statement.one(session, values)
    trail.note_chain_head(session, row.chain_seq, row.chain_hash)
    return row.id, number


def _store(session, requester, request, decision, gathered: Gathered, course, key, digest):
    """The decision row, its first answer (replayed on retries) and its audit event."""
    as_json = json.loads(canonical_json(request))
    reasons = [_asdict(r) for r in decision.reasons]
    warnings = [_asdict(w) for w in decision.warnings]
    decision_id = new_identifier(DECISION_PREFIX)
    granted = course is not None
    if granted:
        refs = gathered.refs
        authorization_id, number = _insert_authorization(session, requester, refs, decision)
        body = presenters.grant_body(number, refs.patient_rems_id, course, decision, warnings)
    else:
        authorization_id = None
        body = presenters.denial_body(decision_id, reasons, warnings)
        trail.lock_chain(session)
    refs = gathered.refs
    values = {
        "decision_id": decision_id, "decided_at": utcnow(), "requested_by_id": requester.id,
        "pharmacy_site_id": requester.site_id, "patient_id": refs.patient_id,
        "prescriber_id": refs.concerned_prescriber_id, "receiving_site_id": refs.site_id,
        "patient_rems_id": refs.asked_patient_id, "acting": notices.acting(reasons),
        "request": as_json, "outcome": body["decision"],
        "reasons": reasons, "warnings": warnings, "authorization_id": authorization_id,
        "idempotency_key": key, "request_sha256": digest, "response": body,
    }  # fmt: skip
    name = "decision" if granted else "denial"
    statement = _insert_statement(name, AuthorizationDecision.__table__, head=not granted)
    row = statement.one(session, values)
    if not granted:
        trail.note_chain_head(session, row.chain_seq, row.chain_hash)
        # one more statement, only when someone else must act (see rems.authorizations.notices)
        day = gathered.facts.today
        notices.queue_denial_notices(session, decision_id, reasons, refs, requester.site_id, day)
    new = {
        "decision_id": decision_id,
        "request": as_json,
        "reasons": [r["code"] for r in reasons],
        "doses": decision.doses if granted else 0,
    }
    trail.record_event(
        session, "authorization.granted" if granted else "authorization.denied", actor=requester,
        entity_type="authorization" if granted else "authorization_decision",
        entity_id=authorization_id or row.id, new=new,
    )  # fmt: skip
    return StoredDecision(
        row.id, decision_id, body["decision"], body, authorization_id, reasons, warnings
    )


def _asdict(item) -> dict[str, str]:
    """A reason or warning as stored (slots dataclasses have no __dict__); details that do not
    apply (None) are left out."""
    values = {name: getattr(item, name) for name in item.__slots__}
    return {name: value for name, value in values.items() if value is not None}
