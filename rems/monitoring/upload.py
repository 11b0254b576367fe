"""A CSV upload as rows for the results service: each row's patient found by REMS ID and date
of birth among the uploader's patients (or the one patient the upload is for)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.common.errors import ValidationFailed
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.monitoring.csvfile import MAX_BYTES, RESULT_COLUMNS, CsvRow, excel_date, read_rows
from rems.monitoring.results import NOT_YOURS, PlannedRow, Recorded, ResultRow, preview_results
from rems.monitoring.storing import record_results
from rems.monitoring.validation import TRUE_WORDS
from rems.patients.models import Patient
from rems.patients.queries import PATIENT_ID_PREFIX, visible_patients

BAD_CHECK = "Not a REMS patient ID: mistyped, or its check character is wrong."


def check_upload(
    session: Session, actor: User, content: bytes, patient: Patient | None, *, today: date,
    store: bool = False, batch_id: str | None = None,
) -> list[PlannedRow] | Recorded:  # fmt: skip
    """Preview the file (or, with `store`, record it as the batch `batch_id`, the preview's);
    ValidationFailed naming every problem of every row, and nothing stored, when anything is
    wrong."""
    limit = current_app.config.get("REMS_RESULTS_UPLOAD_MAX_BYTES", MAX_BYTES)
    rows, unreadable = read_rows(content, many_patients=patient is None, max_bytes=limit)
    results = _result_rows(session, actor, rows, patient)
    try:
        if not results:
            raise ValidationFailed({})
        if store:
            outcome = record_results(
                session, actor, results, source="csv", today=today, batch_id=batch_id
            )
        else:
            outcome = preview_results(session, actor, results, today=today)
    except ValidationFailed as failure:
        raise ValidationFailed(failure.errors | unreadable) from None
    if unreadable:
        raise ValidationFailed(unreadable)
    return outcome


def _result_rows(session, actor: User, rows: list[CsvRow], patient: Patient | None):
    """The rows with their patient, as the results service takes them: the rows of one coded
    result (same patient, test and date, each with a `loinc`) as one."""
    rows = [_normalized(row) for row in rows]
    if patient is not None:
        return [_coded(ResultRow(g[0].key, patient, _result_cells(g)), g) for g in _grouped(rows)]
    found = _patients(session, actor, rows)
    return [_coded(_patient_row(group[0], found), group) for group in _grouped(rows)]


def _normalized(row: CsvRow) -> CsvRow:
    """Excel's date forms as YYYY-MM-DD, a test's name as its code."""
    cells = dict(row.cells)
    for name in ("collected_on", "date_of_birth"):
        if name in cells:
            cells[name] = excel_date(cells[name])
    tests = {t.name.casefold(): t.code for t in current_app.extensions["rems_program"].tests}
    test = cells.get("test", "").strip()
    cells["test"] = tests.get(test.casefold(), test)
    return CsvRow(row.number, cells)


def _grouped(rows: list[CsvRow]) -> list[list[CsvRow]]:
    """Each row alone, except rows with a `loinc`: those of the same patient, test and date
    together, in the order of their first row."""
    groups: dict[tuple, list[CsvRow]] = {}
    ordered: list[list[CsvRow]] = []
    for row in rows:
        if not row.cells.get("loinc", "").strip():
            ordered.append([row])
            continue
        key = tuple(
            row.cells.get(name, "").strip().upper()
            for name in ("patient_id", "date_of_birth", "test", "collected_on")
        )
        if key not in groups:
            groups[key] = []
            ordered.append(groups[key])
        groups[key].append(row)
    return ordered


def _result_cells(group: list[CsvRow]) -> dict:
    """The result's own cells (a coded result's values from each of its rows)."""
    first = group[0]
    cells = {name: first.cells.get(name, "") for name in RESULT_COLUMNS if name != "loinc"}
    if not first.cells.get("loinc", "").strip():
        return cells
    values = [
        {name: row.cells.get(name, "") for name in ("loinc", "value", "unit")} for row in group
    ]
    flagged = any(row.cells.get("abnormal", "").strip().lower() in TRUE_WORDS for row in group)
    return cells | {"value": "", "unit": "", "values": values, "abnormal": flagged or None}


def _coded(row: ResultRow, group: list[CsvRow]) -> ResultRow:
    """The row with its result's cells and each coded value named by its own file row."""
    keys = tuple(f"{r.key}.{{}}" for r in group) if group[0].cells.get("loinc", "").strip() else ()
    return ResultRow(row.key, row.patient, _result_cells(group), row.patient_errors, keys)


def _patients(session: Session, actor: User, rows: list[CsvRow]) -> dict[str, Patient]:
    """The uploader's patients named in the file, by REMS ID (one query)."""
    ids = {
        normalize_identifier(row.cells.get("patient_id", ""))
        for row in rows
        if is_valid_identifier(row.cells.get("patient_id", ""), PATIENT_ID_PREFIX)
    }
    if not ids:
        return {}
    statement = visible_patients(actor).where(Patient.rems_id.in_(ids))
    return {patient.rems_id: patient for patient in session.scalars(statement)}


def _patient_row(row: CsvRow, found: dict[str, Patient]) -> ResultRow:
    """One row with its patient, or with why the patient was not found."""
    raw_id, raw_born = row.cells.get("patient_id", ""), row.cells.get("date_of_birth", "").strip()
    errors: dict[str, str] = {}
    if not raw_id.strip():
        errors["patient_id"] = "Give the patient's REMS ID."
    elif not is_valid_identifier(raw_id, PATIENT_ID_PREFIX):
        errors["patient_id"] = BAD_CHECK
    born = _date(raw_born)
    if born is None:
        errors["date_of_birth"] = "Give the date of birth as YYYY-MM-DD."
    patient = found.get(normalize_identifier(raw_id)) if not errors else None
    if patient is not None and patient.date_of_birth != born:
        patient = None
    if patient is None and not errors:
        errors["patient_id"] = NOT_YOURS
    return ResultRow(row.key, patient, {}, patient_errors=errors)


def _date(text: str) -> date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
