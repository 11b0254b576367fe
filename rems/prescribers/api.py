"""API lookup of a prescriber's certification by NPI."""

from __future__ import annotations

import sqlalchemy as sa

from rems.api import bp
from rems.auth.permissions import signed_in
from rems.certification.queries import status_today
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.identifiers import npi_is_valid
from rems.errors import api_error
from rems.extensions import db
from rems.prescribers.models import Prescriber


@bp.get("/prescribers/<npi>")
@signed_in
def prescriber_lookup(npi: str):
    """A prescriber's certification status, as of today."""
    if not npi_is_valid(npi):
        raise ValidationFailed.single("npi", "Not a valid NPI: 10 digits with a check digit.")
    prescriber = db.session.scalar(sa.select(Prescriber).where(Prescriber.npi == npi))
    if prescriber is None:
        return api_error(404, "No prescriber is enrolled with this NPI.")
    return {
        "npi": prescriber.npi,
        "name": prescriber.name,
        "status": status_today(prescriber, today()).value,
        "certified_on": _iso(prescriber.certified_on),
        "expires_on": _iso(prescriber.expires_on),
    }


def _iso(day) -> str | None:
    """A date as YYYY-MM-DD, or null."""
    return day.isoformat() if day else None
