"""The infusion record's checks (program §5) as pure functions. The record is the truth of what
happened at the chair, so its problems are of two kinds:

- *impossible data* (`infusion_errors`) is refused, each message under its field: a time later
  than now, a start on another day than the one recorded, an end before its start, a second
  infusion that day (or a day before the course's previous dose), a reaction grade the program
  does not know;
- *protocol deviations* (`infusion_deviations`) are recorded with the dose and flagged: each one
  a code (the program file gives its severity and party), the field it concerns, a message, and
  the facts that triggered it.

Only the administered date is held against the authorization's validity: a dose given on a valid
day may be entered later (a late entry is no deviation)."""

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
    #: Doses the authorization still has to give (0 when used up or reversed).
    doses_left: int = 1
    #: The moment of recording: no time of the record may be later.
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class Deviation:
    """A protocol deviation found in a record: stored with the dose, never a refusal."""

    code: str
    field: str
    message: str
    #: What triggered it, as plain JSON values (dates as ISO strings).
    facts: dict


def infusion_errors(facts: InfusionFacts) -> dict[str, list[str]]:
    """Every impossible fact of the record, by field; empty when it may be stored."""
    errors: dict[str, list[str]] = {}
    for name, message in (*_order_problems(facts), *_time_problems(facts)):
        errors.setdefault(name, []).append(message)
    if facts.reaction not in facts.reaction_grades:
        errors.setdefault("reaction", []).append(
            f"Choose one of: {', '.join(facts.reaction_grades)}."
        )
    return errors


def infusion_deviations(facts: InfusionFacts) -> tuple[Deviation, ...]:
    """Every protocol deviation of a record that has no impossible fact, in field order."""
    return (*_authorization_deviations(facts), *_course_deviations(facts),
            *_check_deviations(facts), *_observation_deviations(facts))  # fmt: skip


def _order_problems(facts: InfusionFacts):
    """One infusion a day, each after the course's previous one."""
    if facts.last_dose_on is not None and facts.administered_on <= facts.last_dose_on:
        yield (
            "administered_on",
            f"The previous dose was given on {facts.last_dose_on}; one infusion per day, each "
            "after the previous one.",
        )


def _time_problems(facts: InfusionFacts):
    """Start on the recorded day, end after start, observation not before the end, none later
    than now."""
    if facts.started_at.astimezone(facts.zone).date() != facts.administered_on:
        yield (
            "infusion_started_at",
            f"The infusion starts on the day it is recorded for ({facts.administered_on}, "
            "the site's local date).",
        )
    if facts.ended_at <= facts.started_at:
        yield "infusion_ended_at", "The infusion ends after it starts."
    if facts.observation_ended_at < facts.ended_at:
        yield "observation_ended_at", "The observation ends after the infusion ends."
    if facts.now is None:
        return
    for name, moment in (
        ("infusion_started_at", facts.started_at),
        ("infusion_ended_at", facts.ended_at),
        ("observation_ended_at", facts.observation_ended_at),
    ):
        if moment > facts.now:
            yield name, "This time is later than now at the site."


def _authorization_deviations(facts: InfusionFacts):
    """Given outside the validity window, or beyond the authorization's doses."""
    day = facts.administered_on
    if not facts.valid_from <= day <= facts.valid_until:
        yield Deviation(
            "outside_validity",
            "administered_on",
            f"Given outside the authorization's validity ({facts.valid_from} to "
            f"{facts.valid_until}).",
            {"administered_on": str(day), "valid_from": str(facts.valid_from),
             "valid_until": str(facts.valid_until)},
        )  # fmt: skip
    if facts.doses_left < 1:
        yield Deviation(
            "beyond_authorized_doses",
            "administered_on",
            "Given beyond the authorization's doses: every dose it authorized was given, or it "
            "was reversed.",
            {"administered_on": str(day), "dose_number": facts.dose_number},
        )


def _course_deviations(facts: InfusionFacts):
    """Dose 1 after first_dose_by, or sooner than the interval after the prior course."""
    day = facts.administered_on
    if facts.dose_number == 1 and facts.first_dose_by and day > facts.first_dose_by:
        yield Deviation(
            "first_dose_late",
            "administered_on",
            f"The first dose was due by {facts.first_dose_by}: a baseline test was too old.",
            {"administered_on": str(day), "first_dose_by": str(facts.first_dose_by)},
        )
    if facts.dose_number == 1 and facts.prior_course_last_dose:
        earliest = add_months(facts.prior_course_last_dose, facts.min_months_between_courses)
        if day < earliest:
            yield Deviation(
                "course_interval_short",
                "administered_on",
                f"The prior course ended on {facts.prior_course_last_dose}; this course was due "
                f"to start on {earliest} at the earliest.",
                {"administered_on": str(day), "prior_course_last_dose":
                 str(facts.prior_course_last_dose), "earliest": str(earliest)},
            )  # fmt: skip


def _check_deviations(facts: InfusionFacts):
    """The pre-infusion checks and the premedication this dose needed."""
    dose = {"dose_number": facts.dose_number}
    if not facts.identity_verified:
        yield Deviation("identity_not_verified", "identity_verified",
                        "The patient's identity was not verified.", dose)  # fmt: skip
    if not facts.no_active_infection:
        yield Deviation("infused_despite_infection", "no_active_infection",
                        "Infused despite signs of an active infection.", dose)  # fmt: skip
    if facts.dose_number <= facts.premedication_doses and not facts.corticosteroid_premedication:
        yield Deviation(
            "premedication_missing",
            "corticosteroid_premedication",
            f"Dose {facts.dose_number} was given without corticosteroid premedication (doses "
            f"1–{facts.premedication_doses}).",
            dose,
        )
    if facts.dose_number == facts.antiviral_from_dose and not facts.antiviral_prophylaxis:
        yield Deviation("antiviral_missing", "antiviral_prophylaxis",
                        "Antiviral (herpes) prophylaxis was not taken on day 1.", dose)  # fmt: skip


def _observation_deviations(facts: InfusionFacts):
    """Observation shorter than the program's minutes after the infusion ends."""
    observed = facts.observation_ended_at - facts.ended_at
    if observed < timedelta(minutes=facts.observation_minutes):
        minutes = int(observed.total_seconds() // 60)
        yield Deviation(
            "observation_short",
            "observation_ended_at",
            f"The patient was observed for {minutes} minutes after the infusion; the program "
            f"asks for {facts.observation_minutes}.",
            {"observed_minutes": minutes, "required_minutes": facts.observation_minutes},
        )
