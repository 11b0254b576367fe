"""Notices before a certification ends: 60, 30 and 7 days before the last day of a prescriber's
or a healthcare setting's certification, a message in the notifications outbox for whoever must
act (the prescriber; the setting's authorized representative), once each.

"Once each" is kept by the outbox's dedupe key: party, last day, and notice. Only the tightest
notice that applies is sent, so a job that missed days never sends a stale one, and a renewal
(a new last day) starts its own series.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.certification.models import CertStatus
from rems.notifications.services import notify
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

NOTICE_DAYS = (60, 30, 7)
KIND = "certification_expiring"


def notice_due(expires_on: date, today: date) -> int | None:
    """Which notice (days before the end) is due for a certification ending on `expires_on`."""
    days_left = (expires_on - today).days
    if days_left < 0:
        return None
    due = [days for days in NOTICE_DAYS if days_left <= days]
    return min(due) if due else None


def notify_expiring(session: Session, today: date) -> int:
    """Queue every due notice; return how many were queued (the caller commits)."""
    last = today + timedelta(days=max(NOTICE_DAYS))
    queued = 0
    for table in (Prescriber, Site):
        parties = session.scalars(
            sa.select(table)
            .where(table.status == CertStatus.CERTIFIED.value)
            .where(table.expires_on.between(today, last))
            .order_by(table.id)
        )
        for party in parties:
            queued += _notify_party(session, party, today)
    return queued


def _notify_party(session: Session, party: Prescriber | Site, today: date) -> int:
    """The due notice for one party, to its recipient, unless already sent."""
    days = notice_due(party.expires_on, today)
    recipient = _recipient(session, party)
    if days is None or recipient is None:
        return 0
    kind = "prescriber" if isinstance(party, Prescriber) else "site"
    name = party.name
    left = (party.expires_on - today).days
    message = notify(
        session, recipient, kind=KIND,
        subject=f"Certification of {name} ends on {party.expires_on} ({left} days)",
        body=(
            f"The REMS certification of {name} ends on {party.expires_on.isoformat()}, in "
            f"{left} day(s). Recertify before then: after that day the program refuses "
            "authorizations that need this certification."
        ),
        key=f"{KIND}:{kind}:{party.id}:{party.expires_on.isoformat()}:{days}",
    )  # fmt: skip
    return 0 if message is None else 1


def _recipient(session: Session, party: Prescriber | Site) -> User | None:
    """Who must act: the prescriber's account, or the setting's authorized representative."""
    user_id = party.user_id if isinstance(party, Prescriber) else party.representative_id
    return session.get(User, user_id) if user_id else None
