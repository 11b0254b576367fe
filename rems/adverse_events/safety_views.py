"""Adverse-event pages for the safety follow-through: follow-ups (the prescriber's team and
administrators), the day a serious event was sent to the safety team (administrators), and the
per-event E2B(R3)-shaped XML export. Routes of the adverse_events blueprint."""

from __future__ import annotations

import hashlib

from flask import Response, flash, redirect, url_for

from rems.adverse_events import e2b, followups, forms
from rems.adverse_events.pages import _detail, _event_or_404, bp
from rems.audit.trail import record_event
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.transactions import write_of_its_own
from rems.extensions import db

FOLLOWED_UP = "The follow-up is recorded on the event."
SUBMITTED = "The day the event was sent to the safety team is recorded; its clock is stopped."


@bp.post("/adverse-events/<int:event_id>/follow-ups")
@roles(Role.ADMIN, Role.PRESCRIBER, Role.DELEGATE)
def follow_up(event_id: int):
    """Add a dated follow-up to an event of the user's own patient (404 for anyone else's)."""
    event, patient = _event_or_404(event_id)
    form = forms.FollowUpForm()
    if not form.validate_on_submit():
        return _detail(event, patient, forms.ReviewForm(formdata=None), 422, follow_up=form)
    try:
        followups.add_follow_up(
            db.session, event, patient, current_actor(), received_on=form.received_on.data,
            note=form.details.data or "", outcome=form.outcome.data or None,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        event, patient = _event_or_404(event_id)
        return _detail(event, patient, forms.ReviewForm(formdata=None), 422, follow_up=form)
    db.session.commit()
    flash(FOLLOWED_UP, "success")
    return redirect(url_for(".event_detail", event_id=event_id))


@bp.post("/adverse-events/<int:event_id>/submitted")
@roles(Role.ADMIN)
def submitted(event_id: int):
    """An administrator records the day the serious event was sent to the safety team."""
    event, patient = _event_or_404(event_id)
    form = forms.SubmittedForm()
    if not form.validate_on_submit():
        return _detail(event, patient, forms.ReviewForm(formdata=None), 422, submitted=form)
    try:
        followups.mark_submitted(
            db.session, event, current_actor(), submitted_on=form.submitted_on.data
        )
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        event, patient = _event_or_404(event_id)
        return _detail(event, patient, forms.ReviewForm(formdata=None), 422, submitted=form)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".event_detail", event_id=event_id))
    db.session.commit()
    flash(SUBMITTED, "success")
    return redirect(url_for(".event_detail", event_id=event_id))


@bp.get("/adverse-events/<int:event_id>/e2b.xml")
@roles(Role.ADMIN, Role.AUDITOR)
def e2b_export(event_id: int):
    """The event as an ICH E2B(R3)-shaped XML file (not a validated submission); audited."""
    event, patient = _event_or_404(event_id)
    body = e2b.event_xml(db.session, event, patient)
    with write_of_its_own(db.session):
        event = db.session.merge(event)
        record_event(
            db.session, "adverse_event.exported", actor=current_actor(), entity=event,
            new={"format": "e2b_r3_shaped_xml", "sha256": hashlib.sha256(body).hexdigest()},
        )  # fmt: skip
    name = f"adverse-event-{event.id}-e2b.xml"
    return Response(
        body, mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
