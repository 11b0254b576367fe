"""The infusion record's checks (program §5) as a pure function: field errors, or the dose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from rems.program.model import add_months


@dataclass(frozen=True, slots=True)
class InfusionFacts:
    """The infusion as recorded and the course and authorization around it."""

    administered_on: date
    identity_verified: bool
    no_active_infection: bool
    corticosteroid_premedication: bool
    antiviral_prophylaxis: bool
    started_at: datetime
    ended_at: datetime
    observation_ended_at: datetime
    reaction: str
    dose_number: int
    valid_from: date
    valid_until: date
    last_dose_on: date | None
    first_dose_by: date | None
    prior_course_last_dose: date | None
    min_months_between_courses: int
    premedication_doses: int
    antiviral_from_dose: int
    observation_minutes: int
    reaction_grades: tuple[str, ...]
    #: The site's time zone: the infusion starts on `administered_on` there.
    zone: tzinfo = UTC


def infusion_errors(facts: InfusionFacts) -> dict[str, list[str]]:
    """Every problem with the record, by field; empty when it may be stored."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name, message in _date_problems(facts):
        add(name, message)
    for name, message in _check_problems(facts):
        add(name, message)
    for name, message in _time_problems(facts):
        add(name, message)
    return errors


def _date_problems(facts: InfusionFacts):
    """Inside the validity window, after the previous dose, dose 1 inside its own limits."""
    day = facts.administered_on
    if not facts.valid_from <= day <= facts.valid_until:
        yield (
            "administered_on",
            (f"Outside the authorization's validity ({facts.valid_from} to {facts.valid_until})."),
        )
    if facts.last_dose_on is not None and day <= facts.last_dose_on:
        yield (
            "administered_on",
            (
                f"The previous dose was given on {facts.last_dose_on}; one "
                "infusion per day, each after the previous one."
            ),
        )
    if facts.dose_number == 1 and facts.first_dose_by and day > facts.first_dose_by:
        yield (
            "administered_on",
            (
                f"The first dose had to be given by {facts.first_dose_by}: a "
                "baseline test is too old now."
            ),
        )
    if facts.dose_number == 1 and facts.prior_course_last_dose:
        earliest = add_months(facts.prior_course_last_dose, facts.min_months_between_courses)
        if day < earliest:
            yield (
                "administered_on",
                (
                    f"The prior course ended on {facts.prior_course_last_dose}; "
                    f"this course may start on {earliest} at the earliest."
                ),
            )


def _check_problems(facts: InfusionFacts):
    """The pre-infusion checks and the premedication this dose needs."""
    if not facts.identity_verified:
        yield "identity_verified", "Verify the patient's identity before the infusion."
    if not facts.no_active_infection:
        yield "no_active_infection", "Do not infuse a patient with signs of an active infection."
    if facts.dose_number <= facts.premedication_doses and not facts.corticosteroid_premedication:
        yield (
            "corticosteroid_premedication",
            (
                f"Dose {facts.dose_number} needs corticosteroid "
                "premedication immediately before the infusion."
            ),
        )
    if facts.dose_number == facts.antiviral_from_dose and not facts.antiviral_prophylaxis:
        yield (
            "antiviral_prophylaxis",
            "Antiviral (herpes) prophylaxis starts on day 1 of the course.",
        )
    if facts.reaction not in facts.reaction_grades:
        yield "reaction", f"Choose one of: {', '.join(facts.reaction_grades)}."


def _time_problems(facts: InfusionFacts):
    """Start, end and observation in order, and observation long enough."""
    if facts.started_at.astimezone(facts.zone).date() != facts.administered_on:
        yield (
            "infusion_started_at",
            f"The infusion starts on the day it is recorded for ({facts.administered_on}, "
            "the site's local date).",
        )
    if facts.ended_at <= facts.started_at:
        yield "infusion_ended_at", "The infusion ends after it starts."
    needed = facts.ended_at + timedelta(minutes=facts.observation_minutes)
    if facts.observation_ended_at < needed:
        yield (
            "observation_ended_at",
            (
                f"Observe the patient for at least "
                f"{facts.observation_minutes} minutes after the infusion."
            ),
        )
