"""A delegate prepares the Patient Authorization and Baseline Lab Form as a draft for the
prescriber to sign; the prescriber or a delegate discards it with a reason. Another prescriber's
patient is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.courses import forms
from rems.courses.drafts import (
    discard_draft,
    draft_dates,
    draft_token,
    open_draft,
    preparable_problem,
    save_draft,
)
from rems.courses.services import baseline_needs, courses_of
from rems.extensions import db
from rems.patients.models import Patient
from rems.patients.queries import patient_for
from rems.prescribers.models import Prescriber

bp = Blueprint("course_drafts", __name__, url_prefix="/patients")

SAVED = (
    "The draft of course {number} is saved. {prescriber} is asked to review and sign it; until "
    "then it stays open for you to update."
)
DISCARDED = "The draft is discarded."
NO_DRAFT = "There is no open draft for this patient."
STALE = "The draft changed since the page was shown; check it as it is now and try again."


def _patient_or_404(patient_id: str) -> Patient:
    """A patient of the signed-in prescriber, or of a prescriber the delegate works for."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    return patient


def _to_patient(patient: Patient):
    return redirect(url_for("patients.patient_detail", patient_id=patient.rems_id))


@bp.route("/<patient_id>/courses/draft", methods=["GET", "POST"])
@roles(Role.DELEGATE)
def prepare(patient_id: str):
    """The form without attestations or signature, saved as the patient's open draft."""
    patient = _patient_or_404(patient_id)
    previous = courses_of(db.session, patient)
    number = previous[0].number + 1 if previous else 1
    needs = baseline_needs(number)
    form, draft = forms.draft_form(needs), open_draft(db.session, patient)
    if not form.is_submitted() and draft is not None:
        forms.fill_from_draft(form, needs, draft, draft_dates(draft))
    if not form.is_submitted():
        form.draft.data = draft_token(draft)
    elif form.validate_on_submit() and (done := _save(patient, form, needs, number)):
        return done
    prescriber = db.session.get(Prescriber, patient.prescriber_id)
    return render_template(
        "courses/draft.html", patient=patient, form=form, number=number, needs=needs,
        draft=draft, prescriber=prescriber, blocked=preparable_problem(db.session, patient),
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _save(patient: Patient, form, needs, number: int):
    """Save through the service: a redirect when done or refused, None to show the errors."""
    if (form.draft.data or "") != draft_token(open_draft(db.session, patient)):
        flash(STALE, "error")
        return redirect(url_for(".prepare", patient_id=patient.rems_id))
    try:
        save_draft(
            db.session, patient, current_actor(), planned_start=form.planned_start.data,
            baseline=forms.baseline_values(form, needs), number=number,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return _to_patient(patient)
    prescriber = db.session.get(Prescriber, patient.prescriber_id)
    name = prescriber.name
    db.session.commit()
    flash(SAVED.format(number=number, prescriber=name), "success")
    return _to_patient(patient)


@bp.route("/<patient_id>/courses/draft/discard", methods=["GET", "POST"])
@roles(Role.PRESCRIBER, Role.DELEGATE)
def discard(patient_id: str):
    """Discard the open draft, with the reason; the page again with its errors."""
    patient = _patient_or_404(patient_id)
    draft, form = open_draft(db.session, patient), forms.DiscardDraftForm()
    if draft is None:
        flash(NO_DRAFT, "info")
        return _to_patient(patient)
    if not form.is_submitted():
        form.draft.data = draft_token(draft)
    elif form.validate_on_submit() and (done := _discard(patient, draft, form)):
        return done
    preparer = db.session.get(User, draft.prepared_by_id)
    return render_template(
        "courses/discard_draft.html", patient=patient, draft=draft, form=form, preparer=preparer
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _discard(patient: Patient, draft, form):
    """Discard through the service: a redirect when done or refused, None to show errors."""
    if form.draft.data != draft_token(draft):
        flash(STALE, "error")
        return redirect(url_for(".discard", patient_id=patient.rems_id))
    try:
        discard_draft(db.session, draft, current_actor(), reason=form.reason.data or "")
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return _to_patient(patient)
    db.session.commit()
    flash(DISCARDED, "success")
    return _to_patient(patient)
