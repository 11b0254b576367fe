"""CDS Hooks clients (EHRs an administrator registered) and the replay cache of their JWTs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.extensions import db


class CdsClient(db.Model):
    """An EHR allowed to call /cds-services: its JWT issuer, the public keys (a JWKS, stored as
    JSON even when registered from a URL) and the organisation it speaks for (one of our sites,
    or none: a prescriber's practice)."""

    __tablename__ = "cds_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    issuer: Mapped[str] = mapped_column(sa.String(500), unique=True)
    jwks: Mapped[dict[str, Any]]
    jwks_url: Mapped[str | None] = mapped_column(sa.String(500))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"), index=True)
    organisation: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))


class CdsTokenUse(db.Model):
    """One JWT `jti` seen from an issuer, kept until the token expires: a second use is refused."""

    __tablename__ = "cds_token_use"
    __table_args__ = (sa.UniqueConstraint("issuer", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(500))
    jti: Mapped[str] = mapped_column(sa.String(200))
    expires_at: Mapped[datetime] = mapped_column(index=True)
