"""API lookup of a healthcare setting's certification by its site ID."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import Blueprint, request
from pydantic import Field

from rems.api.operations import (
    AS_OF,
    AS_OF_UNREADABLE,
    UNAUTHORIZED,
    Answer,
    Param,
    Shape,
    identifier_schema,
    operation,
)
from rems.audit.asof import as_of_argument
from rems.auth.permissions import signed_in
from rems.certification.asof_api import as_of_answer
from rems.certification.queries import status_today
from rems.common.clock import utcnow
from rems.common.errors import ValidationFailed
from rems.common.identifiers import is_valid_identifier
from rems.common.localtime import program_today
from rems.errors import api_error
from rems.extensions import db
from rems.sites.queries import SITE_ID_PREFIX, site_by_code

bp = Blueprint("sites", __name__)


class SiteLookup(Shape):
    """A healthcare setting's certification as of today."""

    site_id: str
    name: str
    capabilities: list[Literal["dispenses", "infuses"]] = Field(min_length=1)
    status: Literal["draft", "submitted", "certified", "suspended", "revoked", "expired"]
    certified_on: date | None
    expires_on: date | None
    as_of: datetime | None = Field(None, description="With ?as_of=: the moment answered for.")
    status_since: datetime | None = Field(
        None, description="With ?as_of=: when that status began, by the recorded history."
    )


@bp.get("/sites/<site_id>")
@signed_in
@operation(
    "lookupSite",
    "A healthcare setting's certification, by site ID",
    params=(
        Param(
            "site_id",
            "path",
            "The site ID.",
            identifier_schema(SITE_ID_PREFIX, "A site ID", "rems-site-id"),
        ),
        AS_OF,
    ),
    answers={
        200: Answer("Found.", SiteLookup),
        400: AS_OF_UNREADABLE,
        401: UNAUTHORIZED,
        404: Answer("No healthcare setting has this site ID (or had not registered at as_of)."),
        422: Answer(
            "Not a valid site ID: the wrong length or check character; or as_of is in the future."
        ),
    },
)
def site_lookup(site_id: str):
    """A site's capabilities and certification status, as of today or as of ?as_of=."""
    if not is_valid_identifier(site_id, SITE_ID_PREFIX):
        raise ValidationFailed.single("site_id", "Not a valid site ID (check the last character).")
    moment = as_of_argument(request.args, utcnow())
    site = site_by_code(db.session, site_id)
    if site is None:
        return api_error(404, "No healthcare setting has this site ID.")
    answer = {
        "site_id": site.site_code,
        "name": site.name,
        "capabilities": site.capabilities,
        "status": status_today(site, program_today()).value,
        "certified_on": site.certified_on.isoformat() if site.certified_on else None,
        "expires_on": site.expires_on.isoformat() if site.expires_on else None,
    }
    return answer if moment is None else as_of_answer(answer, site, moment)
