"""The infusion record's checks as pure functions. Impossible data is refused under its field (one
dose a day, times in order and not later than now, a known reaction grade); protocol deviations
(the validity window, dose 1's own limits, the pre-infusion checks, premedication and
prophylaxis, observation time) are returned as deviations with their facts, never as errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from rems.infusions.rules import InfusionFacts, infusion_deviations, infusion_errors
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


def codes(record: InfusionFacts) -> list[str]:
    """The deviation codes of a record."""
    return [deviation.code for deviation in infusion_deviations(record)]


def test_a_complete_record_has_no_error_and_no_deviation():
    assert infusion_errors(facts()) == {}
    assert infusion_deviations(facts()) == ()


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
def test_a_dose_outside_the_validity_is_a_deviation_not_a_refusal(day, valid):
    assert infusion_errors(dose(2, day)) == {}
    found = infusion_deviations(dose(2, day))
    if valid:
        assert found == ()
    else:
        (deviation,) = found
        assert (deviation.code, deviation.field) == ("outside_validity", "administered_on")
        assert str(VALID_UNTIL) in deviation.message
        assert deviation.facts["valid_until"] == str(VALID_UNTIL)


def test_a_dose_beyond_the_authorizations_doses_is_a_deviation():
    assert codes(dose(2, doses_left=0)) == ["beyond_authorized_doses"]
    assert infusion_errors(dose(2, doses_left=0)) == {}


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
def test_dose_one_after_first_dose_by_is_a_deviation(offset, valid):
    record = facts(DAY, first_dose_by=DAY - timedelta(days=offset))
    assert infusion_errors(record) == {}
    found = infusion_deviations(record)
    assert (found == ()) is valid
    if not valid:
        assert [d.code for d in found] == ["first_dose_late"]
        assert str(DAY - timedelta(days=1)) in found[0].message


def test_first_dose_by_does_not_bind_later_doses():
    assert codes(dose(2, DAY, first_dose_by=DAY - timedelta(days=5))) == []


@pytest.mark.parametrize(
    "last_dose", [date(2025, 11, 26), date(2025, 11, 25), date(2024, 2, 29)], ids=str
)
def test_dose_one_comes_the_program_months_after_the_prior_courses_last_dose(last_dose):
    earliest = add_months(last_dose, DOSING.min_months_between_courses)
    window = {"valid_from": earliest - timedelta(days=3), "valid_until": earliest + timedelta(3)}
    later = {"prior_course_last_dose": last_dose, "first_dose_by": earliest + timedelta(days=9)}
    assert codes(facts(earliest, **window, **later)) == []
    early = facts(earliest - timedelta(days=1), **window, **later)
    assert infusion_errors(early) == {}
    (deviation,) = infusion_deviations(early)
    assert deviation.code == "course_interval_short"
    assert str(earliest) in deviation.message
    assert deviation.facts["earliest"] == str(earliest)


def test_the_interval_binds_dose_one_only():
    prior = {"prior_course_last_dose": DAY - timedelta(days=100)}
    assert codes(facts(DAY, **prior)) == ["course_interval_short"]
    assert codes(dose(2, DAY, **prior)) == []


# Pre-infusion checks, premedication and prophylaxis.


@pytest.mark.parametrize("number", range(1, DOSING.premedication_doses + 1))
def test_missing_premedication_on_the_first_doses_is_a_deviation(number):
    record = dose(number, corticosteroid_premedication=False)
    assert infusion_errors(record) == {}
    (deviation,) = infusion_deviations(record)
    assert (deviation.code, deviation.field) == (
        "premedication_missing",
        "corticosteroid_premedication",
    )
    assert f"Dose {number}" in deviation.message


def test_premedication_is_not_required_after_the_first_doses():
    after = DOSING.premedication_doses + 1
    assert codes(dose(after, corticosteroid_premedication=False)) == []


def test_missing_antiviral_prophylaxis_on_its_first_dose_only_is_a_deviation():
    first = DOSING.antiviral_from_dose
    assert codes(dose(first, antiviral_prophylaxis=False)) == ["antiviral_missing"]
    assert codes(dose(first + 1, antiviral_prophylaxis=False)) == []


@pytest.mark.parametrize(
    ("check", "code"),
    [("identity_verified", "identity_not_verified"),
     ("no_active_infection", "infused_despite_infection")],
)  # fmt: skip
def test_each_pre_infusion_check_not_done_is_a_deviation(check, code):
    assert infusion_errors(facts(**{check: False})) == {}
    assert codes(facts(**{check: False})) == [code]


def test_the_reaction_is_one_of_the_program_grades():
    for grade in PROGRAM.adverse_events.reaction_grades:
        assert infusion_errors(facts(reaction=grade)) == {}
    assert list(infusion_errors(facts(reaction="fatal"))) == ["reaction"]


# Times: the start on the recorded day, the end after the start, observation long enough.


@pytest.mark.parametrize(("minutes", "valid"), [(OBSERVATION - 1, False), (OBSERVATION, True)])
def test_an_observation_under_the_program_minutes_is_a_deviation(minutes, valid):
    record = facts()
    observed = replace(record, observation_ended_at=record.ended_at + timedelta(minutes=minutes))
    assert infusion_errors(observed) == {}
    found = infusion_deviations(observed)
    assert (found == ()) is valid
    if not valid:
        assert [d.code for d in found] == ["observation_short"]
        assert found[0].facts == {"observed_minutes": minutes, "required_minutes": OBSERVATION}
        assert str(OBSERVATION) in found[0].message


def test_an_observation_ending_before_the_infusion_is_refused():
    record = facts()
    early = replace(record, observation_ended_at=record.ended_at - timedelta(minutes=1))
    assert list(infusion_errors(early)) == ["observation_ended_at"]


def test_a_time_later_than_now_is_refused_on_its_field():
    record = facts()
    now = record.ended_at + timedelta(minutes=30)  # the observation has not ended yet
    assert list(infusion_errors(replace(record, now=now))) == ["observation_ended_at"]
    before_end = replace(record, now=record.ended_at - timedelta(minutes=1))
    assert set(infusion_errors(before_end)) == {"infusion_ended_at", "observation_ended_at"}
    assert infusion_errors(replace(record, now=record.observation_ended_at)) == {}


def test_the_infusion_starts_on_the_recorded_day_in_utc():
    late_evening = at(DAY - timedelta(days=1), 23)
    errors = infusion_errors(replace(facts(), started_at=late_evening))
    assert list(errors) == ["infusion_started_at"]


def test_the_infusion_ends_after_it_starts():
    record = facts()
    for ended in (record.started_at, record.started_at - timedelta(minutes=1)):
        errors = infusion_errors(replace(record, ended_at=ended, observation_ended_at=at(DAY, 23)))
        assert list(errors) == ["infusion_ended_at"]


def test_every_error_and_every_deviation_is_returned_together():
    record = replace(
        facts(VALID_UNTIL + timedelta(days=1)),
        first_dose_by=ISSUED,
        prior_course_last_dose=ISSUED - timedelta(days=30),
        identity_verified=False,
        no_active_infection=False,
        corticosteroid_premedication=False,
        antiviral_prophylaxis=False,
        doses_left=0,
    )
    assert infusion_errors(record) == {}
    assert codes(record) == [
        "outside_validity",
        "beyond_authorized_doses",
        "first_dose_late",
        "course_interval_short",
        "identity_not_verified",
        "infused_despite_infection",
        "premedication_missing",
        "antiviral_missing",
    ]
    impossible = replace(
        record,
        reaction="unknown",
        started_at=at(DAY, 13),
        ended_at=at(DAY, 12),
        observation_ended_at=at(DAY, 11),
    )
    assert set(infusion_errors(impossible)) == {
        "reaction",
        "infusion_started_at",
        "infusion_ended_at",
        "observation_ended_at",
    }


def test_every_deviation_code_has_its_severity_and_party_in_the_program_file():
    for code in codes(replace(facts(VALID_UNTIL + timedelta(days=1)), first_dose_by=ISSUED,
                              prior_course_last_dose=ISSUED, identity_verified=False)):  # fmt: skip
        kind = PROGRAM.deviations.kind(code)
        assert kind.severity in ("minor", "major") and kind.party
