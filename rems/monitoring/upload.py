"""A CSV upload as rows for the results service: each row's patient found by REMS ID and date
of birth among the uploader's patients (or the one patient the upload is for)."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.common.errors import ValidationFailed
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.monitoring.csvfile import MAX_BYTES, RESULT_COLUMNS, CsvRow, read_rows
from rems.monitoring.results import NOT_YOURS, PlannedRow, Recorded, ResultRow, preview_results
from rems.monitoring.storing import record_results
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
    """The rows with their patient, as the results service takes them."""
    if patient is not None:
        return [ResultRow(row.key, patient, _result_cells(row)) for row in rows]
    found = _patients(session, actor, rows)
    return [_patient_row(row, found) for row in rows]


def _result_cells(row: CsvRow) -> dict[str, str]:
    """The result's own cells."""
    return {name: row.cells.get(name, "") for name in RESULT_COLUMNS}


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
    return ResultRow(row.key, patient, _result_cells(row), patient_errors=errors)


def _date(text: str) -> date | None:
    """A YYYY-MM-DD date, or None."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
