"""The one write reports make: every export is an audit event (who, which report, filters,
options, how many rows, the SHA-256 of the file, and whether it was sent whole).

The file is streamed, so its hash and row count are known only at its end: the event is
written then, in a short transaction of its own that the caller commits. A download cut off
midway is recorded too, as incomplete, with what had been sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.localtime import program_zone
from rems.reports.deidentify import derive_key
from rems.reports.exporting import Export
from rems.reports.exports import EXPORTED
from rems.reports.framework import Filters, Report


def deidentify_key() -> bytes:
    """The de-identification key: REMS_DEIDENTIFY_KEY, or one derived from SECRET_KEY."""
    configured = current_app.config.get("REMS_DEIDENTIFY_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else configured
    return derive_key(current_app.config["SECRET_KEY"])


def new_export(
    report: Report, filters: Filters, fmt: str, deidentified: bool, generated_by: str
) -> Export:
    """An export about to be written, with the program, zone and key it needs. Only a report
    about patients is de-identified (the others name nobody: they are sent as they are)."""
    return Export(
        report, filters, fmt, deidentified and report.about_patients, generated_at=utcnow(),
        generated_by=generated_by,
        program=current_app.extensions["rems_program"], key=deidentify_key(),
        zone=program_zone(),
    )  # fmt: skip


def record_export(
    session: Session,
    export: Export,
    *,
    actor: User | None,
    sha256: str,
    completed: bool,
    actor_label: str | None = None,
) -> None:
    """Queue the export's audit event in the session's transaction: the file's metadata (the
    sidecar's content) with its SHA-256."""
    about = export.metadata(sha256, completed)
    filters = about["filters"]
    record_event(
        session, EXPORTED, actor=actor, actor_label=actor_label, entity_type="report",
        entity_id=export.report.name,
        new={
            "title": about["title"],
            "format": export.fmt,
            "filters": filters,
            "filters_text": "; ".join(f"{k}={v}" for k, v in filters.items()) or "none",
            "period": about["period"],
            "generated_at": about["generated_at"],
            "generated_by": about["generated_by"],
            "deidentified": export.deidentified,
            "options": export.options,
            "columns": about["columns"],
            "rows": export.rows,
            "sha256": sha256,
            "completed": completed,
            "outcome": "complete" if completed else "cut off",
            "filename": export.filename,
        },
    )  # fmt: skip


def hashed(chunks: Iterator[bytes], on_end: Callable[[str, bool], None]) -> Iterator[bytes]:
    """Pass the chunks through, hashing them; at the end (or when cut off) call
    `on_end(sha256, completed)` once."""
    digest = hashlib.sha256()
    completed = False
    try:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk
        completed = True
    finally:
        on_end(digest.hexdigest(), completed)


def record_assessment_download(
    session: Session, pdf: bytes, period: dict[str, str], *, actor: User
) -> str:
    """Queue the audit event of an assessment PDF download; return the file's name."""
    filename = f"rems-assessment-{period['from']}-to-{period['to']}.pdf"
    record_event(
        session, EXPORTED, actor=actor, entity_type="report", entity_id="assessment",
        new={
            "format": "pdf", "filters": period,
            "filters_text": f"from={period['from']}; to={period['to']}",
            "deidentified": False, "options": "aggregate figures only", "rows": None,
            "sha256": hashlib.sha256(pdf).hexdigest(), "completed": True, "outcome": "complete",
            "filename": filename,
        },
    )  # fmt: skip
    return filename
