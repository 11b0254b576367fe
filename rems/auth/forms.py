"""Forms for signing in, changing a password and managing API tokens."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
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


class NewAccountForm(FlaskForm):
    """An account someone else creates (an administrator, a site's representative), with a first
    password to hand over; subclasses add what their page needs."""

    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=80)],
        description="3 to 80 characters: letters, digits, dot, dash or underscore.",
    )
    full_name = StringField(
        "Full name",
        validators=[DataRequired(), Length(max=200)],
        description="As it will be printed on the person's signatures and records.",
    )
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "First password",
        validators=[DataRequired(), Length(max=256)],
        description="At least 12 characters. Give it to the person securely; they can change it.",
    )
