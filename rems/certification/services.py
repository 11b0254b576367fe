"""Moving prescribers and sites through certification; every step keeps history and audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.history import change_status
from rems.audit.models import StatusChange
from rems.audit.trail import record_event
from rems.auth.models import User
from rems.certification import rules
from rems.certification.models import CertificationSubmission, CertStatus, PartyType
from rems.certification.rules import Transition, TransitionRefused
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

AUTOMATIC_REASON = "Certified automatically: the program file does not require review."


def party_type(party: Prescriber | Site) -> PartyType:
    """Which kind of party this is."""
    return PartyType.PRESCRIBER if isinstance(party, Prescriber) else PartyType.SITE


def apply_transition(
    session: Session,
    party: Prescriber | Site,
    transition: Transition,
    *,
    actor: User | None,
    today: date,
    reason: str | None = None,
) -> StatusChange:
    """Move `party` along `transition` from its status as of today, with history and audit."""
    reason = (reason or "").strip() or None
    if transition in rules.NEEDS_REASON and not reason:
        raise ValidationFailed.single("reason", "Give the reason for this decision.")
    current = _settle_lapse(session, party, today)
    try:
        target = rules.next_status(current, transition)
    except TransitionRefused as refused:
        raise StateConflict(str(refused)) from None
    if transition == Transition.CERTIFY:
        _start_period(party, today, still_certified=False)
    if transition == Transition.REVOKE:
        _close_pending(session, party, actor=actor, reason=reason)
    return change_status(
        session, party, target, actor=actor, action=f"{party_type(party)}.{transition}",
        reason=reason,
    )  # fmt: skip


def _close_pending(session: Session, party: Prescriber | Site, *, actor, reason) -> None:
    """Revocation is final: a submission still waiting for review is closed with it."""
    pending = pending_submission(session, party)
    if pending is None:
        return
    pending.decision = "closed"
    pending.decided_at = utcnow()
    pending.decided_by_id = getattr(actor, "id", None)
    pending.decision_reason = f"Closed because the certification was revoked: {reason}"
    record_event(
        session, "certification_submission.closed", actor=actor, entity=pending,
        old={"decision": None}, new={"decision": "closed"}, reason=pending.decision_reason,
    )  # fmt: skip


def _settle_lapse(session: Session, party: Prescriber | Site, today: date) -> CertStatus:
    """Record an expiry the daily job has not recorded yet; return the status as of today."""
    current = rules.effective_status(party.status, party.expires_on, today)
    if current != party.status:
        change_status(
            session, party, current, actor=None, action=f"{party_type(party)}.expire",
            reason=f"Certification period ended on {party.expires_on.isoformat()}.",
        )  # fmt: skip
    return current


def _start_period(party: Prescriber | Site, today: date, *, still_certified: bool) -> None:
    """Set the certification period from the program file's length."""
    months = current_app.extensions["rems_program"].certification.period_months
    party.certified_on, party.expires_on = rules.certification_period(
        today, party.expires_on, still_certified, months
    )


def pending_submission(
    session: Session, party: Prescriber | Site
) -> CertificationSubmission | None:
    """The party's submission still waiting for a decision, if any."""
    column = _party_column(party)
    return session.scalar(
        sa.select(CertificationSubmission)
        .where(column == party.id, CertificationSubmission.decision.is_(None))
        .order_by(CertificationSubmission.id.desc())
    )


def _party_column(party: Prescriber | Site):
    """The submission column naming this party."""
    if isinstance(party, Prescriber):
        return CertificationSubmission.prescriber_id
    return CertificationSubmission.site_id


def record_submission(
    session: Session,
    party: Prescriber | Site,
    *,
    form: dict[str, Any],
    signature_id: int,
    submitter: User,
    today: date,
) -> CertificationSubmission:
    """File a signed enrollment form; a first enrollment (or one after expiry) becomes submitted,
    an early renewal leaves the party certified while it waits."""
    if pending_submission(session, party) is not None:
        raise StateConflict("This enrollment was already submitted and is waiting for review.")
    current = _settle_lapse(session, party, today)
    renewal = current == CertStatus.CERTIFIED
    if not renewal:
        apply_transition(session, party, Transition.SUBMIT, actor=submitter, today=today)
    submission = CertificationSubmission(
        party_type=party_type(party),
        prescriber_id=party.id if isinstance(party, Prescriber) else None,
        site_id=party.id if isinstance(party, Site) else None,
        is_recertification=renewal or party.certified_on is not None,
        form=form,
        signature_id=signature_id,
        submitted_at=utcnow(),
        submitted_by_id=submitter.id,
    )
    session.add(submission)
    session.flush()
    record_event(
        session, "certification_submission.submitted", actor=submitter, entity=submission,
        new={"party": party_type(party).value, "party_id": party.id,
             "recertification": submission.is_recertification},
    )  # fmt: skip
    if current_app.extensions["rems_program"].certification.certifies_automatically:
        decide_submission(
            session, submission, certify=True, actor=None, today=today, reason=AUTOMATIC_REASON
        )
    return submission


def decide_submission(
    session: Session,
    submission: CertificationSubmission,
    *,
    certify: bool,
    actor: User | None,
    today: date,
    reason: str | None = None,
) -> None:
    """Certify or reject a submission; a renewal of a still-certified party extends its period."""
    if submission.decision is not None:
        raise StateConflict(f"This submission was already decided ({submission.decision}).")
    reason = (reason or "").strip() or None
    if not certify and not reason:
        raise ValidationFailed.single("reason", "Give the reason for the rejection.")
    party = submission_party(session, submission)
    current = _settle_lapse(session, party, today)
    if current == CertStatus.EXPIRED:  # a renewal filed while certified, undecided at the end
        apply_transition(
            session, party, Transition.SUBMIT, actor=None, today=today,
            reason="The renewal submitted before the certification ended still waits for review.",
        )  # fmt: skip
    if current == CertStatus.CERTIFIED:
        _decide_renewal(session, party, certify=certify, actor=actor, reason=reason, today=today)
    else:
        transition = Transition.CERTIFY if certify else Transition.REJECT
        apply_transition(session, party, transition, actor=actor, today=today, reason=reason)
    submission.decision = "certified" if certify else "rejected"
    submission.decided_at = utcnow()
    submission.decided_by_id = getattr(actor, "id", None)
    submission.decision_reason = reason
    record_event(
        session, "certification_submission.decided", actor=actor, entity=submission,
        old={"decision": None}, new={"decision": submission.decision}, reason=reason,
    )  # fmt: skip


def _decide_renewal(session, party, *, certify: bool, actor, reason, today: date) -> None:
    """A renewal while still certified: certifying extends the period; rejecting changes nothing
    but is on record (the party stays certified until its period ends)."""
    if not certify:
        return
    old_expiry = party.expires_on
    _start_period(party, today, still_certified=True)
    change_status(
        session, party, CertStatus.CERTIFIED, actor=actor,
        action=f"{party_type(party)}.recertify",
        reason=reason or f"Recertified until {party.expires_on.isoformat()} "
        f"(was {old_expiry.isoformat()}).",
    )  # fmt: skip


def submission_party(session: Session, submission: CertificationSubmission) -> Prescriber | Site:
    """The prescriber or site a submission belongs to."""
    if submission.prescriber_id is not None:
        return session.get(Prescriber, submission.prescriber_id)
    return session.get(Site, submission.site_id)


def expire_lapsed(session: Session, today: date) -> int:
    """Move every party past its last day to expired (idempotent); return how many moved."""
    moved = 0
    for model in (Prescriber, Site):
        lapsed = session.scalars(
            sa.select(model).where(
                model.status.in_([CertStatus.CERTIFIED, CertStatus.SUSPENDED]),
                model.expires_on < today,
            )
        )
        for party in lapsed:
            _settle_lapse(session, party, today)
            moved += 1
    return moved
