"""API lookup of a healthcare setting's certification by its site ID."""

from __future__ import annotations

import sqlalchemy as sa

from rems.api import bp
from rems.auth.permissions import signed_in
from rems.certification.queries import status_today
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.errors import api_error
from rems.extensions import db
from rems.sites.models import Site


@bp.get("/sites/<site_id>")
@signed_in
def site_lookup(site_id: str):
    """A site's capabilities and certification status, as of today."""
    if not is_valid_identifier(site_id, "S"):
        raise ValidationFailed.single("site_id", "Not a valid site ID (check the last character).")
    code = normalize_identifier(site_id)
    site = db.session.scalar(sa.select(Site).where(Site.site_code == code))
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
