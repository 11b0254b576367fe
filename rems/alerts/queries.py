"""Reading alerts as each role may see them: the prescriber's team their own patients', the
administrators and auditors every one."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.alerts.models import LabAlert
from rems.auth.models import Role, User
from rems.patients.models import Patient
from rems.patients.queries import visible_prescriber_ids

#: Most alerts a dashboard panel lists (the rest: the alerts page).
PANEL_LIMIT = 20


def visible_alerts(user: User) -> sa.Select:
    """The alerts the user may see (by the patient's prescriber now), open first, the oldest
    first."""
    statement = sa.select(LabAlert).order_by(
        LabAlert.acknowledged_at.is_not(None), LabAlert.raised_at, LabAlert.id
    )
    allowed = visible_prescriber_ids(user)
    if allowed is None:
        return statement
    mine = sa.select(Patient.id).where(Patient.prescriber_id.in_(allowed))
    return statement.where(LabAlert.patient_id.in_(mine))


def alert_for(session: Session, user: User, alert_id: int):
    """The alert if the user may see it; None (a 404) otherwise."""
    return session.scalar(visible_alerts(user).where(LabAlert.id == alert_id))


def needing_attention(session: Session, user: User) -> tuple[list, int]:
    """The alerts a dashboard shows the user, and how many there are: the open ones for the
    prescriber's team, the escalated open ones for administrators; none for other roles."""
    if user.role in (Role.PRESCRIBER, Role.DELEGATE):
        where = LabAlert.acknowledged_at.is_(None)
    elif user.role == Role.ADMIN:
        where = sa.and_(LabAlert.acknowledged_at.is_(None), LabAlert.escalated_at.is_not(None))
    else:
        return [], 0
    statement = visible_alerts(user).where(where)
    rows = session.scalars(statement.limit(PANEL_LIMIT)).all()
    total = session.scalar(sa.select(sa.func.count()).select_from(statement.subquery()))
    return rows, total
