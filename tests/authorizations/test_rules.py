"""The dispensing decision as a pure function: every reason code with who must act, every
warning, the boundaries of program §5, and every failing reason returned together."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from rems.authorizations.rules import DispenseFacts, OpenCourse, Party, decide_dispensing
from rems.authorizations.schemas import ACTION_BY, REASON_CODES, WARNING_CODES
from rems.program import DEFAULT_PROGRAM_FILE, load_program

PROGRAM = load_program(DEFAULT_PROGRAM_FILE)
TODAY = date(2026, 11, 24)
VALIDITY = PROGRAM.authorization.validity_days
EXPIRY_WARNING = PROGRAM.authorization.expiry_warning_days
BASELINE_DAYS = PROGRAM.test("cbc").baseline.max_age_days
DOSES = PROGRAM.course_doses(1)
CERTIFIED = Party(certified=True, expires_on=TODAY + timedelta(days=400))

#: api.md's table: who must act on each reason.
ACTION = {
    "PHARMACY_NOT_CERTIFIED": "program",
    "SITE_NOT_CERTIFIED": "site",
    "PRESCRIBER_NOT_CERTIFIED": "prescriber",
    "PRESCRIBER_NOT_OF_RECORD": "prescriber",
    "PATIENT_NOT_FOUND": "site",
    "PATIENT_NOT_ENROLLED": "prescriber",
    "GUIDE_NOT_ACKNOWLEDGED": "prescriber",
    "COURSE_NOT_AUTHORIZED": "prescriber",
    "DOSES_EXCEEDED": "site",
}


def course(**changes) -> OpenCourse:
    """Course 1, authorized, not started, baseline collected 5 days ago."""
    base = OpenCourse(
        number=1,
        started=False,
        doses_total=DOSES,
        doses_given=0,
        doses_held=0,
        first_dose_by=TODAY + timedelta(days=BASELINE_DAYS - 5),
        last_dose_on=None,
    )
    return replace(base, **changes)


def started(last_dose_on: date, given: int = 1, held: int = 0) -> OpenCourse:
    """Course 1 in progress; its first-dose deadline has passed (it no longer matters)."""
    return course(
        started=True,
        doses_given=given,
        doses_held=held,
        first_dose_by=TODAY - timedelta(days=10),
        last_dose_on=last_dose_on,
    )


def facts(**changes) -> DispenseFacts:
    """A request that every rule grants."""
    base = DispenseFacts(
        today=TODAY,
        pharmacy=CERTIFIED,
        site=CERTIFIED,
        prescriber=CERTIFIED,
        patient_found=True,
        patient_enrolled=True,
        prescriber_of_record=True,
        documents_missing=(),
        course=course(),
        doses_requested=None,
        monitoring_overdue=(),
        expiry_warning_days=EXPIRY_WARNING,
        validity_days=VALIDITY,
    )
    return replace(base, **changes)


def codes(decision) -> list[str]:
    return [reason.code for reason in decision.reasons]


def warning_codes(decision) -> list[str]:
    return [warning.code for warning in decision.warnings]


def test_a_complete_request_is_granted_for_every_dose_left():
    decision = decide_dispensing(facts())
    assert decision.granted and decision.reasons == () and decision.warnings == ()
    assert decision.doses == DOSES
    assert decision.valid_from == TODAY
    assert decision.valid_until == TODAY + timedelta(days=VALIDITY)
    assert decision.first_dose_by == course().first_dose_by


def test_a_started_course_is_granted_without_a_first_dose_deadline():
    decision = decide_dispensing(facts(course=started(TODAY - timedelta(days=1), given=2)))
    assert decision.granted
    assert decision.doses == DOSES - 2 and decision.first_dose_by is None


FAILING = {
    "pharmacy unknown": ({"pharmacy": None}, "PHARMACY_NOT_CERTIFIED"),
    "pharmacy not certified": ({"pharmacy": Party(certified=False)}, "PHARMACY_NOT_CERTIFIED"),
    "pharmacy cannot dispense": (
        {"pharmacy": Party(certified=True, capable=False)},
        "PHARMACY_NOT_CERTIFIED",
    ),
    "site unknown": ({"site": None}, "SITE_NOT_CERTIFIED"),
    "site not certified": ({"site": Party(certified=False)}, "SITE_NOT_CERTIFIED"),
    "site cannot infuse": ({"site": Party(certified=True, capable=False)}, "SITE_NOT_CERTIFIED"),
    "prescriber unknown": ({"prescriber": None}, "PRESCRIBER_NOT_CERTIFIED"),
    "prescriber not certified": (
        {"prescriber": Party(certified=False)},
        "PRESCRIBER_NOT_CERTIFIED",
    ),
    "prescriber not of record": ({"prescriber_of_record": False}, "PRESCRIBER_NOT_OF_RECORD"),
    "patient not found": ({"patient_found": False, "course": None}, "PATIENT_NOT_FOUND"),
    "patient not enrolled": ({"patient_enrolled": False}, "PATIENT_NOT_ENROLLED"),
    "guide not acknowledged": (
        {"documents_missing": (PROGRAM.required_documents()[0].code,)},
        "GUIDE_NOT_ACKNOWLEDGED",
    ),
    "no authorized course": ({"course": None}, "COURSE_NOT_AUTHORIZED"),
    "course without a first-dose deadline": (
        {"course": course(first_dose_by=None)},
        "COURSE_NOT_AUTHORIZED",
    ),
    "first dose deadline passed": (
        {"course": course(first_dose_by=TODAY - timedelta(days=1))},
        "COURSE_NOT_AUTHORIZED",
    ),
    "more doses than left": ({"doses_requested": DOSES + 1}, "DOSES_EXCEEDED"),
    "no dose left": ({"course": course(doses_held=DOSES)}, "DOSES_EXCEEDED"),
    "zero doses": ({"doses_requested": 0}, "DOSES_EXCEEDED"),
}


@pytest.mark.parametrize(("changes", "code"), FAILING.values(), ids=FAILING.keys())
def test_each_failing_rule_denies_with_its_reason_and_who_acts(changes, code):
    decision = decide_dispensing(facts(**changes))
    assert not decision.granted
    assert codes(decision) == [code]
    (reason,) = decision.reasons
    assert reason.action_by == ACTION[code] and reason.message
    assert decision.doses == 0 and decision.valid_from is None and decision.valid_until is None


def test_every_documented_reason_code_is_produced_and_tested():
    assert {code for _, code in FAILING.values()} == set(REASON_CODES) == set(ACTION)
    assert set(ACTION.values()) <= set(ACTION_BY)


def test_the_guide_reason_names_the_missing_documents():
    missing = tuple(document.code for document in PROGRAM.required_documents())
    (reason,) = decide_dispensing(facts(documents_missing=missing)).reasons
    for code in missing:
        assert code.replace("_", " ") in reason.message


def test_an_unknown_patient_is_not_also_a_wrong_prescriber_or_a_missing_course():
    decision = decide_dispensing(
        facts(patient_found=False, prescriber_of_record=False, patient_enrolled=False, course=None)
    )
    assert codes(decision) == ["PATIENT_NOT_FOUND"]


def test_an_uncertified_prescriber_is_not_also_reported_as_not_of_record():
    decision = decide_dispensing(
        facts(prescriber=Party(certified=False), prescriber_of_record=False)
    )
    assert codes(decision) == ["PRESCRIBER_NOT_CERTIFIED"]


def test_an_uncertified_pharmacy_hears_that_alone():
    """Issue 22, item 5: no other reason, no warning, no patient fact for a pharmacy that may
    not dispense (wrong or right date of birth alike)."""
    for found in (True, False):
        decision = decide_dispensing(
            facts(pharmacy=Party(certified=False, status="suspended"), patient_found=found,
                  monitoring_overdue=("cbc",), course=None)
        )  # fmt: skip
        assert codes(decision) == ["PHARMACY_NOT_CERTIFIED"]
        assert warning_codes(decision) == []


def test_every_failing_reason_is_returned_together():
    everything = facts(
        site=Party(certified=True, capable=False),
        prescriber=None,
        patient_enrolled=False,
        documents_missing=("medication_guide",),
        course=None,
        monitoring_overdue=("cbc",),
    )
    decision = decide_dispensing(everything)
    assert codes(decision) == [
        "SITE_NOT_CERTIFIED",
        "PRESCRIBER_NOT_CERTIFIED",
        "PATIENT_NOT_ENROLLED",
        "GUIDE_NOT_ACKNOWLEDGED",
        "COURSE_NOT_AUTHORIZED",
    ]
    assert warning_codes(decision) == ["MONITORING_OVERDUE"]  # warnings come with a denial too
    others = decide_dispensing(
        facts(prescriber_of_record=False, patient_enrolled=False, doses_requested=DOSES + 1)
    )
    assert codes(others) == ["PRESCRIBER_NOT_OF_RECORD", "PATIENT_NOT_ENROLLED", "DOSES_EXCEEDED"]


# Rule 6: a course not yet started, with every baseline test at most 30 days old today.


@pytest.mark.parametrize(("age", "granted"), [(BASELINE_DAYS, True), (BASELINE_DAYS + 1, False)])
def test_an_unstarted_course_needs_its_oldest_baseline_within_the_program_days(age, granted):
    collected = TODAY - timedelta(days=age)
    deadline = PROGRAM.test("cbc").baseline.expires_on(collected)
    decision = decide_dispensing(facts(course=course(first_dose_by=deadline)))
    assert decision.granted is granted
    if granted:
        assert decision.first_dose_by == TODAY  # the last day the first dose may be given
    else:
        assert codes(decision) == ["COURSE_NOT_AUTHORIZED"]


def test_a_started_course_is_authorized_whatever_its_baseline_age():
    assert decide_dispensing(facts(course=started(TODAY - timedelta(days=1)))).granted


# Rule 7: the doses asked for do not exceed those neither given nor held.


@pytest.mark.parametrize(("asked", "granted"), [(1, True), (2, True), (3, False)])
def test_doses_asked_against_doses_left(asked, granted):
    left_two = course(doses_given=0, doses_held=DOSES - 2)
    decision = decide_dispensing(facts(course=left_two, doses_requested=asked))
    assert decision.granted is granted
    if granted:
        assert decision.doses == asked
    else:
        assert codes(decision) == ["DOSES_EXCEEDED"]
        assert "2 left" in decision.reasons[0].message


def test_given_and_held_doses_both_count_against_the_course():
    mixed = started(TODAY - timedelta(days=1), given=2, held=2)
    assert decide_dispensing(facts(course=mixed)).doses == DOSES - 4
    assert codes(decide_dispensing(facts(course=mixed, doses_requested=2))) == ["DOSES_EXCEEDED"]


# Warnings: never a denial.


def test_overdue_monitoring_is_a_warning_naming_the_items():
    decision = decide_dispensing(facts(monitoring_overdue=("cbc", "tsh")))
    assert decision.granted and warning_codes(decision) == ["MONITORING_OVERDUE"]
    assert "cbc" in decision.warnings[0].message and "tsh" in decision.warnings[0].message


@pytest.mark.parametrize("who", ["pharmacy", "site", "prescriber"])
@pytest.mark.parametrize(
    ("days_left", "warned"),
    [(0, True), (EXPIRY_WARNING - 1, True), (EXPIRY_WARNING, False), (EXPIRY_WARNING + 1, False)],
)
def test_a_certification_ending_within_the_warning_days_is_a_warning(who, days_left, warned):
    ending = Party(certified=True, expires_on=TODAY + timedelta(days=days_left))
    decision = decide_dispensing(facts(**{who: ending}))
    assert decision.granted
    assert warning_codes(decision) == (["CERTIFICATION_EXPIRING"] if warned else [])
    if warned:
        assert str(ending.expires_on) in decision.warnings[0].message


def test_each_party_ending_soon_gets_its_own_warning():
    soon = Party(certified=True, expires_on=TODAY + timedelta(days=3))
    decision = decide_dispensing(facts(pharmacy=soon, site=soon, prescriber=soon))
    assert warning_codes(decision) == ["CERTIFICATION_EXPIRING"] * 3


def test_an_uncertified_party_is_a_reason_not_an_expiry_warning():
    lapsed = Party(certified=False, expires_on=TODAY + timedelta(days=3))
    decision = decide_dispensing(facts(site=lapsed))
    assert codes(decision) == ["SITE_NOT_CERTIFIED"] and decision.warnings == ()


def test_a_party_without_an_expiry_date_is_not_warned_about():
    assert decide_dispensing(facts(pharmacy=Party(certified=True))).warnings == ()


@pytest.mark.parametrize(("days_ago", "delayed"), [(0, False), (1, False), (2, True), (9, True)])
def test_a_course_resumed_after_a_gap_is_a_dose_delayed_warning(days_ago, delayed):
    last = TODAY - timedelta(days=days_ago)
    decision = decide_dispensing(facts(course=started(last)))
    assert decision.granted
    assert warning_codes(decision) == (["DOSE_DELAYED"] if delayed else [])


def test_an_unstarted_course_is_never_delayed():
    assert decide_dispensing(facts(course=course())).warnings == ()


def test_every_warning_at_once_and_every_code_documented():
    soon = Party(certified=True, expires_on=TODAY + timedelta(days=1))
    decision = decide_dispensing(
        facts(
            monitoring_overdue=("cbc",),
            prescriber=soon,
            course=started(TODAY - timedelta(days=5)),
        )
    )
    assert decision.granted
    assert warning_codes(decision) == [
        "MONITORING_OVERDUE",
        "CERTIFICATION_EXPIRING",
        "DOSE_DELAYED",
    ]
    assert set(warning_codes(decision)) == set(WARNING_CODES)
