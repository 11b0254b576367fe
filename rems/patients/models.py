"""The patient record (program §3)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class PatientStatus(StrEnum):
    """Patient lifecycle: pending → enrolled, then discontinued or closed."""

    PENDING = "pending"
    ENROLLED = "enrolled"
    DISCONTINUED = "discontinued"
    CLOSED = "closed"


class Patient(db.Model):
    """A patient enrolled by a certified prescriber. Patients never sign in."""

    __tablename__ = "patient"
    __table_args__ = (
        sa.Index("ix_patient_name_dob", "last_name", "first_name", "date_of_birth"),
        #: The patient list's order (its keyset), within one prescriber and overall; and the
        #: first-name prefix search within one prescriber.
        sa.Index("ix_patient_prescriber_order", "prescriber_id", "last_name", "first_name", "id"),
        sa.Index("ix_patient_order", "last_name", "first_name", "id"),
        sa.Index("ix_patient_prescriber_first_name", "prescriber_id", "first_name"),
        sa.CheckConstraint(
            "status <> 'closed' OR (closed_on IS NOT NULL AND close_reason IS NOT NULL)",
            name="closed_has_date_and_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The REMS patient ID: unguessable, ends with a check character.
    rems_id: Mapped[str] = mapped_column(sa.String(16), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    date_of_birth: Mapped[date]
    sex: Mapped[str] = mapped_column(sa.String(16))
    #: Decides whether the contraception attestation applies.
    can_become_pregnant: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(sa.String(30))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    address_line1: Mapped[str | None] = mapped_column(sa.String(200))
    address_line2: Mapped[str | None] = mapped_column(sa.String(200))
    city: Mapped[str | None] = mapped_column(sa.String(100))
    state: Mapped[str | None] = mapped_column(sa.String(2))
    postal_code: Mapped[str | None] = mapped_column(sa.String(10))
    indication: Mapped[str] = mapped_column(sa.String(200))
    #: The prescriber of record; only they (and their delegates) see the patient.
    prescriber_id: Mapped[int] = mapped_column(sa.ForeignKey("prescriber.id"), index=True)
    planned_site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    status: Mapped[PatientStatus] = mapped_column(
        str_enum(PatientStatus, "patient_status"), default=PatientStatus.PENDING, index=True
    )
    enrolled_at: Mapped[datetime | None]
    #: Why the patient was discontinued or closed.
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    closed_on: Mapped[date | None]
    close_reason: Mapped[str | None] = mapped_column(sa.String(32))
    #: Same name and date of birth as another patient: flagged for the administrator, never merged.
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patient.id"))
    patient_signature_id: Mapped[int | None] = mapped_column(sa.ForeignKey("signature.id"))
    prescriber_signature_id: Mapped[int | None] = mapped_column(sa.ForeignKey("signature.id"))
    created_at: Mapped[datetime]  # the enrollments report's period (ix_patient_enrollment_order)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))

    prescriber = db.relationship("Prescriber")

    @property
    def name(self) -> str:
        """Legal name as printed."""
        return f"{self.first_name} {self.last_name}"

    @property
    def initials(self) -> str:
        """The first letters of the first and last name (M.L.): with the date of birth, what
        pharmacy and infusion staff check the patient in front of them against, and no more."""
        return "".join(f"{part[:1].upper()}." for part in (self.first_name, self.last_name) if part)


#: The enrollments report's period and order (newest first, then by REMS ID: the index read
#: backwards), so patients enrolled at the same moment cost no sort.
sa.Index("ix_patient_enrollment_order", Patient.created_at, Patient.rems_id.desc())
