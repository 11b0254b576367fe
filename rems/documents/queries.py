"""Reads about documents: current versions, a patient's acknowledgments, who must still sign."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.documents.rules import VersionFact, current_versions, missing_acknowledgments
from rems.patients.models import Patient, PatientStatus


def version_facts(session: Session) -> list[VersionFact]:
    """Every published version, as the rules see them."""
    rows = session.execute(
        sa.select(DocumentVersion.id, Document.code, DocumentVersion.label,
                  DocumentVersion.effective_on)
        .join(Document, Document.id == DocumentVersion.document_id)
    )  # fmt: skip
    return [VersionFact(r.id, r.code, r.label, r.effective_on) for r in rows]


def current_versions_today(session: Session, today: date) -> dict[str, DocumentVersion | None]:
    """For each required document of the program file, its version in effect today."""
    required = [d.code for d in current_app.extensions["rems_program"].required_documents()]
    facts = current_versions(version_facts(session), required, today)
    return {code: session.get(DocumentVersion, f.id) if f else None for code, f in facts.items()}


def patient_missing_documents(
    session: Session, patient: Patient, today: date, acknowledged_by: datetime | None = None
) -> list[str]:
    """The required documents whose current version this patient has not acknowledged (by
    `acknowledged_by`, when asking about a past moment)."""
    program = current_app.extensions["rems_program"]
    required = [d.code for d in program.required_documents()]
    current = current_versions(version_facts(session), required, today)
    statement = (
        sa.select(Acknowledgment.document_version_id, Document.code)
        .join(DocumentVersion, DocumentVersion.id == Acknowledgment.document_version_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Acknowledgment.patient_id == patient.id)
    )
    if acknowledged_by is not None:
        statement = statement.where(Acknowledgment.acknowledged_at <= acknowledged_by)
    rows = session.execute(statement).all()
    return missing_acknowledgments(
        current, [r.document_version_id for r in rows],
        reacknowledge_on_new_version=program.reacknowledge_on_new_version,
        acknowledged_codes=[r.code for r in rows],
    )  # fmt: skip


def acknowledgments_of(session: Session, patient: Patient) -> list[Acknowledgment]:
    """The patient's acknowledgments, newest first."""
    return list(session.scalars(
        sa.select(Acknowledgment).where(Acknowledgment.patient_id == patient.id)
        .order_by(Acknowledgment.acknowledged_at.desc())
    ))  # fmt: skip


def patients_without(version: DocumentVersion) -> sa.Select:
    """Enrolled patients who have not acknowledged this version yet, by name."""
    acknowledged = sa.select(Acknowledgment.patient_id).where(
        Acknowledgment.document_version_id == version.id
    )
    return (
        sa.select(Patient)
        .where(Patient.status == PatientStatus.ENROLLED, Patient.id.not_in(acknowledged))
        .order_by(Patient.last_name, Patient.first_name)
    )


def versions_of(session: Session, document: Document) -> list[DocumentVersion]:
    """A document's versions, newest first."""
    return list(session.scalars(
        sa.select(DocumentVersion).where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.effective_on.desc(), DocumentVersion.id.desc())
    ))  # fmt: skip
