"""Who hears of a non-compliance case: the party's representatives (a site's authorized
representatives, the prescriber) and the administrators, through the notifications outbox."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.compliance.models import NonComplianceCase
from rems.notifications.services import notify
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


def party_name(session: Session, case: NonComplianceCase) -> str:
    """The party as people say it, e.g. "Pharmacy Main Street Pharmacy"."""
    if case.party == "prescriber":
        prescriber = session.get(Prescriber, case.prescriber_id)
        return f"Prescriber {prescriber.name}"
    site = session.get(Site, case.site_id)
    return f"{'Pharmacy' if case.party == 'pharmacy' else 'Infusion site'} {site.name}"


def representatives(session: Session, case: NonComplianceCase) -> list[User]:
    """The active users who answer for the party."""
    if case.party == "prescriber":
        prescriber = session.get(Prescriber, case.prescriber_id)
        user = session.get(User, prescriber.user_id) if prescriber.user_id else None
        return [user] if user is not None and user.active else []
    return list(
        session.scalars(
            sa.select(User).where(
                User.site_id == case.site_id,
                User.role == Role.SITE_STAFF,
                User.is_authorized_representative,
                User.active,
            )
        )
    )


def tell_party(session: Session, case: NonComplianceCase, what: str, *, key: str) -> None:
    """The party's representatives hear what happened in their case."""
    _tell(session, representatives(session, case), case, what, key=key)


def tell_administrators(session: Session, case: NonComplianceCase, what: str, *, key: str):
    """Every active administrator hears what they must act on."""
    admins = session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.active))
    _tell(session, list(admins), case, what, key=key)


def _tell(session: Session, users: list[User], case, what: str, *, key: str) -> None:
    subject = f"Non-compliance case {case.id}: {party_name(session, case)}"
    for user in users:
        notify(session, user, kind="compliance.case", subject=subject, body=what,
               key=f"{key}:user:{user.id}", link=f"/compliance/cases/{case.id}")  # fmt: skip
