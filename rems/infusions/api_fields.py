"""The infusion record's JSON fields and their parsers."""

from __future__ import annotations

from rems.api.parsing import boolean, iso_date, one_of, optional_text, utc_datetime

REACTIONS = ("none", "mild", "moderate", "serious")

INFUSION_FIELDS = {
    "administered_on": (iso_date, True),
    "identity_verified": (boolean, True),
    "no_active_infection": (boolean, True),
    "corticosteroid_premedication": (boolean, True),
    "antiviral_prophylaxis": (boolean, True),
    "infusion_started_at": (utc_datetime, True),
    "infusion_ended_at": (utc_datetime, True),
    "observation_ended_at": (utc_datetime, True),
    "reaction": (one_of(REACTIONS), True),
    "notes": (optional_text(4000), False),
}
