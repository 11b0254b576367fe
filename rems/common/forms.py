"""Helpers between services' field errors and WTForms forms; safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from rems.common.validation import US_STATES


def show_errors(form: FlaskForm, errors: dict[str, list[str]]) -> None:
    """Attach a service's field errors to the form's fields (or to the form as a whole)."""
    for name, messages in errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths may be redirected to after signing in."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target:
        return fallback
    return target


def options(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def state_options() -> list[SelectChoice]:
    """US states and territories for a select, with an empty first choice."""
    return options([("", "Choose a state or territory"), *((s, s) for s in sorted(US_STATES))])
