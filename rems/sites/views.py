"""The authorized representative's pages: the site's enrollment, staff and API tokens."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from rems.auth.forms import ConfirmForm
from rems.auth.models import ApiToken
from rems.auth.permissions import current_actor, site_representative
from rems.certification.forms_common import check_editable, version_of
from rems.certification.queries import history_of, status_today, submissions_of
from rems.certification.rules import days_to_expiry, expiring_soon
from rems.certification.services import pending_submission
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import program_today
from rems.extensions import db
from rems.sites import forms, services
from rems.sites.models import Site
from rems.web.queries import site_staff

bp = Blueprint("sites", __name__, url_prefix="/site")
ALREADY_SUBMITTED = "This enrollment was already submitted and is waiting for the program's review."
#: The flash after signing, by the submission's decision (None: waiting for review).
SUBMITTED = {
    "certified": "The enrollment form is signed and submitted, and the program certified the site.",
    None: "The enrollment form is signed and submitted, awaiting the program's review.",
}
#: The flash after a staff change, by the change.
STAFF_CHANGED = {
    "deactivate": "{} is deactivated: their sessions ended and their API tokens stopped working.",
    "reactivate": "{} is reactivated and can sign in again.",
}


def with_site(view: Callable[..., Any]) -> Callable[..., Any]:
    """Hand the representative's site to the view; without one, send them to register it."""

    @wraps(view)
    def wrapper(**kwargs: Any):
        """The view, called with the site."""
        site = current_actor().site
        if site is None:
            flash("Register your healthcare setting first.", "info")
            return redirect(url_for("sites.register"))
        return view(site=site, **kwargs)

    return wrapper


@bp.get("")
@site_representative
def overview():
    """The site's enrollment at a glance, or an invitation to register it."""
    site = current_actor().site
    facts = _overview_facts(site) if site is not None else {}
    return render_template("sites/overview.html", site=site, **facts)


@bp.route("/register", methods=["GET", "POST"])
@site_representative
def register():
    """The Healthcare Setting Enrollment Form, filled in for the first time."""
    user = current_actor()
    if user.site_id is not None:
        return redirect(url_for("sites.overview"))
    form = forms.SiteForm()
    if form.validate_on_submit():
        try:
            site = services.register_site(db.session, user, form.values())
        except (ValidationFailed, StateConflict) as failure:
            _show_failure(form, failure)
        else:
            db.session.commit()
            flash(f"{site.name} is registered (site ID {site.site_code}). Review the form, then "
                  "sign it to submit it to the program.", "success")  # fmt: skip
            return redirect(url_for("sites.overview"))
    return render_template("sites/register.html", form=form)


@bp.route("/edit", methods=["GET", "POST"])
@site_representative
@with_site
def edit(site: Site):
    """Change the site's form while it may change; otherwise show it read-only with the reason."""
    form = forms.SiteEditForm(obj=site, version=version_of(site))
    if form.validate_on_submit():
        try:
            services.update_site(
                db.session, site, current_actor(), form.values(), today=program_today(),
                expected_version=form.version.data,
            )  # fmt: skip
        except ValidationFailed as failure:
            _show_failure(form, failure)
        except StateConflict as conflict:
            return _conflict(conflict, "sites.edit")
        else:
            db.session.commit()
            flash("The site's enrollment form is saved.", "success")
            return redirect(url_for("sites.overview"))
    return render_template("sites/edit.html", form=form, site=site, locked=_locked_reason(site))


@bp.route("/sign", methods=["GET", "POST"])
@site_representative
@with_site
def sign(site: Site):
    """Sign the attestations for the site's capabilities, which submits the form."""
    attestations = _program().site_attestations(site.dispenses, site.infuses)
    form = forms.sign_form(attestations, version=version_of(site))
    if form.validate_on_submit():
        try:
            submission = services.submit_site_enrollment(
                db.session, site, current_actor(), password=form.password.data,
                attested=form.attested(attestations), today=program_today(),
                expected_version=form.version.data,
            )  # fmt: skip
        except ValidationFailed as failure:
            _show_failure(form, failure)
        except StateConflict as conflict:
            return _conflict(conflict, "sites.sign")
        else:
            db.session.commit()
            flash(SUBMITTED.get(submission.decision, SUBMITTED[None]), "success")
            return redirect(url_for("sites.overview"))
    return render_template(
        "sites/sign.html", form=form, site=site, attestations=attestations,
        blocked=_sign_blocked(site), meaning=services.SIGNATURE_MEANING,
    )  # fmt: skip


@bp.route("/staff", methods=["GET", "POST"])
@site_representative
@with_site
def staff(site: Site):
    """The site's staff accounts; the representative adds one here."""
    form = forms.StaffForm()
    if form.validate_on_submit():
        try:
            member = services.add_staff(db.session, site, current_actor(), **form.values())
        except (ValidationFailed, StateConflict) as failure:
            _show_failure(form, failure)
        else:
            db.session.commit()
            flash(f"Account {member.username} created for {member.full_name}. Give them their "
                  "username and first password securely.", "success")  # fmt: skip
            return redirect(url_for("sites.staff"))
    return _staff_page(site, form)


@bp.post("/staff/<int:user_id>/<any(deactivate, reactivate):change>")
@site_representative
@with_site
def staff_set_active(site: Site, user_id: int, change: str):
    """Deactivate or reactivate a staff member, with a reason; sessions and tokens follow."""
    member = services.staff_member(db.session, site, user_id)
    if member is None:
        abort(404)
    form = forms.StaffChangeForm()
    if not form.validate_on_submit():
        return _staff_page(site, forms.StaffForm(formdata=None), form, member.id, 422)
    try:
        services.set_staff_active(
            db.session, site, member, change == "reactivate", actor=current_actor(),
            reason=form.reason.data,
        )  # fmt: skip
    except (StateConflict, ValidationFailed) as failure:
        return _conflict(failure, "sites.staff")
    db.session.commit()
    flash(STAFF_CHANGED[change].format(f"{member.full_name} ({member.username})"), "success")
    return redirect(url_for("sites.staff"))


@bp.route("/tokens", methods=["GET", "POST"])
@site_representative
@with_site
def tokens(site: Site):
    """Every API token of the site's staff; a new one is shown once, right after it is made."""
    form, plaintext = forms.SiteTokenForm.for_staff(_active_staff(site)), None
    if form.validate_on_submit():
        try:
            _, plaintext = services.issue_staff_token(
                db.session, site, current_actor(), _chosen_staff(site, form), form.name.data
            )
        except (ValidationFailed, StateConflict) as failure:
            db.session.rollback()
            show_errors(form, getattr(failure, "errors", {"staff": [str(failure)]}))
        else:
            db.session.commit()
            form = forms.SiteTokenForm.for_staff(_active_staff(site), formdata=None)
    return render_template(
        "sites/tokens.html", site=site, form=form, plaintext=plaintext,
        tokens=services.site_tokens(db.session, site), revoke_form=ConfirmForm(),
        status=status_today(site, program_today()),
    )  # fmt: skip


@bp.post("/tokens/<int:token_id>/revoke")
@site_representative
@with_site
def revoke_token(site: Site, token_id: int):
    """Revoke a token of the site's staff (any other token is a 404)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user.site_id != site.id:
        abort(404)
    try:
        services.revoke_site_token(db.session, site, current_actor(), token)
    except StateConflict as conflict:
        return _conflict(conflict, "sites.tokens")
    db.session.commit()
    flash(f"The token “{token.name}” of {token.user.full_name} is revoked; systems using it are "
          "refused from now on.", "success")  # fmt: skip
    return redirect(url_for("sites.tokens"))


def _program():
    """The loaded program file."""
    return current_app.extensions["rems_program"]


def _show_failure(form, failure: ValidationFailed | StateConflict) -> None:
    """Undo the attempt; field errors go on their fields, a conflict on the whole form."""
    db.session.rollback()
    errors = getattr(failure, "errors", {"": [str(failure)]})
    if isinstance(form, forms.SiteForm):
        form.show_errors(errors)
    else:
        show_errors(form, errors)


def _conflict(failure: StateConflict | ValidationFailed, endpoint: str):
    """Undo the attempt, say why it was refused, and reload the page as it now stands."""
    db.session.rollback()
    errors = getattr(failure, "errors", None)
    messages = [m for ms in errors.values() for m in ms] if errors else [str(failure)]
    for message in messages:
        flash(message, "error")
    return redirect(url_for(endpoint))


def _locked_reason(site: Site) -> str | None:
    """Why the site's form cannot change today, in the service's own words; None if it can."""
    try:
        check_editable(
            site.status,
            site.expires_on,
            program_today(),
            _program().certification.expiry_warning_days,
        )
    except StateConflict as conflict:
        return str(conflict)
    return None


def _sign_blocked(site: Site) -> str | None:
    """Why the form cannot be signed now (locked, or a submission already waits); None if it can."""
    reason = _locked_reason(site)
    if reason is None and pending_submission(db.session, site) is not None:
        return ALREADY_SUBMITTED
    return reason


def _overview_facts(site: Site) -> dict[str, Any]:
    """What the overview shows about a registered site, as of today."""
    day, warning_days = program_today(), _program().certification.expiry_warning_days
    return {
        "status": status_today(site, day),
        "expiring": expiring_soon(site.status, site.expires_on, day, warning_days),
        "days_left": days_to_expiry(site.expires_on, day),
        "pending": pending_submission(db.session, site),
        "history": history_of(db.session, site),
        "submissions": submissions_of(db.session, site),
        "may_edit": _locked_reason(site) is None,
        "may_sign": _sign_blocked(site) is None,
    }


def _staff_page(site: Site, form, change_form=None, failed_id: int | None = None, status=200):
    """The staff list with the add form; a refused change shows its error on its own row."""
    return render_template(
        "sites/staff.html", site=site, form=form, staff=site_staff(db.session, site),
        change_form=change_form or forms.StaffChangeForm(formdata=None), failed_id=failed_id,
    ), status  # fmt: skip


def _active_staff(site: Site) -> list:
    """The site's active staff: those a token may be made for."""
    return [member for member in site_staff(db.session, site) if member.active]


def _chosen_staff(site: Site, form: forms.SiteTokenForm):
    """The staff member chosen on the token form; someone else is a field error."""
    member = services.staff_member(db.session, site, int(form.staff.data))
    if member is None:
        raise ValidationFailed.single("staff", "Choose a member of this site's staff.")
    return member
