"""The audit trail for auditors and administrators: browse, inspect, verify, export."""

from __future__ import annotations

from dataclasses import asdict

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request, stream_with_context

from rems.audit.access import RecordAccess, note_read
from rems.audit.access_log import AccessFilterForm, access_csv, access_statement
from rems.audit.anchoring import check_anchor
from rems.audit.export import export_chunks
from rems.audit.forms import PROGRAM_DAY, EventFilterForm
from rems.audit.models import AuditEvent
from rems.audit.queries import entity_types, events_statement
from rems.audit.verify import verify_chain
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.clock import utcnow
from rems.common.forms import options
from rems.common.localtime import program_zone
from rems.common.pagination import seek_page
from rems.extensions import db
from rems.patients.models import Patient

bp = Blueprint("audit", __name__, url_prefix="/audit")
READERS = (Role.ADMIN, Role.AUDITOR)


def _filter_form() -> EventFilterForm:
    """The filter form bound to the query string, with the record types offered."""
    form = EventFilterForm(request.args)
    form.entity_type.choices = options([("", "All")] + [(t, t) for t in entity_types(db.session)])
    for day in (form.date_from, form.date_to):
        day.description = f"{PROGRAM_DAY} ({program_zone().key})"
    form.validate()
    return form


@bp.get("/events")
@roles(*READERS)
def event_list():
    """The trail, newest first, filtered and paged."""
    form = _filter_form()
    page = seek_page(events_statement(form.to_filter()), [AuditEvent.seq], descending=True)
    return render_template("audit/events.html", form=form, page=page), 400 if form.errors else 200


@bp.get("/events/<int:seq>")
@roles(*READERS)
def event_detail(seq: int):
    """One event with its old and new values and its place in the chain."""
    event = db.one_or_404(db.select(AuditEvent).where(AuditEvent.seq == seq))
    return render_template("audit/event.html", event=event)


@bp.get("/events.csv")
@roles(*READERS)
def event_export():
    """The filtered trail as CSV (formula-safe), streamed so a long trail does not fill memory.
    A filter that does not read is refused (400, the page with the field's message): the file
    would otherwise hold more than was asked for. The trail names patients and holds their
    records' values: the export is an access."""
    form = _filter_form()
    if form.errors:
        return event_list()
    filters = form.to_filter()
    described = "; ".join(f"{k}={v}" for k, v in asdict(filters).items() if v) or "none"
    note_read(current_actor(), "export", "audit_trail", f"audit trail CSV: {described}")
    if filters.entity_type == "patient" and (patient := _patient(filters.entity_id)):
        note_read(current_actor(), "export", "patient", patient)
    filename = f"rems-audit-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response(
        stream_with_context(export_chunks(db.session, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _patient(entity_id: str | None) -> str | None:
    """The REMS ID of the patient the trail's record id names (the trail keeps row ids)."""
    key = (entity_id or "").strip()
    if not key.isdigit():
        return None
    return db.session.scalar(sa.select(Patient.rems_id).where(Patient.id == int(key)))


@bp.get("/verify")
@roles(*READERS)
def chain_status():
    """Re-hash the whole chain now, check it against the last anchor, say whether it holds."""
    return render_template(
        "audit/verify.html",
        report=verify_chain(db.session),
        anchor=check_anchor(db.session),
        checked_at=utcnow(),
    )


def _access_form() -> tuple[AccessFilterForm, bool]:
    """The access log's filter form bound to the query string, and whether it is valid."""
    form = AccessFilterForm(request.args)
    return form, form.validate()


@bp.get("/access")
@roles(*READERS)
def access_list():
    """The access log, newest first, filtered and paged; bad filters are a 400 naming them."""
    form, valid = _access_form()
    if not valid:
        return render_template("audit/access.html", form=form, page=None), 400
    page = seek_page(access_statement(form.to_filter()), [RecordAccess.id], descending=True)
    return render_template("audit/access.html", form=form, page=page)


@bp.get("/access.csv")
@roles(*READERS)
def access_export():
    """The filtered access log as CSV; the export is itself logged."""
    form, valid = _access_form()
    if not valid:
        return render_template("audit/access.html", form=form, page=None), 400
    filters = form.to_filter()
    note_read(current_actor(), "export", "access_log", f"access log CSV: {filters.described()}")
    filename = f"rems-access-log-{utcnow():%Y%m%dT%H%M%SZ}.csv"
    return Response(
        stream_with_context(access_csv(db.session, filters)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
