"""Tests of the shipped LEMTRADA program file and of the loader's validation messages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from rems.program import DEFAULT_PROGRAM_FILE, Program, ProgramFileError, load_program

REAL_TEXT = DEFAULT_PROGRAM_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def program() -> Program:
    """The shipped program file, loaded once."""
    return load_program(DEFAULT_PROGRAM_FILE)


# --- the shipped file carries the numbers of the spec -------------------------------------------


def test_program_identity(program: Program) -> None:
    assert program.name == "LEMTRADA REMS"
    assert program.drug == "alemtuzumab"
    assert program.indication == "Relapsing forms of multiple sclerosis"
    assert program.reacknowledge_on_new_version is True
    assert program.acknowledgment_methods == ("in_person", "paper_form")


def test_the_program_has_a_time_zone(program: Program) -> None:
    assert program.time_zone == "America/New_York"


def test_certification_and_authorization_numbers(program: Program) -> None:
    assert program.certification.period_months == 24
    assert program.certification.expiry_warning_days == 30
    assert program.certification.review == "administrator"
    assert program.certification.certifies_automatically is False
    assert program.authorization.validity_days == 7
    assert program.authorization.baseline_max_age_days == 30
    assert program.authorization.expiry_warning_days == 30


def test_assessment_has_eight_questions_all_needed(program: Program) -> None:
    assessment = program.assessment
    assert len(assessment.questions) == 8
    assert assessment.pass_mark == 8
    assert assessment.shuffle is True
    assert assessment.passes(8) and not assessment.passes(7)
    for question in assessment.questions:
        assert 3 <= len(question.choices) <= 4
        assert question.answer in question.choices
        assert question.is_correct(question.answer)
    assert program.question("post_infusion_observation").answer == "At least 2 hours"
    with pytest.raises(KeyError, match="unknown question 'nope'"):
        program.question("nope")


def test_dosing_numbers(program: Program) -> None:
    dosing = program.dosing
    assert (dosing.dose_mg, dosing.route, dosing.doses_per_day) == (12, "intravenous infusion", 1)
    assert (dosing.first_course_doses, dosing.later_course_doses) == (5, 3)
    assert dosing.min_months_between_courses == 12
    assert (dosing.premedication_doses, dosing.antiviral_from_dose) == (3, 1)
    assert dosing.observation_minutes == 120
    assert [program.course_doses(n) for n in (1, 2, 3)] == [5, 3, 3]
    with pytest.raises(ValueError, match="course numbers start at 1, got 0"):
        program.course_doses(0)


def test_monitoring_table(program: Program) -> None:
    assert program.monitoring.months_after_last_dose == 48
    assert program.monitoring.default_grace_days == 7
    schedule = {
        test.code: (test.monitoring.every_months, test.monitoring.grace_days)
        for test in program.monitored_tests()
        if test.monitoring is not None
    }
    assert schedule == {
        "cbc": (1, 7),
        "creatinine": (1, 7),
        "urinalysis": (1, 7),
        "tsh": (3, 7),
        "liver": (3, 7),
        "skin_exam": (12, 30),
    }
    assert program.test("urine_protein_creatinine").monitoring is None
    with pytest.raises(KeyError, match="unknown test 'ldl'"):
        program.test("ldl")


def test_baseline_sets_for_first_and_later_courses(program: Program) -> None:
    every_course = ["cbc", "creatinine", "urinalysis", "tsh", "liver"]
    assert [t.code for t in program.baseline_tests(1)] == [
        *every_course,
        "skin_exam",
        "urine_protein_creatinine",
    ]
    assert [t.code for t in program.baseline_tests(2)] == every_course
    assert [t.code for t in program.baseline_tests(3)] == every_course
    skin, cbc = program.test("skin_exam").baseline, program.test("cbc").baseline
    assert skin is not None and (skin.max_age_days, skin.max_age_months) == (None, 12)
    assert cbc is not None and (cbc.max_age_days, cbc.max_age_months) == (30, None)


def test_baseline_age_windows(program: Program) -> None:
    cbc, skin = program.test("cbc").baseline, program.test("skin_exam").baseline
    assert cbc is not None and skin is not None
    assert cbc.expires_on(date(2026, 1, 1)) == date(2026, 1, 31)
    assert cbc.accepts(date(2026, 1, 1), date(2026, 1, 31))
    assert not cbc.accepts(date(2026, 1, 1), date(2026, 2, 1))
    assert not cbc.accepts(date(2026, 1, 2), date(2026, 1, 1))  # collected after the first dose
    assert skin.expires_on(date(2024, 2, 29)) == date(2025, 2, 28)
    assert skin.accepts(date(2025, 3, 15), date(2026, 3, 15))


def test_attestations(program: Program) -> None:
    sets = program.attestations
    groups = (sets.prescriber, sets.site_all, sets.site_dispenses, sets.site_infuses)
    groups += (sets.patient, sets.course)
    assert [len(group) for group in groups] == [5, 3, 2, 3, 4, 4]
    assert len(program.site_attestations(dispenses=True, infuses=False)) == 5
    assert len(program.site_attestations(dispenses=False, infuses=True)) == 6
    assert len(program.site_attestations(dispenses=True, infuses=True)) == 8
    with pytest.raises(ValueError, match="must dispense, infuse or both"):
        program.site_attestations(dispenses=False, infuses=False)
    assert [a.id for a in program.patient_attestations(can_become_pregnant=False)] == [
        "received_medication_guide",
        "monitoring_commitment",
        "know_warning_signs",
    ]
    assert program.patient_attestations(can_become_pregnant=True)[-1].id == "use_contraception"
    assert program.attestation("use_contraception").applies_when == "can_become_pregnant"
    assert program.attestation("observe_two_hours").applies_when is None


def test_documents_patient_and_adverse_events(program: Program) -> None:
    assert [(d.code, d.title) for d in program.required_documents()] == [
        ("medication_guide", "Medication Guide"),
        ("patient_guide", "Patient Guide"),
    ]
    assert program.patient.max_age_years == 120
    assert program.patient.sexes == ("female", "male", "other", "unknown")
    assert program.patient.close_reasons == ("death", "withdrawal_of_consent", "lost_to_follow_up")
    assert len(program.adverse_events.categories) == 15
    assert program.adverse_event_category("pml").label == (
        "Progressive multifocal leukoencephalopathy (PML)"
    )
    assert program.safety_reporting.serious_report_days == 15
    assert program.adverse_event_category("anti_gbm_disease").label == (
        "Anti-glomerular basement membrane disease"
    )
    assert program.adverse_events.reaction_grades == ("none", "mild", "moderate", "serious")


def test_program_is_immutable(program: Program) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.dosing.dose_mg = 24  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.name = "other"  # type: ignore[misc]
    assert isinstance(program.tests, tuple)
    assert isinstance(program.assessment.questions[0].choices, tuple)
    assert hash(program) == hash(load_program(DEFAULT_PROGRAM_FILE))


# --- malformed files ---------------------------------------------------------------------------


def replace(old: str, new: str, *more: str) -> Callable[[str], str]:
    """An edit replacing the first occurrence of `old` (which must exist) by `new`, pair by pair."""
    args = (old, new, *more)
    pairs = list(zip(args[::2], args[1::2], strict=True))

    def edit(text: str) -> str:
        for before, after in pairs:
            assert before in text, f"edit anchor not found: {before!r}"
            text = text.replace(before, after, 1)
        return text

    return edit


def drop(header: str) -> Callable[[str], str]:
    """An edit removing every table with this header line, up to the next header line."""

    def edit(text: str) -> str:
        pattern = re.compile(rf"^{re.escape(header)}\n.*?(?=^\[)", re.M | re.S)
        assert pattern.search(text), f"table not found: {header}"
        return pattern.sub("", text)

    return edit


UPCR = 'name = "Urine protein/creatinine ratio"\n'

# (case, edit of the real file, message after "lemtrada.toml: "); list entries count from 0.
# fmt: off
MALFORMED = [
    ("missing section", drop("[dosing]"), "dosing: required table is missing"),
    ("missing key", replace("dose_mg = 12", ""), "dosing.dose_mg: required key is missing"),
    ("missing array of tables", drop("[[documents]]"),
     "documents: required array of tables is missing"),
    ("unknown key", replace("dose_mg = 12", "dose_mg = 12\ndose_gm = 12"),
     "dosing.dose_gm: unknown key (expected one of: dose_mg, route, doses_per_day, "),
    ("unknown section", lambda text: text + "\n[extras]\nx = 1\n", "extras: unknown key"),
    ("unknown key in a test", replace("every_months = 1 ", "every_month = 1 "),
     "tests[0].every_month: unknown key (expected one of: code, name, every_months, "),
    ("string for an integer", replace("first_course_doses = 5", 'first_course_doses = "five"'),
     "dosing.first_course_doses: must be a positive integer, got 'five' (a string)"),
    ("bool given as int", replace("validity_days = 7", "validity_days = true"),
     "authorization.validity_days: must be a positive integer, got true (a boolean)"),
    ("float given as int", replace("dose_mg = 12", "dose_mg = 12.0"),
     "dosing.dose_mg: must be a positive integer, got 12.0 (a float)"),
    ("zero", replace("first_course_doses = 5", "first_course_doses = 0"),
     "dosing.first_course_doses: must be a positive integer, got 0"),
    ("negative", replace("period_months = 24", "period_months = -24"),
     "certification.period_months: must be a positive integer, got -24"),
    ("negative grace", replace("grace_days = 30", "grace_days = -1"),
     "tests[5].grace_days: must be a non-negative integer, got -1"),
    ("int given as bool", replace("shuffle = true", "shuffle = 1"),
     "assessment.shuffle: must be true or false, got 1"),
    ("empty string", replace('name = "LEMTRADA REMS"', 'name = "  "'),
     "program.name: must be a non-empty string, got '  ' (a string)"),
    ("value not allowed", replace('review = "administrator"', 'review = "manual"'),
     "certification.review: must be one of 'administrator', 'automatic', got 'manual'"),
    ("code not snake_case", replace('code = "cbc"', 'code = "CBC"'),
     "tests[0].code: must be a snake_case identifier (a-z, 0-9 and single underscores), "
     "got 'CBC'"),
    ("table given as a value", lambda text: "patient = 5\n" + drop("[patient]")(text),
     "patient: must be a table, got 5"),
    ("string given as a list", replace('["in_person", "paper_form"]', '"x"'),
     "program.acknowledgment_methods: must be an array of strings, got 'x' (a string)"),
    ("duplicate test code", replace('code = "creatinine"', 'code = "cbc"'),
     "tests[1].code: duplicate test code 'cbc' (already used at tests[0].code)"),
    ("duplicate question id", replace('"course_structure"', '"who_prescribes_and_infuses"'),
     "assessment.questions[1].id: duplicate question id 'who_prescribes_and_infuses' "
     "(already used at assessment.questions[0].id)"),
    ("duplicate attestation id", replace('id = "keep_records"', 'id = "order_monitoring"'),
     "attestations.site_all[1].id: duplicate attestation id 'order_monitoring' "
     "(already used at attestations.prescriber[2].id)"),
    ("duplicate value in a list", replace('"male", "other"', '"male", "male"'),
     "patient.sexes[2]: duplicate value 'male' (already used at patient.sexes[1])"),
    ("answer not among choices", replace('answer = "At least 2 hours"', 'answer = "3 hours"'),
     "assessment.questions[3].answer: '3 hours' is not one of the question's choices"),
    ("too few choices", replace('"At least 30 minutes",', "", '"At least 2 hours",', ""),
     "assessment.questions[3].choices: must have 3 to 4 entries, got 2"),
    ("pass mark above question count", replace("pass_mark = 8", "pass_mark = 9"),
     "assessment.pass_mark: 9 is more than the number of questions (8)"),
    ("unknown attestation condition", replace('= "can_become_pregnant"', '= "is_pregnant"'),
     "attestations.patient[3].applies_when: must be one of 'can_become_pregnant', "
     "got 'is_pregnant'"),
    ("condition on a prescriber attestation",
     replace('id = "order_monitoring"', 'id = "order_monitoring"\napplies_when = "x"'),
     "attestations.prescriber[2].applies_when: unknown key (expected one of: id, text)"),
    ("unknown baseline rule", replace('baseline = "first_course"', 'baseline = "2nd_course"'),
     "tests[5].baseline: must be one of 'every_course', 'first_course', got '2nd_course'"),
    ("baseline age in days and months",
     replace("max_age_months = 12", "max_age_months = 12\nbaseline_max_age_days = 9"),
     "tests[5].baseline_max_age_days: cannot be combined with baseline_max_age_months"),
    ("grace without periodic monitoring", replace(UPCR, UPCR + "grace_days = 7\n"),
     "tests[6].grace_days: only allowed together with every_months"),
    ("baseline age without baseline",
     replace('baseline = "every_course"', "baseline_max_age_days = 9"),
     "tests[0].baseline_max_age_days: only allowed together with baseline"),
    ("test with neither monitoring nor baseline", replace(UPCR + 'baseline = "first_course"', UPCR),
     "tests[6]: needs every_months, baseline, or both"),
    ("interval longer than monitoring", replace("every_months = 12", "every_months = 60"),
     "tests[5].every_months: 60 is more than monitoring.months_after_last_dose (48)"),
    ("missing time zone", replace('time_zone = "America/New_York"', ""),
     "program.time_zone: required key is missing"),
    ("unknown time zone", replace('"America/New_York"', '"America/Springfield"'),
     "program.time_zone: must be an IANA time zone name such as 'America/New_York', "
     "got 'America/Springfield'"),
    ("abbreviation for a time zone", replace('"America/New_York"', '"Eastern"'),
     "program.time_zone: must be an IANA time zone name such as 'America/New_York', "
     "got 'Eastern'"),
    ("path for a time zone", replace('"America/New_York"', '"../../etc/passwd"'),
     "program.time_zone: must be an IANA time zone name such as 'America/New_York', "
     "got '../../etc/passwd'"),
    ("number for a time zone", replace('"America/New_York"', "-5"),
     "program.time_zone: must be a non-empty string, got -5"),
    ("premedication longer than a course",
     replace("premedication_doses = 3", "premedication_doses = 4"),
     "dosing.premedication_doses: 4 is more than the doses of the shortest course (3)"),
]
# fmt: on


@pytest.mark.parametrize(
    ("edit", "expected"),
    [pytest.param(edit, message, id=case) for case, edit, message in MALFORMED],
)
def test_malformed_file_is_refused_with_its_key_path(
    tmp_path: Path, edit: Callable[[str], str], expected: str
) -> None:
    path = tmp_path / "lemtrada.toml"
    path.write_text(edit(REAL_TEXT), encoding="utf-8")
    with pytest.raises(ProgramFileError) as caught:
        load_program(path)
    assert str(caught.value).startswith(f"lemtrada.toml: {expected}")


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "lemtrada.toml"
    path.write_text(REAL_TEXT.replace("[dosing]", "[dosing", 1), encoding="utf-8")
    with pytest.raises(ProgramFileError) as caught:
        load_program(path)
    message = str(caught.value)
    assert message.startswith("lemtrada.toml: invalid TOML: ")
    line = REAL_TEXT[: REAL_TEXT.index("[dosing]")].count("\n") + 1
    assert f"(at line {line}," in message


def test_missing_file_is_a_program_file_error(tmp_path: Path) -> None:
    with pytest.raises(ProgramFileError, match=r"^other\.toml: cannot read the file: "):
        load_program(tmp_path / "other.toml")
    assert issubclass(ProgramFileError, ValueError)
