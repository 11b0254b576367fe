"""The prescriber record and the delegates who work for a prescriber."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.certification.models import CertStatus
from rems.db import str_enum
from rems.extensions import db


class Prescriber(db.Model):
    """A physician enrolled (or enrolling) in the program: the Prescriber Enrollment Form."""

    __tablename__ = "prescriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The prescriber's own sign-in account.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    #: National Provider Identifier: 10 digits, Luhn check digit over the 80840 prefix.
    npi: Mapped[str | None] = mapped_column(sa.String(10), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    credentials: Mapped[str | None] = mapped_column(sa.String(40))
    specialty: Mapped[str | None] = mapped_column(sa.String(100))
    license_number: Mapped[str | None] = mapped_column(sa.String(40))
    license_state: Mapped[str | None] = mapped_column(sa.String(2))
    practice_name: Mapped[str | None] = mapped_column(sa.String(200))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    state: Mapped[str | None] = mapped_column(sa.String(2))
    postal_code: Mapped[str | None] = mapped_column(sa.String(10))
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: The practice's IANA time zone (e.g. America/Chicago); None: the program's zone.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[CertStatus] = mapped_column(
        str_enum(CertStatus, "cert_status"), default=CertStatus.DRAFT, index=True
    )
    #: First day of the current certification and the last day it is valid.
    certified_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Optimistic lock: bumped by every UPDATE; a form opened on an older version is refused.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    user = db.relationship("User", foreign_keys=[user_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def name(self) -> str:
        """Full name with credentials, as printed on forms."""
        base = f"{self.first_name} {self.last_name}"
        return f"{base}, {self.credentials}" if self.credentials else base


class PrescriberDelegate(db.Model):
    """A delegate account working for a prescriber: may prepare forms, never sign them."""

    __tablename__ = "prescriber_delegate"
    __table_args__ = (sa.UniqueConstraint("prescriber_id", "delegate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    invited_at: Mapped[datetime]
    invited_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    ended_at: Mapped[datetime | None]
