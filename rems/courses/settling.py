"""What time ends, settled in one place: an authorization past its last day expires and returns
its unused doses, a course not started by its first-dose deadline lapses, and a course that
lapses or closes ends its live authorizations. The gate, the pages, the infusion service and the
daily job all settle through here (read it first, then decide). Callers commit."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.audit.trail import record_event
from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationStatus,
)
from rems.common.clock import utcnow
from rems.courses.models import OPEN_COURSE_STATUSES, Course, CourseStatus
from rems.patients.models import Patient


def open_course(session: Session, patient: Patient) -> Course | None:
    """The patient's authorized or in-progress course, if any (as stored: not settled)."""
    return session.scalar(
        sa.select(Course).where(
            Course.patient_id == patient.id, Course.status.in_(OPEN_COURSE_STATUSES)
        )
    )


def settle_course_and_grants(session: Session, course: Course, today: date) -> None:
    """Record what time has ended for a course: its grants past their last day expire, and the
    course lapses when it was not started by its first-dose deadline."""
    lapsed = session.scalars(
        sa.select(Authorization).where(
            Authorization.course_id == course.id,
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES),
            Authorization.valid_until < today,
        )
    ).all()
    for authorization in lapsed:
        settle_authorization(session, authorization, today)
    settle_course(session, course, today)


def needs_settling(authorization: Authorization, today: date) -> bool:
    """Live, but past its last day: its expiry is still to be recorded."""
    live = authorization.status in LIVE_AUTHORIZATION_STATUSES
    return live and today > authorization.valid_until


def settle_authorization(session: Session, authorization: Authorization, today: date) -> None:
    """Past its last day, a live authorization expires and its unused doses return."""
    if needs_settling(authorization, today):
        end_authorization(
            session,
            authorization,
            AuthorizationStatus.EXPIRED,
            actor=None,
            reason=f"Validity ended on {authorization.valid_until}.",
        )


def settle_course(session: Session, course: Course, today: date) -> None:
    """A course never started by its first-dose deadline has lapsed (recorded on first read)."""
    lapsed = course.status == CourseStatus.AUTHORIZED and course.first_dose_on is None
    if lapsed and course.first_dose_by is not None and today > course.first_dose_by:
        end_live_authorizations(session, course, reason="The course lapsed.")
        reason = f"Not started by {course.first_dose_by}."
        course_history(session, course, course.status, CourseStatus.LAPSED, None, reason)
        course.status = CourseStatus.LAPSED
        record_event(
            session,
            "course.lapsed",
            actor=None,
            entity=course,
            old={"status": "authorized"},
            new={"status": "lapsed"},
        )


def end_live_authorizations(session: Session, course: Course, *, reason: str) -> None:
    """When a course lapses or closes, its live authorizations end and release their doses."""
    for authorization in session.scalars(
        sa.select(Authorization).where(
            Authorization.course_id == course.id,
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES),
        )
    ):
        end_authorization(
            session, authorization, AuthorizationStatus.EXPIRED, actor=None, reason=reason
        )


def expire_authorizations(session: Session, today: date) -> int:
    """The daily job: expire every live authorization past its last day (idempotent)."""
    lapsed = session.scalars(
        sa.select(Authorization).where(
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES), Authorization.valid_until < today
        )
    ).all()
    for authorization in lapsed:
        settle_authorization(session, authorization, today)
    return len(lapsed)


def end_authorization(session, authorization, status: AuthorizationStatus, *, actor, reason):
    """Expire (or otherwise end) a live authorization and return its unused doses."""
    old = authorization.status.value
    authorization.status = status
    authorization.ended_at = utcnow()
    authorization.ended_by_id = getattr(actor, "id", None)
    authorization.end_reason = reason
    release_doses(session, authorization)
    record_event(
        session,
        f"authorization.{status.value}",
        actor=actor,
        entity=authorization,
        old={"status": old},
        new={"status": status.value},
        reason=reason,
    )


def release_doses(session: Session, authorization: Authorization) -> None:
    """Give the course back the doses this authorization held but did not use."""
    unused = authorization.doses - authorization.doses_given
    if unused:
        table = Course.__table__
        session.execute(
            table.update()
            .where(table.c.id == authorization.course_id)
            .values(doses_held=table.c.doses_held - unused)
        )
        course = session.get(Course, authorization.course_id)
        session.expire(course, ["doses_held"])


def course_history(session, course, from_status, to_status, actor, reason) -> None:
    """A status history row of the course."""
    session.add(
        StatusChange(
            entity_type="course",
            entity_id=course.id,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value,
            changed_at=utcnow(),
            changed_by_id=getattr(actor, "id", None),
            reason=reason,
        )
    )
