"""Reads of prior treatment: a patient's historical courses with their doses."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.courses.models import Course
from rems.prior_treatment.models import PriorDose


def prior_courses(session: Session, patient_id: int) -> list[tuple[Course, list[PriorDose]]]:
    """The patient's historical courses, first first, each with its doses in order."""
    courses = list(
        session.scalars(
            sa.select(Course)
            .where(Course.patient_id == patient_id, Course.historical.is_(True))
            .order_by(Course.number)
        )
    )
    doses = doses_of(session, [c.id for c in courses])
    return [(c, doses.get(c.id, [])) for c in courses]


def doses_of(session: Session, course_ids: Iterable[int]) -> dict[int, list[PriorDose]]:
    """The prior doses of these courses, by course, in dose order."""
    wanted = list(course_ids)
    if not wanted:
        return {}
    found: dict[int, list[PriorDose]] = {}
    rows = session.scalars(
        sa.select(PriorDose).where(PriorDose.course_id.in_(wanted)).order_by(PriorDose.dose_number)
    )
    for dose in rows:
        found.setdefault(dose.course_id, []).append(dose)
    return found


def prior_dose_dates(session: Session, patient_id: int) -> list:
    """The days the patient's prior doses were given, in order."""
    return list(
        session.scalars(
            sa.select(PriorDose.given_on)
            .where(PriorDose.patient_id == patient_id)
            .order_by(PriorDose.given_on)
        )
    )
