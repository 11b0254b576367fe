"""Monitoring pages: a result typed in, a CSV upload with its preview and confirmation, the
template CSV, amending a result, waiving an item, and the prescriber's worklist."""

from __future__ import annotations

import base64
import binascii
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.extensions import db
from rems.monitoring import csvfile, forms, worklist
from rems.monitoring.models import LabResult
from rems.monitoring.presenters import item_label
from rems.monitoring.queries import amendments_of
from rems.monitoring.results import ResultRow, amend_result
from rems.monitoring.storing import batch_on_file, record_results
from rems.monitoring.upload import check_upload
from rems.patients.models import Patient
from rems.patients.queries import patient_for, visible_patients

bp = Blueprint("monitoring", __name__)

OWN_TEAM = (Role.PRESCRIBER, Role.DELEGATE)


def _program():
    return current_app.extensions["rems_program"]


def _patient_or_404(patient_id: str) -> Patient:
    """The patient if the signed-in user may see them; a 404 otherwise."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    return patient


def _to_patient(patient: Patient):
    return redirect(url_for("patients.patient_detail", patient_id=patient.rems_id) + "#monitoring")


def _names() -> dict[str, str]:
    from rems.monitoring.statuses import STATUS_CODE, STATUS_NAME

    return {t.code: t.name for t in _program().tests} | {STATUS_CODE: STATUS_NAME}


def _fields(form) -> dict:
    """A result form's values as the service takes them."""
    return {
        "test": form.test.data,
        "collected_on": form.collected_on.data,
        "value": form.value.data,
        "unit": form.unit.data,
        "abnormal": form.abnormal.data,
    }


def _coded_row(form, patient: Patient) -> ResultRow:
    """The form's result with the analytes typed in, each value's messages on its own box."""
    coded, value_keys = forms.coded_fields(form, _program())
    return ResultRow("result", patient, _fields(form) | coded, value_keys=value_keys)


@bp.route("/patients/<patient_id>/results/new", methods=["GET", "POST"])
@roles(*OWN_TEAM)
def record_result(patient_id: str):
    """One result typed in for the patient, by the prescriber of record or a delegate."""
    patient = _patient_or_404(patient_id)
    form = forms.result_form(_program())
    if form.validate_on_submit():
        row = _coded_row(form, patient)
        try:
            recorded = record_results(
                db.session, current_actor(), [row], source="web", today=program_today()
            )
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, forms.box_errors(failure.errors))
        else:
            db.session.commit()
            if recorded.duplicates:
                flash("This result is already on file: nothing new was stored.", "info")
            else:
                flash("Result recorded.", "success")
            return _to_patient(patient)
    status = 422 if form.errors or form.form_errors else 200
    groups = forms.analyte_groups(_program(), form)
    return render_template(
        "monitoring/result_form.html", patient=patient, form=form, groups=groups
    ), status


@bp.route("/results/upload", methods=["GET", "POST"])
@roles(*OWN_TEAM)
def upload():
    """A CSV file of results (many patients, or the one patient named by ?patient=): the
    preview of what will be stored and what each row satisfies."""
    patient = _upload_patient(request.values.get("patient"))
    form = forms.UploadForm()
    if form.validate_on_submit():
        content = _read(form.file.data)
        try:
            planned = check_upload(
                db.session, current_actor(), content, patient, today=program_today()
            )
        except ValidationFailed as failure:
            db.session.rollback()
            return _upload_page(form, patient, failure.errors), 422
        confirm = forms.ConfirmForm(
            content=base64.b64encode(content).decode(),
            patient=patient.rems_id if patient else "",
            batch=str(uuid.uuid4()),
        )
        return render_template("monitoring/preview.html", planned=planned, confirm=confirm,
                               patient=patient, names=_names(), item_label=item_label)  # fmt: skip
    return _upload_page(form, patient, {})


def _read(file) -> bytes:
    """The uploaded file's bytes (one more than the limit at most, so too big shows)."""
    if file is None:
        return b""
    try:
        limit = current_app.config.get("REMS_RESULTS_UPLOAD_MAX_BYTES", csvfile.MAX_BYTES)
        return file.read(limit + 1)
    finally:
        file.close()


def _upload_patient(rems_id: str | None) -> Patient | None:
    """The one patient an upload is for (404 if not the user's), or None for many."""
    return _patient_or_404(rems_id) if rems_id else None


def _upload_page(form, patient, errors: dict[str, list[str]]):
    """The upload form, with the file's problems row by row."""
    problems = [(*_split(key), message) for key, messages in errors.items() for message in messages]
    return render_template("monitoring/upload.html", form=form, patient=patient,
                           problems=problems, columns=csvfile.columns(patient is None),
                           max_kb=current_app.config.get("REMS_RESULTS_UPLOAD_MAX_BYTES",
                                                         csvfile.MAX_BYTES) // 1024)  # fmt: skip


def _split(key: str) -> tuple[str, str]:
    """("row 3", "collected_on") from "row 3.collected_on"."""
    where, _, field = key.partition(".")
    return (where, field) if field else ("file", where)


@bp.post("/results/upload/confirm")
@roles(*OWN_TEAM)
def confirm_upload():
    """Store the previewed file as one batch (checked again: nothing stored on any problem)."""
    form = forms.ConfirmForm()
    patient = _upload_patient(form.patient.data or None)
    if not form.validate_on_submit():
        abort(400)
    try:
        content = base64.b64decode(form.content.data or "", validate=True)
        batch = str(uuid.UUID(form.batch.data or ""))
    except (binascii.Error, ValueError):
        abort(400)
    if batch_on_file(db.session, batch):
        return _already_confirmed(patient)
    try:
        recorded = check_upload(db.session, current_actor(), content, patient,
                                today=program_today(), store=True, batch_id=batch)  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        return _upload_page(forms.UploadForm(), patient, failure.errors), 422
    if not recorded.stored and batch_on_file(db.session, batch):  # confirmed meanwhile
        db.session.rollback()
        return _already_confirmed(patient)
    stored, duplicates = len(recorded.stored), len(recorded.duplicates)
    db.session.commit()
    skipped = f"; {duplicates} duplicate row(s) were not stored again" if duplicates else ""
    flash(f"Stored {stored} result(s){skipped}.", "success")
    return _to_patient(patient) if patient else redirect(url_for(".worklist_page"))


def _already_confirmed(patient: Patient | None):
    """A preview confirmed a second time (another tab, a double click): nothing more."""
    flash("This file was already confirmed: its results are on file, and nothing was stored "
          "again.", "info")  # fmt: skip
    return _to_patient(patient) if patient else redirect(url_for(".worklist_page"))


@bp.get("/results/template.csv")
@roles(*OWN_TEAM)
def upload_template():
    """The template CSV: for many patients, or (?patient=) for one."""
    many = not request.args.get("patient")
    name = "results-template.csv" if many else "results-template-one-patient.csv"
    return Response(csvfile.template_lines(many), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})  # fmt: skip


def _result_or_404(result_id: int) -> tuple[LabResult, Patient]:
    """The result and its patient, if the user may see the patient."""
    result = db.session.get(LabResult, result_id)
    patient = None
    if result is not None:
        statement = visible_patients(current_actor()).where(Patient.id == result.patient_id)
        patient = db.session.scalar(statement)
    if patient is None:
        abort(404)
    return result, patient


@bp.route("/results/<int:result_id>/amend", methods=["GET", "POST"])
@roles(*OWN_TEAM)
def amend(result_id: int):
    """Correct a result with a reason; the values it replaces stay in its history."""
    result, patient = _result_or_404(result_id)
    form = forms.amend_form(_program(), obj=None if request.method == "POST" else _current(result))
    if form.validate_on_submit():
        try:
            amend_result(db.session, current_actor(), result, changes=_fields(form),
                         reason=form.reason.data or "", today=program_today())  # fmt: skip
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, {k.removeprefix("result."): v for k, v in failure.errors.items()})
        else:
            db.session.commit()
            flash("Result amended; the earlier values are kept in its history.", "success")
            return _to_patient(patient)
    history = amendments_of(db.session, [result.id]).get(result.id, [])
    status = 422 if form.errors or form.form_errors else 200
    return render_template("monitoring/amend.html", form=form, result=result, patient=patient,
                           history=history, names=_names()), status  # fmt: skip


class _current:
    """A result's values under the form's field names."""

    def __init__(self, result: LabResult):
        self.test = result.test_code
        self.collected_on = result.collected_on.isoformat()
        self.value, self.unit, self.abnormal = result.value, result.unit, bool(result.abnormal)
        self.reason = ""


@bp.get("/worklist")
@roles(*OWN_TEAM)
def worklist_page():
    """My patients with items overdue, due or due within N days, the longest overdue first;
    by test; paged."""
    codes = [t.code for t in _program().monitored_tests()] + ["patient_status"]
    test = request.args.get("test") or None
    if test not in (None, *codes):
        test = None
    choices = worklist.filters()
    show = request.args.get("show") or worklist.default_filter()
    if show not in dict(choices):
        show = worklist.default_filter()
    raw = request.args.get("page", "1")
    page = worklist.worklist_page(
        db.session, current_actor(), program_today(), which=show, test=test,
        page=int(raw) if raw.isdigit() else 1, per_page=current_app.config["REMS_PAGE_SIZE"],
    )  # fmt: skip
    return render_template("monitoring/worklist.html", page=page, test=test, today=program_today(),
                           tests=_program().monitored_tests(), names=_names(), show=show,
                           choices=choices)  # fmt: skip


@bp.route("/patients/<patient_id>/monitoring/waive", methods=["GET", "POST"])
@roles(Role.ADMIN)
def waive(patient_id: str):
    """An administrator waives one open item, with a reason and their e-signature."""
    from rems.monitoring.presenters import waivable_choices
    from rems.monitoring.services import waive_item

    patient = _patient_or_404(patient_id)
    form = forms.WaiveForm()
    form.item.choices = waivable_choices(db.session, patient, program_today())
    if form.validate_on_submit():
        code, _, due = (form.item.data or "").partition("|")
        try:
            waive_item(db.session, patient, current_actor(), test_code=code,
                       due_on=_day(due), reason=form.reason.data or "",
                       password=form.password.data or "", today=program_today())  # fmt: skip
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        except StateConflict as conflict:
            db.session.rollback()
            flash(str(conflict), "error")
            return render_template("monitoring/waive.html", form=form, patient=patient), 409
        else:
            db.session.commit()
            flash("The item is waived.", "success")
            return _to_patient(patient)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("monitoring/waive.html", form=form, patient=patient), status


def _day(text: str):
    """A YYYY-MM-DD date, or None."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
