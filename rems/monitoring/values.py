"""Checking a result's coded values (analyte by LOINC code, number, UCUM unit) and a structured
finding against the program file: units converted to the analyte's stored unit where they are
compatible, refused where not, impossible values refused. Pure: the program's coded results are
passed in. Messages name the value's field (`values.<i>.loinc|value|unit`, `finding`, …)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rems.program.analytes import Analyte, CodedResults

NORMAL, ABNORMAL = "normal", "abnormal"
FINDINGS = (NORMAL, ABNORMAL)
DESCRIPTION_LIMIT = 2000
NUMBER_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
#: How units are commonly typed, as UCUM writes them (applied in order to the typed unit).
_UNIT_SPELLINGS = (
    ("µ", "u"), ("μ", "u"), ("^", "*"), ("×", ""), ("x10", "10"), ("X10", "10"), (" ", ""),
    ("mIU", "m[IU]"), ("uIU", "u[IU]"), ("[[", "["), ("]]", "]"),
)  # fmt: skip
_HPF = re.compile(r"(?<!\[)HPF(?!\])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CheckedValue:
    """One valid coded value, in the analyte's stored unit, with what was reported."""

    analyte: str
    loinc: str
    value: float
    unit: str
    reported_value: float
    reported_unit: str
    #: "low" or "high" against the reference range; None inside it.
    flag: str | None


def ucum(unit: str) -> str:
    """A typed unit in UCUM spelling (10^9/L → 10*9/L, µmol/L → umol/L, mIU/L → m[IU]/L)."""
    text = unit.strip()
    for typed, written in _UNIT_SPELLINGS:
        text = text.replace(typed, written)
    return _HPF.sub("[HPF]", text)


def check_values(
    raw: Any, test: str, coded: CodedResults
) -> tuple[tuple[CheckedValue, ...], dict[str, str]]:
    """The typed values of one result of `test` (a list of {loinc, value, unit}), and the
    problems by field."""
    if raw is None or raw == []:
        return (), {}
    if not isinstance(raw, list | tuple):
        return (), {"values": "Give a list of values, each with loinc, value and unit."}
    analytes = {a.loinc: a for a in coded.of_test(test)}
    errors: dict[str, str] = {}
    checked: list[CheckedValue] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"values.{index}"
        if not isinstance(item, dict):
            errors[where] = "Give an object with loinc, value and unit."
            continue
        loinc = str(item.get("loinc") or "").strip()
        analyte = analytes.get(loinc)
        if analyte is None:
            errors[f"{where}.loinc"] = _unknown_loinc(loinc, test, analytes)
            continue
        if loinc in seen:
            errors[f"{where}.loinc"] = f"{analyte.name} ({loinc}) is given twice."
            continue
        seen.add(loinc)
        value = _checked_value(analyte, item, where, errors)
        if value is not None:
            checked.append(value)
    return tuple(checked), errors


def _unknown_loinc(loinc: str, test: str, analytes: dict[str, Analyte]) -> str:
    if not analytes:
        return f"The test {test!r} takes no coded values."
    known = ", ".join(f"{code} ({a.name})" for code, a in analytes.items())
    if not loinc:
        return f"Give the LOINC code: one of {known}."
    return f"LOINC {loinc[:20]!r} is not an analyte of this test; use one of {known}."


def _checked_value(analyte: Analyte, item: dict, where: str, errors: dict[str, str]):
    number = _number(item.get("value"))
    typed_unit = str(item.get("unit") or "").strip()
    if number is None:
        errors[f"{where}.value"] = f"Give {analyte.name} as a number."
    factor = _factor(analyte, typed_unit)
    if factor is None:
        accepted = ", ".join(analyte.units)
        errors[f"{where}.unit"] = (
            f"Give the unit of {analyte.name} (one of: {accepted})."
            if not typed_unit
            else f"{typed_unit[:20]!r} does not convert to {analyte.unit} for {analyte.name}; "
            f"use one of: {accepted}."
        )
    if number is None or factor is None:
        return None
    value = float(f"{number * factor:.10g}")
    low, high = analyte.possible
    if not low <= value <= high:
        errors[f"{where}.value"] = (
            f"{_show(number)} {typed_unit} is not a possible {analyte.name} value "
            f"(possible: {_show(low)}–{_show(high)} {analyte.unit})."
        )
        return None
    ref_low, ref_high = analyte.reference
    flag = "low" if value < ref_low else "high" if value > ref_high else None
    unit = ucum(typed_unit)
    return CheckedValue(analyte.code, analyte.loinc, value, analyte.unit, number, unit, flag)


def _factor(analyte: Analyte, typed: str) -> float | None:
    """The factor for a typed unit: UCUM spelling first, then ignoring case."""
    if not typed:
        return None
    unit = ucum(typed)
    factor = analyte.factor(unit)
    if factor is not None:
        return factor
    folded = {name.casefold(): name for name in analyte.units}
    return analyte.factor(folded[unit.casefold()]) if unit.casefold() in folded else None


def _number(value: Any) -> float | None:
    """A number as JSON gives it or as typed (a decimal comma accepted); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value == value and abs(value) != float("inf") else None
    text = str(value or "").strip()
    if not NUMBER_RE.match(text):
        return None
    return float(text.replace(",", "."))


def _show(number: float) -> str:
    return f"{number:g}"


def check_finding(
    finding: Any, description: Any, test: str, coded: CodedResults
) -> tuple[str | None, str | None, dict[str, str]]:
    """The structured finding of a finding test (normal, or abnormal with a description)."""
    text = str(finding or "").strip().lower()
    note = str(description or "").strip()
    if test not in coded.finding_tests:
        if text or note:
            return None, None, {"finding": "Only the skin exam is recorded as a finding."}
        return None, None, {}
    if not text:
        if note:
            return None, None, {"finding": "Say whether the finding is normal or abnormal."}
        return None, None, {}
    if text not in FINDINGS:
        return None, None, {"finding": "Give normal or abnormal."}
    if text == ABNORMAL and not note:
        return None, None, {"finding_description": "Describe the abnormal finding."}
    if len(note) > DESCRIPTION_LIMIT:
        return None, None, {"finding_description": f"Use at most {DESCRIPTION_LIMIT} characters."}
    if "\x00" in note:
        return None, None, {"finding_description": "Text may not contain NUL characters."}
    return text, note or None, {}
