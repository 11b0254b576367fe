"""Course authorization (the Patient Authorization and Baseline Lab Form) as a pure function:
plain facts in, every failing reason out, or the course's first-dose deadline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from rems.program.model import BaselineRule, add_months


@dataclass(frozen=True, slots=True)
class BaselineNeed:
    """One baseline test the course needs, with the program file's rule."""

    code: str
    name: str
    rule: BaselineRule


@dataclass(frozen=True, slots=True)
class OpenCourse:
    """The patient's course that is still open (authorized or in progress)."""

    number: int
    started: bool
    doses_given: int
    doses_total: int

    def described(self) -> str:
        """Its state in words: "in progress, 3 of 5 doses given" or "authorized, not started"."""
        if not self.started:
            return "authorized, not started"
        return f"in progress, {self.doses_given} of {self.doses_total} doses given"


@dataclass(frozen=True, slots=True)
class CourseFacts:
    """Everything the course decision looks at."""

    today: date
    planned_start: date
    patient_enrolled: bool
    prescriber_certified: bool
    prescriber_of_record: bool
    #: The course still open, if any; the prior course is the last one that ended.
    open_course: OpenCourse | None
    prior_last_dose: date | None
    min_months_between_courses: int
    baseline_needed: tuple[BaselineNeed, ...]
    baseline: Mapping[str, date]
    attestations_needed: tuple[str, ...]
    attested: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Problem:
    """A failing reason: a code, a message, and the form field it concerns."""

    code: str
    message: str
    field: str


@dataclass(frozen=True, slots=True)
class CourseDecision:
    """Authorized with its first-dose deadline, or refused with every reason."""

    problems: tuple[Problem, ...]
    first_dose_by: date | None

    @property
    def authorized(self) -> bool:
        """No reason to refuse."""
        return not self.problems


def decide_course(facts: CourseFacts) -> CourseDecision:
    """Every rule of program §5 for a course; all failing reasons at once."""
    problems = [*_party_problems(facts), *_baseline_problems(facts), *_interval_problems(facts)]
    problems += [
        Problem(
            "ATTESTATION_MISSING", "Affirm this statement to authorize the course.", f"attest_{a}"
        )
        for a in facts.attestations_needed
        if a not in facts.attested
    ]
    return CourseDecision(tuple(problems), None if problems else first_dose_by(facts))


def _party_problems(facts: CourseFacts) -> list[Problem]:
    """Patient enrolled; prescriber certified and of record; no course already open."""
    problems = []
    if not facts.patient_enrolled:
        problems.append(Problem("PATIENT_NOT_ENROLLED", "The patient is not enrolled.", "patient"))
    if not facts.prescriber_certified:
        problems.append(
            Problem("PRESCRIBER_NOT_CERTIFIED", "The prescriber is not certified.", "prescriber")
        )
    if not facts.prescriber_of_record:
        problems.append(
            Problem(
                "PRESCRIBER_NOT_OF_RECORD",
                "Only the prescriber of record authorizes a course.",
                "prescriber",
            )
        )
    if facts.open_course is not None:
        current = facts.open_course
        problems.append(
            Problem(
                "COURSE_ALREADY_OPEN",
                f"Course {current.number} is still open ({current.described()}); close or "
                "complete it before authorizing another.",
                "course",
            )
        )
    if facts.planned_start < facts.today:
        problems.append(
            Problem("START_IN_PAST", "The planned first infusion is in the past.", "planned_start")
        )
    return problems


def _baseline_problems(facts: CourseFacts) -> list[Problem]:
    """Each needed test on file, not after the start, and young enough on the start day."""
    problems = []
    for need in facts.baseline_needed:
        collected = facts.baseline.get(need.code)
        field_name = f"baseline_{need.code}"
        if collected is None:
            problems.append(Problem("BASELINE_MISSING", f"{need.name}: no result.", field_name))
        elif collected > facts.planned_start:
            problems.append(
                Problem(
                    "BASELINE_AFTER_START",
                    f"{need.name}: collected after the planned first infusion.",
                    field_name,
                )
            )
        elif not need.rule.accepts(collected, facts.planned_start):
            problems.append(
                Problem(
                    "BASELINE_TOO_OLD",
                    f"{need.name}: too old for the planned "
                    f"first infusion (valid until {need.rule.expires_on(collected)}).",
                    field_name,
                )
            )
    return problems


def _interval_problems(facts: CourseFacts) -> list[Problem]:
    """A later course starts at least the program's months after the prior course's last dose.
    While a course is still open there is no prior course to count from: it has not ended."""
    if facts.prior_last_dose is None or facts.open_course is not None:
        return []
    earliest = add_months(facts.prior_last_dose, facts.min_months_between_courses)
    if facts.planned_start >= earliest:
        return []
    return [
        Problem(
            "INTERVAL_TOO_SHORT",
            f"The prior course ended on {facts.prior_last_dose}; "
            f"this course may start on {earliest} at the earliest.",
            "planned_start",
        )
    ]


def first_dose_by(facts: CourseFacts) -> date | None:
    """The last day the first dose may be given: when the oldest baseline result turns too old."""
    ends = [
        n.rule.expires_on(facts.baseline[n.code])
        for n in facts.baseline_needed
        if n.code in facts.baseline
    ]
    return min(ends) if ends else None
