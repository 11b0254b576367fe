"""Forms of the administrators' user management."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from rems.auth.models import Role
from rems.common.forms import options


class NewUserForm(FlaskForm):
    """An account created by an administrator, with a first password to hand over."""

    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=80)],
        description="3 to 80 characters: letters, digits, dot, dash or underscore.",
    )
    full_name = StringField(
        "Full name",
        validators=[DataRequired(), Length(max=200)],
        description="As it will be printed on the person's signatures.",
    )
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField(
        "Role",
        choices=options((role.value, role.label) for role in Role),
        validators=[DataRequired()],
    )
    is_authorized_representative = BooleanField(
        "Authorized representative of their site (site staff only)"
    )
    password = PasswordField(
        "First password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 12 characters. Give it to the person securely; they can change it.",
    )


class ReasonForm(FlaskForm):
    """A state change that needs a reason on record."""

    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Give the reason for this change."), Length(max=2000)],
    )


class UserFilterForm(FlaskForm):
    """Search and filter the user list (a GET form)."""

    class Meta:
        csrf = False

    q = StringField("Name, username or email")
    role = SelectField(
        "Role", choices=options([("", "All roles")] + [(r.value, r.label) for r in Role])
    )
    status = SelectField(
        "Status", choices=options([("", "All"), ("active", "Active"), ("inactive", "Deactivated")])
    )
