"""Non-compliance pages: the case list with its filters, one case with its deviations and
evidence, the party's corrective action and the administrator's review. Administrators and
auditors see every case (auditors read only); a site's representative the site's; a prescriber
their own; other site staff an empty list, and a 404 for a case."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.common.pagination import paginate
from rems.compliance import forms, queries, services
from rems.compliance.models import NonComplianceCase
from rems.compliance.notices import party_name
from rems.extensions import db

bp = Blueprint("compliance", __name__, url_prefix="/compliance")

SUBMITTED = "The corrective action is submitted; an administrator reviews it."
REVIEWED = {"accepted": "The action is accepted: the case is closed.",
            "more_needed": "The party is asked for more."}  # fmt: skip
VIEWERS = (Role.ADMIN, Role.AUDITOR, Role.SITE_STAFF, Role.PRESCRIBER)


@bp.get("/cases")
@roles(*VIEWERS)
def case_list():
    """The cases the viewer may see, newest first, filtered and paged."""
    filters = forms.CaseFilterForm(request.args)
    query = queries.filtered(
        queries.visible_cases(db.session, current_actor()), request.args, program_today()
    )
    page = paginate(query)
    rows = [(case, party_name(db.session, case)) for case in page.items]
    return render_template(
        "compliance/list.html", page=page, rows=rows, filters=filters, states=forms.STATES
    )


@bp.get("/cases/<int:case_id>")
@roles(*VIEWERS)
def case_detail(case_id: int):
    """One case: its deviations and their doses, the corrective action, the review."""
    case = _case_or_404(case_id)
    return _detail(case, forms.ActionForm(formdata=None), forms.CaseReviewForm(formdata=None))


@bp.post("/cases/<int:case_id>/action")
@roles(Role.SITE_STAFF, Role.PRESCRIBER)
def submit_action(case_id: int):
    """The party's representative writes the corrective action."""
    case = _case_or_404(case_id)
    if not _answers_for(case):
        abort(404)
    form = forms.ActionForm()
    record = {"root_cause": form.root_cause.data, "action": form.action.data,
              "due_on": form.due_on.data}  # fmt: skip

    def change():
        services.submit_action(db.session, case, current_actor(), record, today=program_today())

    return _act(case, form, SUBMITTED, change, action_form=form)


@bp.post("/cases/<int:case_id>/review")
@roles(Role.ADMIN)
def review(case_id: int):
    """An administrator accepts the action (the case closes) or asks for more."""
    case = _case_or_404(case_id)
    form = forms.CaseReviewForm()
    outcome = form.outcome.data or ""

    def change():
        note = form.note.data or ""
        services.review_action(db.session, case, current_actor(), outcome=outcome, note=note)

    return _act(case, form, REVIEWED.get(outcome, ""), change, review_form=form)


def _act(case, form, done: str, change, *, action_form=None, review_form=None):
    """Run one change: a redirect when stored, the case page with the errors otherwise."""
    if not form.validate_on_submit():
        return _detail(case, action_form, review_form, 422)
    try:
        change()
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _detail(_case_or_404(case.id), action_form, review_form, 422)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".case_detail", case_id=case.id))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".case_detail", case_id=case.id))


def _detail(case, action_form=None, review_form=None, status: int = 200):
    return render_template(
        "compliance/detail.html", case=case, party=party_name(db.session, case),
        deviations=queries.case_deviations(db.session, case), may_act=_answers_for(case),
        may_review=current_actor().role == Role.ADMIN,
        action_form=action_form or forms.ActionForm(formdata=None),
        review_form=review_form or forms.CaseReviewForm(formdata=None), states=forms.STATES,
    ), status  # fmt: skip


def _case_or_404(case_id: int) -> NonComplianceCase:
    visible = queries.visible_cases(db.session, current_actor())
    case = db.session.scalar(visible.where(NonComplianceCase.id == case_id))
    if case is None:
        abort(404)
    return case


def _answers_for(case: NonComplianceCase) -> bool:
    """The viewer represents the case's party (administrators and auditors do not)."""
    actor = current_actor()
    return actor.role in (Role.SITE_STAFF, Role.PRESCRIBER)
