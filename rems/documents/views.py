"""Document pages: the program's documents and their versions in effect, publishing a new
version (administrators), a version's page and its file. Only administrators and auditors see
which patients still have to acknowledge a version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename

from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, policy_of, roles, signed_in
from rems.common.errors import ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.common.pagination import paginate
from rems.documents.forms import PublishVersionForm
from rems.documents.models import Document, DocumentVersion
from rems.documents.queries import patients_without, version_facts, versions_of
from rems.documents.rules import current_versions
from rems.documents.services import publish_version
from rems.extensions import db
from rems.patients.models import Patient
from rems.program.model import ProgramDocument

bp = Blueprint("documents", __name__, url_prefix="/documents")
#: Roles that may see which patients have not acknowledged a version.
PATIENT_READERS = frozenset({Role.ADMIN, Role.AUDITOR})
#: The patient page, linked from the REMS ID when it exists and the reader may open it.
PATIENT_PAGE = "patients.patient_detail"
PDF = "application/pdf"
TEXT_SUFFIXES = (".txt", ".text", ".md")


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One program document on the list page."""

    spec: ProgramDocument
    #: The version in effect today, if any.
    current: DocumentVersion | None
    #: Versions published with a future effective date, soonest first.
    scheduled: list[DocumentVersion]
    #: How many versions the current one superseded.
    superseded: int


@bp.get("")
@signed_in
def document_list():
    """Every program document with its version in effect today and any scheduled version."""
    on = program_today()
    rows = [_document_row(spec, on) for spec in _program().documents]
    return render_template("documents/list.html", rows=rows)


@bp.route("/<code>/publish", methods=["GET", "POST"])
@roles(Role.ADMIN)
def publish(code: str):
    """Publish a new version of a program document: label, effective date and the file."""
    spec = _spec_or_404(code)
    form = PublishVersionForm()
    if not form.validate_on_submit():
        return _publish_page(spec, form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    try:
        version = publish_version(
            db.session, current_actor(), document_code=spec.code, label=form.label.data,
            effective_on=form.effective_on.data, filename=upload.filename or "",
            content=upload.read(),
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _publish_page(spec, form, 422)
    message = f"Version {version.label} of the {spec.title} is published; it takes effect on "
    db.session.commit()
    flash(f"{message}{form.effective_on.data.isoformat()}.", "success")
    return redirect(url_for("documents.version_detail", version_id=version.id))


@bp.get("/versions/<int:version_id>")
@signed_in
def version_detail(version_id: int):
    """One version: what was published, when and by whom, and its place among the versions;
    for administrators and auditors, the enrolled patients who have not acknowledged it."""
    version = db.get_or_404(DocumentVersion, version_id)
    versions = versions_of(db.session, version.document)
    statuses = _statuses(version.document.code, versions, program_today())
    may_see_patients = current_actor().role in PATIENT_READERS
    pending = None
    if may_see_patients and statuses[version.id] != "superseded":
        pending = paginate(patients_without(version).options(selectinload(Patient.prescriber)))
    return render_template(
        "documents/version.html", version=version, versions=versions, statuses=statuses,
        size=_size_of(version), publisher=db.session.get(User, version.published_by_id),
        may_see_patients=may_see_patients, pending=pending, patient_page=_patient_page(),
    )  # fmt: skip


@bp.get("/versions/<int:version_id>/file")
@signed_in
def version_file(version_id: int):
    """The stored bytes as a download, never rendered or sniffed by the browser."""
    version = db.get_or_404(DocumentVersion, version_id)
    response = current_app.response_class(version.content, mimetype=version.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(version)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _program():
    """The loaded program file."""
    return current_app.extensions["rems_program"]


def _spec_or_404(code: str) -> ProgramDocument:
    """The program file's document with this code; 404 when the program has none."""
    spec = next((d for d in _program().documents if d.code == code), None)
    if spec is None:
        abort(404)
    return spec


def _stored_document(code: str) -> Document | None:
    """The document's row, if a version was ever published (reading never creates it)."""
    return db.session.scalar(sa.select(Document).where(Document.code == code))


def _current_id(code: str, on: date) -> int | None:
    """The id of the document's version in effect on `on`, as the rules decide."""
    fact = current_versions(version_facts(db.session), [code], on)[code]
    return fact.id if fact else None


def _statuses(code: str, versions: list[DocumentVersion], on: date) -> dict[int, str]:
    """Each version's status on `on`: current, superseded or scheduled."""
    current_id = _current_id(code, on)
    return {
        v.id: "scheduled" if v.effective_on > on else
        "current" if v.id == current_id else "superseded"
        for v in versions
    }  # fmt: skip


def _document_row(spec: ProgramDocument, on: date) -> DocumentRow:
    """A document of the program with its current, scheduled and superseded versions."""
    document = _stored_document(spec.code)
    versions = versions_of(db.session, document) if document else []
    statuses = _statuses(spec.code, versions, on)
    return DocumentRow(
        spec=spec,
        current=next((v for v in versions if statuses[v.id] == "current"), None),
        scheduled=[v for v in reversed(versions) if statuses[v.id] == "scheduled"],
        superseded=sum(1 for v in versions if statuses[v.id] == "superseded"),
    )


def _publish_page(spec: ProgramDocument, form: PublishVersionForm, status: int = 200):
    """The publish form with the versions published so far (422 when re-shown with errors)."""
    document = _stored_document(spec.code)
    versions = versions_of(db.session, document) if document else []
    page = render_template(
        "documents/publish.html", spec=spec, form=form, versions=versions,
        statuses=_statuses(spec.code, versions, program_today()),
    )  # fmt: skip
    return page, status


def _size_of(version: DocumentVersion) -> int:
    """The stored file's size in bytes, measured by the database (the content stays unloaded)."""
    return db.session.scalar(
        sa.select(sa.func.length(DocumentVersion.content)).where(DocumentVersion.id == version.id)
    )


def _patient_page() -> str | None:
    """The patient page's endpoint when it exists and the current user may open it."""
    view = current_app.view_functions.get(PATIENT_PAGE)
    policy = policy_of(view) if view else None
    return PATIENT_PAGE if policy and policy.allows(current_actor()) else None


def _download_name(version: DocumentVersion) -> str:
    """The stored file name made safe for a header (ASCII letters, digits, '.', '-', '_'), with
    an extension that matches the stored media type."""
    name = secure_filename(version.filename)
    name = name or secure_filename(f"{version.document.code}-{version.label}") or "document"
    if version.media_type == PDF and not name.lower().endswith(".pdf"):
        name += ".pdf"
    elif version.media_type != PDF and not name.lower().endswith(TEXT_SUFFIXES):
        name += ".txt"
    return name
