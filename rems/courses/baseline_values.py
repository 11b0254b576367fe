"""The values of the baseline labs on the Patient Authorization and Baseline Lab Form: each
baseline test's analytes (number and unit, from the program file) and the skin exam's finding,
checked with the form and stored as the test's result (coded values, audit event, alerts) in
the transaction that authorizes the course. Optional: a date alone is still a baseline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.alerts.services import raise_alerts
from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.courses.models import BaselineTest, Course
from rems.monitoring.models import LabResult, ResultValue
from rems.monitoring.values import CheckedValue, check_finding, check_values


def _coded():
    return current_app.extensions["rems_program"].coded


def value_box(analyte: str, part: str) -> str:
    """The form's box of one analyte's number (`value`) or unit (`unit`)."""
    return f"baseline_{analyte}_{part}"


def finding_box(test: str, part: str = "finding") -> str:
    """The form's box of a finding test's finding (or its `finding_description`)."""
    return f"baseline_{test}_{part}"


def typed_results(form, test_codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """What the form's value boxes hold, by test (tests with nothing typed left out)."""
    coded, found = _coded(), {}
    for code in test_codes:
        typed = [
            a for a in coded.of_test(code) if (form[value_box(a.code, "value")].data or "").strip()
        ]
        entry: dict[str, Any] = {
            "values": [
                {"loinc": a.loinc, "value": form[value_box(a.code, "value")].data,
                 "unit": form[value_box(a.code, "unit")].data}
                for a in typed
            ],
            "analytes": [a.code for a in typed],
        }  # fmt: skip
        if code in coded.finding_tests:
            entry["finding"] = form[finding_box(code)].data
            entry["finding_description"] = form[finding_box(code, "finding_description")].data
        if entry["values"] or entry.get("finding") or entry.get("finding_description"):
            found[code] = entry
    return found


def checked_results(results: Mapping[str, Mapping[str, Any]]) -> tuple[dict, dict]:
    """({test: (values, finding, description)}, {form box: [message]})."""
    coded, checked, errors = _coded(), {}, {}
    for code, entry in results.items():
        values, problems = check_values(entry.get("values"), code, coded)
        finding, description, finding_problems = check_finding(
            entry.get("finding"), entry.get("finding_description"), code, coded
        )
        analytes = entry.get("analytes") or []
        for name, message in problems.items():
            parts = name.split(".")
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
            if index is not None and index < len(analytes):
                part = "unit" if parts[-1] == "unit" else "value"
                errors[value_box(analytes[index], part)] = [message]
            else:
                errors[f"baseline_{code}"] = [message]
        for name, message in finding_problems.items():
            errors[finding_box(code, name)] = [message]
        checked[code] = (values, finding, description)
    return checked, errors


def store_baseline_results(
    session: Session, course: Course, signer: User, checked: Mapping[str, tuple]
) -> None:
    """Each baseline test with values (or a finding) as the patient's result of its collection
    date, linked from the course's baseline row; one already on file with no values takes
    them. Audited; the values' alerts raised."""
    for row in session.scalars(sa.select(BaselineTest).where(BaselineTest.course_id == course.id)):
        if row.test_code not in checked:
            continue
        values, finding, description = checked[row.test_code]
        result = _result_for(session, course.patient_id, row.test_code, row.collected_on)
        if result is None:
            result = _new_result(session, course, signer, row.test_code, row.collected_on)
        elif session.scalar(sa.select(ResultValue.id).where(ResultValue.result_id == result.id)):
            row.lab_result_id = result.id  # the values on file stand
            continue
        result.finding, result.finding_description = finding, description
        result.abnormal = bool(
            result.abnormal or any(v.flag for v in values) or finding == "abnormal"
        )
        stored = [_value(result, v) for v in values]
        session.add_all(stored)
        session.flush()
        row.lab_result_id = result.id
        shown = [{"analyte": v.analyte, "value": v.value, "unit": v.unit} for v in values]
        new = {
            "test_code": row.test_code, "collected_on": row.collected_on, "source": "web",
            "baseline_of_course": course.number, "finding": finding, "values": shown,
        }  # fmt: skip
        record_event(session, "result.recorded", actor=signer, entity=result, new=new)
        raise_alerts(session, [(result, value) for value in stored])


def _result_for(session: Session, patient_id: int, test: str, day: date) -> LabResult | None:
    return session.scalar(
        sa.select(LabResult).where(
            LabResult.patient_id == patient_id, LabResult.test_code == test,
            LabResult.collected_on == day, LabResult.value_key == "",
        )
    )  # fmt: skip


def _new_result(session, course: Course, signer: User, test: str, day: date) -> LabResult:
    result = LabResult(
        patient_id=course.patient_id, test_code=test, collected_on=day, value=None, unit=None,
        abnormal=None, source="web", batch_id=None, entered_at=utcnow(), entered_by_id=signer.id,
    )  # fmt: skip
    session.add(result)
    session.flush()
    return result


def _value(result: LabResult, v: CheckedValue) -> ResultValue:
    return ResultValue(
        result_id=result.id, analyte=v.analyte, loinc=v.loinc, value=v.value, unit=v.unit,
        reported_value=v.reported_value, reported_unit=v.reported_unit, flag=v.flag,
    )  # fmt: skip


def signed_values(checked: Mapping[str, tuple]) -> dict:
    """The baseline values as the prescriber signs them (nothing when none was typed)."""
    if not checked:
        return {}
    return {
        "baseline_values": {
            code: {
                "values": [
                    {"analyte": v.analyte, "value": v.value, "unit": v.unit} for v in values
                ],
                "finding": finding,
                "finding_description": description,
            }
            for code, (values, finding, description) in sorted(checked.items())
        }
    }
