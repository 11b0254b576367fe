"""Required documents, their published versions, and patients' acknowledgments of them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class AckMethod(StrEnum):
    """How the patient received the document."""

    IN_PERSON = "in_person"
    PAPER_FORM = "paper_form"


class Document(db.Model):
    """A document of the program file that patients must acknowledge."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The program file's code, e.g. medication_guide.
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    required: Mapped[bool] = mapped_column(default=True)


class DocumentVersion(db.Model):
    """One published version of a document; the newest effective one is current."""

    __tablename__ = "document_version"
    __table_args__ = (sa.UniqueConstraint("document_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(40))
    effective_on: Mapped[date]
    filename: Mapped[str] = mapped_column(sa.String(200))
    media_type: Mapped[str] = mapped_column(sa.String(60))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    #: SHA-256 of the stored content: what the patient acknowledged, byte for byte.
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    published_at: Mapped[datetime]
    published_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))

    document = db.relationship("Document")


class Acknowledgment(db.Model):
    """A patient's acknowledgment of one document version, witnessed by a staff member."""

    __tablename__ = "acknowledgment"
    __table_args__ = (
        sa.UniqueConstraint("patient_id", "document_version_id"),
        #: The acknowledgments report: a version's acknowledgments within a period.
        sa.Index("ix_acknowledgment_version_at", "document_version_id", "acknowledged_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    document_version_id: Mapped[int] = mapped_column(sa.ForeignKey("document_version.id"))
    acknowledged_at: Mapped[datetime]
    method: Mapped[AckMethod] = mapped_column(str_enum(AckMethod, "ack_method"))
    witness_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))

    version = db.relationship("DocumentVersion")
