"""The field types of API request bodies: each checks a JSON value with a message a caller can
act on, and states in its JSON Schema exactly what it accepts (the document is built from them)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

NUL_MESSAGE = "Text may not contain NUL characters."
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Clinical dates and times lie in this range; outside it they are typing mistakes.
YEARS = range(1900, 2101)
#: The years of YEARS, as a pattern the OpenAPI document states.
YEAR_PATTERN = "(19[0-9]{2}|20[0-9]{2}|2100)"
#: Not blank: at least one character that is not white space.
NOT_BLANK = r"\S"
#: White space as JSON Schema's (ECMAScript's) \s means it.
JSON_SCHEMA_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def _text(limit: int, value: Any) -> str:
    """A non-empty string of at most `limit` characters, surrounding spaces dropped (white
    space as the document's pattern means it: Python's also counts \x1c-\x1f and \x85)."""
    if not isinstance(value, str) or not value.strip(JSON_SCHEMA_SPACE):
        raise ValueError("Give a non-empty string.")
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if len(value) > limit:
        raise ValueError(f"Use at most {limit} characters.")
    return value.strip(JSON_SCHEMA_SPACE)


def _optional_text(limit: int, value: Any) -> str:
    """A string, possibly empty, of at most `limit` characters."""
    if not isinstance(value, str):
        raise ValueError("Give a string.")
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    if len(value) > limit:
        raise ValueError(f"Use at most {limit} characters.")
    return value.strip()


def _iso_date(value: Any) -> date:
    """A calendar date written YYYY-MM-DD."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("Give a date as YYYY-MM-DD.")
    try:
        if not DATE_RE.match(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("Not a real date in the form YYYY-MM-DD.") from None
    if day.year not in YEARS:
        raise ValueError(f"Give a date between {YEARS.start} and {YEARS.stop - 1}.")
    return day


def _utc_datetime(value: Any) -> datetime:
    """An ISO 8601 timestamp with a time zone, returned in UTC."""
    if not isinstance(value, str):
        raise ValueError("Give an ISO 8601 time, e.g. 2026-11-24T13:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Not an ISO 8601 time, e.g. 2026-11-24T13:00:00Z.") from None
    if moment.tzinfo is None:
        raise ValueError("Give the time zone (Z for UTC).")
    if moment.year not in YEARS:
        raise ValueError(f"Give a time between {YEARS.start} and {YEARS.stop - 1}.")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"Give a time between {YEARS.start} and {YEARS.stop - 1}.") from None


def _count(maximum: int, value: Any) -> int:
    """A whole number from 1 to `maximum` (booleans are not numbers; 3.0 is 3, as in JSON
    Schema)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Give a whole number.")
    if not 1 <= value <= maximum:
        raise ValueError(f"Give a number from 1 to {maximum}.")
    return value


def _flag(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError("Give true or false.")
    return value


def _choice(options: tuple[str, ...], value: Any) -> str:
    if value not in options:
        raise ValueError(f"Choose one of: {', '.join(options)}.")
    return value


def Text(limit: int, description: str = "") -> Any:
    """A required text: not blank, at most `limit` characters, surrounding spaces dropped."""
    schema = {"type": "string", "minLength": 1, "maxLength": limit, "pattern": NOT_BLANK}
    note = "Not blank; surrounding spaces are dropped."
    return Annotated[
        str,
        BeforeValidator(lambda value: _text(limit, value)),
        WithJsonSchema({**schema, "description": f"{description} {note}".strip()}),
    ]


def OptionalText(limit: int, description: str = "") -> Any:
    """A text that may be empty (or null), at most `limit` characters."""
    schema: dict[str, Any] = {"type": ["string", "null"], "maxLength": limit}
    if description:
        schema["description"] = description
    return Annotated[
        str | None,
        BeforeValidator(lambda value: None if value is None else _optional_text(limit, value)),
        WithJsonSchema(schema),
    ]


def Count(maximum: int, description: str = "") -> Any:
    """A whole number from 1 to `maximum`; null or absent means the endpoint's default."""
    schema = {"type": ["integer", "null"], "minimum": 1, "maximum": maximum}
    return Annotated[
        int | None,
        BeforeValidator(lambda value: None if value is None else _count(maximum, value)),
        WithJsonSchema({**schema, "description": description} if description else schema),
    ]


def Choice(options: tuple[str, ...], description: str = "") -> Any:
    """One of a fixed set of strings."""
    schema: dict[str, Any] = {"enum": list(options)}
    if description:
        schema["description"] = description
    return Annotated[
        str, BeforeValidator(lambda value: _choice(options, value)), WithJsonSchema(schema)
    ]


def described(kind: Any, description: str) -> Any:
    """One of the fixed types below with a field description in the document."""
    return Annotated[kind, Field(description=description)]


#: A calendar date, YYYY-MM-DD, in the years 1900-2100.
Date = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema(
        {"type": "string", "format": "date", "pattern": f"^{YEAR_PATTERN}-[0-9]{{2}}-[0-9]{{2}}$"}
    ),
]
#: A time with its time zone (Z for UTC), in the years 1900-2100; stored in UTC.
UtcDateTime = Annotated[
    datetime,
    BeforeValidator(_utc_datetime),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": f"^{YEAR_PATTERN}-"}),
]
#: true or false (no 0, 1 or "yes").
Flag = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"type": "boolean"})]
#: A check that must be true: false is parsed, then refused by the rules with the reason (422).
Confirmed = Annotated[bool, BeforeValidator(_flag), WithJsonSchema({"const": True})]
