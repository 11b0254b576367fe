"""Sign-in, sign-out, the account page, password change and the user's own API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from rems.auth import own_password, signin, tokens
from rems.auth.forms import ChangePasswordForm, ConfirmForm, SignInForm, TokenForm
from rems.auth.models import ApiToken
from rems.auth.permissions import current_actor, public, signed_in
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import safe_next, show_errors
from rems.extensions import db

bp = Blueprint("auth", __name__)


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    """The sign-in page; the same message for an unknown user and a wrong password."""
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("auth/sign_in.html", form=form)
    outcome = signin.sign_in(
        db.session, form.username.data, form.password.data, request.remote_addr
    )
    db.session.commit()
    if outcome.user is None:
        form.form_errors.append(outcome.message)
        page = render_template("auth/sign_in.html", form=form)
        if outcome.throttled:
            return page, 429, {"Retry-After": str(outcome.retry_after)}
        return page
    start_session(outcome.user)
    if outcome.user.must_change_password:  # a reset password: nothing else until it is changed
        return redirect(url_for("auth.change_password"))
    return redirect(safe_next(request.args.get("next"), url_for("web.dashboard")))


def start_session(user) -> None:
    """A fresh cookie session bound to the user's current session token; never remember-me."""
    session.clear()
    login_user(user, remember=False)
    now = utcnow().timestamp()
    session["signed_in_at"] = now
    session["seen_at"] = now


@bp.post("/sign-out")
@signed_in
def sign_out():
    """End the session on the server, so a copied cookie is dead too."""
    signin.sign_out(db.session, current_actor())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.get("/account")
@signed_in
def account():
    """The signed-in user's account: who they are, their role, links to password and tokens."""
    return render_template("auth/account.html", user=current_actor())


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Change one's own password; every other session of the account ends."""
    form = ChangePasswordForm()
    user = current_actor()
    forced = user.must_change_password
    if form.validate_on_submit():
        try:
            own_password.change_password(
                db.session,
                user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        else:
            db.session.commit()
            start_session(user)
            flash("Your password is changed. Other sessions of your account have ended.", "success")
            return redirect(url_for("web.dashboard" if forced else "auth.account"))
    return render_template("auth/password.html", form=form, forced=forced)


@bp.route("/account/tokens", methods=["GET", "POST"])
@signed_in
def api_tokens():
    """The user's API tokens; a new token is shown once, right after it is created."""
    form, user, plaintext = TokenForm(), current_actor(), None
    if form.validate_on_submit():
        try:
            _, plaintext = tokens.issue_token(
                db.session, owner=user, name=form.name.data, actor=user
            )
        except (ValidationFailed, StateConflict) as failure:
            db.session.rollback()
            show_errors(form, getattr(failure, "errors", {"name": [str(failure)]}))
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    return render_template(
        "auth/tokens.html",
        form=form,
        plaintext=plaintext,
        tokens=tokens.tokens_of(db.session, user),
        revoke_form=ConfirmForm(),
    )


@bp.post("/account/tokens/<int:token_id>/revoke")
@signed_in
def revoke_api_token(token_id: int):
    """Revoke one of the user's own tokens (anyone else's is a 404)."""
    user = current_actor()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    try:
        tokens.revoke_token(db.session, token, actor=user)
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(
            f"The token “{token.name}” is revoked; systems using it are refused from now on.",
            "success",
        )
    return redirect(url_for("auth.api_tokens"))
