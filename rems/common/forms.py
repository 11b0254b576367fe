"""Helpers between services' field errors and WTForms forms; safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from rems.common.validation import US_STATES
from rems.common.zones import zone_names


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


def time_zone_options(program_zone: str) -> list[SelectChoice]:
    """IANA time zones for a select (US zones first); the empty first choice is the program's."""
    first = ("", f"The program's time zone ({program_zone})")
    return options([first, *((name, name.replace("_", " ")) for name in zone_names())])


def time_zone_field(label: str, description: str) -> SelectField:
    """The optional time zone of a site or practice. Any posted name reaches the service, which
    refuses an unknown one with a message on the field."""
    return SelectField(
        label,
        choices=lambda: time_zone_options(current_app.extensions["rems_program"].time_zone),
        validate_choice=False,
        description=description,
    )
