"""A patient as of a past moment, for the API lookup: the enrollment status, acknowledgments,
missing documents and courses as they were recorded by then (never today's rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.common.programday import day_of
from rems.courses.models import Course, CourseStatus
from rems.documents.models import Acknowledgment
from rems.documents.queries import patient_missing_documents
from rems.infusions.models import Infusion
from rems.patients.models import Patient
from rems.patients.queries import enrollment_at
from rems.prior_treatment.models import PriorDose

#: Course statuses the course's history records; the others follow from the doses given.
RECORDED = (CourseStatus.LAPSED.value, CourseStatus.CLOSED.value)


def patient_as_of(session: Session, patient: Patient, moment: datetime) -> dict[str, Any]:
    """What the lookup answers about `patient` at `moment` (status None: not yet registered)."""
    enrollment = enrollment_at(session, patient, moment)
    return {
        "status": enrollment.status,
        "status_since": enrollment.since,
        "acknowledgments": list(
            session.scalars(
                sa.select(Acknowledgment)
                .where(Acknowledgment.patient_id == patient.id)
                .where(Acknowledgment.acknowledged_at <= moment)
                .order_by(Acknowledgment.acknowledged_at.desc())
            )
        ),
        "documents_missing": patient_missing_documents(
            session, patient, day_of(moment), acknowledged_by=moment
        ),
        "courses": [
            _course_then(session, c, moment) for c in _courses_by(session, patient, moment)
        ],
    }


def _courses_by(session: Session, patient: Patient, moment: datetime) -> list[Course]:
    """The courses authorized by `moment`, first course first."""
    return list(
        session.scalars(
            sa.select(Course)
            .where(Course.patient_id == patient.id, Course.authorized_at <= moment)
            .order_by(Course.number)
        )
    )


def _course_then(session: Session, course: Course, moment: datetime) -> dict[str, Any]:
    """A course at `moment`: doses given by then (infusions here, or the prior doses of a
    historical course), and its status (recorded, or from doses)."""
    given = sum(
        session.scalar(
            sa.select(sa.func.count(model.id))
            .where(model.course_id == course.id, model.recorded_at <= moment)
        )
        for model in (Infusion, PriorDose)
    )  # fmt: skip
    recorded = session.scalar(
        sa.select(StatusChange.to_status)
        .where(StatusChange.entity_type == "course", StatusChange.entity_id == course.id)
        .where(StatusChange.changed_at <= moment, StatusChange.to_status.in_(RECORDED))
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .limit(1)
    )
    if recorded is not None:
        status = recorded
    elif given >= course.doses_total:
        status = CourseStatus.COMPLETED.value
    else:
        status = CourseStatus.IN_PROGRESS.value if given else CourseStatus.AUTHORIZED.value
    return {"number": course.number, "status": status, "doses_total": course.doses_total,
            "doses_given": given}  # fmt: skip
