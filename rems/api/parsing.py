"""Strict JSON request bodies: right content type, an object, only known fields, typed values."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from rems.common.errors import ValidationFailed

Parser = Callable[[Any], Any]
NUL_MESSAGE = "Text may not contain NUL characters."
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Clinical dates and times lie in this range; outside it they are typing mistakes.
YEARS = range(1900, 2101)


def json_body(fields: dict[str, tuple[Parser, bool]]) -> dict[str, Any]:
    """The request's JSON object parsed field by field; every problem reported at once (422)."""
    if not request.is_json:
        raise BadRequest("Send the body as JSON with 'Content-Type: application/json'.")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(body, dict):
        raise ValidationFailed.single("body", "Send a JSON object.")
    errors: dict[str, list[str]] = {}
    for name in body.keys() - fields.keys():
        errors[name] = ["Unknown field."]
    parsed: dict[str, Any] = {}
    for name, (parse, required) in fields.items():
        if name not in body or body[name] is None:
            if required:
                errors[name] = ["This field is required."]
            continue
        try:
            parsed[name] = parse(body[name])
        except (TypeError, ValueError) as problem:
            errors[name] = [str(problem)]
    if errors:
        raise ValidationFailed(errors)
    return parsed


def text(limit: int) -> Parser:
    """A non-empty string of at most `limit` characters."""

    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("Give a non-empty string.")
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
        if len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return value.strip()

    return parse


def iso_date(value: Any) -> date:
    """A calendar date written YYYY-MM-DD."""
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


def utc_datetime(value: Any) -> datetime:
    """An ISO 8601 timestamp with a time zone, returned in UTC."""
    if not isinstance(value, str):
        raise ValueError("Give an ISO 8601 time, e.g. 2026-11-24T13:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("Not an ISO 8601 time, e.g. 2026-11-24T13:00:00Z.") from None
    if moment.tzinfo is None:
        raise ValueError("Give the time zone (Z for UTC).")
    if moment.year not in YEARS:
        raise ValueError(f"Give a time between {YEARS.start} and {YEARS.stop - 1}.")
    return moment.astimezone(UTC)


def positive_int(maximum: int) -> Parser:
    """A whole number from 1 to `maximum` (booleans are not numbers)."""

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("Give a whole number.")
        if not 1 <= value <= maximum:
            raise ValueError(f"Give a number from 1 to {maximum}.")
        return value

    return parse


def boolean(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError("Give true or false.")
    return value


def one_of(options: tuple[str, ...]) -> Parser:
    """One of a fixed set of strings."""

    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"Choose one of: {', '.join(options)}.")
        return value

    return parse


def optional_text(limit: int) -> Parser:
    """A string, possibly empty, of at most `limit` characters."""

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("Give a string.")
        if "\x00" in value:
            raise ValueError(NUL_MESSAGE)
        if len(value) > limit:
            raise ValueError(f"Use at most {limit} characters.")
        return value.strip()

    return parse
