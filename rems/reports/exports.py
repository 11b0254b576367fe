"""The exports report: who exported which report, when, with which filters and options, how
many rows, and the SHA-256 of the file, read from the audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import within

#: The audit action recorded for every export.
EXPORTED = "report.exported"
#: What an export's sidecar says, from its audit event (older events lack some: left out).
SIDECAR_KEYS = (
    "title", "format", "filters", "period", "generated_at", "generated_by", "deidentified",
    "options", "columns", "rows", "sha256", "completed",
)  # fmt: skip


def export_sidecar(session: Session, seq: int) -> dict[str, Any] | None:
    """The metadata of the export recorded as audit event `seq` (None if it is not one)."""
    event = session.scalar(
        sa.select(AuditEvent).where(AuditEvent.seq == seq, AuditEvent.action == EXPORTED)
    )
    if event is None:
        return None
    values = event.new_values or {}
    about = {"report": event.entity_id, "file": values.get("filename") or f"export-{seq}"}
    about |= {key: values[key] for key in SIDECAR_KEYS if key in values}
    return about | {"audit_event": seq, "recorded_by": event.actor_label}


def recent_exports(session: Session, report: str, user_id: int | None, limit: int = 5) -> list:
    """This user's last exports of `report`: (seq, file name, rows, SHA-256), newest first."""
    if user_id is None:
        return []
    values = AuditEvent.new_values
    return session.execute(
        sa.select(
            AuditEvent.seq, values["filename"].as_string().label("filename"),
            values["rows"].as_integer().label("rows"),
            values["sha256"].as_string().label("sha256"),
        )
        .where(AuditEvent.action == EXPORTED, AuditEvent.entity_id == report,
               AuditEvent.actor_id == user_id)
        .order_by(AuditEvent.seq.desc())
        .limit(limit)
    ).all()  # fmt: skip


def _exports(filters: Filters, dialect: str) -> sa.Select:
    """Export events in the period."""
    values = AuditEvent.new_values
    statement = sa.select(
        AuditEvent.seq.label("seq"),
        AuditEvent.occurred_at.label("exported_at"),
        AuditEvent.actor_label.label("exported_by"),
        AuditEvent.entity_id.label("report"),
        values["format"].as_string().label("format"),
        values["filters_text"].as_string().label("filters"),
        values["options"].as_string().label("options"),
        values["rows"].as_integer().label("rows"),
        values["sha256"].as_string().label("sha256"),
        values["outcome"].as_string().label("outcome"),
    ).where(
        AuditEvent.action == EXPORTED,
        within(AuditEvent.occurred_at, filters.date_from, filters.date_to),
    )
    if filters.status is not None:
        statement = statement.where(AuditEvent.entity_id == filters.status)
    return statement


def exports_report(report_names: tuple[str, ...]) -> Report:
    """The exports report; its 'status' filter picks one report by name."""
    return Report(
        name="exports",
        title="Exports made",
        summary="Every export of a report: who, when, which report, filters and options, how "
        "many rows, and the SHA-256 of the file (compare it with the file you hold).",
        columns=(
            Column("seq", "Audit event", "number", link=("audit.event_detail", "seq")),
            Column("exported_at", "When (UTC)", "datetime"),
            Column("exported_by", "Who"),
            Column("report", "Report"),
            Column("format", "Format"),
            Column("filters", "Filters", sortable=False),
            Column("options", "Options", sortable=False),
            Column("rows", "Rows", "number"),
            Column("sha256", "SHA-256", sortable=False),
            Column("outcome", "Sent"),
        ),
        query=_exports,
        filters=frozenset({"period", "status"}),
        default_sort="exported_at",
        default_descending=True,
        statuses=report_names,
        status_label="Report",
        period_of="exported on",
    )
