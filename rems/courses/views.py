"""The prescriber's course pages: the Patient Authorization and Baseline Lab Form, and closing
the open course early. Only the prescriber of record: anyone else's patient is a 404."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import patient_practice_today, program_today
from rems.common.transactions import write_of_its_own
from rems.courses import forms
from rems.courses.drafts import draft_dates, draft_token, mark_signed, open_draft
from rems.courses.models import Course
from rems.courses.services import (
    authorize_course,
    baseline_needs,
    close_course,
    courses_of,
)
from rems.courses.settling import open_course, settle_course
from rems.extensions import db
from rems.patients.models import Patient
from rems.patients.queries import patient_for

bp = Blueprint("courses", __name__, url_prefix="/patients")

AUTHORIZED = (
    "Course {number} is authorized: the first dose must be given by {by}. A certified pharmacy "
    "can now request a dispensing authorization."
)
CLOSED = "Course {number} is closed. The doses given still count for monitoring."
NOTHING_OPEN = "No course is open: there is nothing to close."
STALE = "The open course changed since the page was shown; check it and try again."
STALE_DRAFT = (
    "The delegate's draft changed (or was discarded) since the page was shown: check the form "
    "as it is now, then sign."
)


def _patient_or_404(patient_id: str) -> Patient:
    """The signed-in prescriber's own patient; anyone else's is a 404 (no hint which)."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    return patient


def _to_patient(patient: Patient):
    """Back to the patient's page."""
    return redirect(url_for("patients.patient_detail", patient_id=patient.rems_id))


def _settled_open_course(patient: Patient) -> Course | None:
    """The open course after recording a lapse that time has brought, in a short write of its
    own (a GET reads first; a lapse is recorded on first read)."""
    course = open_course(db.session, patient)
    if course is None:
        return None
    course_id = course.id
    with write_of_its_own(db.session):
        settle_course(db.session, db.session.get(Course, course_id), program_today())
    return open_course(db.session, patient)


@bp.route("/<patient_id>/courses/new", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def authorize(patient_id: str):
    """The Patient Authorization and Baseline Lab Form: every failing reason on its field."""
    patient = _patient_or_404(patient_id)
    current = _settled_open_course(patient) if request.method == "GET" else None
    previous = courses_of(db.session, patient)
    number = previous[0].number + 1 if previous else 1
    needs, attestations = baseline_needs(number), _program().attestations.course
    form = forms.authorization_form(needs, attestations)
    draft = open_draft(db.session, patient)
    if not form.is_submitted() and draft is not None:  # the delegate's draft, to review
        forms.fill_from_draft(form, needs, draft, draft_dates(draft))
        form.draft.data = draft_token(draft)
    elif form.validate_on_submit() and (done := _authorize(patient, form, needs, attestations)):
        return done
    return render_template(
        "courses/authorize.html", patient=patient, form=form, number=number, needs=needs,
        attestations=attestations, current=current, doses=_program().course_doses(number),
        value_boxes=forms.value_boxes,
        draft=draft, preparer=draft and db.session.get(User, draft.updated_by_id),
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _authorize(patient: Patient, form, needs, attestations):
    """Authorize through the service: a redirect when done, None to show the field errors.
    Signed from a draft, the draft is marked signed in the same transaction."""
    draft = open_draft(db.session, patient)
    if (form.draft.data or "") != draft_token(draft):
        flash(STALE_DRAFT, "error")
        return redirect(url_for(".authorize", patient_id=patient.rems_id))
    current = open_course(db.session, patient)
    if current is not None:
        settle_course(db.session, current, program_today())  # a lapsed course no longer blocks
    try:
        course = authorize_course(
            db.session, patient, current_actor(),
            today=patient_practice_today(db.session, patient)[0],  # the planned start's today
            **forms.course_values(form, needs, attestations),
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    if draft is not None:
        mark_signed(db.session, draft, current_actor(), course)
    number, by = course.number, course.first_dose_by
    db.session.commit()
    flash(AUTHORIZED.format(number=number, by=by), "success")
    return _to_patient(patient)


@bp.route("/<patient_id>/courses/close", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def close(patient_id: str):
    """Close the open course early, with the reason; the page again with its errors."""
    patient = _patient_or_404(patient_id)
    course, form = open_course(db.session, patient), forms.CloseCourseForm()
    if course is None:
        flash(NOTHING_OPEN, "info")
        return _to_patient(patient)
    if not form.is_submitted():
        form.course.data = str(course.number)
    elif form.validate_on_submit() and (done := _close(patient, course, form)):
        return done
    status = 422 if form.is_submitted() else 200
    return render_template("courses/close.html", patient=patient, course=course, form=form), status


def _close(patient: Patient, course: Course, form: forms.CloseCourseForm):
    """Close through the service: a redirect when done or refused, None to show errors."""
    if form.course.data != str(course.number):
        flash(STALE, "error")
        return redirect(url_for(".close", patient_id=patient.rems_id))
    number = course.number
    try:
        close_course(db.session, course, current_actor(), reason=form.reason.data or "")
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return _to_patient(patient)
    db.session.commit()
    flash(CLOSED.format(number=number), "success")
    return _to_patient(patient)


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]
