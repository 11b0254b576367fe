"""Adverse-event pages: the report form for the prescriber's team (any category) and for the
infusion site (reactions to its infusions), the program's list, one event, and its review."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

import rems.adverse_events.safety_views  # noqa: F401 (its routes join this blueprint)
from rems.adverse_events import forms, presenters, queries, services
from rems.adverse_events.pages import _detail, _event_or_404, bp
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.authorizations.models import Authorization
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.pagination import paginate
from rems.extensions import db
from rems.infusions.models import Infusion
from rems.patients.models import Patient
from rems.patients.queries import patient_for

RECORDED = "The adverse event is recorded on the patient's record."
SERIOUS = (
    " It is serious: the program reviews it, and the administrators and the prescriber are told."
)
REVIEWED = "The event is marked reviewed."
SHOW = {
    "awaiting": "Serious, awaiting review",
    "unsent": "Serious, not yet sent to the safety team",
    "serious": "Serious",
    "all": "All",
}


def _program():
    return current_app.extensions["rems_program"]


@bp.route("/patients/<patient_id>/adverse-events/new", methods=["GET", "POST"])
@roles(Role.PRESCRIBER, Role.DELEGATE)
def report(patient_id: str):
    """The prescriber's team records an adverse event of their patient, of any category."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    form = forms.event_form(_program())
    back = url_for("patients.patient_detail", patient_id=patient.rems_id)
    if form.validate_on_submit() and (done := _report(form, patient, None, back)):
        return done
    return render_template(
        "adverse_events/report.html", form=form, patient=patient, infusion=None, back=back,
        action=url_for(".report", patient_id=patient.rems_id),
    ), 422 if form.is_submitted() else 200  # fmt: skip


@bp.route("/infusions/<int:infusion_id>/adverse-event", methods=["GET", "POST"])
@roles(Role.SITE_STAFF)
def report_reaction(infusion_id: int):
    """The infusion site records a reaction to one of the infusions it gave."""
    infusion = db.session.get(Infusion, infusion_id)
    if infusion is None or infusion.site_id != current_actor().site_id:
        abort(404)
    patient = db.session.get(Patient, infusion.patient_id)
    number = db.session.get(Authorization, infusion.authorization_id).number
    back = url_for("authorizations.detail", number=number)
    form = forms.event_form(_program(), reaction_only=True)
    if not form.is_submitted():
        form.onset_on.data = infusion.administered_on
        form.aware_on.data = infusion.administered_on
    elif form.validate_on_submit() and (done := _report(form, patient, infusion, back)):
        return done
    return render_template(
        "adverse_events/report.html", form=form, patient=patient, infusion=infusion, back=back,
        action=url_for(".report_reaction", infusion_id=infusion.id),
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _report(form, patient: Patient, infusion: Infusion | None, back: str):
    """Store through the service: a redirect when stored, None to show the errors."""
    try:
        event = services.report_event(
            db.session, patient, current_actor(), forms.report_of(form), infusion=infusion,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    serious = event.serious
    db.session.commit()
    flash(RECORDED + (SERIOUS if serious else ""), "warning" if serious else "success")
    return redirect(back)


@bp.get("/adverse-events")
@roles(Role.ADMIN, Role.AUDITOR, Role.PRESCRIBER, Role.DELEGATE)
def event_list():
    """The adverse events the user may see: the program's for administrators and auditors
    (serious ones awaiting review first), their own patients' for the prescriber's team."""
    actor = current_actor()
    team = actor.role in (Role.PRESCRIBER, Role.DELEGATE)
    default = "all" if team else "awaiting"
    show = request.args.get("show", default)
    show = show if show in SHOW else default
    page = paginate(queries.all_events(show, actor))
    rows = presenters.event_rows(db.session, page.items)
    patients = queries.patients_by_id(db.session, [e.patient_id for e in page.items])
    return render_template(
        "adverse_events/list.html", page=page,
        rows=[(row, patients[row["event"].patient_id]) for row in rows],
        show=show, shows=SHOW,
    )  # fmt: skip


@bp.get("/adverse-events/<int:event_id>")
@roles(Role.ADMIN, Role.AUDITOR, Role.PRESCRIBER, Role.DELEGATE)
def event_detail(event_id: int):
    """One event; an administrator reviews a serious one here."""
    return _detail(*_event_or_404(event_id), forms.ReviewForm(formdata=None))


@bp.post("/adverse-events/<int:event_id>/review")
@roles(Role.ADMIN)
def review(event_id: int):
    """An administrator marks a serious event reviewed, with a note."""
    event, patient = _event_or_404(event_id)
    form = forms.ReviewForm()
    if not form.validate_on_submit():
        return _detail(event, patient, form, 422)
    try:
        services.review_event(db.session, event, current_actor(), note=form.note.data or "")
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _detail(*_event_or_404(event_id), form, 422)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".event_detail", event_id=event_id))
    db.session.commit()
    flash(REVIEWED, "success")
    return redirect(url_for(".event_detail", event_id=event_id))
