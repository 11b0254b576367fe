"""Reads about healthcare settings."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.certification.models import CertStatus
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.sites.models import Site

SITE_ID_PREFIX = "S"


def site_by_code(session: Session, code: str) -> Site | None:
    """The site with this public site ID (typos caught by the check character)."""
    if not is_valid_identifier(code or "", SITE_ID_PREFIX):
        return None
    return session.scalar(sa.select(Site).where(Site.site_code == normalize_identifier(code)))


def certified_infusion_sites(session: Session) -> list[Site]:
    """Sites recorded as certified that infuse (callers re-check expiry for today)."""
    return list(
        session.scalars(
            sa.select(Site)
            .where(Site.infuses, Site.status == CertStatus.CERTIFIED)
            .order_by(Site.name)
        )
    )
