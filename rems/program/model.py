"""Frozen dataclasses describing a REMS program as loaded from its program file."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from rems.program.analytes import CodedResults
from rems.program.assessment_reports import AssessmentReports
from rems.program.deviations import DeviationRules
from rems.program.forms import FormsInfo
from rems.program.monitoring_states import MonitoringStates
from rems.program.safety import SafetyReporting

#: BaselineRule.courses values: the baseline is due before every course, or before course 1 only.
EVERY_COURSE = "every_course"
FIRST_COURSE = "first_course"
#: Attestation.applies_when value: applies only to a patient who is able to become pregnant.
CAN_BECOME_PREGNANT = "can_become_pregnant"
#: CertificationRules.review values.
ADMINISTRATOR_REVIEW = "administrator"
AUTOMATIC_REVIEW = "automatic"

_Item = TypeVar("_Item")


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months (may be negative), clamped to the end of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(slots=True, frozen=True)
class CertificationRules:
    """Certification of prescribers and healthcare settings."""

    period_months: int
    expiry_warning_days: int
    review: str  # ADMINISTRATOR_REVIEW or AUTOMATIC_REVIEW

    @property
    def certifies_automatically(self) -> bool:
        """Whether a complete submission certifies without an administrator's decision."""
        return self.review == AUTOMATIC_REVIEW


@dataclass(slots=True, frozen=True)
class Question:
    """One knowledge-assessment question; `answer` is the exact text of one of `choices`."""

    id: str
    text: str
    choices: tuple[str, ...]
    answer: str
    explanation: str

    def is_correct(self, choice: str) -> bool:
        """Whether `choice` is the correct answer."""
        return choice == self.answer


@dataclass(slots=True, frozen=True)
class Assessment:
    """The prescriber knowledge assessment."""

    pass_mark: int
    shuffle: bool
    questions: tuple[Question, ...]

    def passes(self, correct_answers: int) -> bool:
        """Whether a score of `correct_answers` passes."""
        return correct_answers >= self.pass_mark


@dataclass(slots=True, frozen=True)
class Attestation:
    """A signed statement; `applies_when` names a condition limiting whom it applies to."""

    id: str
    text: str
    applies_when: str | None = None


@dataclass(slots=True, frozen=True)
class AttestationSets:
    """The attestations of each form, by who signs them."""

    prescriber: tuple[Attestation, ...]
    site_all: tuple[Attestation, ...]
    site_dispenses: tuple[Attestation, ...]
    site_infuses: tuple[Attestation, ...]
    patient: tuple[Attestation, ...]
    course: tuple[Attestation, ...]

    def all(self) -> tuple[Attestation, ...]:
        """Every attestation of every form."""
        return (
            self.prescriber
            + self.site_all
            + self.site_dispenses
            + self.site_infuses
            + self.patient
            + self.course
        )


@dataclass(slots=True, frozen=True)
class DosingRules:
    """Dose, course structure and the safety measures around each infusion."""

    dose_mg: int
    route: str
    doses_per_day: int
    first_course_doses: int
    later_course_doses: int
    min_months_between_courses: int
    premedication_doses: int  # corticosteroids before doses 1..premedication_doses of a course
    antiviral_from_dose: int
    observation_minutes: int

    def course_doses(self, course_number: int) -> int:
        """Number of doses of course `course_number` (1 is the first course)."""
        if course_number < 1:
            raise ValueError(f"course numbers start at 1, got {course_number}")
        return self.first_course_doses if course_number == 1 else self.later_course_doses


@dataclass(slots=True, frozen=True)
class AuthorizationRules:
    """Course and dispensing authorization."""

    validity_days: int
    baseline_max_age_days: int
    expiry_warning_days: int


@dataclass(slots=True, frozen=True)
class MedicationCodes:
    """The drug's RxNorm and NDC codes, for the standard interfaces (FHIR, CDS Hooks)."""

    rxnorm: tuple[str, ...]
    ndc: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class MonitoringRules:
    """Program-wide monitoring settings."""

    months_after_last_dose: int
    default_grace_days: int


@dataclass(slots=True, frozen=True)
class MonitoringRule:
    """Periodic monitoring of one test: due every `every_months`, late after `grace_days`."""

    every_months: int
    grace_days: int


@dataclass(slots=True, frozen=True)
class BaselineRule:
    """A test needed before a course; exactly one of max_age_days / max_age_months is set."""

    courses: str  # EVERY_COURSE or FIRST_COURSE
    max_age_days: int | None
    max_age_months: int | None

    def applies_to(self, course_number: int) -> bool:
        """Whether course `course_number` (1 is the first) needs this baseline test."""
        return self.courses == EVERY_COURSE or course_number == 1

    def expires_on(self, collected_on: date) -> date:
        """The last day on which a result collected on `collected_on` is still a valid baseline."""
        if self.max_age_months is not None:
            return add_months(collected_on, self.max_age_months)
        return collected_on + timedelta(days=self.max_age_days or 0)

    def accepts(self, collected_on: date, first_infusion_on: date) -> bool:
        """Whether a result collected on `collected_on` is a valid baseline for that first dose."""
        return collected_on <= first_infusion_on <= self.expires_on(collected_on)


@dataclass(slots=True, frozen=True)
class LabTest:
    """A lab test or exam, with its periodic monitoring and baseline rules (either may be None)."""

    code: str
    name: str
    monitoring: MonitoringRule | None
    baseline: BaselineRule | None


@dataclass(slots=True, frozen=True)
class ProgramDocument:
    """A document patients acknowledge (e.g. the Medication Guide); its versions live in the db."""

    code: str
    title: str
    required: bool


@dataclass(slots=True, frozen=True)
class PatientRules:
    """Patient record choices."""

    max_age_years: int
    sexes: tuple[str, ...]
    close_reasons: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class AdverseEventCategory:
    """A category of adverse event recorded per patient."""

    code: str
    label: str


@dataclass(slots=True, frozen=True)
class AdverseEventRules:
    """Adverse-event categories and the grades of an infusion reaction."""

    categories: tuple[AdverseEventCategory, ...]
    reaction_grades: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class Program:
    """A whole REMS program, validated; see the program file for the meaning of each value."""

    name: str
    drug: str
    indication: str
    #: IANA time zone name (e.g. America/New_York): the program's "today" for program-wide rules.
    time_zone: str
    reacknowledge_on_new_version: bool
    acknowledgment_methods: tuple[str, ...]
    medication: MedicationCodes
    certification: CertificationRules
    assessment: Assessment
    attestations: AttestationSets
    dosing: DosingRules
    authorization: AuthorizationRules
    monitoring: MonitoringRules
    tests: tuple[LabTest, ...]
    documents: tuple[ProgramDocument, ...]
    patient: PatientRules
    adverse_events: AdverseEventRules
    deviations: DeviationRules
    assessment_reports: AssessmentReports
    monitoring_states: MonitoringStates
    coded: CodedResults
    safety_reporting: SafetyReporting
    forms: FormsInfo

    def test(self, code: str) -> LabTest:
        """The test with this code; KeyError if there is none."""
        return _find(self.tests, "code", code, "test")

    def monitored_tests(self) -> tuple[LabTest, ...]:
        """The tests with periodic monitoring, in file order."""
        return tuple(test for test in self.tests if test.monitoring is not None)

    def baseline_tests(self, course_number: int) -> tuple[LabTest, ...]:
        """The baseline tests course `course_number` needs (course 1 adds the first-course ones)."""
        if course_number < 1:
            raise ValueError(f"course numbers start at 1, got {course_number}")
        return tuple(
            test
            for test in self.tests
            if test.baseline is not None and test.baseline.applies_to(course_number)
        )

    def course_doses(self, course_number: int) -> int:
        """Number of doses of course `course_number` (1 is the first course)."""
        return self.dosing.course_doses(course_number)

    def required_documents(self) -> tuple[ProgramDocument, ...]:
        """The documents a patient must have acknowledged (current version) before dispensing."""
        return tuple(document for document in self.documents if document.required)

    def site_attestations(self, dispenses: bool, infuses: bool) -> tuple[Attestation, ...]:
        """The attestations a healthcare setting with these capabilities signs."""
        if not (dispenses or infuses):
            raise ValueError("a healthcare setting must dispense, infuse or both")
        sets = self.attestations
        return (
            sets.site_all
            + (sets.site_dispenses if dispenses else ())
            + (sets.site_infuses if infuses else ())
        )

    def patient_attestations(self, can_become_pregnant: bool) -> tuple[Attestation, ...]:
        """The attestations a patient signs; conditional ones only when their condition holds."""
        conditions = {CAN_BECOME_PREGNANT} if can_become_pregnant else set()
        return tuple(
            attestation
            for attestation in self.attestations.patient
            if attestation.applies_when is None or attestation.applies_when in conditions
        )

    def question(self, question_id: str) -> Question:
        """The assessment question with this id; KeyError if there is none."""
        return _find(self.assessment.questions, "id", question_id, "question")

    def attestation(self, attestation_id: str) -> Attestation:
        """The attestation (of any form) with this id; KeyError if there is none."""
        return _find(self.attestations.all(), "id", attestation_id, "attestation")

    def adverse_event_category(self, code: str) -> AdverseEventCategory:
        """The adverse-event category with this code; KeyError if there is none."""
        return _find(self.adverse_events.categories, "code", code, "adverse-event category")


def _find(items: Iterable[_Item], attribute: str, wanted: str, what: str) -> _Item:
    """The first item whose `attribute` equals `wanted`; KeyError naming `what` otherwise."""
    for item in items:
        if getattr(item, attribute) == wanted:
            return item
    raise KeyError(f"unknown {what} {wanted!r}")
