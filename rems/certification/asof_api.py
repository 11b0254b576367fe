"""The API lookups' answer about a prescriber or site as of a past moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rems.certification.queries import certification_at
from rems.errors import api_error
from rems.extensions import db
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


def as_of_answer(answer: dict[str, Any], party: Prescriber | Site, moment: datetime):
    """Today's answer with the status at `moment` from the recorded history, the moment, and
    since when that status held; a party not yet enrolled then is a 404."""
    found = certification_at(db.session, party, moment)
    if found.status is None:
        return api_error(404, "Not enrolled in the program yet at that time.")
    return answer | {
        "status": found.status,
        "as_of": _utc(moment),
        "status_since": _utc(found.since) if found.since else None,
    }


def _utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
