"""The administrators' certification pages: review queue, decisions, party status changes.
Auditors read every page; only administrators post."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for

from rems.audit.asof import answer_as_of
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.certification import admin_queries as reads
from rems.certification.forms import (
    FIELD_LABELS,
    ActionForm,
    DecisionForm,
    PartyFilterForm,
    QueueFilterForm,
)
from rems.certification.models import CertificationSubmission
from rems.certification.queries import certification_at, review_queue_statement
from rems.certification.rules import Transition
from rems.certification.services import apply_transition, decide_submission, submission_party
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.common.pagination import paginate
from rems.extensions import db
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

bp = Blueprint("certification", __name__, url_prefix="/admin/certification")
READERS = (Role.ADMIN, Role.AUDITOR)
PARTY_MODELS = {"prescribers": Prescriber, "sites": Site}


@bp.get("/queue")
@roles(*READERS)
def queue():
    """Submissions, those waiting for a decision first, filtered and paged."""
    filters = QueueFilterForm(request.args)
    statement = review_queue_statement(filters.party.data, filters.state.data, filters.q.data)
    page = paginate(statement)
    rows = reads.queue_rows(db.session, page.items, program_today())
    return render_template("certification/queue.html", filters=filters, page=page, rows=rows)


@bp.get("/submissions/<int:submission_id>")
@roles(*READERS)
def submission(submission_id: int):
    """One submission exactly as signed, its signature check, and the decision form."""
    record = db.get_or_404(CertificationSubmission, submission_id)
    return _submission_page(record, DecisionForm())


@bp.post("/submissions/<int:submission_id>/decision")
@roles(Role.ADMIN)
def decide(submission_id: int):
    """Certify or reject a pending submission (rejecting needs a reason)."""
    record = db.get_or_404(CertificationSubmission, submission_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _submission_page(record, form, 422)
    try:
        decide_submission(db.session, record, certify=form.certifies, actor=current_actor(),
                          today=program_today(), reason=form.reason.data)  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return _submission_page(record, form, 422)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(_decision_message(record), "success")
    return redirect(url_for("certification.submission", submission_id=record.id))


@bp.get("/prescribers")
@roles(*READERS)
def prescriber_list():
    """Prescribers, searchable and filtered by stored status, with their standing today."""
    filters = PartyFilterForm(request.args)
    page = paginate(reads.prescriber_list_statement(filters.q.data, filters.status.data))
    return render_template(
        "certification/prescribers.html", filters=filters, page=page,
        rows=reads.standings(page.items, program_today()), warning_days=reads.warning_days(),
    )  # fmt: skip


@bp.get("/sites")
@roles(*READERS)
def site_list():
    """Healthcare settings, searchable and filtered by stored status, with their standing."""
    filters = PartyFilterForm(request.args)
    page = paginate(reads.site_list_statement(filters.q.data, filters.status.data))
    return render_template(
        "certification/sites.html", filters=filters, page=page,
        rows=reads.standings(page.items, program_today()), warning_days=reads.warning_days(),
    )  # fmt: skip


@bp.get("/prescribers/<int:prescriber_id>")
@roles(*READERS)
def prescriber_detail(prescriber_id: int):
    """One prescriber: form, standing, history, submissions, assessment attempts, actions."""
    return _party_page(db.get_or_404(Prescriber, prescriber_id))


@bp.get("/sites/<int:site_id>")
@roles(*READERS)
def site_detail(site_id: int):
    """One healthcare setting: form, standing, history, submissions, staff, actions."""
    return _party_page(db.get_or_404(Site, site_id))


@bp.post("/<any(prescribers, sites):party>/<int:party_id>/<any(suspend, reinstate, revoke):action>")
@roles(Role.ADMIN)
def change_status(party: str, party_id: int, action: str):
    """Suspend, reinstate or revoke a party, with a reason; refused ones change nothing."""
    record = db.get_or_404(PARTY_MODELS[party], party_id)
    form = ActionForm(action)
    if not form.validate_on_submit():
        refused = reads.refusal(record, Transition(action), program_today())
        if refused is None:
            return _party_page(record, form, 422)
        flash(refused, "error")  # a stale page: say why, not that the reason is missing
        return redirect(_party_url(record))
    try:
        apply_transition(db.session, record, Transition(action), actor=current_actor(),
                         today=program_today(), reason=form.reason.data)  # fmt: skip
    except (StateConflict, ValidationFailed) as failure:
        db.session.rollback()
        flash(str(failure), "error")
    else:
        db.session.commit()
        flash(f"{record.name} is now {record.status.value}.", "success")
    return redirect(_party_url(record))


def _submission_page(record: CertificationSubmission, form: DecisionForm, status: int = 200):
    """Render the submission page (status 422 when re-showing an invalid decision)."""
    facts = reads.submission_page(db.session, record, program_today())
    may_decide = current_actor().role == Role.ADMIN and record.decision is None
    page = render_template(
        "certification/submission.html", form=form, may_decide=may_decide,
        field_labels=FIELD_LABELS, **facts,
    )  # fmt: skip
    return page, status


def _party_page(record: Prescriber | Site, posted: ActionForm | None = None, status: int = 200):
    """Render a party page with a form per allowed action (the posted one with its errors)."""
    facts = reads.party_page(db.session, record, program_today())
    admin = current_actor().role == Role.ADMIN
    forms = {a.value: ActionForm(a.value) for a in facts["actions"]} if admin else {}
    if posted is not None and posted.action in forms:
        forms[posted.action] = posted
    template = "prescriber" if isinstance(record, Prescriber) else "site"
    as_of = answer_as_of(
        request.args.get("as_of"), utcnow(), partial(certification_at, db.session, record)
    )
    return render_template(
        f"certification/{template}.html", party=record, forms=forms,
        party_segment=f"{template}s", warning_days=reads.warning_days(),
        field_labels=FIELD_LABELS, as_of=as_of, **facts,
    ), 400 if as_of and as_of.problem else status  # fmt: skip


def _party_url(record: Prescriber | Site) -> str:
    """The page of a prescriber or site."""
    if isinstance(record, Prescriber):
        return url_for("certification.prescriber_detail", prescriber_id=record.id)
    return url_for("certification.site_detail", site_id=record.id)


def _decision_message(record: CertificationSubmission) -> str:
    """What the decision did, in words."""
    party = submission_party(db.session, record)
    if record.decision == "certified":
        return f"Certified: {party.name} is certified until {party.expires_on.isoformat()}."
    return f"Rejected: {party.name}'s status is now {party.status.value}; the reason is on record."
