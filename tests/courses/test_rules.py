"""Course authorization as a pure function: baseline age and order, the interval after the
prior course, the parties, the attestations, and every failing reason at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from rems.courses.rules import BaselineNeed, CourseFacts, OpenCourse, decide_course
from rems.program import DEFAULT_PROGRAM_FILE, load_program
from rems.program.model import add_months

PROGRAM = load_program(DEFAULT_PROGRAM_FILE)
TODAY = date(2026, 11, 24)
START = TODAY + timedelta(days=2)
BASELINE_DAYS = PROGRAM.test("cbc").baseline.max_age_days
SKIN_MONTHS = PROGRAM.test("skin_exam").baseline.max_age_months
MIN_MONTHS = PROGRAM.dosing.min_months_between_courses
IN_PROGRESS = OpenCourse(number=1, started=True, doses_given=3, doses_total=5)
ATTESTATIONS = tuple(attestation.id for attestation in PROGRAM.attestations.course)


def needs(course_number: int) -> tuple[BaselineNeed, ...]:
    """The program file's baseline tests for this course."""
    return tuple(
        BaselineNeed(test.code, test.name, test.baseline)
        for test in PROGRAM.baseline_tests(course_number)
    )


def baseline(course_number: int, collected: date, **overrides: date | None) -> dict[str, date]:
    """Every needed test collected on one day; override (or drop, with None) any of them."""
    results = {need.code: collected for need in needs(course_number)}
    results.update(overrides)
    return {code: day for code, day in results.items() if day is not None}


def facts(course_number: int = 1, **changes) -> CourseFacts:
    """A course the rules authorize: every baseline collected 5 days before the start."""
    base = CourseFacts(
        today=TODAY,
        planned_start=START,
        patient_enrolled=True,
        prescriber_certified=True,
        prescriber_of_record=True,
        open_course=None,
        prior_last_dose=None,
        min_months_between_courses=MIN_MONTHS,
        baseline_needed=needs(course_number),
        baseline=baseline(course_number, START - timedelta(days=5)),
        attestations_needed=ATTESTATIONS,
        attested=frozenset(ATTESTATIONS),
    )
    return replace(base, **changes)


def problems(decision) -> list[tuple[str, str]]:
    return [(problem.code, problem.field) for problem in decision.problems]


def test_a_complete_form_is_authorized_until_the_oldest_baseline_turns_too_old():
    decision = decide_course(facts())
    assert decision.authorized and decision.problems == ()
    assert decision.first_dose_by == START - timedelta(days=5) + timedelta(days=BASELINE_DAYS)


def test_the_first_course_needs_the_first_course_tests_and_later_ones_do_not():
    first = {need.code for need in needs(1)}
    later = {need.code for need in needs(2)}
    assert {"skin_exam", "urine_protein_creatinine"} <= first - later
    assert {"cbc", "creatinine", "urinalysis", "tsh", "liver"} <= later
    assert decide_course(facts(2)).authorized


@pytest.mark.parametrize(
    ("age", "authorized"), [(0, True), (BASELINE_DAYS, True), (BASELINE_DAYS + 1, False)]
)
def test_a_baseline_test_is_valid_up_to_the_program_days_before_the_planned_start(age, authorized):
    collected = START - timedelta(days=age)
    decision = decide_course(facts(baseline=baseline(1, START, cbc=collected)))
    assert decision.authorized is authorized
    if authorized:
        assert decision.first_dose_by == collected + timedelta(days=BASELINE_DAYS) >= START
    else:
        assert problems(decision) == [("BASELINE_TOO_OLD", "baseline_cbc")]
        assert decision.first_dose_by is None


def test_the_skin_exam_is_valid_for_the_program_months_to_the_day():
    in_time = add_months(START, -SKIN_MONTHS)
    assert decide_course(facts(baseline=baseline(1, START, skin_exam=in_time))).authorized
    too_old = in_time - timedelta(days=1)
    refused = decide_course(facts(baseline=baseline(1, START, skin_exam=too_old)))
    assert problems(refused) == [("BASELINE_TOO_OLD", "baseline_skin_exam")]


def test_a_baseline_collected_after_the_planned_start_is_refused():
    on_start = decide_course(facts(baseline=baseline(1, START)))
    assert on_start.authorized
    late = decide_course(facts(baseline=baseline(1, START, tsh=START + timedelta(days=1))))
    assert problems(late) == [("BASELINE_AFTER_START", "baseline_tsh")]


def test_every_missing_baseline_test_is_named():
    decision = decide_course(facts(baseline=baseline(1, START, liver=None, skin_exam=None)))
    assert problems(decision) == [
        ("BASELINE_MISSING", "baseline_liver"),
        ("BASELINE_MISSING", "baseline_skin_exam"),
    ]


def test_first_dose_by_is_the_day_the_oldest_baseline_turns_too_old():
    skin = add_months(START, -SKIN_MONTHS) + timedelta(days=10)  # valid 10 more days
    cbc = START - timedelta(days=2)  # valid BASELINE_DAYS - 2 more days
    decision = decide_course(facts(baseline=baseline(1, START, skin_exam=skin, cbc=cbc)))
    assert decision.first_dose_by == add_months(skin, SKIN_MONTHS) == START + timedelta(days=10)
    oldest = START - timedelta(days=20)
    decision = decide_course(facts(baseline=baseline(1, START, creatinine=oldest)))
    assert decision.first_dose_by == oldest + timedelta(days=BASELINE_DAYS)


# The interval after the prior course's last dose: 12 calendar months to the day.


@pytest.mark.parametrize(
    "last_dose", [date(2025, 11, 20), date(2025, 1, 31), date(2024, 2, 29)], ids=str
)
def test_a_later_course_starts_the_program_months_after_the_prior_last_dose(last_dose):
    earliest = add_months(last_dose, MIN_MONTHS)
    for start, authorized in ((earliest, True), (earliest - timedelta(days=1), False)):
        later = facts(
            2,
            today=start,
            planned_start=start,
            prior_last_dose=last_dose,
            baseline=baseline(2, start - timedelta(days=3)),
        )
        decision = decide_course(later)
        assert decision.authorized is authorized, (start, decision.problems)
        if not authorized:
            assert problems(decision) == [("INTERVAL_TOO_SHORT", "planned_start")]
            assert str(earliest) in decision.problems[0].message


def test_twelve_calendar_months_from_a_leap_day_end_on_the_last_of_february():
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


def test_the_first_course_has_no_interval_rule():
    assert decide_course(facts(prior_last_dose=None)).authorized


# Parties, the open course, the start date, the attestations.

FAILING = {
    "patient not enrolled": ({"patient_enrolled": False}, ("PATIENT_NOT_ENROLLED", "patient")),
    "prescriber not certified": (
        {"prescriber_certified": False},
        ("PRESCRIBER_NOT_CERTIFIED", "prescriber"),
    ),
    "prescriber not of record": (
        {"prescriber_of_record": False},
        ("PRESCRIBER_NOT_OF_RECORD", "prescriber"),
    ),
    "a course already open": ({"open_course": IN_PROGRESS}, ("COURSE_ALREADY_OPEN", "course")),
    "start in the past": (
        {"planned_start": TODAY - timedelta(days=1), "baseline": baseline(1, TODAY - timedelta(2))},
        ("START_IN_PAST", "planned_start"),
    ),
}


@pytest.mark.parametrize(("changes", "problem"), FAILING.values(), ids=FAILING.keys())
def test_each_failing_party_rule_is_a_reason(changes, problem):
    decision = decide_course(facts(**changes))
    assert problems(decision) == [problem]
    assert decision.first_dose_by is None


def test_a_second_course_while_the_first_is_open_says_so_and_nothing_about_its_end():
    for open_course, state in (
        (IN_PROGRESS, "in progress, 3 of 5 doses given"),
        (OpenCourse(number=1, started=False, doses_given=0, doses_total=5), "not started"),
    ):
        decision = decide_course(facts(2, open_course=open_course, prior_last_dose=TODAY))
        assert problems(decision) == [("COURSE_ALREADY_OPEN", "course")]
        message = decision.problems[0].message
        assert message.startswith("Course 1 is still open (") and state in message
        assert "close or complete it before authorizing another" in message
        assert "ended" not in message


def test_a_start_today_is_not_in_the_past():
    assert decide_course(facts(planned_start=TODAY, baseline=baseline(1, TODAY))).authorized


@pytest.mark.parametrize("missing", ATTESTATIONS)
def test_each_attestation_is_required(missing):
    decision = decide_course(facts(attested=frozenset(ATTESTATIONS) - {missing}))
    assert problems(decision) == [("ATTESTATION_MISSING", f"attest_{missing}")]


def test_every_failing_reason_is_returned_together():
    everything = facts(
        2,
        patient_enrolled=False,
        prescriber_certified=False,
        prescriber_of_record=False,
        open_course=IN_PROGRESS,
        prior_last_dose=START - timedelta(days=200),
        baseline=baseline(
            2,
            START - timedelta(days=1),
            cbc=None,
            tsh=START - timedelta(days=BASELINE_DAYS + 1),
            liver=START + timedelta(days=1),
        ),
        attested=frozenset(),
    )
    decision = decide_course(everything)
    assert not decision.authorized and decision.first_dose_by is None
    assert problems(decision) == [
        ("PATIENT_NOT_ENROLLED", "patient"),
        ("PRESCRIBER_NOT_CERTIFIED", "prescriber"),
        ("PRESCRIBER_NOT_OF_RECORD", "prescriber"),
        ("COURSE_ALREADY_OPEN", "course"),
        ("BASELINE_MISSING", "baseline_cbc"),
        ("BASELINE_TOO_OLD", "baseline_tsh"),
        ("BASELINE_AFTER_START", "baseline_liver"),
        # no INTERVAL_TOO_SHORT: while a course is open, no course has ended to count from
        *[("ATTESTATION_MISSING", f"attest_{a}") for a in ATTESTATIONS],
    ]
