"""Non-compliance cases: a deviation opens or joins the one open case of its party (the
database holds that uniqueness: a partial unique index, with a savepoint retry when two
deviations open it at once); the party writes a corrective action; an administrator accepts it
(the case closes) or asks for more. Every step is audited and tells whoever acts next.
Callers commit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.authorizations.models import Authorization
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.compliance.models import CaseState, NonComplianceCase
from rems.compliance.notices import tell_administrators, tell_party
from rems.compliance.rules import (
    CorrectiveAction,
    action_problems,
    calls_for_escalation,
    higher_severity,
    review_problems,
)
from rems.courses.models import Course
from rems.program.model import add_months

OPEN_STATES = (CaseState.OPEN, CaseState.ACTION_SUBMITTED, CaseState.MORE_NEEDED)


def responsible_party(session: Session, deviation, infusion) -> tuple[str, int]:
    """Who answers for the deviation: (party, id of the site or prescriber)."""
    if deviation.party == "prescriber":
        return "prescriber", session.get(Course, infusion.course_id).prescriber_id
    if deviation.party == "pharmacy":
        return "pharmacy", session.get(Authorization, infusion.authorization_id).pharmacy_site_id
    return "site", infusion.site_id


def answer_for(session: Session, deviation, infusion, actor: User) -> NonComplianceCase:
    """The deviation joins its party's open case, or opens one."""
    party, party_id = responsible_party(session, deviation, infusion)
    case = _open_case(session, party, party_id, deviation.severity)
    deviation.case_id = case.id
    case.severity = higher_severity(case.severity, deviation.severity)
    record_event(
        session,
        "case.deviation_joined",
        actor=actor,
        entity=case,
        new={"deviation": deviation.id, "code": deviation.code},
    )
    tell_party(
        session,
        case,
        f"A {deviation.severity} protocol deviation ({deviation.code}) "
        "was recorded and joins this non-compliance case.",
        key=f"dev:{deviation.id}",
    )
    if deviation.severity == "major":
        _escalate_if_due(session, case)
    return case


def _open_case(session: Session, party: str, party_id: int, severity: str) -> NonComplianceCase:
    key = f"{party}:{party_id}"
    found = _find_open(session, key)
    if found is not None:
        return found
    case = NonComplianceCase(
        party=party,
        party_key=key,
        severity=severity,
        opened_at=utcnow(),
        state=CaseState.OPEN,
        site_id=None if party == "prescriber" else party_id,
        prescriber_id=party_id if party == "prescriber" else None,
    )
    try:
        with session.begin_nested():
            session.add(case)
    except sa.exc.IntegrityError:  # another deviation opened it at the same moment
        return _find_open(session, key)
    record_event(
        session,
        "case.opened",
        actor=None,
        actor_label="system",
        entity=case,
        new={"party": party, "party_key": key, "severity": severity},
    )
    return case


def _find_open(session: Session, key: str) -> NonComplianceCase | None:
    return session.scalar(
        sa.select(NonComplianceCase).where(
            NonComplianceCase.party_key == key, NonComplianceCase.state.in_(OPEN_STATES)
        )
    )


def _escalate_if_due(session: Session, case: NonComplianceCase) -> None:
    """Enough major deviations of the party within the window: administrators are asked to
    consider suspension, once per case (the decision stays theirs)."""
    from rems.compliance.queries import major_deviations_since

    rules = current_app.extensions["rems_program"].deviations
    since = add_months(utcnow().date(), -rules.escalate_within_months)
    count = major_deviations_since(session, case.party_key, since)
    if case.escalated_at is None and calls_for_escalation(count, rules.escalate_major_count):
        case.escalated_at = utcnow()
        record_event(
            session,
            "case.escalated",
            actor=None,
            actor_label="system",
            entity=case,
            new={"major_deviations": count, "since": since.isoformat()},
        )
        tell_administrators(
            session,
            case,
            f"{count} major deviations since {since}: consider suspending the "
            "party (the decision is yours).",
            key=f"case:{case.id}:escalated",
        )


def submit_action(session, case: NonComplianceCase, actor: User, form: dict, *, today: date):
    """The party's corrective action: root cause, action, due date; the administrators review."""
    if case.state not in (CaseState.OPEN, CaseState.MORE_NEEDED):
        raise StateConflict(f"The case is {case.state.value.replace('_', ' ')}.")
    rules = current_app.extensions["rems_program"].deviations
    proposal = CorrectiveAction(
        form.get("root_cause") or "",
        form.get("action") or "",
        form.get("due_on"),
        today,
        rules.action_max_days,
    )
    problems = action_problems(proposal)
    if problems:
        raise ValidationFailed(problems)
    old = case.state.value
    case.root_cause, case.action = proposal.root_cause.strip(), proposal.action.strip()
    case.due_on, case.action_at, case.action_by_id = proposal.due_on, utcnow(), actor.id
    case.state = CaseState.ACTION_SUBMITTED
    record_event(
        session,
        "case.action_submitted",
        actor=actor,
        entity=case,
        old={"state": old},
        new={
            "state": case.state.value,
            "root_cause": case.root_cause,
            "action": case.action,
            "due_on": case.due_on.isoformat(),
        },
    )
    tell_administrators(
        session,
        case,
        "A corrective action was submitted: review it.",
        key=f"case:{case.id}:action:{case.action_at.isoformat()}",
    )


def review_action(session, case: NonComplianceCase, actor: User, *, outcome: str, note: str):
    """An administrator accepts the action (the case closes) or asks for more."""
    if actor.role != Role.ADMIN:
        raise StateConflict("Only an administrator reviews corrective actions.")
    if case.state != CaseState.ACTION_SUBMITTED:
        raise StateConflict("There is no corrective action to review.")
    problems = review_problems(outcome, note)
    if problems:
        raise ValidationFailed(problems)
    accepted = outcome == "accepted"
    case.state = CaseState.CLOSED if accepted else CaseState.MORE_NEEDED
    case.review_note, case.reviewed_at, case.reviewed_by_id = (
        note.strip() or None,
        utcnow(),
        actor.id,
    )
    case.closed_at = case.reviewed_at if accepted else None
    record_event(
        session,
        "case.reviewed",
        actor=actor,
        entity=case,
        old={"state": "action_submitted"},
        new={"state": case.state.value, "outcome": outcome},
        reason=case.review_note,
    )
    words = "accepted: the case is closed" if accepted else f"not enough yet: {note.strip()}"
    tell_party(
        session,
        case,
        f"The corrective action was {words}.",
        key=f"case:{case.id}:review:{case.reviewed_at.isoformat()}",
    )
