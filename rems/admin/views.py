"""Administrators manage accounts: list, create, deactivate and reactivate, reset a password,
unlock. Auditors see the accounts and change nothing."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from rems.admin.forms import (
    AccountActionForm,
    NewUserForm,
    ReasonForm,
    ResetPasswordForm,
    UserFilterForm,
)
from rems.admin.queries import user_list_statement
from rems.auth import resets, tokens, users
from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.pagination import seek_page
from rems.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/users")
@roles(Role.ADMIN, Role.AUDITOR)
def user_list():
    """Every account, searchable and filtered by role and status, a page at a time."""
    filters = UserFilterForm(request.args)
    statement = user_list_statement(filters.q.data, filters.role.data, filters.status.data)
    page = seek_page(statement, [User.username])
    return render_template("admin/users.html", filters=filters, page=page)


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def user_new():
    """Create an account."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                db.session,
                actor=current_actor(),
                **{k: v for k, v in form.data.items() if k != "csrf_token"},
            )
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        else:
            db.session.commit()
            flash(f"Account {user.username} created.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.get("/users/<int:user_id>")
@roles(Role.ADMIN, Role.AUDITOR)
def user_detail(user_id: int):
    """One account: details, sign-in state, tokens; for administrators the deactivate or
    reactivate, reset-password and unlock actions."""
    user = db.get_or_404(User, user_id)
    return _detail_page(user, ReasonForm())


def _detail_page(user: User, form: ReasonForm):
    """The account's page, with the deactivation form as given."""
    return render_template(
        "admin/user_detail.html",
        account=user,
        tokens=tokens.tokens_of(db.session, user),
        sign_in=resets.sign_in_state(db.session, user),
        form=form,
    )


@bp.post("/users/<int:user_id>/<any(deactivate, reactivate):change>")
@roles(Role.ADMIN)
def user_set_active(user_id: int, change: str):
    """Deactivate (every session and token stops at once) or reactivate, with a reason."""
    user = db.get_or_404(User, user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail_page(user, form), 422
    try:
        users.set_active(
            db.session, user, change == "reactivate", actor=current_actor(), reason=form.reason.data
        )
    except (StateConflict, ValidationFailed) as failure:
        db.session.rollback()
        flash(str(failure), "error")
    else:
        db.session.commit()
        flash(f"Account {user.username} {change}d.", "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@roles(Role.ADMIN)
def reset_password(user_id: int):
    """Confirm, then reset: the temporary password is shown on the answer, once, never again."""
    user = db.get_or_404(User, user_id)
    if refusal := resets.reset_refusal(user, current_actor()):
        flash(refusal, "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    form = ResetPasswordForm()
    page = "admin/reset_password.html"
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template(page, account=user, form=form), status
    try:
        password = resets.reset_password(
            db.session, user, actor=current_actor(), reason=form.reason.data or "",
            actor_password=form.admin_password.data,
        )  # fmt: skip
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return render_template(page, account=user, form=form), 422
    except StateConflict as failure:
        db.session.rollback()
        flash(str(failure), "error")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    db.session.commit()
    return render_template("admin/reset_done.html", account=user, password=password)


@bp.route("/users/<int:user_id>/unlock", methods=["GET", "POST"])
@roles(Role.ADMIN)
def unlock(user_id: int):
    """Confirm, then clear the account's failed sign-ins so that it may sign in at once."""
    user = db.get_or_404(User, user_id)
    form = AccountActionForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        state = resets.sign_in_state(db.session, user)
        return render_template(
            "admin/unlock.html", account=user, form=form, sign_in=state
        ), status  # fmt: skip
    try:
        cleared = resets.unlock(
            db.session, user, actor=current_actor(), reason=form.reason.data or ""
        )
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
    else:
        db.session.commit()
        flash(
            f"Account {user.username} unlocked: {cleared} failed sign-in(s) no longer count; "
            "they can sign in now.",
            "success",
        )
    return redirect(url_for("admin.user_detail", user_id=user.id))
