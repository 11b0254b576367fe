"""The form of the assessment's narrative: the text, and the password that signs it."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, TextAreaField
from wtforms.validators import Length

from rems.reports.narrative import MAX_CHARS


class NarrativeForm(FlaskForm):
    """Save the draft, sign it, or start a new version (the button pressed says which)."""

    narrative = TextAreaField(
        "Narrative",
        validators=[Length(max=MAX_CHARS)],
        description="Your assessment of the period: what the figures show, what is being done.",
        render_kw={"rows": 10},
    )
    password = PasswordField(
        "Your password, again, to sign",
        validators=[Length(max=256)],
        description="Entering your password is your electronic signature; the version is then "
        "locked.",
    )
