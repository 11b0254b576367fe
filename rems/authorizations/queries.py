"""Who may see an authorization: its pharmacy, its receiving site, the prescriber of record,
auditors and administrators. Anyone else gets a 404."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.authorizations.models import Authorization
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.prescribers.models import Prescriber


def authorization_for(session: Session, user: User, number: str) -> Authorization | None:
    """The authorization with this number, if the user is party to it."""
    if not is_valid_identifier(number or "", "A"):
        return None
    authorization = session.scalar(
        sa.select(Authorization).where(Authorization.number == normalize_identifier(number))
    )
    if authorization is None or not may_see(session, user, authorization):
        return None
    return authorization


def may_see(session: Session, user: User, authorization: Authorization) -> bool:
    """Party to the authorization, or a reader of everything."""
    if user.role in (Role.ADMIN, Role.AUDITOR):
        return True
    if user.role == Role.SITE_STAFF:
        return user.site_id in (authorization.pharmacy_site_id, authorization.infusion_site_id)
    if user.role == Role.PRESCRIBER:
        prescriber = session.get(Prescriber, authorization.prescriber_id)
        return prescriber.user_id == user.id
    return False


def live_for_pharmacy(site_id: int) -> sa.Select:
    """A pharmacy's issued and partly used authorizations, newest first."""
    return (
        sa.select(Authorization)
        .where(
            Authorization.pharmacy_site_id == site_id,
            Authorization.status.in_(["issued", "partially_used"]),
        )
        .order_by(Authorization.id.desc())
    )
