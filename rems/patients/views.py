"""Patient pages: the list, the Patient Enrollment Form, the patient's and the prescriber's
signatures, the patient's page with acknowledgments and lifecycle, and flagged duplicates."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from rems.audit.access import note_read
from rems.audit.asof import answer_as_of
from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, roles, signed_in
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.common.pagination import paginate, seek_page
from rems.documents import services as documents
from rems.documents.models import DocumentVersion
from rems.extensions import db
from rems.monitoring.asof import summary_as_of
from rems.monitoring.followup_presenters import patient_followup
from rems.monitoring.presenters import patient_monitoring
from rems.patients import forms, lifecycle, presenters, queries, services
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import enrollment_at, visible_prescriber_ids
from rems.patients.timeline import patient_timeline
from rems.prescribers.models import Prescriber

bp = Blueprint("patients", __name__, url_prefix="/patients")

OWN_TEAM = (Role.PRESCRIBER, Role.DELEGATE)
READERS = (Role.ADMIN, Role.AUDITOR)
MANAGERS = (Role.PRESCRIBER, Role.ADMIN)
PREPARED = "Patient Enrollment Form saved: REMS patient ID {}. Next, the patient signs in clinic."
FLAGGED = " It is flagged as a possible duplicate for the program to review."
PATIENT_SIGNED = "The patient's signature is recorded. Next, the prescriber of record signs."
NOT_PENDING = "The enrollment is {}: there is nothing left to sign."
ENROLLED = "Signed: the patient is enrolled in the program."
DISCONTINUED = "Discontinued. Monitoring continues until {months} months after the last infusion."


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


def _visible_or_404(patient_id: str) -> Patient:
    """The patient if the signed-in user may see them; a 404 otherwise (no hint which)."""
    patient = queries.patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    return patient


def _to_patient(rems_id: str):
    """Back to the patient's page."""
    return redirect(url_for(".patient_detail", patient_id=rems_id))


@bp.get("")
@roles(*READERS, *OWN_TEAM)
def patient_list():
    """The patients the user may see, searched by name or REMS ID, filtered by status."""
    filters = forms.PatientFilterForm(request.args)
    user = current_actor()
    own = queries.own_prescriber_ids(db.session, user)
    statement = queries.patient_list(user, filters.q.data, filters.status_value(), own)
    page = seek_page(
        statement, list(queries.PATIENT_LIST_ORDER), options=[selectinload(Patient.prescriber)]
    )
    may_enroll = current_actor().role in OWN_TEAM
    return render_template("patients/list.html", filters=filters, page=page, may_enroll=may_enroll)


@bp.route("/new", methods=["GET", "POST"])
@roles(*OWN_TEAM)
def enroll():
    """The Patient Enrollment Form, for the prescriber themself or one a delegate works for."""
    actor, day = current_actor(), program_today()
    prescribers = presenters.enrollable_prescribers(db.session, actor)
    sites = presenters.infusion_sites_today(db.session, day)
    form = forms.enrollment_form(_program(), prescribers, sites)
    if actor.role == Role.PRESCRIBER:
        del form.prescriber  # a prescriber enrolls for themself; their errors show on the form
    duplicates: list[Patient] = []
    if prescribers and form.validate_on_submit():
        response, duplicates = _prepare(form, prescribers)
        if response is not None:
            return response
    return render_template(
        "patients/enroll.html", form=form, prescribers=prescribers, duplicates=duplicates,
        uncertified=presenters.not_certified(prescribers, day),
    )  # fmt: skip


def _prepare(form: forms.EnrollPatientForm, prescribers: list[Prescriber]) -> tuple:
    """Prepare the enrollment: (a redirect, []) when saved or refused; (None, the possible
    duplicates to show) when the form must show errors."""
    chosen = form.prescriber.data if "prescriber" in form else str(prescribers[0].id)
    prescriber = next(p for p in prescribers if str(p.id) == chosen)
    values = forms.enrollment_values(form)
    try:
        patient = services.prepare_enrollment(
            db.session, current_actor(), prescriber, values, today=program_today(),
            confirm_not_duplicate=form.confirm_not_duplicate.data,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        if "confirm_not_duplicate" not in failure.errors:
            return None, []
        names = (values["first_name"] or "", values["last_name"] or "", values["date_of_birth"])
        return None, _yours_or_none(queries.possible_duplicates(db.session, *names))
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".enroll")), []
    rems_id, flagged = patient.rems_id, patient.possible_duplicate_of_id is not None
    db.session.commit()
    flash(PREPARED.format(rems_id) + (FLAGGED if flagged else ""), "success")
    return _to_patient(rems_id), []


def _yours_or_none(twins: list[Patient]) -> list[Patient | None]:
    """Possible duplicates as the enrolling user may see them: their own team's patients, and
    None for another prescriber's (that one exists is said; who, with what ID, is not)."""
    allowed = visible_prescriber_ids(current_actor())
    mine = None if allowed is None else set(db.session.scalars(allowed))
    return [p if mine is None or p.prescriber_id in mine else None for p in twins]


@bp.get("/duplicates")
@roles(*READERS)
def duplicates():
    """Patients flagged as possibly the same person as an earlier record, side by side."""
    page = paginate(queries.flagged_duplicates())
    pairs = presenters.duplicate_pairs(db.session, page.items)
    return render_template("patients/duplicates.html", page=page, pairs=pairs)


@bp.get("/<patient_id>")
@signed_in
def patient_detail(patient_id: str):
    """The patient's page: enrollment, documents, courses, history and the viewer's actions."""
    patient = _visible_or_404(patient_id)
    note_read(current_actor(), "page", "patient", patient.rems_id)
    return _patient_page(patient)


def _patient_page(patient: Patient, posted: tuple[str, object] | None = None, status: int = 200):
    """Render the patient's page; `posted` is (action, form) re-shown with its errors."""
    facts = presenters.patient_page(db.session, patient, current_actor(), program_today())
    action_forms = {
        "discontinue": forms.DiscontinueForm(formdata=None),
        "close": forms.close_form(_program().patient.close_reasons, formdata=None),
        "transfer": forms.TransferForm(formdata=None),
    }
    if posted is not None:
        action_forms[posted[0]] = posted[1]
    monitoring = patient_monitoring(db.session, patient, current_actor(), program_today())
    as_of = answer_as_of(
        request.args.get("as_of"), utcnow(), partial(enrollment_at, db.session, patient)
    )
    then = None
    if as_of is not None and as_of.answer is not None and as_of.answer.status is not None:
        then = summary_as_of(db.session, patient, as_of.answer.moment)
    return render_template(
        "patients/detail.html", forms=action_forms, method_labels=forms.METHOD_LABELS,
        monitoring=monitoring, as_of=as_of, monitoring_then=then, **facts,
        followup=patient_followup(db.session, patient, current_actor(), program_today()),
        timeline=patient_timeline(db.session, patient),
    ), 400 if as_of and as_of.problem else status  # fmt: skip


@bp.route("/<patient_id>/patient-signature", methods=["GET", "POST"])
@roles(*OWN_TEAM)
def patient_signature(patient_id: str):
    """The patient's in-clinic signature: the current documents, each attestation, how the
    documents were received, the typed name; witnessed by the signed-in user."""
    patient = _visible_or_404(patient_id)
    if request.method == "GET" and patient.status != PatientStatus.PENDING:
        flash(NOT_PENDING.format(patient.status.value), "info")
        return _to_patient(patient.rems_id)
    attestations = _program().patient_attestations(patient.can_become_pregnant)
    form = forms.patient_signature_form(attestations, _program().acknowledgment_methods)

    def change(actor: User) -> None:
        """The patient's signature, witnessed by `actor`."""
        attested = [a.id for a in attestations if form[f"attest_{a.id}"].data]
        services.record_patient_signature(
            db.session, patient, actor, typed_name=form.typed_name.data or "",
            attested=attested, method=form.method.data or "", today=program_today(),
        )  # fmt: skip

    if form.validate_on_submit() and (
        done := _apply(form, patient.rems_id, PATIENT_SIGNED, change)
    ):
        return done
    return render_template(
        "patients/patient_signature.html", patient=patient, form=form, attestations=attestations,
        documents=presenters.current_documents(db.session, program_today()),
    )  # fmt: skip


@bp.route("/<patient_id>/sign", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def sign(patient_id: str):
    """The prescriber of record co-signs the whole form with their password: enrolled."""
    patient = _visible_or_404(patient_id)
    if request.method == "GET" and patient.status != PatientStatus.PENDING:
        flash(NOT_PENDING.format(patient.status.value), "info")
        return _to_patient(patient.rems_id)
    form = forms.SignEnrollmentForm()

    def change(actor: User) -> None:
        """The prescriber's signature."""
        services.sign_enrollment(
            db.session, patient, actor, password=form.password.data or "", today=program_today()
        )

    if form.validate_on_submit() and (done := _apply(form, patient.rems_id, ENROLLED, change)):
        return done
    facts = presenters.patient_page(db.session, patient, current_actor(), program_today())
    return render_template(
        "patients/sign.html", form=form, meaning=services.PRESCRIBER_MEANING, **facts
    )


def _apply(form, rems_id: str, done: str, change: Callable[[User], None]):
    """Run a service as the signed-in user: None when the form must show field errors, else a
    redirect: to the patient (to the list when the user can no longer see them)."""
    try:
        change(current_actor())
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return _to_patient(rems_id)
    db.session.commit()
    flash(done, "success")
    if queries.patient_for(db.session, current_actor(), rems_id) is None:
        return redirect(url_for(".patient_list"))
    return _to_patient(rems_id)


@bp.post("/<patient_id>/acknowledgments")
@roles(*OWN_TEAM)
def acknowledge(patient_id: str):
    """Record the patient's acknowledgment of one document's current version, witnessed by
    the signed-in user."""
    patient = _visible_or_404(patient_id)
    form = forms.acknowledgment_form(_program().acknowledgment_methods)
    raw = form.version_id.data or ""
    version = db.session.get(DocumentVersion, int(raw)) if raw.isdigit() else None
    if version is None:
        flash("Choose the document to acknowledge on the patient's page.", "error")
        return _to_patient(patient.rems_id)
    rems_id, title, label = patient.rems_id, version.document.title, version.label
    try:
        documents.acknowledge(db.session, patient, version, witness=current_actor(),
                              method=form.method.data or "", today=program_today())  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        flash(" ".join(m for messages in failure.errors.values() for m in messages), "error")
    else:
        db.session.commit()
        flash(f"Recorded: the patient acknowledged the {title}, version {label}.", "success")
    return _to_patient(rems_id)


@bp.post("/<patient_id>/discontinue")
@roles(*MANAGERS)
def discontinue(patient_id: str):
    """Stop treatment, with a reason; monitoring continues."""
    patient = _visible_or_404(patient_id)
    form = forms.DiscontinueForm()

    def change(actor: User) -> None:
        """Discontinue."""
        lifecycle.discontinue(db.session, patient, actor, reason=form.reason.data or "")

    months = _program().monitoring.months_after_last_dose
    return _lifecycle(patient, "discontinue", form, DISCONTINUED.format(months=months), change)


@bp.post("/<patient_id>/close")
@roles(*MANAGERS)
def close(patient_id: str):
    """Close the record: the reason, the date (not in the future), a note."""
    patient = _visible_or_404(patient_id)
    form = forms.close_form(_program().patient.close_reasons)

    def change(actor: User) -> None:
        """Close."""
        lifecycle.close(
            db.session, patient, actor, close_reason=form.close_reason.data or "",
            closed_on=form.closed_on.data, note=(form.note.data or "").strip(),
            today=program_today(),
        )  # fmt: skip

    return _lifecycle(patient, "close", form, "The record is closed.", change)


@bp.post("/<patient_id>/transfer")
@roles(*MANAGERS)
def transfer(patient_id: str):
    """Hand the patient to another certified prescriber, looked up by NPI."""
    patient = _visible_or_404(patient_id)
    form = forms.TransferForm()
    npi = (form.npi.data or "").strip()
    new = db.session.scalar(sa.select(Prescriber).where(Prescriber.npi == npi)) if npi else None

    def change(actor: User) -> None:
        """Transfer."""
        lifecycle.transfer(db.session, patient, actor, new_prescriber=new,
                           reason=form.reason.data or "", today=program_today())  # fmt: skip

    done = f"{new.name if new else ''} is now the patient's prescriber of record."
    return _lifecycle(patient, "transfer", form, done, change)


def _lifecycle(patient: Patient, action: str, form, done: str, change: Callable[[User], None]):
    """A lifecycle change posted from the patient's page; the page again with its errors."""
    if form.validate_on_submit() and (response := _apply(form, patient.rems_id, done, change)):
        return response
    return _patient_page(patient, (action, form), 422)
