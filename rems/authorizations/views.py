"""The pharmacy's dispensing-authorization pages (request, decision, live list, reversal) and
the authorization's own page for every party to it. Same services as the JSON API."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles, signed_in
from rems.authorizations import forms, guessing
from rems.authorizations.decided_on import decided_on
from rems.authorizations.deciding import request_authorization
from rems.authorizations.history import (
    OUTCOMES,
    history_rows,
    matched_patients,
    pharmacy_history,
)
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.authorizations.queries import authorization_for, live_for_pharmacy
from rems.authorizations.services import reverse_authorization
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.common.localtime import actor_today
from rems.common.pagination import seek_page
from rems.common.transactions import write_of_its_own
from rems.courses.settling import needs_settling, settle_authorization
from rems.extensions import db
from rems.sites.models import Site

bp = Blueprint("authorizations", __name__, url_prefix="/authorizations")

REPLAYED = "This request was already sent: here is the answer it got. Nothing new was stored."
REVERSED = "Authorization {number} is reversed; its doses returned to the course."
KEY_PREFIX = "web:"


def site_that(capability: str) -> Site:
    """The signed-in staff member's site when it can do this ("dispenses" or "infuses"); a
    403 page that says why otherwise."""
    site = current_actor().site
    if site is None or not getattr(site, capability):
        page = render_template("authorizations/wrong_site.html", site=site, needed=capability)
        abort(make_response(page, 403))
    return site


def visible_or_404(number: str) -> Authorization:
    """The authorization if the signed-in user is party to it; a 404 otherwise."""
    authorization = authorization_for(db.session, current_actor(), number)
    if authorization is None:
        abort(404)
    return authorization


@bp.get("")
@roles(Role.SITE_STAFF)
def live_list():
    """The pharmacy's live authorizations, newest first, each with its reversal form."""
    site = site_that("dispenses")
    page = seek_page(live_for_pharmacy(site.id), [Authorization.id], descending=True)
    rows = forms.authorization_rows(db.session, page.items, actor_today(current_actor()))
    return render_template("authorizations/list.html", site=site, page=page, rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.SITE_STAFF)
def request_form():
    """Ask before dispensing: the decision is stored, granted or denied, then shown."""
    site = site_that("dispenses")
    form = forms.RequestForm()
    form.infusion_site_id.choices = forms.infusion_site_options(db.session)
    key = _posted_key() if form.is_submitted() else None
    if form.validate_on_submit():
        return _decide(form, key)
    return render_template(
        "authorizations/request.html", form=form, site=site,
        request_key=key or KEY_PREFIX + uuid.uuid4().hex,
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _posted_key() -> str | None:
    """The form's own Idempotency-Key: one per form shown."""
    key = request.form.get("request_key", "")
    return key if key.startswith(KEY_PREFIX) and len(key) <= 100 else None


def _decide(form: forms.RequestForm, key: str | None):
    """Decide through the service, once per form shown (a double submit replays the answer)."""
    ask = {
        "requester": current_actor(),
        "request": form.request_body(),
        "today": actor_today(current_actor()),
    }
    guessing.check_site_guesses(ask["requester"])
    try:
        outcome = request_authorization(db.session, idempotency_key=key, **ask)
        db.session.commit()
        guessing.note_outcome(db.session, ask["requester"], outcome, ask["request"]["patient_id"])
    except ValidationFailed:  # the same form sent again with other values
        db.session.rollback()
        outcome = request_authorization(db.session, idempotency_key=None, **ask)
        db.session.commit()
    except sa.exc.IntegrityError:  # a double submit raced the first one: answer as it did
        db.session.rollback()
        outcome = request_authorization(db.session, idempotency_key=key, **ask)
    if outcome.replayed:
        flash(REPLAYED, "info")
    return redirect(url_for(".decision", decision_id=outcome.decision.decision_id))


@bp.get("/decisions")
@roles(Role.SITE_STAFF)
def history():
    """The pharmacy's own decisions, granted and denied, newest first; by outcome, or searched
    by decision ID or REMS patient ID."""
    site = site_that("dispenses")
    outcome = request.args.get("outcome") if request.args.get("outcome") in OUTCOMES else None
    search = request.args.get("q", "").strip()[:40]
    problem = None
    if search and not any(is_valid_identifier(search, prefix) for prefix in ("D", "P")):
        problem = "Enter a decision ID (D…) or a REMS patient ID (P…), with its check character."
    statement = pharmacy_history(site.id, outcome, search)
    page = seek_page(statement, [AuthorizationDecision.id], descending=True)
    return render_template(
        "authorizations/history.html", site=site, page=page, outcome=outcome, search=search,
        search_problem=problem, rows=history_rows(page.items),
        matched=matched_patients(db.session, page.items),
    )  # fmt: skip


@bp.get("/decisions/<decision_id>")
@roles(Role.SITE_STAFF, Role.ADMIN, Role.AUDITOR)
def decision(decision_id: str):
    """A stored decision, for the pharmacy that asked and for readers of everything: the grant,
    or every reason and who acts."""
    stored = _decision_or_404(decision_id)
    granted = db.session.get(Authorization, stored.authorization_id or 0)
    return render_template(
        "authorizations/decision.html", decision=stored, body=stored.response or {},
        authorization=granted, action_by=forms.ACTION_BY, next_step=forms.NEXT_STEP,
        facts=decided_on(db.session, stored),
        identity=matched_patients(db.session, [stored]).get(stored.patient_id),
    )  # fmt: skip


def _decision_or_404(decision_id: str) -> AuthorizationDecision:
    """The decision if the user may see it: administrators and auditors see every decision, a
    pharmacy only its own; anyone else, and an unknown ID, gets a 404."""
    statement = sa.select(AuthorizationDecision).where(
        AuthorizationDecision.decision_id == normalize_identifier(decision_id)
    )
    if current_actor().role == Role.SITE_STAFF:
        site = site_that("dispenses")
        statement = statement.where(AuthorizationDecision.pharmacy_site_id == site.id)
    stored = db.session.scalar(statement)
    if stored is None:
        abort(404)
    return stored


@bp.get("/<number>")
@signed_in
def detail(number: str):
    """One authorization, for the parties to it. A read past the last day records the expiry
    first, in a short write of its own."""
    authorization = visible_or_404(number)
    if needs_settling(authorization, actor_today(current_actor())):
        with write_of_its_own(db.session):
            settle_authorization(db.session, authorization, actor_today(current_actor()))
    facts = forms.authorization_page(
        db.session, authorization, current_actor(), actor_today(current_actor())
    )
    return render_template(
        "authorizations/detail.html", reversal=forms.ReversalForm(formdata=None), **facts
    )


@bp.route("/<number>/reversal", methods=["GET", "POST"])
@roles(Role.SITE_STAFF)
def reverse(number: str):
    """The holding pharmacy takes the authorization back before any dose, with a reason."""
    site = site_that("dispenses")
    authorization = visible_or_404(number)
    if authorization.pharmacy_site_id != site.id:
        abort(404)
    form = forms.ReversalForm()
    if form.validate_on_submit() and (done := _reverse(authorization, form)):
        return done
    facts = forms.authorization_page(
        db.session, authorization, current_actor(), actor_today(current_actor())
    )
    return render_template(
        "authorizations/reverse.html", form=form, **facts
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _reverse(authorization: Authorization, form: forms.ReversalForm):
    """Reverse through the service: a redirect when done or refused, None to show errors."""
    number = authorization.number
    try:
        reverse_authorization(
            db.session, authorization, current_actor(), reason=form.reason.data or "",
            today=actor_today(current_actor()),
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for(".detail", number=number))
    db.session.commit()
    flash(REVERSED.format(number=number), "success")
    return redirect(url_for(".detail", number=number))
