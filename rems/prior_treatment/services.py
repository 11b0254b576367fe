"""Recording prior treatment: a historical course (completed, or closed when fewer doses were
given) with its doses, signed by whoever enters it. A historical course is never open, so no
authorization is ever issued against it; its doses count for monitoring and for the interval
between courses. Callers commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.audit.trail import record_event
from rems.auth.models import User
from rems.auth.signatures import sign
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import patient_practice_today
from rems.courses.models import Course, CourseStatus
from rems.courses.services import courses_of
from rems.monitoring.services import refresh_patient
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.prior_treatment.models import PriorDose
from rems.prior_treatment.rules import course_problems, dose_date_problem, source_problem

MEANING = "Records treatment given before this system, as its source document shows"
SYSTEM_COURSE = (
    "Prior treatment is entered before the patient's first course in this system; course "
    "{number} is already recorded here."
)
CLOSED = "The patient's record is closed: no prior treatment can be added."


@dataclass(frozen=True, slots=True)
class PriorCourse:
    """A prior course as entered: each dose date under the field (or row) it came from."""

    doses: Mapping[str, date]
    source_document: str


@dataclass(frozen=True, slots=True)
class NextPrior:
    """Where the next prior course of a patient goes: its number, dose count, and the day the
    previous course ended."""

    number: int
    doses_allowed: int
    after: date | None


def next_prior(session: Session, patient: Patient) -> NextPrior:
    """The patient's next prior course; StateConflict when prior treatment cannot be added."""
    if patient.status == PatientStatus.CLOSED:
        raise StateConflict(CLOSED)
    courses = courses_of(session, patient)
    current = [c for c in courses if not c.historical]
    if current:
        raise StateConflict(SYSTEM_COURSE.format(number=min(c.number for c in current)))
    number = (courses[0].number + 1) if courses else 1
    after = max((c.last_dose_on for c in courses if c.last_dose_on), default=None)
    program = current_app.extensions["rems_program"]
    return NextPrior(number, program.course_doses(number), after)


def problems(
    prior: PriorCourse, nxt: NextPrior, *, born: date, today: date, where: str = "the practice"
) -> dict:
    """Every problem of the prior course, by field: each date, the dates together, the source."""
    errors: dict[str, list[str]] = {}
    for field, day in prior.doses.items():
        if message := dose_date_problem(day, today=today, born=born, after=nxt.after, where=where):
            errors.setdefault(field, []).append(message)
    whole = course_problems(list(prior.doses.values()), nxt.doses_allowed, nxt.number)
    if whole:
        errors["doses"] = whole
    if message := source_problem(prior.source_document):
        errors["source_document"] = [message]
    return errors


def record_prior_course(
    session: Session, patient: Patient, actor: User, prior: PriorCourse, *, password: str,
    today: date,
) -> Course:  # fmt: skip
    """The prescriber of record enters one prior course and signs it with their password. No
    dose is dated after today at the practice."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    if prescriber.user_id != actor.id:
        raise StateConflict("Only the prescriber of record enters prior treatment here.")
    nxt = next_prior(session, patient)
    local_today, where = patient_practice_today(session, patient)
    errors = problems(prior, nxt, born=patient.date_of_birth, today=local_today, where=where)
    if errors:
        raise ValidationFailed(errors)
    signature = sign(session, actor, password=password, meaning=MEANING, content={
        "patient_id": patient.rems_id, "course": nxt.number,
        "doses": sorted(prior.doses.values()), "source_document": prior.source_document.strip(),
    })  # fmt: skip
    sources = dict.fromkeys(prior.doses, prior.source_document.strip())
    return store_prior_course(
        session, patient, actor, nxt, prior.doses, sources, signature.id, today=today
    )


def store_prior_course(
    session: Session, patient: Patient, actor: User, nxt: NextPrior,
    doses: Mapping[str, date], sources: Mapping[str, str], signature_id: int, *,
    today: date | None = None,
) -> Course:  # fmt: skip
    """The historical course, its doses in date order, its history row and audit event; the
    patient's monitoring state takes the doses in, in the same transaction."""
    keys = sorted(doses, key=doses.get)
    summary = "; ".join(dict.fromkeys(sources[k] for k in keys))[:300]
    course = _historical_course(patient, actor, nxt, [doses[k] for k in keys], summary)
    course.signature_id = signature_id
    session.add(course)
    session.flush()
    for number, key in enumerate(keys, start=1):
        session.add(PriorDose(
            course_id=course.id, patient_id=patient.id, dose_number=number, given_on=doses[key],
            source_document=sources[key], recorded_at=utcnow(), recorded_by_id=actor.id,
        ))  # fmt: skip
    session.add(StatusChange(
        entity_type="course", entity_id=course.id, from_status=None,
        to_status=course.status.value, changed_at=utcnow(), changed_by_id=actor.id,
        reason=f"Prior treatment entered from: {summary}",
    ))  # fmt: skip
    record_event(
        session, "course.prior_recorded", actor=actor, entity=course,
        new={"patient": patient.rems_id, "number": nxt.number, "doses": sorted(doses.values()),
             "status": course.status.value, "source_document": summary},
    )  # fmt: skip
    session.flush()
    refresh_patient(session, patient.id, today=today or utcnow().date())
    return course


def _historical_course(patient, actor, nxt: NextPrior, days: list[date], summary: str) -> Course:
    """The course row: completed, or closed when fewer doses than the program's were given."""
    complete = len(days) == nxt.doses_allowed
    course = Course(
        patient_id=patient.id, number=nxt.number, doses_total=nxt.doses_allowed,
        doses_given=len(days), doses_held=0, planned_start=days[0], first_dose_on=days[0],
        last_dose_on=days[-1], prescriber_id=patient.prescriber_id, attestations={},
        authorized_at=utcnow(), prepared_by_id=actor.id, historical=True,
        source_document=summary,
        status=CourseStatus.COMPLETED if complete else CourseStatus.CLOSED,
    )  # fmt: skip
    if not complete:
        course.closed_at = utcnow()
        course.closed_reason = f"Prior treatment: {len(days)} of {nxt.doses_allowed} doses given."
    return course
