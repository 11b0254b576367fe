"""The prescriber's pages: enrollment form, knowledge assessment, signing, delegates."""

from __future__ import annotations

import random
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, session, url_for

from rems.auth.forms import ConfirmForm
from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, roles
from rems.certification import queries, rules
from rems.certification.forms_common import version_of
from rems.certification.models import CertStatus
from rems.certification.services import pending_submission
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.extensions import db
from rems.prescribers import delegates as delegation
from rems.prescribers import forms, services
from rems.prescribers.models import Prescriber, PrescriberDelegate

bp = Blueprint("prescribers", __name__, url_prefix="/prescriber")

ATTEMPT_KEY = "prescriber_assessment"
START_FORM_FIRST = "Start your Prescriber Enrollment Form first: your name is enough to begin."
RESTART = (
    "Your answers could not be graded: the assessment was not started here, or its questions "
    "changed. Nothing was recorded; start the assessment again below."
)
NOT_CERTIFIED = "Only a certified prescriber can add delegates."
SUBMITTED = "Your signed enrollment is submitted and awaits the program's review."
CERTIFIED = "The program certifies automatically: you are certified until {:%Y-%m-%d}."


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


def _own_record() -> Prescriber | None:
    """The signed-in prescriber's record, None before the form is started."""
    return services.prescriber_for(db.session, current_actor())


def _locked_reason(prescriber: Prescriber | None) -> str | None:
    """Why the enrollment cannot change today (in review, or certified), or None if it can."""
    warning_days = _program().certification.expiry_warning_days
    return forms.read_only_reason(db.session, prescriber, program_today(), warning_days)


@bp.get("/enrollment")
@roles(Role.PRESCRIBER)
def enrollment():
    """The prescriber's certification: status, the three steps, and its history."""
    prescriber = _own_record()
    facts = _overview_facts(prescriber) if prescriber else {}
    return render_template("prescribers/enrollment.html", prescriber=prescriber, **facts)


def _overview_facts(prescriber: Prescriber) -> dict:
    """What the overview shows of an existing record."""
    day, warning_days = program_today(), _program().certification.expiry_warning_days
    pending = pending_submission(db.session, prescriber)
    status, expires_on = prescriber.status, prescriber.expires_on
    return {
        "status": queries.status_today(prescriber, day),
        "days_left": rules.days_to_expiry(expires_on, day),
        "expiring": rules.expiring_soon(status, expires_on, day, warning_days),
        "locked": _locked_reason(prescriber),
        "pending": pending,
        "steps": forms.checklist(db.session, prescriber, submitted=pending is not None),
        "history": queries.history_of(db.session, prescriber),
        "attempts": queries.attempts_of(db.session, prescriber),
        "submissions": queries.submissions_of(db.session, prescriber),
    }


@bp.route("/enrollment/form", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def enrollment_form():
    """The Prescriber Enrollment Form: save a draft, resume it; read-only while it can't change."""
    prescriber = _own_record()
    locked = _locked_reason(prescriber)
    form = forms.EnrollmentForm(obj=prescriber)
    if not form.is_submitted() and prescriber is not None:
        form.version.data = version_of(prescriber)
    if locked is None and form.validate_on_submit():
        response = _save_form(form)
        if response is not None:
            return response
    rows = forms.labelled_values(prescriber) if prescriber else []
    return render_template("prescribers/form.html", form=form, locked=locked, rows=rows)


def _save_form(form: forms.EnrollmentForm):
    """Save through the service: a redirect when saved or stale, None to show field errors."""
    try:
        services.save_enrollment_form(
            db.session, current_actor(), forms.form_values(form), today=program_today(),
            expected_version=form.version.data,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".enrollment_form"))
    db.session.commit()
    flash("Your Prescriber Enrollment Form is saved; come back to it any time.", "success")
    return redirect(url_for(".enrollment"))


def _refusal(prescriber: Prescriber | None):
    """A redirect when the prescriber cannot take the assessment or sign now, else None."""
    if prescriber is None:
        flash(START_FORM_FIRST, "info")
        return redirect(url_for(".enrollment_form"))
    locked = _locked_reason(prescriber)
    if locked is not None:
        flash(locked, "error")
        return redirect(url_for(".enrollment"))
    return None


@bp.get("/enrollment/assessment")
@roles(Role.PRESCRIBER)
def assessment():
    """Start an attempt: its question order and start time are kept in the session."""
    refused = _refusal(_own_record())
    if refused is not None:
        return refused
    attempt = forms.new_attempt(_program().assessment, random.SystemRandom(), utcnow())
    session[ATTEMPT_KEY] = attempt
    shown = forms.questions_shown(_program(), attempt)
    return render_template("prescribers/assessment.html", form=forms.assessment_form(shown))


@bp.post("/enrollment/assessment")
@roles(Role.PRESCRIBER)
def grade_assessment():
    """Grade the attempt in the session; every graded attempt is recorded, pass or fail."""
    attempt, prescriber = session.get(ATTEMPT_KEY), _own_record()
    refused = _refusal(prescriber)
    if refused is not None:
        session.pop(ATTEMPT_KEY, None)
        return refused
    shown = forms.questions_shown(_program(), attempt) if attempt else None
    if shown is None:
        session.pop(ATTEMPT_KEY, None)
        flash(RESTART, "error")
        return redirect(url_for(".assessment"))
    form = forms.assessment_form(shown)
    if not form.validate_on_submit():
        return render_template("prescribers/assessment.html", form=form)
    answers = {question.id: form[f"q_{question.id}"].data for question, _ in shown}
    return _record_attempt(prescriber, attempt, answers)


def _record_attempt(prescriber: Prescriber, attempt: dict, answers: dict[str, str]):
    """Record the attempt, then show its result; a changed question set records nothing."""
    session.pop(ATTEMPT_KEY, None)
    try:
        services.record_assessment(
            db.session, prescriber, current_actor(), order=attempt["order"], answers=answers,
            started_at=datetime.fromisoformat(attempt["started_at"]),
        )  # fmt: skip
    except ValidationFailed:
        db.session.rollback()
        flash(RESTART, "error")
        return redirect(url_for(".assessment"))
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".enrollment"))
    db.session.commit()
    return redirect(url_for(".assessment_result"))


@bp.get("/enrollment/assessment/result")
@roles(Role.PRESCRIBER)
def assessment_result():
    """The latest attempt: score, passed or not, and the explanation of each wrong answer."""
    prescriber = _own_record()
    attempts = queries.attempts_of(db.session, prescriber) if prescriber else []
    attempt = attempts[0] if attempts else None
    wrong = forms.wrong_questions(_program(), attempt) if attempt else []
    return render_template("prescribers/assessment_result.html", attempt=attempt, wrong=wrong)


@bp.route("/enrollment/sign", methods=["GET", "POST"])
@roles(Role.PRESCRIBER)
def sign():
    """Sign and submit: the form as it will be signed, each attestation, the password."""
    prescriber = _own_record()
    if prescriber is None:
        return _refusal(prescriber)
    attestations, fixes = _program().attestations.prescriber, set()
    form = forms.sign_form(attestations)
    if not form.is_submitted():
        form.version.data = version_of(prescriber)
    locked = _locked_reason(prescriber)
    if locked is None and form.validate_on_submit():
        response, fixes = _submit(prescriber, form, attestations)
        if response is not None:
            return response
    return render_template(
        "prescribers/sign.html", form=form, attestations=attestations, locked=locked,
        fixes=fixes, rows=forms.labelled_values(prescriber), meaning=services.SIGNATURE_MEANING,
    )  # fmt: skip


def _submit(prescriber: Prescriber, form, attestations) -> tuple:
    """Sign and submit through the service: (a redirect, no fixes) when done or refused;
    (None, the pages that fix the problems) when the page must show errors."""
    attested = [a.id for a in attestations if form[f"attest_{a.id}"].data]
    try:
        submission = services.submit_enrollment(
            db.session, prescriber, current_actor(), password=form.password.data or "",
            attested=attested, today=program_today(), expected_version=form.version.data,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        return None, forms.show_signing_errors(form, failure.errors)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".sign")), set()
    db.session.commit()
    certified = submission.decision == "certified"
    flash(CERTIFIED.format(prescriber.expires_on) if certified else SUBMITTED, "success")
    return redirect(url_for(".enrollment")), set()


@bp.get("/delegates")
@roles(Role.PRESCRIBER)
def delegates():
    """The prescriber's current delegates and the form to add one."""
    return _delegates_page(forms.DelegateForm())


def _delegates_page(form: forms.DelegateForm, status: int = 200):
    """The delegates page with this add form."""
    prescriber = _own_record()
    rows = delegation.delegates_of(db.session, prescriber) if prescriber else []
    cert_status = queries.status_today(prescriber, program_today())
    return render_template(
        "prescribers/delegates.html", form=form, rows=rows, cert_status=cert_status,
        certified=cert_status == CertStatus.CERTIFIED, end_form=ConfirmForm(),
    ), status  # fmt: skip


@bp.post("/delegates")
@roles(Role.PRESCRIBER)
def add_delegate():
    """Link an existing delegate account, or create one, to work for this prescriber."""
    form, prescriber = forms.DelegateForm(), _own_record()
    if not form.validate_on_submit():
        return _delegates_page(form, 422)
    try:
        if prescriber is None:
            raise StateConflict(NOT_CERTIFIED)
        link = delegation.add_delegate(
            db.session, prescriber, current_actor(), today=program_today(), **form.service_values()
        )
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _delegates_page(form, 422)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".delegates"))
    name = db.session.get(User, link.delegate_id).full_name
    db.session.commit()
    flash(f"{name} now works for you as a delegate.", "success")
    return redirect(url_for(".delegates"))


@bp.post("/delegates/<int:link_id>/end")
@roles(Role.PRESCRIBER)
def end_delegate(link_id: int):
    """A delegate stops working for the prescriber; another prescriber's link is a 404."""
    prescriber, link = _own_record(), db.session.get(PrescriberDelegate, link_id)
    if link is None or prescriber is None or link.prescriber_id != prescriber.id:
        abort(404)
    name = db.session.get(User, link.delegate_id).full_name
    try:
        delegation.end_delegation(db.session, link, current_actor())
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(f"{name} no longer works for you; their account stays.", "success")
    return redirect(url_for(".delegates"))
