"""Report pages for auditors and administrators: the catalogue, each report with its filters,
sorting and pages, and its export as CSV or XLSX (identified or de-identified)."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from rems.audit.access import note_reads
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.reports.catalogue import SECTIONS, report_named
from rems.reports.exporting import FORMATS, WRITERS, Export
from rems.reports.exports import export_sidecar, recent_exports
from rems.reports.filters import parse_filters
from rems.reports.framework import Filters, Report, identified_patients
from rems.reports.queries import report_page, row_batches
from rems.reports.services import hashed, new_export, record_export

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = (Role.ADMIN, Role.AUDITOR)


@bp.get("")
@roles(*READERS)
def catalogue():
    """Every report, by section."""
    return render_template("reports/catalogue.html", sections=SECTIONS)


def _report_or_404(name: str) -> Report:
    """The named report; an unknown name is a 404."""
    report = report_named(name)
    if report is None:
        abort(404)
    return report


def read_filters(report: Report) -> Filters:
    """The report's filters from the query string (ValidationFailed names bad fields)."""
    return parse_filters(
        db.session, report, request.args, today=program_today(),
        max_days=current_app.config["REMS_REPORT_MAX_DAYS"],
    )  # fmt: skip


@bp.get("/<name>")
@roles(*READERS)
def view_report(name: str):
    """The report's rows for its filters, sorted and paged; bad filters are shown on the form."""
    report = _report_or_404(name)
    try:
        filters = read_filters(report)
    except ValidationFailed as failure:
        return _page(report, None, None, failure.errors), 400
    number = request.args.get("page", "1")
    config = current_app.config
    page = report_page(
        db.session, report, filters, int(number) if number.isdigit() else 1,
        config["REMS_PAGE_SIZE"], config["REMS_REPORT_COUNT_CAP"],
    )  # fmt: skip
    note_reads(current_actor(), "page", "patient", identified_patients(report, page.items))
    return _page(report, filters, page, {})


def _page(report: Report, filters: Filters | None, page, errors: dict):
    """The report page; the form shows the period in force when none was given, and the
    reader's last exports of this report, each with its metadata (JSON sidecar)."""
    args = {k: v for k, v in request.args.to_dict().items() if k != "page"}
    if filters is not None and filters.date_from is not None:
        args = {"from": filters.date_from.isoformat(), "to": filters.date_to.isoformat()} | args
    return render_template(
        "reports/report.html", report=report, filters=filters, page=page, errors=errors,
        args=args, recent=recent_exports(db.session, report.name, current_actor().id),
    )  # fmt: skip


@bp.get("/<name>/export")
@roles(*READERS)
def export(name: str):
    """The report as a file, streamed; the export is recorded in the audit trail at its end.
    Bad filters or format give the page with the errors, never a file."""
    report = _report_or_404(name)
    fmt = request.args.get("format", "csv")
    try:
        if fmt not in FORMATS:
            raise ValidationFailed.single("format", f"Unknown format {fmt!r}: choose csv or xlsx.")
        filters = read_filters(report)
    except ValidationFailed as failure:
        return _page(report, None, None, failure.errors), 400
    deidentified = request.args.get("deidentified") in ("1", "on", "yes", "true")
    job = new_export(report, filters, fmt, deidentified, current_actor().username)
    chunks = hashed(WRITERS[fmt](job, row_batches(db.session, report, filters)), _recorder(job))
    return Response(
        stream_with_context(chunks),
        mimetype=FORMATS[fmt].split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{job.filename}"'},
    )


def _recorder(job: Export):
    """What to do when the file ends: record the export in a short write of its own, then the
    patients it named in the access log."""
    actor = current_actor()

    def on_end(sha256: str, completed: bool) -> None:
        db.session.rollback()  # end the read before taking the write lock
        with writing():
            record_export(db.session, job, actor=actor, sha256=sha256, completed=completed)
            db.session.commit()
        note_reads(actor, "export", "patient", job.patients)

    return on_end


@bp.get("/exports/<int:seq>.json")
@roles(*READERS)
def export_metadata(seq: int):
    """An export's metadata, as recorded in its audit event: the file's JSON sidecar."""
    about = export_sidecar(db.session, seq)
    if about is None:
        abort(404)
    return Response(
        json.dumps(about, indent=2, sort_keys=True) + "\n", mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{about["file"]}.json"'},
    )  # fmt: skip
