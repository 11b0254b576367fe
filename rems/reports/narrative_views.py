"""The auditor saves, signs and re-opens the assessment's narrative (administrators read it on
the assessment page; nobody else sees either)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.extensions import db
from rems.reports import narrative
from rems.reports.assessment_views import period_asked, render_assessment
from rems.reports.narrative_forms import NarrativeForm
from rems.reports.views import bp

DONE = {
    "save": "The narrative is saved as a draft.",
    "sign": "The narrative is signed and locked.",
    "new_version": "A new version of the narrative is started from the signed one.",
}


@bp.post("/assessment/narrative")
@roles(Role.AUDITOR)
def assessment_narrative():
    """Save the draft, sign it, or start a new version, for the period in the query string."""
    try:
        date_from, date_to = period_asked()
    except ValidationFailed:
        page, status, _ = render_assessment("reports/assessment.html")
        return page, status
    form = NarrativeForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in DONE:
        if action not in DONE:
            form.form_errors.append("Choose Save, Sign or Start a new version.")
        return _again(form, 422)
    try:
        _act(action, form, date_from, date_to)
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _again(form, 422)
    except StateConflict as conflict:
        db.session.rollback()
        form.form_errors.append(str(conflict))
        return _again(form, 409)
    db.session.commit()
    flash(DONE[action], "success")
    args = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    return redirect(url_for("reports.assessment", **args, _anchor="a-narrative"), 303)


def _act(action: str, form: NarrativeForm, date_from, date_to) -> None:
    """Do what the auditor asked (the caller commits)."""
    actor = current_actor()
    if action == "save":
        narrative.save(db.session, actor, date_from, date_to, form.narrative.data)
    elif action == "sign":
        narrative.sign_draft(db.session, actor, date_from, date_to, form.password.data or "")
    else:
        narrative.start_version(db.session, actor, date_from, date_to)


def _again(form: NarrativeForm, status: int):
    """The assessment page again, with the form and what was wrong."""
    page, _, _ = render_assessment("reports/assessment.html", form=form, status=status)
    return page, status
