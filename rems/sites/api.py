"""API lookup of a healthcare setting's certification by its site ID."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Blueprint
from pydantic import Field

from rems.api.operations import UNAUTHORIZED, Answer, Param, Shape, identifier_schema, operation
from rems.auth.permissions import signed_in
from rems.certification.queries import status_today
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.identifiers import is_valid_identifier
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
    ),
    answers={
        200: Answer("Found.", SiteLookup),
        401: UNAUTHORIZED,
        404: Answer("No healthcare setting has this site ID."),
        422: Answer("Not a valid site ID: the wrong length or check character."),
    },
)
def site_lookup(site_id: str):
    """A site's capabilities and certification status, as of today."""
    if not is_valid_identifier(site_id, SITE_ID_PREFIX):
        raise ValidationFailed.single("site_id", "Not a valid site ID (check the last character).")
    site = site_by_code(db.session, site_id)
    if site is None:
        return api_error(404, "No healthcare setting has this site ID.")
    return {
        "site_id": site.site_code,
        "name": site.name,
        "capabilities": site.capabilities,
        "status": status_today(site, today()).value,
        "certified_on": site.certified_on.isoformat() if site.certified_on else None,
        "expires_on": site.expires_on.isoformat() if site.expires_on else None,
    }
