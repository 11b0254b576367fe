"""Reads about certification: whose party a user belongs to, and whether it is certified today."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.asof import StatusAt, status_at
from rems.audit.models import StatusChange
from rems.auth.models import Role, User
from rems.certification.models import AssessmentAttempt, CertificationSubmission, CertStatus
from rems.certification.rules import effective_status
from rems.common.programday import day_of
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

LAPSING = (CertStatus.CERTIFIED.value, CertStatus.SUSPENDED.value)
LAPSED = "The certification period ended on {}."


def party_of(session: Session, user: User) -> Prescriber | Site | None:
    """The certified party a user acts as: their prescriber record or their site."""
    if user.role == Role.PRESCRIBER:
        return user.prescriber_record
    if user.role == Role.SITE_STAFF:
        return user.site
    return None


def status_today(party: Prescriber | Site | None, today: date) -> CertStatus | None:
    """The party's status as of today (a lapsed certification reads as expired)."""
    if party is None:
        return None
    return effective_status(party.status, party.expires_on, today)


def certification_at(session: Session, party: Prescriber | Site, moment: datetime) -> StatusAt:
    """The party's certification status at `moment`, from its recorded history. A period that
    had ended by then reads as expired even if the daily job recorded it later: periods only
    ever move later, so a last day before `moment` today was a last day before it then."""
    found = status_at(session, party, moment, initial=CertStatus.DRAFT.value)
    lapsed_on = party.expires_on
    if found.status in LAPSING and lapsed_on is not None and lapsed_on < day_of(moment):
        return replace(found, status=CertStatus.EXPIRED.value, reason=LAPSED.format(lapsed_on))
    return found


def may_act_for_role(session: Session, user: User, today: date) -> bool:
    """Prescribers and site staff act only while their party is certified; other roles always."""
    if user.role not in (Role.PRESCRIBER, Role.SITE_STAFF):
        return True
    return status_today(party_of(session, user), today) == CertStatus.CERTIFIED


def history_of(session: Session, party: Prescriber | Site) -> list[StatusChange]:
    """The party's status history, oldest first."""
    return list(
        session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.entity_type == party.__tablename__)
            .where(StatusChange.entity_id == party.id)
            .order_by(StatusChange.id)
        )
    )


def submissions_of(session: Session, party: Prescriber | Site) -> list[CertificationSubmission]:
    """The party's submissions, newest first."""
    column = (
        CertificationSubmission.prescriber_id
        if isinstance(party, Prescriber)
        else CertificationSubmission.site_id
    )
    return list(
        session.scalars(
            sa.select(CertificationSubmission)
            .where(column == party.id)
            .order_by(CertificationSubmission.id.desc())
        )
    )


def attempts_of(session: Session, prescriber: Prescriber) -> list[AssessmentAttempt]:
    """Every assessment attempt of the prescriber, newest first."""
    return list(
        session.scalars(
            sa.select(AssessmentAttempt)
            .where(AssessmentAttempt.prescriber_id == prescriber.id)
            .order_by(AssessmentAttempt.id.desc())
        )
    )


def review_queue_statement(party: str | None, state: str | None, q: str | None) -> sa.Select:
    """Submissions for the administrators' queue: pending first, then newest."""
    statement = sa.select(CertificationSubmission).order_by(
        CertificationSubmission.decision.is_not(None), CertificationSubmission.id.desc()
    )
    if party in ("prescriber", "site"):
        statement = statement.where(CertificationSubmission.party_type == party)
    if state == "pending":
        statement = statement.where(CertificationSubmission.decision.is_(None))
    elif state in ("certified", "rejected"):
        statement = statement.where(CertificationSubmission.decision == state)
    if q:
        pattern = f"%{q.strip().lower()}%"
        statement = statement.outerjoin(
            Prescriber, Prescriber.id == CertificationSubmission.prescriber_id
        ).outerjoin(Site, Site.id == CertificationSubmission.site_id)
        statement = statement.where(
            sa.or_(
                sa.func.lower(Prescriber.last_name).like(pattern),
                sa.func.lower(Prescriber.first_name).like(pattern),
                Prescriber.npi.like(pattern),
                sa.func.lower(Site.name).like(pattern),
                Site.npi.like(pattern),
            )
        )
    return statement
