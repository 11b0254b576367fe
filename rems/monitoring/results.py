"""Recording monitoring results (web form, CSV upload, API: this one service) and amending
them. A batch is checked whole: any bad row and nothing is stored. Duplicates (same patient,
test, date and value, in the batch or already on file) are reported and stored once. Each
stored result has an audit event; the patients' monitoring state is refreshed in the same
transaction. Callers commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import patient_practice_today
from rems.common.transactions import reading, write_phase
from rems.monitoring import rules
from rems.monitoring.models import LabResult, ResultAmendment, duplicate_key
from rems.monitoring.queries import schedule_facts_for
from rems.monitoring.services import refresh_patient, refresh_patients
from rems.monitoring.validation import CheckedResult, check_result
from rems.patients.models import Patient
from rems.patients.queries import visible_prescriber_ids

SOURCES = ("web", "csv", "api")
NOT_YOURS = "No patient with this REMS ID and date of birth among your patients."
#: How the uniqueness's refusal reads: PostgreSQL names the constraint, SQLite its columns.
UNIQUE_RESULT = (
    "uq_lab_result_patient_id_test_code_collected_on_value_key",
    "lab_result.value_key",
)
STORE_ATTEMPTS = 3
BUSY = (
    "Results for these patients were being stored by another request at the same moment: "
    "send the batch again (results already on file are not stored twice)."
)


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One row to record. `key` names it in messages ("row 3", "results[2]"); `patient` is
    None when the face could not find the patient (then `patient_errors` says why, by field)."""

    key: str
    patient: Patient | None
    fields: dict[str, Any]
    patient_errors: dict[str, str] = field(default_factory=lambda: {"patient_id": NOT_YOURS})


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


def record_results(
    session: Session, actor: User, patient_rows: Sequence[ResultRow], *, source: str, today: date,
    batch_id: str | None = None,
) -> Recorded:  # fmt: skip
    """Check the batch whole, store every new result with its audit event, refresh the
    patients' monitoring state. ValidationFailed (nothing stored) on any bad row. `batch_id`
    names the batch (a CSV preview's own id: see `batch_on_file`); a new one by default."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    with reading():  # validation only reads: on SQLite it must not hold the write lock
        planned = _checked(session, actor, patient_rows, today)
    with write_phase(session):  # then one short write of what was validated
        # duplicates once more, under the lock: a batch may have been stored meanwhile
        planned = _mark_duplicates(session, [(p.row, p.result) for p in planned])
        batch = Batch(batch_id or str(uuid.uuid4()), source, actor, utcnow())
        stored, planned = _store_new(session, batch, planned)
        for result in stored:
            new = _values(result) | {"source": source, "batch_id": batch.batch_id}
            record_event(session, "result.recorded", actor=actor, entity=result, new=new)
        refresh_patients(session, sorted({r.patient_id for r in stored}), today=today)
        return Recorded(stored, planned)


@dataclass(frozen=True, slots=True)
class Batch:
    """What every result of one batch shares."""

    batch_id: str
    source: str
    actor: User
    entered_at: datetime


def _store_new(session, batch: Batch, planned: list[PlannedRow]):
    """Insert the rows not on file, in key order (so two batches never wait on each other in
    a circle). A concurrent batch may store one of them after this one read what is on file:
    the database's uniqueness refuses it, and the rows are marked again against what is now
    on file (PostgreSQL lets the refused insert see the other batch's commit)."""
    for _attempt in range(STORE_ATTEMPTS):
        stored = sorted((_new_result(batch, p) for p in planned if not p.duplicate), key=_order)
        try:
            with session.begin_nested():
                session.add_all(stored)
            return stored, planned
        except sa.exc.IntegrityError as error:
            if not any(name in str(error.orig) for name in UNIQUE_RESULT):
                raise
            planned = _mark_duplicates(session, [(p.row, p.result) for p in planned])
    raise StateConflict(BUSY)


def _new_result(batch: Batch, p: PlannedRow) -> LabResult:
    """The result a planned row stores."""
    return LabResult(
        patient_id=p.row.patient.id, test_code=p.result.test_code,
        collected_on=p.result.collected_on, value=p.result.value, unit=p.result.unit,
        abnormal=p.result.abnormal, source=batch.source, batch_id=batch.batch_id,
        entered_at=batch.entered_at, entered_by_id=batch.actor.id,
    )  # fmt: skip


def _order(result: LabResult) -> tuple:
    """The uniqueness's key: the order results are inserted in."""
    return (result.patient_id, result.test_code, result.collected_on, result.value_key)


def batch_on_file(session: Session, batch_id: str) -> bool:
    """Whether results of this batch are stored (a CSV preview confirmed already)."""
    return (
        session.scalar(sa.select(LabResult.id).where(LabResult.batch_id == batch_id).limit(1))
        is not None
    )


def _values(result: LabResult) -> dict[str, Any]:
    """The amendable values of a result."""
    return {name: getattr(result, name) for name in LabResult.AMENDABLE}


def _checked(session, actor: User, rows: Sequence[ResultRow], today: date) -> list[PlannedRow]:
    """Every row checked (all problems at once), duplicates marked."""
    if not rows:
        raise ValidationFailed.single("results", "Give at least one result.")
    codes = tuple(test.code for test in current_app.extensions["rems_program"].tests)
    allowed = _allowed_prescribers(session, actor)
    errors: dict[str, list[str]] = {}
    checked: list[tuple[ResultRow, CheckedResult]] = []
    for row in rows:
        day, where = _practice_today(session, row.patient, today)
        result, problems = check_result(row.fields, test_codes=codes, today=day, where=where)
        if row.patient is None:
            problems = {**row.patient_errors, **problems}
        elif row.patient.prescriber_id not in allowed:
            problems = {"patient_id": NOT_YOURS, **problems}
        for name, message in problems.items():
            errors[f"{row.key}.{name}"] = [message]
        if not problems:
            checked.append((row, result))
    if errors:
        raise ValidationFailed(errors)
    return _mark_duplicates(session, checked)


def _practice_today(session: Session, patient: Patient | None, today: date) -> tuple[date, str]:
    """A result is a fact of the patient's practice: today there, and the practice's name
    (`today` when the patient is unknown)."""
    if patient is None:
        return today, "the practice"
    return patient_practice_today(session, patient)


def row_problems(fields: dict[str, Any], today: date) -> dict[str, str]:
    """What is wrong with one row's values, field by field (the checks `record_results` makes)."""
    codes = tuple(test.code for test in current_app.extensions["rems_program"].tests)
    return check_result(fields, test_codes=codes, today=today)[1]


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
