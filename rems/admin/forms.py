"""Forms of the administrators' user management."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from rems.auth.forms import NewAccountForm
from rems.auth.models import Role
from rems.common.forms import options


class NewUserForm(NewAccountForm):
    """An account created by an administrator, with its role."""

    role = SelectField(
        "Role",
        choices=options((role.value, role.label) for role in Role),
        validators=[DataRequired()],
    )
    is_authorized_representative = BooleanField(
        "Authorized representative of their site (site staff only)"
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


class ResetPasswordForm(FlaskForm):
    """The confirmation of a password reset: the administrator's own password, and a reason."""

    admin_password = PasswordField(
        "Your own password",
        validators=[DataRequired(), Length(max=256)],
        description="Confirms that it is you who resets this password.",
    )
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Length(max=2000)],
        description="Recorded in the audit trail, e.g. how the person asked and was identified.",
    )


class AccountActionForm(FlaskForm):
    """The confirmation of an unlock; the reason is optional."""

    reason = TextAreaField(
        "Reason (optional)",
        validators=[Length(max=2000)],
        description="Recorded in the audit trail, e.g. how the person asked and was identified.",
    )
