"""What each role's dashboard shows, read in a few queries."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.auth.models import ApiToken, Role, User
from rems.certification.models import CertStatus
from rems.common.clock import utcnow
from rems.prescribers.models import Prescriber, PrescriberDelegate
from rems.sites.models import Site


def users_by_role(session: Session) -> dict[str, int]:
    """Active accounts per role."""
    rows = session.execute(
        sa.select(User.role, sa.func.count()).where(User.active).group_by(User.role)
    )
    counts = {role.value: 0 for role in Role}
    counts.update({role.value: count for role, count in rows})
    return counts


def certification_counts(session: Session, model) -> dict[str, int]:
    """Prescribers or sites per certification status."""
    rows = session.execute(sa.select(model.status, sa.func.count()).group_by(model.status))
    counts = {status.value: 0 for status in CertStatus}
    counts.update({status.value: count for status, count in rows})
    return counts


def recent_events(session: Session, limit: int = 10) -> list[AuditEvent]:
    """The newest audit events."""
    return list(session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)))


def events_since(session: Session, hours: int = 24) -> int:
    """How many audit events the last `hours` recorded."""
    since = utcnow() - timedelta(hours=hours)
    return session.scalar(sa.select(sa.func.count()).where(AuditEvent.occurred_at >= since))


def live_token_count(session: Session) -> int:
    """API tokens not revoked, of active users."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.revoked_at.is_(None), User.active)
    )


def prescriber_of(session: Session, user: User) -> Prescriber | None:
    """The prescriber record belonging to a prescriber's account."""
    return session.scalar(sa.select(Prescriber).where(Prescriber.user_id == user.id))


def prescribers_served_by(session: Session, delegate: User) -> list[Prescriber]:
    """The prescribers a delegate currently works for."""
    return list(
        session.scalars(
            sa.select(Prescriber)
            .join(PrescriberDelegate, PrescriberDelegate.prescriber_id == Prescriber.id)
            .where(PrescriberDelegate.delegate_id == delegate.id)
            .where(PrescriberDelegate.ended_at.is_(None))
            .order_by(Prescriber.last_name, Prescriber.first_name)
        )
    )


def site_staff(session: Session, site: Site) -> list[User]:
    """The accounts of a site's staff, active first."""
    return list(
        session.scalars(
            sa.select(User)
            .where(User.site_id == site.id)
            .order_by(User.active.desc(), User.full_name)
        )
    )
