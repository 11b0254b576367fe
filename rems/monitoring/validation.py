"""Checking one result as typed (web form, CSV cell or JSON value) into typed values, with a
message naming each bad field. Pure: the program's test codes, coded results and today are
passed in (the coded values and the finding are checked by rems.monitoring.values)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from rems.common.localtime import after_today
from rems.monitoring.values import CheckedValue, check_finding, check_values
from rems.program.analytes import CodedResults

#: Longest value and unit a result may carry (the columns' sizes).
VALUE_LIMIT = 100
UNIT_LIMIT = 40
#: Most results one batch (API request or CSV file) may carry.
MAX_RESULTS = 5000
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER_RE = re.compile(r"^[+-]?\d+([.,]\d+)?$")
TRUE_WORDS = frozenset({"true", "yes", "y", "1", "abnormal"})
FALSE_WORDS = frozenset({"false", "no", "n", "0", "normal", ""})
EARLIEST = date(1900, 1, 1)


@dataclass(frozen=True, slots=True)
class CheckedResult:
    """A result whose fields are all valid."""

    test_code: str
    collected_on: date
    value: str | None
    unit: str | None
    abnormal: bool | None
    #: The coded values (analyte, number, unit) and the structured finding of a finding test.
    values: tuple[CheckedValue, ...] = ()
    finding: str | None = None
    finding_description: str | None = None


def check_result(
    raw: dict[str, Any],
    *,
    test_codes: tuple[str, ...],
    today: date,
    where: str = "the practice",
    coded: CodedResults | None = None,
) -> tuple[CheckedResult | None, dict[str, str]]:
    """(the typed result, {}) or (None, {field: message}) for every bad field. `today` is the
    day at the patient's practice (named `where` in the message of a date after it); `coded`
    the program's analytes (None: a result without coded values)."""
    errors: dict[str, str] = {}
    test = _text(raw.get("test"))
    if not test:
        errors["test"] = "Give the test code."
    elif test not in test_codes:
        errors["test"] = f"Unknown test code {test[:40]!r}; use one of: {', '.join(test_codes)}."
    collected_on = _date(raw.get("collected_on"), today, where, errors)
    value = _free_text(raw.get("value"), VALUE_LIMIT, "value", errors)
    unit = _free_text(raw.get("unit"), UNIT_LIMIT, "unit", errors)
    abnormal = _flag(raw.get("abnormal"), errors)
    values, finding, description = (), None, None
    if coded is not None and "test" not in errors:
        values, value_errors = check_values(raw.get("values"), test, coded)
        finding, description, finding_errors = check_finding(
            raw.get("finding"), raw.get("finding_description"), test, coded
        )
        errors |= value_errors | finding_errors
    if errors:
        return None, errors
    if any(v.flag for v in values) or finding == "abnormal":
        abnormal = True  # what the values say, whatever the box said
    return CheckedResult(
        test, collected_on, value, unit, abnormal, values, finding, description
    ), {}


def _text(value: Any) -> str:
    """Trimmed text ('' for None)."""
    return "" if value is None else str(value).strip()


def _date(value: Any, today: date, where: str, errors: dict[str, str]) -> date | None:
    """A collection date: real, YYYY-MM-DD, not before 1900 and not after today."""
    if isinstance(value, date):
        day = value
    else:
        text = _text(value)
        if not text:
            errors["collected_on"] = "Give the collection date (YYYY-MM-DD)."
            return None
        try:
            if not DATE_RE.match(text):
                raise ValueError
            day = date.fromisoformat(text)
        except ValueError:
            errors["collected_on"] = "Not a real date in the form YYYY-MM-DD."
            return None
    if day < EARLIEST:
        errors["collected_on"] = "Give a collection date after 1900."
    elif problem := after_today("Collection date", day, today=today, where=where):
        errors["collected_on"] = problem
    return day


def looks_like_formula(text: str) -> bool:
    """Text a spreadsheet would run as a formula (a plain signed number is fine)."""
    if text[:1] in ("=", "@", "\t", "\r") or "\n" in text:
        return True
    return text[:1] in ("+", "-") and not NUMBER_RE.match(text)


def _free_text(value: Any, limit: int, field: str, errors: dict[str, str]) -> str | None:
    """An optional short text: no NUL, not too long, nothing that looks like a formula."""
    if value is not None and not isinstance(value, str | int | float):
        errors[field] = "Give text."
        return None
    text = _text(value)
    if not text:
        return None
    if "\x00" in text:
        errors[field] = "Text may not contain NUL characters."
    elif len(text) > limit:
        errors[field] = f"Use at most {limit} characters."
    elif looks_like_formula(text):
        errors[field] = "Text starting with =, +, - or @ looks like a formula and is refused."
    return text


def _flag(value: Any, errors: dict[str, str]) -> bool | None:
    """The abnormal flag: true/false, yes/no, 1/0, or empty (not stated)."""
    if value is None or isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text == "":
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    errors["abnormal"] = "Give yes or no (or leave it empty)."
    return None
