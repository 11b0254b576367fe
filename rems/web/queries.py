"""What each role's dashboard shows, read in a few queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.auth.models import ApiToken, Role, User
from rems.certification.models import CertificationSubmission, CertStatus
from rems.certification.rules import days_to_expiry, effective_status, expiring_soon
from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.patients.queries import visible_patients
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


@dataclass(frozen=True, slots=True)
class Standing:
    """A party's certification as of today, as a dashboard tells it."""

    status: CertStatus | None
    days_left: int | None
    renewal_due: bool


def standing(party) -> Standing:
    """The party's status today, days left, and whether renewal is due (None party: no form)."""
    if party is None:
        return Standing(None, None, False)
    warning_days = current_app.extensions["rems_program"].certification.expiry_warning_days
    now = program_today()
    return Standing(
        status=effective_status(party.status, party.expires_on, now),
        days_left=days_to_expiry(party.expires_on, now),
        renewal_due=expiring_soon(party.status, party.expires_on, now, warning_days),
    )


def patient_counts(session: Session, user) -> dict[str, int]:
    """The user's patients per status, plus flagged possible duplicates (all patients for
    administrators and auditors)."""
    visible = visible_patients(user).subquery()
    rows = session.execute(sa.select(visible.c.status, sa.func.count()).group_by(visible.c.status))
    counts = {str(getattr(status, "value", status)): count for status, count in rows}
    counts["duplicates"] = session.scalar(
        sa.select(sa.func.count())
        .select_from(visible)
        .where(visible.c.possible_duplicate_of_id.is_not(None))
    )
    counts["total"] = sum(v for k, v in counts.items() if k != "duplicates")
    return counts


def pending_submission_count(session: Session) -> int:
    """Enrollment forms waiting for an administrator's decision."""
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(CertificationSubmission)
        .where(CertificationSubmission.decision.is_(None))
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
