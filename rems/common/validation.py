"""Field checks shared by the enrollment forms: names, US states, phones, postal codes."""

from __future__ import annotations

import re

from rems.common.errors import Collector
from rems.common.zones import is_time_zone

US_STATES = frozenset(
    """AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP""".split()  # noqa: SIM905
)
PHONE_RE = re.compile(r"^\+?[0-9 ().-]{10,20}$")
POSTAL_RE = re.compile(r"^\d{5}(-\d{4})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_text(values: dict, name: str) -> str | None:
    """The trimmed text of a field, None when empty."""
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def check_format(errors: Collector, name: str, value: str | None) -> None:
    """Format checks by field name, for fields that have a known shape."""
    if value is None:
        return
    if name.endswith("state") and value.upper() not in US_STATES:
        errors.add(name, "Choose a US state or territory (two letters, e.g. MA).")
    elif name == "phone" and not PHONE_RE.match(value):
        errors.add(name, "Enter a phone number with area code, e.g. (617) 555-0142.")
    elif name == "postal_code" and not POSTAL_RE.match(value):
        errors.add(name, "Enter a ZIP code: 5 digits, or ZIP+4 (02115-1234).")
    elif name == "email" and not EMAIL_RE.match(value):
        errors.add(name, "Enter a valid email address.")
    elif name == "time_zone" and not is_time_zone(value):
        errors.add(
            name,
            f"{value[:64]!r} is not a time zone name: choose one from the list (an IANA name "
            "such as America/New_York), or leave it empty for the program's time zone.",
        )
