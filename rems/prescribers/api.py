"""API lookup of a prescriber's certification by NPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import sqlalchemy as sa
from flask import Blueprint, request
from pydantic import Field

from rems.api.operations import (
    AS_OF,
    AS_OF_UNREADABLE,
    NPI_SCHEMA,
    UNAUTHORIZED,
    Answer,
    Param,
    Shape,
    operation,
)
from rems.audit.asof import as_of_argument
from rems.auth.permissions import signed_in
from rems.certification.asof_api import as_of_answer
from rems.certification.queries import status_today
from rems.common.clock import utcnow
from rems.common.errors import ValidationFailed
from rems.common.identifiers import npi_is_valid
from rems.common.localtime import program_today
from rems.errors import api_error
from rems.extensions import db
from rems.prescribers.models import Prescriber

bp = Blueprint("prescribers", __name__)
CertStatus = Literal["draft", "submitted", "certified", "suspended", "revoked", "expired"]


class PrescriberLookup(Shape):
    """A prescriber's certification as of today: one past its last day reads as expired."""

    npi: str
    name: str
    status: CertStatus
    certified_on: date | None
    expires_on: date | None
    as_of: datetime | None = Field(None, description="With ?as_of=: the moment answered for.")
    status_since: datetime | None = Field(
        None, description="With ?as_of=: when that status began, by the recorded history."
    )


@bp.get("/prescribers/<npi>")
@signed_in
@operation(
    "lookupPrescriber",
    "A prescriber's certification, by NPI",
    params=(Param("npi", "path", "The prescriber's NPI.", NPI_SCHEMA), AS_OF),
    answers={
        200: Answer("Found.", PrescriberLookup),
        400: AS_OF_UNREADABLE,
        401: UNAUTHORIZED,
        404: Answer("No prescriber is enrolled with this NPI (or was not yet at as_of)."),
        422: Answer(
            "Not a valid NPI: 10 digits with the right check digit; or as_of is in the future."
        ),
    },
)
def prescriber_lookup(npi: str):
    """A prescriber's certification status, as of today or as of ?as_of= (from the history)."""
    if not npi_is_valid(npi):
        raise ValidationFailed.single("npi", "Not a valid NPI: 10 digits with a check digit.")
    moment = as_of_argument(request.args, utcnow())
    prescriber = db.session.scalar(sa.select(Prescriber).where(Prescriber.npi == npi))
    if prescriber is None:
        return api_error(404, "No prescriber is enrolled with this NPI.")
    answer = {
        "npi": prescriber.npi,
        "name": prescriber.name,
        "status": status_today(prescriber, program_today()).value,
        "certified_on": _iso(prescriber.certified_on),
        "expires_on": _iso(prescriber.expires_on),
    }
    return answer if moment is None else as_of_answer(answer, prescriber, moment)


def _iso(day) -> str | None:
    """A date as YYYY-MM-DD, or null."""
    return day.isoformat() if day else None
