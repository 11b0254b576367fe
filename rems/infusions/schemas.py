"""The infusion record's body and answer (api.md): the same classes parse the request and
describe it in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rems.api.fields import Choice, Date, Flag, OptionalText, Text, UtcDateTime, described
from rems.api.operations import Shape
from rems.api.parsing import Body
from rems.authorizations.schemas import AuthorizationStatus, GateWarning

REACTIONS = ("none", "mild", "moderate", "serious")


class InfusionRecord(Body):
    """One dose given under the authorization, as it happened. Impossible data (a time later
    than now at the site, an end before its start, a second infusion that day) is refused under
    its field (422 `validation_error`). Protocol deviations (a check not done, premedication or
    prophylaxis missing, observation under the program's minutes, a date outside the validity
    window or beyond the authorization's doses, dose 1 after first_dose_by or under 12 months
    after the prior course) are stored with the dose and flagged when
    `deviations_acknowledged` is true; otherwise 422 `deviations_not_acknowledged` lists each
    one under `details.deviations_acknowledged` and nothing is stored. A dose given on a valid
    day may be entered later (only `administered_on` is held against the validity)."""

    administered_on: described(
        Date,
        "Not after today at the site (its time zone) and after the course's previous dose. "
        "Outside the validity window, for dose 1 after first_dose_by or under 12 months after "
        "the prior course's last dose: a deviation.",
    )
    identity_verified: described(Flag, "The patient's identity was checked (false: a deviation).")
    no_active_infection: described(Flag, "No sign of active infection (false: a deviation).")
    corticosteroid_premedication: described(Flag, "False on doses 1–3 of a course: a deviation.")
    antiviral_prophylaxis: described(Flag, "False on dose 1 of a course: a deviation.")
    infusion_started_at: described(
        UtcDateTime, "With a time zone; on administered_on at the site (the site's time zone)."
    )
    infusion_ended_at: described(UtcDateTime, "After the start; not later than now.")
    observation_ended_at: described(
        UtcDateTime,
        "Not before the infusion ends; not later than now. Under 120 minutes after the "
        "infusion ends: a deviation.",
    )
    reaction: Choice(REACTIONS, "`serious` also records an adverse event.")
    notes: OptionalText(4000) = None
    deviations_acknowledged: described(
        Flag, "I am recording what happened: store the dose with its deviations flagged."
    ) = False
    deviation_reason: OptionalText(2000, "Why the protocol was not followed (optional).") = None


class RecordedDeviation(Shape):
    """A protocol deviation stored with the dose; it opened or joined a non-compliance case."""

    code: str = Field(description="The program file's deviation code, e.g. observation_short.")
    severity: Literal["minor", "major"]
    party: Literal["site", "prescriber", "pharmacy"] = Field(description="Who answers for it.")
    case_id: int = Field(ge=1, description="The non-compliance case it joined.")


class InfusionRecorded(Shape):
    """The dose is recorded."""

    course: int = Field(ge=1, description="The course number.")
    dose_number: int = Field(ge=1)
    authorization_status: AuthorizationStatus
    course_status: Literal["authorized", "in_progress", "completed", "lapsed", "closed"] = Field(
        description="`completed` after the course's last dose."
    )
    warnings: list[GateWarning] = Field(
        description="DOSE_DELAYED when the dose follows a gap of more than a day."
    )
    deviations: list[RecordedDeviation] = Field(
        description="The protocol deviations stored with the dose (empty when none)."
    )


class NotInfusedRecord(Body):
    """A visit under the authorization that ended without an infusion: on record, no dose."""

    visit_on: described(Date, "The day of the visit; not after today at the site.")
    reason: Text(
        40,
        "Why the patient was not infused: one of the program file's "
        "`deviations.not_infused_reasons` (as shipped: active_infection, patient_declined, "
        "reaction_before_start, other); any other value is refused under `reason` with the list.",
    )
    notes: OptionalText(4000, "What happened; required when the reason is `other`.") = None


class NotInfusedRecorded(Shape):
    """The visit is on record; no dose was counted."""

    visit_id: int = Field(ge=1)
    visit_on: str = Field(description="YYYY-MM-DD")
    reason: str
