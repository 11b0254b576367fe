"""Treatment courses: authorized on the signed Patient Authorization and Baseline Lab Form,
lapsed when never started in time, closed early. Callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.auth.signatures import sign
from rems.certification.models import CertStatus
from rems.certification.queries import status_today
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import future_errors, local_today_for_prescriber, practice_place
from rems.courses.baseline_values import checked_results, signed_values, store_baseline_results
from rems.courses.models import OPEN_COURSE_STATUSES, BaselineTest, Course, CourseStatus
from rems.courses.rules import BaselineNeed, CourseFacts, OpenCourse, decide_course
from rems.courses.settling import (
    course_history,
    end_live_authorizations,
    open_course,
    settle_course,
)
from rems.monitoring.services import refresh_patient
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber

SIGNATURE_MEANING = "Prescriber signs the Patient Authorization and Baseline Lab Form"


def _program():
    return current_app.extensions["rems_program"]


def courses_of(session: Session, patient: Patient) -> list[Course]:
    """The patient's courses, newest first."""
    return list(
        session.scalars(
            sa.select(Course).where(Course.patient_id == patient.id).order_by(Course.number.desc())
        )
    )


def baseline_needs(course_number: int) -> tuple[BaselineNeed, ...]:
    """The baseline tests course `course_number` needs, from the program file."""
    return tuple(
        BaselineNeed(t.code, t.name, t.baseline) for t in _program().baseline_tests(course_number)
    )


def course_facts(
    session: Session,
    patient: Patient,
    signer: User,
    *,
    planned_start: date,
    baseline: Mapping[str, date],
    attested: Iterable[str],
    today: date,
) -> tuple[CourseFacts, int]:
    """The facts of a course request, and the new course's number."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    current = open_course(session, patient)
    if current is not None:  # a course never started in time has lapsed: record it first
        settle_course(session, current, today)
    previous = courses_of(session, patient)
    number = (previous[0].number + 1) if previous else 1
    still_open = open_course(session, patient)
    # the prior course is one that ended: an open course's last dose so far is not its end
    ended = [c for c in previous if c.status not in OPEN_COURSE_STATUSES and c.last_dose_on]
    prior_last = max((c.last_dose_on for c in ended), default=None)
    program = _program()
    facts = CourseFacts(
        today=today,
        planned_start=planned_start,
        patient_enrolled=patient.status == PatientStatus.ENROLLED,
        prescriber_certified=status_today(prescriber, today) == CertStatus.CERTIFIED,
        prescriber_of_record=prescriber.user_id == signer.id,
        open_course=None if still_open is None else _open(still_open),
        prior_last_dose=prior_last,
        min_months_between_courses=program.dosing.min_months_between_courses,
        baseline_needed=baseline_needs(number),
        baseline=dict(baseline),
        attestations_needed=tuple(a.id for a in program.attestations.course),
        attested=frozenset(attested),
    )
    return facts, number


def _open(course: Course) -> OpenCourse:
    """The open course as the rules see it."""
    return OpenCourse(
        number=course.number,
        started=course.first_dose_on is not None,
        doses_given=course.doses_given,
        doses_total=course.doses_total,
    )


def authorize_course(
    session: Session,
    patient: Patient,
    signer: User,
    *,
    password: str,
    planned_start: date,
    baseline: Mapping[str, date],
    attested: Iterable[str],
    today: date,
    results: Mapping[str, Mapping] | None = None,
) -> Course:
    """Check every rule at once, then sign and authorize the course. The planned first infusion
    may lie ahead (not before today at the practice); the baseline tests were collected, so none
    is dated after today at the practice. `results`: the baseline tests' optional values by
    test (see rems.courses.baseline_values), stored as their results."""
    facts, number = course_facts(
        session, patient, signer, planned_start=planned_start, baseline=baseline,
        attested=attested, today=today,
    )  # fmt: skip
    decision = decide_course(facts)
    errors = _baseline_in_future(session, patient, facts)
    checked, value_errors = checked_results(results or {})
    errors |= value_errors
    if errors or not decision.authorized:
        for problem in decision.problems:
            errors.setdefault(problem.field, []).append(problem.message)
        raise ValidationFailed(errors)
    content = _signed_form(patient, number, facts) | signed_values(checked)
    signature = sign(session, signer, password=password, meaning=SIGNATURE_MEANING, content=content)
    course = _new_course(session, patient, signer, number, facts, decision, signature.id)
    course_history(session, course, None, CourseStatus.AUTHORIZED, signer, "Course authorized.")
    if checked:
        store_baseline_results(session, course, signer, checked)
        refresh_patient(session, patient.id, today=today)
    record_event(
        session, "course.authorized", actor=signer, entity=course,
        new={"patient": patient.rems_id, "number": number, "doses_total": course.doses_total,
             "planned_start": facts.planned_start, "first_dose_by": course.first_dose_by},
    )  # fmt: skip
    return course


def _baseline_in_future(session: Session, patient: Patient, facts: CourseFacts) -> dict:
    """The baseline collection dates after today at the practice, by field."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    dates = {
        f"baseline_{need.code}": (f"{need.name} collection date", facts.baseline.get(need.code))
        for need in facts.baseline_needed
    }
    today = local_today_for_prescriber(prescriber)  # the real today there, whatever was passed
    return future_errors(dates, today=today, where=practice_place(prescriber))


def _signed_form(patient: Patient, number: int, facts: CourseFacts) -> dict:
    """Exactly what the prescriber signs."""
    return {
        "form": "Patient Authorization and Baseline Lab Form",
        "patient_id": patient.rems_id,
        "course": number,
        "planned_start": facts.planned_start,
        "baseline": {n.code: facts.baseline[n.code] for n in facts.baseline_needed},
        "attestations": [{"id": a.id, "text": a.text} for a in _program().attestations.course],
    }


def _new_course(session, patient, signer, number, facts, decision, signature_id) -> Course:
    """The course row and the baseline results it was authorized on."""
    course = Course(
        patient_id=patient.id, number=number, doses_total=_program().course_doses(number),
        status=CourseStatus.AUTHORIZED, planned_start=facts.planned_start,
        first_dose_by=decision.first_dose_by, prescriber_id=patient.prescriber_id,
        attestations={"attested": sorted(facts.attested)}, signature_id=signature_id,
        authorized_at=utcnow(), prepared_by_id=signer.id,
    )  # fmt: skip
    session.add(course)
    session.flush()
    for need in facts.baseline_needed:
        collected = facts.baseline[need.code]
        session.add(BaselineTest(course_id=course.id, test_code=need.code, collected_on=collected))
    return course


def close_course(session: Session, course: Course, actor: User, *, reason: str) -> None:
    """The prescriber stops the course early; doses given still count for monitoring."""
    if course.status not in OPEN_COURSE_STATUSES:
        raise StateConflict(f"The course is {course.status.value}; only an open course closes.")
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for closing the course.")
    end_live_authorizations(session, course, reason="The course was closed.")
    course_history(session, course, course.status, CourseStatus.CLOSED, actor, reason.strip())
    old = course.status.value
    course.status = CourseStatus.CLOSED
    course.closed_at, course.closed_reason = utcnow(), reason.strip()
    record_event(
        session,
        "course.closed",
        actor=actor,
        entity=course,
        old={"status": old},
        new={"status": "closed"},
        reason=reason.strip(),
    )
