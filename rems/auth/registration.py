"""Self-registration of prescribers and site representatives (the first step of enrollment)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from rems.auth import users
from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, public
from rems.auth.views import start_session
from rems.common.errors import ValidationFailed
from rems.common.forms import options, show_errors
from rems.extensions import db
from rems.ratelimit import limiter, registration_limit

bp = Blueprint("registration", __name__)

PRESCRIBER = "prescriber"
REPRESENTATIVE = "representative"
SITE_REGISTRATION = "sites.register"
USERNAME_UNAVAILABLE = "Choose another username: this one cannot be used."


class RegistrationForm(FlaskForm):
    """A new account of a prescriber or of a site's authorized representative."""

    kind = RadioField(
        "Who is registering",
        choices=options(
            [
                (PRESCRIBER, "Prescriber"),
                (REPRESENTATIVE, "Authorized representative of a pharmacy or infusion site"),
            ]
        ),
        validators=[InputRequired("Choose who is registering.")],
        description="A prescriber enrolls themself. A representative enrolls their pharmacy or "
        "infusion site and signs for it.",
    )
    username = StringField(
        "Username",
        validators=[DataRequired("Choose a username."), Length(max=80)],
        description="3 to 80 characters: letters, digits, dot, dash or underscore.",
    )
    full_name = StringField(
        "Full name",
        validators=[DataRequired("Enter your full name."), Length(max=200)],
        description="As it will be printed on your electronic signatures.",
    )
    email = EmailField(
        "Email",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        description="The program writes to you here about your enrollment.",
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Choose a password."), Length(max=256)],
        description="At least 12 characters; not your username. A passphrase works well.",
    )
    confirm_password = PasswordField(
        "Password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", message="The passwords differ."),
        ],
        description="The same password, to be sure it has no typing mistake.",
    )

    def account_fields(self) -> dict:
        """The account to create, in the terms of `create_user`."""
        representative = self.kind.data == REPRESENTATIVE
        return {
            "username": self.username.data,
            "full_name": self.full_name.data,
            "email": self.email.data,
            "password": self.password.data,
            "role": Role.SITE_STAFF if representative else Role.PRESCRIBER,
            "is_authorized_representative": representative,
        }


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(registration_limit, methods=["POST"])
def register():
    """Create one's own account, sign in, and go on to enroll."""
    if current_actor() is not None:
        return redirect(url_for("web.dashboard"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                db.session, actor=None, actor_label="self-registration", **form.account_fields()
            )
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, _without_account_facts(failure.errors))
        else:
            db.session.commit()
            start_session(user)
            flash("Your account is created and you are signed in.", "success")
            return redirect(_next_step(user))
    return render_template("auth/register.html", form=form)


def _without_account_facts(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors to show a stranger: a taken username is refused without saying that an account
    has it (and REMS_REGISTRATION_LIMIT bounds how many names one address may try)."""
    given = errors.get("username", [])
    username = [USERNAME_UNAVAILABLE if m == users.USERNAME_TAKEN else m for m in given]
    return errors | ({"username": username} if username else {})


def _next_step(user: User) -> str:
    """Where a new account goes next: its enrollment form, or the dashboard."""
    if user.role == Role.PRESCRIBER:
        return url_for("prescribers.enrollment")
    if SITE_REGISTRATION in current_app.view_functions:
        return url_for(SITE_REGISTRATION)
    return url_for("web.dashboard")
