"""The infusion record's checks as a pure function: the validity window, one dose a day, dose 1's
own limits, premedication and prophylaxis, observation time, and every error at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from rems.infusions.rules import InfusionFacts, infusion_errors
from rems.program import DEFAULT_PROGRAM_FILE, load_program
from rems.program.model import add_months

PROGRAM = load_program(DEFAULT_PROGRAM_FILE)
DOSING = PROGRAM.dosing
ISSUED = date(2026, 11, 24)
VALID_UNTIL = ISSUED + timedelta(days=PROGRAM.authorization.validity_days)
DAY = ISSUED + timedelta(days=2)
OBSERVATION = DOSING.observation_minutes


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def facts(day: date = DAY, **changes) -> InfusionFacts:
    """Dose 1 of course 1 on `day`: every check done, a 4-hour infusion, 2 hours' observation."""
    ended = at(day, 17)
    base = InfusionFacts(
        administered_on=day,
        identity_verified=True,
        no_active_infection=True,
        corticosteroid_premedication=True,
        antiviral_prophylaxis=True,
        started_at=at(day, 13),
        ended_at=ended,
        observation_ended_at=ended + timedelta(minutes=OBSERVATION),
        reaction="none",
        dose_number=1,
        valid_from=ISSUED,
        valid_until=VALID_UNTIL,
        last_dose_on=None,
        first_dose_by=ISSUED + timedelta(days=20),
        prior_course_last_dose=None,
        min_months_between_courses=DOSING.min_months_between_courses,
        premedication_doses=DOSING.premedication_doses,
        antiviral_from_dose=DOSING.antiviral_from_dose,
        observation_minutes=OBSERVATION,
        reaction_grades=PROGRAM.adverse_events.reaction_grades,
    )
    return replace(base, **changes)


def dose(number: int, day: date = DAY, **changes) -> InfusionFacts:
    """Dose `number` on `day`, the previous dose the day before."""
    previous = {"last_dose_on": day - timedelta(days=1)} if number > 1 else {}
    return facts(day, dose_number=number, **{**previous, **changes})


def test_a_complete_record_has_no_error():
    assert infusion_errors(facts()) == {}


# The validity window.


@pytest.mark.parametrize(
    ("day", "valid"),
    [
        (ISSUED - timedelta(days=1), False),
        (ISSUED, True),
        (VALID_UNTIL, True),
        (VALID_UNTIL + timedelta(days=1), False),
    ],
    ids=["before valid_from", "on valid_from", "on valid_until", "after valid_until"],
)
def test_an_infusion_is_recorded_within_the_authorizations_validity(day, valid):
    errors = infusion_errors(dose(2, day))
    if valid:
        assert errors == {}
    else:
        assert list(errors) == ["administered_on"]
        assert str(VALID_UNTIL) in errors["administered_on"][0]


# One infusion per calendar day, each after the previous one.


def test_two_infusions_on_one_day_are_refused():
    errors = infusion_errors(dose(2, DAY, last_dose_on=DAY))
    assert list(errors) == ["administered_on"]
    assert "one infusion per day" in errors["administered_on"][0]


def test_an_infusion_before_the_previous_dose_is_refused():
    assert list(infusion_errors(dose(3, DAY, last_dose_on=DAY + timedelta(days=1)))) == [
        "administered_on"
    ]


def test_the_day_after_the_previous_dose_and_after_a_gap_are_accepted():
    assert infusion_errors(dose(2, DAY, last_dose_on=DAY - timedelta(days=1))) == {}
    assert infusion_errors(dose(2, DAY, last_dose_on=DAY - timedelta(days=2))) == {}


# Dose 1: no later than first_dose_by, no earlier than 12 months after the prior course.


@pytest.mark.parametrize(("offset", "valid"), [(-1, True), (0, True), (1, False)])
def test_dose_one_is_given_by_first_dose_by(offset, valid):
    errors = infusion_errors(facts(DAY, first_dose_by=DAY - timedelta(days=offset)))
    assert (errors == {}) is valid
    if not valid:
        assert list(errors) == ["administered_on"]
        assert str(DAY - timedelta(days=1)) in errors["administered_on"][0]


def test_first_dose_by_does_not_bind_later_doses():
    assert infusion_errors(dose(2, DAY, first_dose_by=DAY - timedelta(days=5))) == {}


@pytest.mark.parametrize(
    "last_dose", [date(2025, 11, 26), date(2025, 11, 25), date(2024, 2, 29)], ids=str
)
def test_dose_one_comes_the_program_months_after_the_prior_courses_last_dose(last_dose):
    earliest = add_months(last_dose, DOSING.min_months_between_courses)
    window = {"valid_from": earliest - timedelta(days=3), "valid_until": earliest + timedelta(3)}
    later = {"prior_course_last_dose": last_dose, "first_dose_by": earliest + timedelta(days=9)}
    assert infusion_errors(facts(earliest, **window, **later)) == {}
    errors = infusion_errors(facts(earliest - timedelta(days=1), **window, **later))
    assert list(errors) == ["administered_on"]
    assert str(earliest) in errors["administered_on"][0]


def test_the_interval_binds_dose_one_only():
    prior = {"prior_course_last_dose": DAY - timedelta(days=100)}
    assert list(infusion_errors(facts(DAY, **prior))) == ["administered_on"]
    assert infusion_errors(dose(2, DAY, **prior)) == {}


# Pre-infusion checks, premedication and prophylaxis.


@pytest.mark.parametrize("number", range(1, DOSING.premedication_doses + 1))
def test_corticosteroid_premedication_is_required_on_the_first_doses(number):
    errors = infusion_errors(dose(number, corticosteroid_premedication=False))
    assert list(errors) == ["corticosteroid_premedication"]
    assert f"Dose {number}" in errors["corticosteroid_premedication"][0]


def test_premedication_is_not_required_after_the_first_doses():
    after = DOSING.premedication_doses + 1
    assert infusion_errors(dose(after, corticosteroid_premedication=False)) == {}


def test_antiviral_prophylaxis_is_required_on_its_first_dose_only():
    first = DOSING.antiviral_from_dose
    assert list(infusion_errors(dose(first, antiviral_prophylaxis=False))) == [
        "antiviral_prophylaxis"
    ]
    assert infusion_errors(dose(first + 1, antiviral_prophylaxis=False)) == {}


@pytest.mark.parametrize("check", ["identity_verified", "no_active_infection"])
def test_each_pre_infusion_check_is_required(check):
    assert list(infusion_errors(facts(**{check: False}))) == [check]


def test_the_reaction_is_one_of_the_program_grades():
    for grade in PROGRAM.adverse_events.reaction_grades:
        assert infusion_errors(facts(reaction=grade)) == {}
    assert list(infusion_errors(facts(reaction="fatal"))) == ["reaction"]


# Times: the start on the recorded day, the end after the start, observation long enough.


@pytest.mark.parametrize(("minutes", "valid"), [(OBSERVATION - 1, False), (OBSERVATION, True)])
def test_observation_lasts_the_program_minutes_after_the_infusion(minutes, valid):
    record = facts()
    observed = record.ended_at + timedelta(minutes=minutes)
    errors = infusion_errors(replace(record, observation_ended_at=observed))
    assert (errors == {}) is valid
    if not valid:
        assert list(errors) == ["observation_ended_at"]
        assert str(OBSERVATION) in errors["observation_ended_at"][0]


def test_the_infusion_starts_on_the_recorded_day_in_utc():
    late_evening = at(DAY - timedelta(days=1), 23)
    errors = infusion_errors(replace(facts(), started_at=late_evening))
    assert list(errors) == ["infusion_started_at"]


def test_the_infusion_ends_after_it_starts():
    record = facts()
    for ended in (record.started_at, record.started_at - timedelta(minutes=1)):
        errors = infusion_errors(replace(record, ended_at=ended, observation_ended_at=at(DAY, 23)))
        assert list(errors) == ["infusion_ended_at"]


def test_every_error_is_returned_together():
    record = replace(
        facts(VALID_UNTIL + timedelta(days=1)),
        first_dose_by=ISSUED,
        prior_course_last_dose=ISSUED - timedelta(days=30),
        identity_verified=False,
        no_active_infection=False,
        corticosteroid_premedication=False,
        antiviral_prophylaxis=False,
        reaction="unknown",
        started_at=at(DAY, 13),
        ended_at=at(DAY, 12),
        observation_ended_at=at(DAY, 13),
    )
    errors = infusion_errors(record)
    assert set(errors) == {
        "administered_on",
        "identity_verified",
        "no_active_infection",
        "corticosteroid_premedication",
        "antiviral_prophylaxis",
        "reaction",
        "infusion_started_at",
        "infusion_ended_at",
        "observation_ended_at",
    }
    assert len(errors["administered_on"]) == 3  # validity, first_dose_by, interval
