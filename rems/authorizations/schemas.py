"""The gate's bodies and answers (api.md): the request to dispense, the grant, the denial, the
authorization as its parties read it, and the reversal. Declared once: the request models parse
the bodies, and the OpenAPI document is generated from all of them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from rems.api.fields import Count, Date, Text, described
from rems.api.operations import Shape
from rems.api.parsing import Body

#: Denial reason codes and who must act on each (api.md; rems/authorizations/rules.py).
REASON_CODES = (
    "PHARMACY_NOT_CERTIFIED",
    "SITE_NOT_CERTIFIED",
    "PRESCRIBER_NOT_CERTIFIED",
    "PRESCRIBER_NOT_OF_RECORD",
    "PATIENT_NOT_FOUND",
    "PATIENT_NOT_ENROLLED",
    "GUIDE_NOT_ACKNOWLEDGED",
    "COURSE_NOT_AUTHORIZED",
    "DOSES_EXCEEDED",
)
WARNING_CODES = ("MONITORING_OVERDUE", "CERTIFICATION_EXPIRING", "DOSE_DELAYED")
ACTION_BY = ("prescriber", "site", "patient", "program")
AuthorizationStatus = Literal["issued", "partially_used", "used", "reversed", "expired"]


class AuthorizationRequest(Body):
    """A pharmacy's request to dispense. The requester's own site is the pharmacy. Unknown
    fields are refused (422)."""

    patient_id: Text(20, "The REMS patient ID (a wrong one is denied as PATIENT_NOT_FOUND).")
    date_of_birth: described(
        Date, "Must match the patient's; a mismatch reads as PATIENT_NOT_FOUND."
    )
    prescriber_npi: Text(10, "The prescriber's NPI (ten digits, the last a check digit).")
    infusion_site_id: Text(20, "The site ID of the certified infusion site.")
    doses: Count(
        99,
        "Doses to dispense. Omitted or null: every dose of the open course not yet "
        "authorized or given.",
    ) = None


class Reversal(Body):
    """Why the holding pharmacy takes the authorization back."""

    reason: Text(2000, "Why the authorization is reversed.")


class CourseDoses(Shape):
    """The course the authorization belongs to, as it stood when answered."""

    number: int = Field(ge=1)
    doses_total: int = Field(ge=1)
    doses_given: int = Field(ge=0)
    doses_authorized: int = Field(
        ge=0, description="Doses given plus doses held by live authorizations."
    )


class GateWarning(Shape):
    """Something to know that does not block the grant or the infusion."""

    code: Literal[WARNING_CODES]
    message: str


class HeldBy(Shape):
    """The newest live authorization of the course: it holds doses the request cannot have."""

    authorization_number: str
    pharmacy_site_id: str = Field(description="The holding pharmacy.")
    pharmacy_name: str
    valid_until: date = Field(description="Its doses return to the course after this day.")
    doses_held: int = Field(ge=0, description="Doses it holds not yet given.")
    other_live_authorizations: int = Field(
        ge=0, description="Further live authorizations of the course that hold doses too."
    )


class DenialReason(Shape):
    """One failing check, and who must act on it."""

    code: Literal[REASON_CODES]
    message: str = Field(description="What is missing.")
    action_by: Literal[ACTION_BY] = Field(description="Who must act.")
    held_by: HeldBy = Field(
        default=None,
        description="DOSES_EXCEEDED only, when a live authorization holds doses of the course: "
        "which (the pharmacy can call its holder, or reverse it if it is its own).",
    )


class AuthorizationGrant(Shape):
    """The request is granted and the doses are held for it."""

    decision: Literal["authorized"]
    authorization_number: str
    patient_id: str
    course: CourseDoses
    doses: int = Field(ge=1)
    valid_from: date = Field(description="The day of issue.")
    valid_until: date = Field(description="The last day infusions may be recorded under it.")
    first_dose_by: date = Field(
        default=None,
        description="Present only while the course has not started: the last day the first "
        "dose may be given.",
    )
    warnings: list[GateWarning]


class AuthorizationDenial(Shape):
    """The request is denied with every failing reason; the decision is recorded too."""

    decision: Literal["denied"]
    decision_id: str
    reasons: list[DenialReason] = Field(min_length=1)
    warnings: list[GateWarning]


class Authorization(Shape):
    """A dispensing authorization as its parties see it."""

    authorization_number: str
    status: AuthorizationStatus = Field(
        description="A live authorization read after its last day reads as expired (and its "
        "unused doses return to the course)."
    )
    patient_id: str
    course: CourseDoses
    doses: int = Field(ge=1)
    doses_given: int = Field(ge=0)
    valid_from: date
    valid_until: date
    first_dose_by: date | None = Field(
        description="Null when the course had started when it was issued."
    )
    pharmacy_site_id: str = Field(description="The holding pharmacy.")
    infusion_site_id: str = Field(description="The receiving site.")
    issued_at: datetime
