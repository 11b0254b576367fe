"""Reads of non-compliance cases: a party's major deviations, who may see which case, the case
list with its filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.compliance.models import CaseState, NonComplianceCase
from rems.infusions.models import Infusion, InfusionDeviation
from rems.prescribers.models import Prescriber

FILTERS = ("party", "state", "severity", "age")
#: Age filter: cases opened more than this many days ago.
AGES = {"30": 30, "90": 90}


def major_deviations_since(session: Session, party_key: str, since: date) -> int:
    """The party's major deviations on doses given since `since`, whichever case holds them."""
    return session.scalar(
        sa.select(sa.func.count(InfusionDeviation.id))
        .join(NonComplianceCase, NonComplianceCase.id == InfusionDeviation.case_id)
        .join(Infusion, Infusion.id == InfusionDeviation.infusion_id)
        .where(
            NonComplianceCase.party_key == party_key,
            InfusionDeviation.severity == "major",
            Infusion.administered_on >= since,
        )
    )


def visible_cases(session: Session, viewer: User) -> sa.Select:
    """The cases the viewer may see, newest first: administrators and auditors all, a site's
    representative the site's (as infusion site or pharmacy), a prescriber their own."""
    query = sa.select(NonComplianceCase).order_by(NonComplianceCase.id.desc())
    if viewer.role in (Role.ADMIN, Role.AUDITOR):
        return query
    if viewer.role == Role.SITE_STAFF and viewer.is_authorized_representative:
        return query.where(NonComplianceCase.site_id == viewer.site_id)
    if viewer.role == Role.PRESCRIBER:
        mine = sa.select(Prescriber.id).where(Prescriber.user_id == viewer.id)
        return query.where(NonComplianceCase.prescriber_id.in_(mine.scalar_subquery()))
    return query.where(sa.false())


def filtered(query: sa.Select, args, today: date) -> sa.Select:
    """The case list's filters: party, state (or "open" for every open state), severity,
    age (opened more than 30 or 90 days ago)."""
    party, state, severity = args.get("party"), args.get("state"), args.get("severity")
    if party in ("site", "prescriber", "pharmacy"):
        query = query.where(NonComplianceCase.party == party)
    if state == "open":
        query = query.where(NonComplianceCase.state != CaseState.CLOSED)
    elif state in {s.value for s in CaseState}:
        query = query.where(NonComplianceCase.state == CaseState(state))
    if severity in ("minor", "major"):
        query = query.where(NonComplianceCase.severity == severity)
    if args.get("age") in AGES:
        cutoff = datetime.combine(today - timedelta(days=AGES[args["age"]]), time(), UTC)
        query = query.where(NonComplianceCase.opened_at < cutoff)
    return query


def case_deviations(session: Session, case: NonComplianceCase) -> list[tuple]:
    """The case's deviations with their doses, oldest first."""
    return list(
        session.execute(
            sa.select(InfusionDeviation, Infusion)
            .join(Infusion, Infusion.id == InfusionDeviation.infusion_id)
            .where(InfusionDeviation.case_id == case.id)
            .order_by(Infusion.administered_on, InfusionDeviation.id)
        )
    )


def open_cases_for(session: Session, viewer: User, limit: int = 10) -> list[NonComplianceCase]:
    """The dashboard's open cases: the party's own for its representative; for administrators,
    those awaiting their review or escalated."""
    query = visible_cases(session, viewer).where(NonComplianceCase.state != CaseState.CLOSED)
    if viewer.role == Role.ADMIN:
        waiting = NonComplianceCase.state == CaseState.ACTION_SUBMITTED
        query = query.where(sa.or_(waiting, NonComplianceCase.escalated_at.is_not(None)))
    elif viewer.role == Role.AUDITOR:
        return []
    return list(session.scalars(query.limit(limit)))
