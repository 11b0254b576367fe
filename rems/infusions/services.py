"""Recording an infusion against an authorization for the receiving site: impossible data is
refused, protocol deviations are stored with the dose once confirmed. Callers commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.adverse_events.services import record_serious_reaction
from rems.audit.trail import record_event
from rems.auth.models import User
from rems.authorizations.models import Authorization
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import future_errors, site_zone, to_local, today_in
from rems.courses.models import Course
from rems.courses.settling import settle_authorization
from rems.infusions.deviations import DeviationsToConfirm, store_deviations
from rems.infusions.dosing import doses_left, take_dose
from rems.infusions.models import Infusion, InfusionDeviation, Reaction
from rems.infusions.rules import (
    Deviation,
    InfusionFacts,
    infusion_deviations,
    infusion_errors,
)
from rems.monitoring.services import refresh_patient
from rems.sites.models import Site

#: The record's dates and times that state facts, with the words a message names them by.
FACT_LABELS = {
    "administered_on": "Infusion date",
    "infusion_started_at": "Infusion start",
    "infusion_ended_at": "Infusion end",
    "observation_ended_at": "Observation end",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """The stored infusion and what the site should know."""

    infusion: Infusion
    authorization: Authorization
    course: Course
    warnings: tuple[dict[str, str], ...]
    deviations: tuple[InfusionDeviation, ...] = ()


def record_infusion(
    session: Session,
    authorization: Authorization,
    actor: User,
    record: dict[str, Any],
    *,
    today: date,
) -> Recorded:
    """Refuse impossible data; store the dose with its protocol deviations once the person
    recording confirmed them (`record["deviations_acknowledged"]`), each opening or joining a
    non-compliance case. `today` is the site's (see `rems.common.localtime`); no date or time of
    the record may be after now at the site, whatever `today` the caller passes."""
    if actor.site_id != authorization.infusion_site_id:
        raise StateConflict("Only the receiving infusion site records infusions.")
    settle_authorization(session, authorization, today)
    course = session.get(Course, authorization.course_id)
    if course.doses_given >= course.doses_total:
        raise StateConflict(f"Course {course.number} is complete: every dose was given.")
    dose_number = course.doses_given + 1
    deviations = _checked(session, authorization, course, record, dose_number)
    previous = course.last_dose_on
    delayed = previous is not None and record["administered_on"] > previous + timedelta(days=1)
    take_dose(session, authorization, course, record["administered_on"], dose_number)
    infusion = _store(session, authorization, course, actor, record, dose_number, delayed)
    stored = store_deviations(session, infusion, deviations, actor, record)
    refresh_patient(session, course.patient_id, today=today)
    warnings = (_delay_warning(previous),) if delayed else ()
    return Recorded(infusion, authorization, course, warnings, tuple(stored))


def _checked(session, authorization, course, record, dose_number: int) -> tuple[Deviation, ...]:
    """Refuse impossible data (ValidationFailed) and unconfirmed deviations
    (DeviationsToConfirm); the confirmed deviations otherwise."""
    site = session.get(Site, authorization.infusion_site_id)
    zone = site_zone(site)
    facts = _facts(session, course, authorization, record, dose_number, zone)
    errors = _not_in_future(record, site, zone)
    for name, messages in infusion_errors(facts).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    deviations = infusion_deviations(facts)
    if deviations and not record.get("deviations_acknowledged"):
        raise DeviationsToConfirm(deviations, current_app.extensions["rems_program"])
    return deviations


def _delay_warning(previous: date) -> dict[str, str]:
    """DOSE_DELAYED: the dose follows a gap of more than a day."""
    return {
        "code": "DOSE_DELAYED",
        "message": f"The previous dose was on {previous}; this dose follows a gap.",
    }


def _not_in_future(record: dict[str, Any], site: Site, zone) -> dict[str, list[str]]:
    """The infusion date and times, none after today at the site (in the site's zone)."""
    days = {
        name: (label, _local_day(record.get(name), zone)) for name, label in FACT_LABELS.items()
    }
    return future_errors(days, today=today_in(zone), where=site.name)


def _local_day(value, zone) -> date | None:
    """A date as it is; a moment as its date at the site."""
    if value is None or not isinstance(value, date):
        return None
    return to_local(value, zone).date() if isinstance(value, datetime) else value


def _facts(session, course: Course, authorization, record, dose_number: int, zone) -> InfusionFacts:
    """The rule's view of the infusion."""
    program = current_app.extensions["rems_program"]
    prior = _prior_last_dose(session, course)
    return InfusionFacts(
        administered_on=record["administered_on"],
        identity_verified=record["identity_verified"],
        no_active_infection=record["no_active_infection"],
        corticosteroid_premedication=record["corticosteroid_premedication"],
        antiviral_prophylaxis=record["antiviral_prophylaxis"],
        started_at=record["infusion_started_at"],
        ended_at=record["infusion_ended_at"],
        observation_ended_at=record["observation_ended_at"],
        reaction=record["reaction"],
        dose_number=dose_number,
        valid_from=authorization.valid_from,
        valid_until=authorization.valid_until,
        last_dose_on=course.last_dose_on,
        first_dose_by=course.first_dose_by,
        prior_course_last_dose=prior,
        min_months_between_courses=program.dosing.min_months_between_courses,
        premedication_doses=program.dosing.premedication_doses,
        antiviral_from_dose=program.dosing.antiviral_from_dose,
        observation_minutes=program.dosing.observation_minutes,
        reaction_grades=tuple(program.adverse_events.reaction_grades),
        zone=zone,
        doses_left=doses_left(authorization),
        now=utcnow(),
    )


def _prior_last_dose(session: Session, course: Course) -> date | None:
    """The last dose of the patient's earlier courses."""
    from rems.courses.services import courses_of
    from rems.patients.models import Patient

    earlier = [
        c
        for c in courses_of(session, session.get(Patient, course.patient_id))
        if c.number < course.number and c.last_dose_on
    ]
    return max((c.last_dose_on for c in earlier), default=None)


def _store(session, authorization, course, actor, record, dose_number, delayed) -> Infusion:
    """The infusion row, its audit event, and an adverse event for a serious reaction."""
    fields = {
        k: record[k]
        for k in (
            "administered_on",
            "identity_verified",
            "no_active_infection",
            "corticosteroid_premedication",
            "antiviral_prophylaxis",
            "infusion_started_at",
            "infusion_ended_at",
            "observation_ended_at",
        )
    }
    infusion = Infusion(
        authorization_id=authorization.id,
        course_id=course.id,
        patient_id=course.patient_id,
        site_id=authorization.infusion_site_id,
        dose_number=dose_number,
        reaction=Reaction(record["reaction"]),
        notes=(record.get("notes") or None),
        recorded_at=utcnow(),
        recorded_by_id=actor.id,
        delayed=delayed,
        **fields,
    )
    session.add(infusion)
    session.flush()
    record_event(
        session,
        "infusion.recorded",
        actor=actor,
        entity=infusion,
        new={
            **fields,
            "dose_number": dose_number,
            "reaction": record["reaction"],
            "authorization": authorization.number,
            "course": course.number,
        },
    )
    if infusion.reaction == Reaction.SERIOUS:
        record_serious_reaction(session, infusion, actor, record.get("notes") or None)
    return infusion
