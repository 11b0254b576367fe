"""The infusion record's body and answer (api.md): the same classes parse the request and
describe it in the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rems.api.fields import Choice, Confirmed, Date, Flag, OptionalText, UtcDateTime, described
from rems.api.operations import Shape
from rems.api.parsing import Body
from rems.authorizations.schemas import AuthorizationStatus, GateWarning

REACTIONS = ("none", "mild", "moderate", "serious")


class InfusionRecord(Body):
    """One dose given under the authorization. The checks that fail are reported together,
    each under its field (422)."""

    administered_on: described(
        Date,
        "Not after today at the site (its time zone); within the validity window and after the "
        "course's previous dose; for dose 1 no later than first_dose_by and at least 12 months "
        "after the prior course's last dose.",
    )
    identity_verified: described(Confirmed, "The patient's identity was checked.")
    no_active_infection: described(Confirmed, "No active infection was found.")
    corticosteroid_premedication: described(Flag, "Must be true on doses 1–3 of a course.")
    antiviral_prophylaxis: described(Flag, "Must be true on dose 1 of a course.")
    infusion_started_at: described(
        UtcDateTime, "With a time zone; on administered_on at the site (the site's time zone)."
    )
    infusion_ended_at: described(UtcDateTime, "After the start.")
    observation_ended_at: described(UtcDateTime, "At least 120 minutes after the infusion ends.")
    reaction: Choice(REACTIONS, "`serious` also records an adverse event.")
    notes: OptionalText(4000) = None


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
