"""Giving one dose in the database: the authorization's and the course's counts move in
conditional UPDATEs that re-check them, so two nurses recording at once give one dose.

A dose is taken from where it truly is: a live authorization's held dose; for a late entry (an
expired authorization, a dose given while it was valid) the authorization counts it and the
course takes it from its doses not held by anyone; a dose beyond the authorization (used up or
reversed) comes from the course's unheld doses only — never from another authorization."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationStatus,
)
from rems.common.errors import StateConflict
from rems.courses.models import Course, CourseStatus

RACED = (
    "Another dose of this course was recorded at the same moment: read the authorization, then "
    "record this dose again if it is still to be recorded."
)
NO_DOSE_LEFT = (
    "The course has no dose left that another authorization does not hold: every dose of the "
    "course is given or held."
)


def doses_left(authorization: Authorization) -> int:
    """The doses the authorization may still give (none once reversed)."""
    if authorization.status == AuthorizationStatus.REVERSED:
        return 0
    return authorization.doses - authorization.doses_given


def take_dose(session: Session, authorization, course: Course, day: date, dose_number: int):
    """Count dose `dose_number` given on `day`, from the authorization when it has it."""
    live = authorization.status in LIVE_AUTHORIZATION_STATUSES
    counted_here = doses_left(authorization) > 0
    if counted_here:
        _count_on_authorization(session, authorization)
    _count_on_course(session, course, dose_number, held=live and counted_here)
    session.refresh(authorization)
    session.refresh(course)
    _after_dose(authorization, course, day, live=live)


def _count_on_authorization(session: Session, authorization: Authorization) -> None:
    table = Authorization.__table__
    taken = session.execute(
        table.update()
        .where(table.c.id == authorization.id, table.c.doses_given < table.c.doses)
        .values(doses_given=table.c.doses_given + 1)
    )
    if taken.rowcount != 1:
        raise StateConflict(RACED)


def _count_on_course(session: Session, course: Course, dose_number: int, *, held: bool) -> None:
    """From the authorization's held doses, or (`held` false) from the unheld ones."""
    table = Course.__table__
    update = table.update().where(table.c.id == course.id, table.c.doses_given == dose_number - 1)
    if held:
        update = update.where(table.c.doses_held > 0).values(
            doses_given=table.c.doses_given + 1, doses_held=table.c.doses_held - 1
        )
    else:
        room = table.c.doses_given + table.c.doses_held < table.c.doses_total
        update = update.where(room).values(doses_given=table.c.doses_given + 1)
    if session.execute(update).rowcount != 1:
        session.refresh(course)
        raise StateConflict(RACED if course.doses_given != dose_number - 1 else NO_DOSE_LEFT)


def _after_dose(authorization, course: Course, day: date, *, live: bool) -> None:
    """Statuses and dates after a dose: used up authorizations, started or completed courses.
    An ended authorization keeps its status; the course's dates follow the doses given."""
    if live:
        used_up = authorization.doses_given == authorization.doses
        authorization.status = (
            AuthorizationStatus.USED if used_up else AuthorizationStatus.PARTIALLY_USED
        )
    course.first_dose_on = course.first_dose_on or day
    course.last_dose_on = day
    course.status = (
        CourseStatus.COMPLETED
        if course.doses_given == course.doses_total
        else CourseStatus.IN_PROGRESS
    )
