"""Prior-treatment pages: the prescriber of record enters one prior course of a patient; an
administrator imports many patients' prior doses from a CSV file (preview, then confirm)."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.extensions import db
from rems.patients.models import Patient
from rems.patients.queries import patient_for
from rems.prior_treatment import batch, forms, services
from rems.prior_treatment.queries import prior_courses

bp = Blueprint("prior_treatment", __name__)

RECORDED = (
    "Prior course {number} is recorded ({doses} doses). It counts for monitoring and for the "
    "interval before the next course; nothing can be dispensed against it."
)
IMPORTED = "Imported: {courses} prior courses ({doses} doses) for {patients} patients."


def _to_patient(patient: Patient):
    return redirect(url_for("patients.patient_detail", patient_id=patient.rems_id))


@bp.route("/patients/<patient_id>/prior-treatment", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def record(patient_id: str):
    """One prior course of the prescriber's own patient, signed with their password."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    try:
        nxt = services.next_prior(db.session, patient)
    except StateConflict as conflict:
        flash(str(conflict), "error")
        return _to_patient(patient)
    form = forms.prior_course_form(nxt.doses_allowed)
    if form.validate_on_submit() and (done := _record(patient, form, nxt)):
        return done
    return render_template(
        "prior_treatment/record.html", patient=patient, form=form, nxt=nxt,
        courses=prior_courses(db.session, patient.id),
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _record(patient: Patient, form, nxt: services.NextPrior):
    """Store through the service: a redirect when stored, None to show the errors."""
    try:
        course = services.record_prior_course(
            db.session, patient, current_actor(), forms.prior_course_of(form, nxt.doses_allowed),
            password=form.password.data or "", today=program_today(),
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return _to_patient(patient)
    message = RECORDED.format(number=course.number, doses=course.doses_given)
    db.session.commit()
    flash(message, "success")
    return _to_patient(patient)


@bp.route("/admin/prior-treatment", methods=["GET", "POST"])
@roles(Role.ADMIN)
def import_upload():
    """Upload a CSV file of prior doses: a preview of what will be stored, or every problem."""
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return render_template("prior_treatment/upload.html", form=form), (
            422 if form.is_submitted() else 200
        )
    upload = form.file.data
    data = b""
    if upload:
        with upload.stream as stream:
            data = stream.read(batch.MAX_BYTES + 1)
    return _preview(form, data)


def _preview(form, data: bytes, confirm=None, status: int = 200):
    """The plan of the file, or its problems (nothing stored either way)."""
    try:
        plans = batch.plan_batch(db.session, batch.read_rows(data), program_today())
    except batch.BatchRefused as refused:
        return render_template("prior_treatment/upload.html", form=form, errors=refused.errors), 422
    confirm = confirm or forms.ConfirmForm(formdata=None)
    confirm.payload.data = base64.b64encode(data).decode()
    return render_template("prior_treatment/preview.html", plans=plans, confirm=confirm), status


@bp.post("/admin/prior-treatment/confirm")
@roles(Role.ADMIN)
def import_confirm():
    """Store the previewed file whole, under the administrator's signature, or nothing."""
    confirm = forms.ConfirmForm()
    data = _previewed_file(confirm)
    if not confirm.validate_on_submit() or not data:
        flash("Upload the file again: the preview was lost.", "error")
        return redirect(url_for(".import_upload"))
    try:
        day = program_today()
        plans = batch.plan_batch(db.session, batch.read_rows(data), day)
        counts = batch.store_batch(
            db.session, plans, current_actor(), password=confirm.password.data or "", data=data,
            today=day, elsewhere_reason=confirm.elsewhere_reason.data or "",
        )  # fmt: skip
    except batch.BatchRefused:
        db.session.rollback()
        return _preview(forms.UploadForm(formdata=None), data)
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(confirm, failure.errors)
        return _preview(forms.UploadForm(formdata=None), data, confirm, 422)
    db.session.commit()
    patients, courses, doses = counts
    flash(IMPORTED.format(patients=patients, courses=courses, doses=doses), "success")
    return redirect(url_for(".import_upload"))


def _previewed_file(confirm: forms.ConfirmForm) -> bytes:
    """The file the preview carried (base64 in a hidden field); empty when it was lost."""
    try:
        return base64.b64decode(confirm.payload.data or "", validate=True)
    except (binascii.Error, ValueError):
        return b""


@bp.get("/admin/prior-treatment/template.csv")
@roles(Role.ADMIN)
def import_template():
    """The CSV template: the header and one example row."""
    return Response(
        batch.TEMPLATE,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=prior-treatment-template.csv"},
    )
