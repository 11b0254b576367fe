"""The dispensing decision (program §5, api.md reason codes) as a pure function: facts in,
a grant or every failing reason with who must act, plus warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from rems.authorizations import messages


@dataclass(frozen=True, slots=True)
class Party:
    """A certified party as the decision sees it (status already as of today)."""

    certified: bool
    capable: bool = True  # dispenses for the pharmacy, infuses for the receiving site
    expires_on: date | None = None
    #: The certification's status as of today (draft, submitted, certified, suspended, …).
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Holder:
    """The newest live authorization of the course: it holds doses the request cannot have."""

    number: str
    pharmacy: str
    pharmacy_site_id: str
    valid_until: date
    doses_held: int
    yours: bool  # held by the requesting pharmacy: it can reverse it itself
    others: int = 0  # further live authorizations of the course

    def as_detail(self) -> dict[str, Any]:
        """The structured form an API reason carries (`held_by`)."""
        return {
            "authorization_number": self.number,
            "pharmacy_site_id": self.pharmacy_site_id,
            "pharmacy_name": self.pharmacy,
            "valid_until": self.valid_until.isoformat(),
            "doses_held": self.doses_held,
            "other_live_authorizations": self.others,
        }


@dataclass(frozen=True, slots=True)
class OpenCourse:
    """The patient's open course (authorized or in progress)."""

    number: int
    started: bool
    doses_total: int
    doses_given: int
    doses_held: int
    first_dose_by: date | None
    last_dose_on: date | None
    held_by: Holder | None = None

    @property
    def doses_left(self) -> int:
        """Doses neither given nor held by a live authorization."""
        return self.doses_total - self.doses_given - self.doses_held


@dataclass(frozen=True, slots=True)
class DispenseFacts:
    """Everything the decision looks at."""

    today: date
    pharmacy: Party | None
    site: Party | None
    prescriber: Party | None
    patient_found: bool
    patient_enrolled: bool = False
    prescriber_of_record: bool = False
    documents_missing: tuple[str, ...] = ()
    course: OpenCourse | None = None
    doses_requested: int | None = None
    monitoring_overdue: tuple[str, ...] = ()
    expiry_warning_days: int = 30
    validity_days: int = 7


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a request is denied, and who must act (`held_by`: DOSES_EXCEEDED's holder)."""

    code: str
    message: str
    action_by: str
    held_by: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Warning_:
    """Something to know that does not block the grant."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class DispenseDecision:
    """A grant (doses, validity, first-dose deadline) or every reason to deny; warnings too."""

    reasons: tuple[Reason, ...]
    warnings: tuple[Warning_, ...] = field(default_factory=tuple)
    doses: int = 0
    valid_from: date | None = None
    valid_until: date | None = None
    first_dose_by: date | None = None

    @property
    def granted(self) -> bool:
        """No reason to deny."""
        return not self.reasons


def decide_dispensing(facts: DispenseFacts) -> DispenseDecision:
    """Grant only when every rule holds; otherwise deny with every failing reason. A pharmacy
    that may not dispense hears that alone: no other reason, no warning, no patient fact (its
    requests would otherwise confirm dates of birth and read treatment status)."""
    if refusal := _pharmacy_refusal(facts):
        return DispenseDecision((refusal,))
    reasons = [*_party_reasons(facts), *_patient_reasons(facts)]
    course_reason, doses = _course_reasons(facts)
    reasons += course_reason
    warnings = tuple(_warnings(facts))
    if reasons:
        return DispenseDecision(tuple(reasons), warnings)
    course = facts.course
    return DispenseDecision(
        (),
        warnings,
        doses=doses,
        valid_from=facts.today,
        valid_until=facts.today + timedelta(days=facts.validity_days),
        first_dose_by=None if course.started else course.first_dose_by,
    )


def _pharmacy_refusal(facts: DispenseFacts) -> Reason | None:
    """Rule 1: the requesting pharmacy is certified and dispenses."""
    if facts.pharmacy and facts.pharmacy.certified and facts.pharmacy.capable:
        return None
    message = messages.pharmacy_not_certified(facts.pharmacy)
    return Reason("PHARMACY_NOT_CERTIFIED", message, "program")


def _party_reasons(facts: DispenseFacts) -> list[Reason]:
    """Rules 2–3: receiving site, prescriber (the pharmacy is certified)."""
    reasons = []
    if not (facts.site and facts.site.certified and facts.site.capable):
        reasons.append(
            Reason(
                "SITE_NOT_CERTIFIED",
                "The receiving site is unknown, not certified, or not an infusion site.",
                "site",
            )
        )
    if not (facts.prescriber and facts.prescriber.certified):
        reasons.append(
            Reason(
                "PRESCRIBER_NOT_CERTIFIED",
                "The prescriber is unknown or not certified.",
                "prescriber",
            )
        )
    elif facts.patient_found and not facts.prescriber_of_record:
        reasons.append(
            Reason(
                "PRESCRIBER_NOT_OF_RECORD",
                "The prescriber is not the patient's prescriber of record.",
                "prescriber",
            )
        )
    return reasons


def _patient_reasons(facts: DispenseFacts) -> list[Reason]:
    """Rules 4–5: the patient found, enrolled, current guides acknowledged."""
    if not facts.patient_found:
        return [
            Reason("PATIENT_NOT_FOUND", "No patient with this REMS ID and date of birth.", "site")
        ]
    reasons = []
    if not facts.patient_enrolled:
        reasons.append(
            Reason(
                "PATIENT_NOT_ENROLLED",
                "The patient is not enrolled (pending, discontinued or closed).",
                "prescriber",
            )
        )
    if facts.documents_missing:
        names = ", ".join(code.replace("_", " ") for code in facts.documents_missing)
        reasons.append(
            Reason(
                "GUIDE_NOT_ACKNOWLEDGED",
                f"The patient has not acknowledged the current version of: {names}.",
                "prescriber",
            )
        )
    return reasons


def _course_reasons(facts: DispenseFacts) -> tuple[list[Reason], int]:
    """Rules 6–7: an authorized course still within its baseline window; doses left."""
    course = facts.course
    if not facts.patient_found:
        return [], 0
    if course is None:
        return [
            Reason(
                "COURSE_NOT_AUTHORIZED",
                "The patient has no authorized treatment course.",
                "prescriber",
            )
        ], 0
    if not course.started and (course.first_dose_by is None or facts.today > course.first_dose_by):
        return [
            Reason(
                "COURSE_NOT_AUTHORIZED",
                "The course has not started and a baseline test "
                "is now too old; the prescriber must authorize the course again.",
                "prescriber",
            )
        ], 0
    doses = course.doses_left if facts.doses_requested is None else facts.doses_requested
    if doses < 1 or doses > course.doses_left:
        holder = course.held_by
        message = messages.doses_exceeded(doses, course.doses_left, holder)
        detail = holder.as_detail() if holder else None
        return [Reason("DOSES_EXCEEDED", message, "site", detail)], 0
    return [], doses


def _warnings(facts: DispenseFacts) -> list[Warning_]:
    """Overdue monitoring, certifications ending soon, a course resumed after a gap."""
    warnings = []
    if facts.monitoring_overdue:
        warnings.append(
            Warning_(
                "MONITORING_OVERDUE",
                "Overdue monitoring: " + ", ".join(facts.monitoring_overdue) + ".",
            )
        )
    horizon = facts.today + timedelta(days=facts.expiry_warning_days)
    for who, party in (
        ("pharmacy", facts.pharmacy),
        ("receiving site", facts.site),
        ("prescriber", facts.prescriber),
    ):
        if party and party.certified and party.expires_on and party.expires_on < horizon:
            warnings.append(
                Warning_(
                    "CERTIFICATION_EXPIRING",
                    f"The {who}'s certification ends on {party.expires_on}.",
                )
            )
    course = facts.course
    gap = course and course.started and course.last_dose_on
    if gap and facts.today > course.last_dose_on + timedelta(days=1):
        warnings.append(
            Warning_(
                "DOSE_DELAYED",
                f"The last dose was on {course.last_dose_on}; the course continues after a gap.",
            )
        )
    return warnings
