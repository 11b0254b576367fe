"""Publishing document versions and recording patients' acknowledgments. Callers commit."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.errors import Collector, ValidationFailed
from rems.common.localtime import after_today, patient_practice, to_local, today_in
from rems.documents.models import AckMethod, Acknowledgment, Document, DocumentVersion
from rems.documents.queries import current_versions_today
from rems.patients.models import Patient

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
PDF_MAGIC = b"%PDF-"


def _program():
    return current_app.extensions["rems_program"]


def document_for(session: Session, code: str) -> Document:
    """The document row of a program-file document, created the first time it is needed."""
    document = session.scalar(sa.select(Document).where(Document.code == code))
    if document is None:
        spec = next((d for d in _program().documents if d.code == code), None)
        if spec is None:
            raise ValidationFailed.single("document", "Choose a document of the program.")
        document = Document(code=spec.code, title=spec.title, required=spec.required)
        session.add(document)
        session.flush()
    return document


def media_type_of(filename: str, content: bytes) -> str | None:
    """application/pdf or text/plain when the bytes really are that; None otherwise."""
    if content.startswith(PDF_MAGIC):
        return "application/pdf"
    if filename.lower().endswith((".txt", ".text", ".md")):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def publish_version(
    session: Session, actor: User, *, document_code: str, label: str, effective_on: date | None,
    filename: str, content: bytes,
) -> DocumentVersion:  # fmt: skip
    """Publish a new version (PDF or text, stored with its SHA-256); once in effect, patients
    must acknowledge it before their next dispensing."""
    errors = Collector()
    document = document_for(session, document_code)
    label = (label or "").strip()
    media_type = _check_version(session, document, label, effective_on, filename, content, errors)
    errors.raise_if_any()
    version = DocumentVersion(
        document_id=document.id, label=label, effective_on=effective_on,
        filename=filename.rsplit("/", 1)[-1][:200], media_type=media_type, content=content,
        content_sha256=hashlib.sha256(content).hexdigest(), published_at=utcnow(),
        published_by_id=actor.id,
    )  # fmt: skip
    session.add(version)
    session.flush()
    record_event(
        session, "document_version.published", actor=actor, entity=version,
        new={"document": document.code, "label": label, "effective_on": effective_on,
             "sha256": version.content_sha256, "media_type": media_type},
    )  # fmt: skip
    return version


def _check_version(session, document, label, effective_on, filename, content, errors) -> str:
    """Every field of a new version checked at once; returns the content's media type."""
    if not label:
        errors.add("label", "Give the version a label, e.g. 2026-11.")
    elif len(label) > 40:
        errors.add("label", "Use at most 40 characters.")
    elif session.scalar(
        sa.select(DocumentVersion.id).where(
            DocumentVersion.document_id == document.id, DocumentVersion.label == label
        )
    ):
        errors.add("label", "This document already has a version with this label.")
    if effective_on is None:
        errors.add("effective_on", "Give the date the version takes effect.")
    latest = _latest_effective(session, document)
    if effective_on and latest and effective_on < latest:
        errors.add("effective_on", f"The newest version takes effect on {latest}; a new "
                   "version cannot take effect before it.")  # fmt: skip
    media_type = media_type_of(filename or "", content or b"")
    if not content:
        errors.add("file", "Upload the document: a PDF or a text file.")
    elif len(content) > MAX_DOCUMENT_BYTES:
        errors.add("file", "The file is larger than 10 MB.")
    elif media_type is None:
        errors.add("file", "Upload a PDF (a real PDF file) or a UTF-8 text file (.txt).")
    return media_type or ""


def _latest_effective(session: Session, document: Document) -> date | None:
    """When the document's newest version takes effect."""
    return session.scalar(
        sa.select(sa.func.max(DocumentVersion.effective_on)).where(
            DocumentVersion.document_id == document.id
        )
    )


def acknowledge(
    session: Session, patient: Patient, version: DocumentVersion, *, witness: User,
    method: str, acknowledged_at: datetime | None = None, today: date,
) -> Acknowledgment:  # fmt: skip
    """Record that the patient received and acknowledged this version (only a current one)."""
    current = current_versions_today(session, today)
    if (
        current.get(version.document.code) is None
        or current[version.document.code].id != version.id
    ):
        raise ValidationFailed.single(
            "version",
            "This version is superseded or not yet in effect; acknowledge the current one.",
        )
    if method not in _program().acknowledgment_methods:
        raise ValidationFailed.single("method", "Choose how the patient received the document.")
    if acknowledged_at is not None:  # a signed date given for a paper form: a fact, not ahead
        zone, where = patient_practice(session, patient)
        local = to_local(acknowledged_at, zone).date()
        if problem := after_today("Acknowledgment date", local, today=today_in(zone), where=where):
            raise ValidationFailed.single("acknowledged_at", problem)
    existing = session.scalar(sa.select(Acknowledgment).where(
        Acknowledgment.patient_id == patient.id, Acknowledgment.document_version_id == version.id
    ))  # fmt: skip
    if existing is not None:
        return existing
    ack = Acknowledgment(
        patient_id=patient.id, document_version_id=version.id, method=AckMethod(method),
        acknowledged_at=acknowledged_at or utcnow(), witness_id=witness.id,
    )  # fmt: skip
    session.add(ack)
    session.flush()
    record_event(
        session, "acknowledgment.recorded", actor=witness, entity=ack,
        new={"patient": patient.rems_id, "document": version.document.code,
             "version": version.label, "method": method},
    )  # fmt: skip
    return ack
