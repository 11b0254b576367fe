"""The healthcare setting record: a pharmacy, an infusion site, or both."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.certification.models import CertStatus
from rems.db import str_enum
from rems.extensions import db


class Site(db.Model):
    """A healthcare setting enrolled through its authorized representative."""

    __tablename__ = "site"
    __table_args__ = (
        sa.CheckConstraint("dispenses OR infuses", name="has_capability"),
        sa.CheckConstraint("NOT dispenses OR ncpdp_id IS NOT NULL", name="pharmacy_has_ncpdp"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The public site identifier used by the API (unguessable, with a check character).
    site_code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Capabilities: a pharmacy dispenses, an infusion site infuses.
    dispenses: Mapped[bool] = mapped_column(default=False)
    infuses: Mapped[bool] = mapped_column(default=False)
    npi: Mapped[str] = mapped_column(sa.String(10), unique=True)
    #: NCPDP ID, 7 digits, required for pharmacies.
    ncpdp_id: Mapped[str | None] = mapped_column(sa.String(7), unique=True)
    address_line1: Mapped[str] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str] = mapped_column(sa.String(100))
    state: Mapped[str] = mapped_column(sa.String(2))
    postal_code: Mapped[str] = mapped_column(sa.String(10))
    phone: Mapped[str] = mapped_column(sa.String(30))
    #: The setting's IANA time zone (e.g. America/Chicago); None: the program's zone.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[CertStatus] = mapped_column(
        str_enum(CertStatus, "cert_status"), default=CertStatus.DRAFT, index=True
    )
    certified_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    #: The authorized representative who signs for the site.
    representative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Optimistic lock: bumped by every UPDATE; a form opened on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    representative = db.relationship("User", foreign_keys=[representative_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def capabilities(self) -> list[str]:
        """The API's spelling of what the site may do."""
        return [
            name for name, has in (("dispenses", self.dispenses), ("infuses", self.infuses)) if has
        ]
