"""Checking monitoring results (web form, CSV upload, API: this one service) and amending them.
A batch is checked whole: any bad row and nothing is stored (rems.monitoring.storing stores a
checked batch). Duplicates (same patient, test, date and value, in the batch or already on
file) are reported and stored once. Callers commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import patient_practice_today
from rems.monitoring import rules
from rems.monitoring.models import LabResult, ResultAmendment, duplicate_key
from rems.monitoring.queries import schedule_facts_for
from rems.monitoring.services import refresh_patient
from rems.monitoring.validation import CheckedResult, check_result
from rems.patients.models import Patient
from rems.patients.queries import visible_prescriber_ids

SOURCES = ("web", "csv", "api")
NOT_YOURS = "No patient with this REMS ID and date of birth among your patients."


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One row to record. `key` names it in messages ("row 3", "results[2]"); `patient` is
    None when the face could not find the patient (then `patient_errors` says why, by field)."""

    key: str
    patient: Patient | None
    fields: dict[str, Any]
    patient_errors: dict[str, str] = field(default_factory=lambda: {"patient_id": NOT_YOURS})
    #: How messages name each coded value's fields, e.g. "row 5.{}" for a CSV file's line, or
    #: "platelets_{}" for a form's boxes; empty: "<key>.values.<i>.<field>".
    value_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedRow:
    """A valid row: its typed result, whether it duplicates one on file or earlier in the
    batch, and the monitoring item it satisfies (None: before the first dose, or no open item)."""

    row: ResultRow
    result: CheckedResult
    duplicate: bool
    satisfies: rules.Item | None = None


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a batch stored, and which rows were duplicates."""

    stored: list[LabResult]
    planned: list[PlannedRow] = field(default_factory=list)

    @property
    def duplicates(self) -> list[str]:
        """Keys of the rows that were not stored because they duplicate a result."""
        return [p.row.key for p in self.planned if p.duplicate]


def preview_results(
    session: Session, actor: User, rows: Sequence[ResultRow], *, today: date
) -> list[PlannedRow]:
    """Check a batch and say, row by row, what would be stored and what it would satisfy."""
    planned = _checked(session, actor, rows, today)
    return _with_items(session, planned, today)


def _values(result: LabResult) -> dict[str, Any]:
    """The amendable values of a result."""
    return {name: getattr(result, name) for name in LabResult.AMENDABLE}


def _checked(session, actor: User, rows: Sequence[ResultRow], today: date) -> list[PlannedRow]:
    """Every row checked (all problems at once), duplicates marked."""
    if not rows:
        raise ValidationFailed.single("results", "Give at least one result.")
    program = current_app.extensions["rems_program"]
    codes = tuple(test.code for test in program.tests)
    allowed = _allowed_prescribers(session, actor)
    errors: dict[str, list[str]] = {}
    checked: list[tuple[ResultRow, CheckedResult]] = []
    for row in rows:
        day, where = _practice_today(session, row.patient, today)
        result, problems = check_result(
            row.fields, test_codes=codes, today=day, where=where, coded=program.coded
        )
        if row.patient is None:
            problems = {**row.patient_errors, **problems}
        elif row.patient.prescriber_id not in allowed:
            problems = {"patient_id": NOT_YOURS, **problems}
        for name, message in problems.items():
            errors[_error_key(row, name)] = [message]
        if not problems:
            checked.append((row, result))
    if errors:
        raise ValidationFailed(errors)
    return _mark_duplicates(session, checked)


def _error_key(row: ResultRow, name: str) -> str:
    """How a message names its field: "<row>.<field>", or the coded value's own name."""
    parts = name.split(".", 2)
    if parts[0] == "values" and len(parts) > 1 and parts[1].isdigit() and row.value_keys:
        index = int(parts[1])
        if index < len(row.value_keys):
            return row.value_keys[index].format(parts[2] if len(parts) > 2 else "loinc")
    return f"{row.key}.{name}"


def _practice_today(session: Session, patient: Patient | None, today: date) -> tuple[date, str]:
    """A result is a fact of the patient's practice: today there, and the practice's name
    (`today` when the patient is unknown)."""
    if patient is None:
        return today, "the practice"
    return patient_practice_today(session, patient)


def row_problems(fields: dict[str, Any], today: date) -> dict[str, str]:
    """What is wrong with one row's values, field by field (the checks `record_results` makes)."""
    program = current_app.extensions["rems_program"]
    codes = tuple(test.code for test in program.tests)
    return check_result(fields, test_codes=codes, today=today, coded=program.coded)[1]


def _allowed_prescribers(session: Session, actor: User) -> set[int]:
    """The prescribers whose patients the actor records results for (prescriber, delegate)."""
    statement = visible_prescriber_ids(actor)
    if statement is None or actor.role.value not in ("prescriber", "delegate"):
        raise StateConflict("Only the prescriber of record or their delegate records results.")
    return set(session.scalars(statement))


def _key(patient_id: int, result: CheckedResult) -> tuple:
    """What makes two results the same: patient, test, date and value."""
    return (patient_id, result.test_code, result.collected_on, duplicate_key(result.value))


def _mark_duplicates(session, checked: list[tuple[ResultRow, CheckedResult]]) -> list[PlannedRow]:
    """Each row, a duplicate when the same result is on file or earlier in the batch."""
    patient_ids = {row.patient.id for row, _ in checked}
    days = [result.collected_on for _, result in checked]
    on_file = session.execute(
        sa.select(
            LabResult.patient_id, LabResult.test_code, LabResult.collected_on, LabResult.value
        )
        .where(LabResult.patient_id.in_(patient_ids))
        .where(LabResult.collected_on.between(min(days), max(days)))
    )
    seen = {(p, t, d, duplicate_key(v)) for p, t, d, v in on_file}
    planned = []
    for row, result in checked:
        key = _key(row.patient.id, result)
        planned.append(PlannedRow(row, result, duplicate=key in seen))
        seen.add(key)
    return planned


def _with_items(session, planned: list[PlannedRow], today: date) -> list[PlannedRow]:
    """Each new row with the item it would satisfy, given the patient's results on file."""
    by_patient: dict[int, list[int]] = {}
    for index, p in enumerate(planned):
        if not p.duplicate:
            by_patient.setdefault(p.row.patient.id, []).append(index)
    satisfied: dict[int, rules.Item] = {}
    patients = [planned[indexes[0]].row.patient for indexes in by_patient.values()]
    all_facts = schedule_facts_for(session, patients)
    for patient_id, indexes in by_patient.items():
        facts = all_facts[patient_id]
        added = tuple(
            rules.ResultFact(-1 - i, planned[i].result.test_code, planned[i].result.collected_on)
            for i in indexes
        )
        items = rules.resolve(rules.ScheduleFacts(**_facts_with(facts, added)))
        for result_id, item in rules.satisfied_by(items).items():
            if result_id < 0:
                satisfied[-1 - result_id] = item
    return [
        PlannedRow(p.row, p.result, p.duplicate, satisfied.get(i)) for i, p in enumerate(planned)
    ]


def _facts_with(facts: rules.ScheduleFacts, added: tuple[rules.ResultFact, ...]) -> dict:
    """The facts' fields with more results."""
    return {
        "tests": facts.tests, "months_after_last_dose": facts.months_after_last_dose,
        "doses": facts.doses, "closed_on": facts.closed_on, "waivers": facts.waivers,
        "results": facts.results + added,
    }  # fmt: skip


def amend_result(
    session: Session, actor: User, result: LabResult, *, changes: dict[str, Any], reason: str,
    today: date,
) -> ResultAmendment:  # fmt: skip
    """Correct a result; the values it replaces stay in its amendment history. Never deletes."""
    patient = session.get(Patient, result.patient_id)
    old = _values(result)
    raw = {"test": old["test_code"], **{k: v for k, v in old.items() if k != "test_code"}}
    row = ResultRow("result", patient, raw | changes)
    planned = _checked_amendment(session, actor, row, result, reason, today)
    new = {"test_code": planned.test_code, "collected_on": planned.collected_on,
           "value": planned.value, "unit": planned.unit, "abnormal": planned.abnormal}  # fmt: skip
    if new == old:
        raise ValidationFailed.single("result", "Change at least one value to amend the result.")
    if new["test_code"] != old["test_code"] and result.coded_values:
        raise ValidationFailed.single(
            "test", "This result carries coded values of its test: record the other test's "
            "result on its own instead of changing the test.",
        )  # fmt: skip
    amendment = ResultAmendment(
        result_id=result.id, old_values=_json(old), new_values=_json(new), reason=reason.strip(),
        amended_at=utcnow(), amended_by_id=actor.id,
    )  # fmt: skip
    for name, value in new.items():
        setattr(result, name, value)
    result.amendments += 1
    session.add(amendment)
    session.flush()
    record_event(session, "result.amended", actor=actor, entity=result, old=old, new=new,
                 reason=reason.strip())  # fmt: skip
    refresh_patient(session, patient.id, today=today)
    return amendment


def _checked_amendment(session, actor, row: ResultRow, result, reason: str, today) -> CheckedResult:
    """The amended values checked like a new row, plus a reason and no clash with another."""
    errors: dict[str, list[str]] = {}
    if not (reason or "").strip():
        errors["reason"] = ["Give the reason for the amendment."]
    try:
        planned = _checked(session, actor, [row], today)[0]
    except ValidationFailed as failure:
        errors |= {name.removeprefix("result."): msgs for name, msgs in failure.errors.items()}
        raise ValidationFailed(errors) from None
    if errors:
        raise ValidationFailed(errors)
    clash = session.scalar(
        sa.select(LabResult.id).where(
            LabResult.patient_id == result.patient_id, LabResult.id != result.id,
            LabResult.test_code == planned.result.test_code,
            LabResult.collected_on == planned.result.collected_on,
            LabResult.value_key == duplicate_key(planned.result.value),
        )
    )  # fmt: skip
    if clash is not None:
        raise ValidationFailed.single("value", "Another result has this test, date and value.")
    return planned.result


def _json(values: dict[str, Any]) -> dict[str, Any]:
    """Values as JSON (dates as YYYY-MM-DD)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}
