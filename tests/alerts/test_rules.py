"""The program file's alert rules at their boundaries, unit conversion, impossible values and
unknown LOINC codes: pure checks on the shipped program file."""

from __future__ import annotations

from datetime import date

import pytest

from rems.alerts.rules import course_start, fires
from rems.monitoring.csvfile import excel_date
from rems.monitoring.values import check_finding, check_values
from rems.program import DEFAULT_PROGRAM_FILE, load_program

CODED = load_program(DEFAULT_PROGRAM_FILE).coded


def _fires(rule_code: str, value: float, baseline: float | None = None) -> bool:
    rule = next(r for r in CODED.alert_rules if r.code == rule_code)
    return fires(rule, CODED.analyte(rule.analyte), value, baseline) is not None


@pytest.mark.parametrize(
    ("rule", "value", "baseline", "expected"),
    [
        ("platelets_low", 99.9, None, True),
        ("platelets_low", 100, None, False),
        ("creatinine_rise", 1.35, 0.9, True),  # exactly 1.5 × baseline
        ("creatinine_rise", 1.34, 0.9, False),
        ("creatinine_rise", 5.0, None, False),  # no baseline: no rise to measure
        ("urine_rbc_high", 3, None, False),  # the upper limit itself is in range
        ("urine_rbc_high", 3.1, None, True),
        ("urine_protein_high", 14, None, False),
        ("urine_protein_high", 15, None, True),
        ("tsh_out_of_range", 0.39, None, True),
        ("tsh_out_of_range", 0.4, None, False),
        ("tsh_out_of_range", 4.0, None, False),
        ("tsh_out_of_range", 4.01, None, True),
        ("alt_high", 120, None, False),  # exactly 3 × the upper limit 40
        ("alt_high", 121, None, True),
    ],
)
def test_each_rule_fires_past_its_boundary_only(rule, value, baseline, expected):
    assert _fires(rule, value, baseline) is expected


def test_what_an_alert_says_it_was_compared_with():
    rule = next(r for r in CODED.alert_rules if r.code == "platelets_low")
    assert fires(rule, CODED.analyte("platelets"), 40, None) == "below 100 10*9/L"


def _one(test: str, loinc: str, value, unit: str):
    return check_values([{"loinc": loinc, "value": value, "unit": unit}], test, CODED)


@pytest.mark.parametrize(
    ("test", "loinc", "value", "unit", "stored"),
    [
        ("cbc", "777-3", 150000, "/uL", 150.0),
        ("cbc", "777-3", "182", "10^9/L", 182.0),
        ("cbc", "777-3", "95", "x10^9/L", 95.0),
        ("cbc", "777-3", 40, "10*3/µL", 40.0),
        ("cbc", "718-7", 139, "g/L", 13.9),
        ("creatinine", "2160-0", 88.4, "umol/L", 1.0),
        ("creatinine", "2160-0", "1,2", "mg/dL", 1.2),
        ("tsh", "3016-3", 2.5, "mIU/L", 2.5),
        ("tsh", "3016-3", 2.5, "uIU/mL", 2.5),
        ("urinalysis", "13945-1", 5, "/HPF", 5.0),
    ],
)
def test_compatible_units_are_converted_to_the_stored_unit(test, loinc, value, unit, stored):
    values, errors = _one(test, loinc, value, unit)
    assert errors == {}
    assert values[0].value == pytest.approx(stored, rel=1e-3)
    assert values[0].unit == CODED.analyte(values[0].analyte).unit
    assert values[0].reported_value == pytest.approx(float(str(value).replace(",", ".")))


def test_a_unit_that_does_not_convert_is_refused_naming_the_field():
    values, errors = _one("cbc", "777-3", 150, "mg/dL")
    assert values == ()
    assert list(errors) == ["values.0.unit"]
    assert "does not convert to 10*9/L" in errors["values.0.unit"]


def test_an_impossible_value_is_refused_naming_the_field():
    values, errors = _one("cbc", "777-3", 50000, "10*9/L")
    assert values == ()
    assert "not a possible Platelets value" in errors["values.0.value"]


def test_a_loinc_code_the_test_does_not_know_is_refused_naming_the_field():
    _, errors = _one("creatinine", "777-3", 150, "10*9/L")  # a platelet code on creatinine
    assert list(errors) == ["values.0.loinc"]
    assert "2160-0 (Serum creatinine)" in errors["values.0.loinc"]
    _, errors = _one("skin_exam", "123-4", 1, "mg/dL")
    assert errors == {"values.0.loinc": "The test 'skin_exam' takes no coded values."}


def test_values_out_of_the_reference_range_are_flagged():
    values, _ = check_values(
        [
            {"loinc": "777-3", "value": 40, "unit": "10*9/L"},
            {"loinc": "718-7", "value": 14, "unit": "g/dL"},
        ],
        "cbc",
        CODED,
    )
    assert [(v.analyte, v.flag) for v in values] == [("platelets", "low"), ("haemoglobin", None)]


def test_the_skin_exam_takes_a_structured_finding():
    assert check_finding("normal", "", "skin_exam", CODED) == ("normal", None, {})
    assert check_finding("abnormal", "", "skin_exam", CODED)[2] == {
        "finding_description": "Describe the abnormal finding."
    }
    assert check_finding("Abnormal", "Irregular mole, left shoulder", "skin_exam", CODED)[:2] == (
        "abnormal",
        "Irregular mole, left shoulder",
    )
    assert "finding" in check_finding("normal", "", "cbc", CODED)[2]


def test_the_course_under_way_starts_at_its_first_dose():
    course_1 = [date(2025, 1, d) for d in range(6, 11)]
    course_2 = [date(2026, 2, d) for d in range(2, 5)]
    doses = course_1 + course_2
    assert course_start(doses, date(2025, 1, 5)) is None
    assert course_start(doses, date(2025, 1, 8)) == date(2025, 1, 6)
    assert course_start(doses, date(2025, 12, 1)) == date(2025, 1, 6)
    assert course_start(doses, date(2026, 3, 1)) == date(2026, 2, 2)


@pytest.mark.parametrize(
    ("typed", "iso"),
    [
        ("12/05/2026", "2026-12-05"),
        ("2026-12-05 00:00:00", "2026-12-05"),
        ("5-Dec-26", "2026-12-05"),
        ("05-Dec-1984", "1984-12-05"),
        ("5-Dec-84", "1984-12-05"),
        ("2026-12-05", "2026-12-05"),
        ("31/12/2026", "31/12/2026"),  # not a US date: left for the service to name
    ],
)
def test_excel_date_forms_are_read(typed, iso):
    assert excel_date(typed) == iso
