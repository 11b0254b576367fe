"""Forms for signing in, changing a password and managing API tokens."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class SignInForm(FlaskForm):
    """Username and password."""

    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class ChangePasswordForm(FlaskForm):
    """The current password, then the new one twice."""

    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 12 characters; not your username. A passphrase works well.",
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class TokenForm(FlaskForm):
    """A new API token's name."""

    name = StringField(
        "Token name",
        validators=[DataRequired(), Length(max=100)],
        description="Name it after the system that will use it, e.g. 'Pharmacy system'.",
    )


class ConfirmForm(FlaskForm):
    """A button that changes state: nothing but the CSRF token."""
