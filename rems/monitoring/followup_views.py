"""Follow-up pages: the prescriber extends a patient's monitoring; the prescriber (or a
delegate preparing it) records the periodic patient status."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import options, show_errors
from rems.common.localtime import program_today
from rems.extensions import db
from rems.monitoring import rules
from rems.monitoring.extension import current_end, extend_monitoring
from rems.monitoring.followup_forms import ExtendForm, StatusForm, answers
from rems.monitoring.status_services import record_status
from rems.monitoring.statuses import patient_periods, reports_of
from rems.patients.models import Patient
from rems.patients.queries import patient_for

bp = Blueprint("followup", __name__)

OPEN = (rules.ItemState.DUE_SOON, rules.ItemState.DUE, rules.ItemState.OVERDUE)


def _patient_or_404(patient_id: str) -> Patient:
    """The patient if the signed-in user may see them; a 404 otherwise."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    return patient


def _to_patient(patient: Patient, anchor: str):
    return redirect(url_for("patients.patient_detail", patient_id=patient.rems_id) + anchor)


def _failed(form, failure: Exception) -> None:
    """A service's refusal shown on the form, nothing stored."""
    db.session.rollback()
    if isinstance(failure, ValidationFailed):
        show_errors(form, failure.errors)
    else:
        form.form_errors.append(str(failure))


@bp.route("/patients/<patient_id>/monitoring/extend", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def extend(patient_id: str):
    """The prescriber of record extends the patient's monitoring, with a reason."""
    patient = _patient_or_404(patient_id)
    form = ExtendForm()
    if form.validate_on_submit():
        try:
            extend_monitoring(db.session, patient, current_actor(), ends_on=form.ends_on.data,
                              reason=form.reason.data or "", today=program_today())  # fmt: skip
        except (ValidationFailed, StateConflict) as failure:
            _failed(form, failure)
        else:
            db.session.commit()
            flash("Monitoring extended.", "success")
            return _to_patient(patient, "#monitoring")
    status = 422 if form.errors or form.form_errors else 200
    return render_template("monitoring/extend.html", form=form, patient=patient,
                           ends_on=current_end(db.session, patient)), status  # fmt: skip


@bp.route("/patients/<patient_id>/status/new", methods=["GET", "POST"])
@roles(Role.PRESCRIBER, Role.DELEGATE)
def status(patient_id: str):
    """The periodic status: the prescriber signs; a delegate prepares it for signature."""
    patient = _patient_or_404(patient_id)
    today = program_today()
    form = StatusForm()
    periods = [i for i in patient_periods(db.session, patient, today) if i.state in OPEN]
    form.period.choices = options(
        (str(i.k), f"Period {i.k}, due {i.due_on.isoformat()} ({i.state.value.replace('_', ' ')})")
        for i in periods
    ) or options([("", "No status is due yet: a period opens when it is due soon")])
    if form.validate_on_submit():
        try:
            record_status(db.session, patient, current_actor(), period=form.period.data,
                          answers=answers(form), password=form.password.data,
                          today=today)  # fmt: skip
        except (ValidationFailed, StateConflict) as failure:
            _failed(form, failure)
        else:
            db.session.commit()
            signed = current_actor().role == Role.PRESCRIBER
            flash("Status signed." if signed else "Status prepared: it waits for the "
                  "prescriber's signature.", "success")  # fmt: skip
            return _to_patient(patient, "#patient-statuses")
    code = 422 if form.errors or form.form_errors else 200
    return render_template("monitoring/status_form.html", form=form, patient=patient,
                           reports=reports_of(db.session, patient.id)), code  # fmt: skip
