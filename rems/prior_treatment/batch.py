"""Prior treatment for many patients from one CSV file: read it, plan every course, and store
the whole batch under one signature, or nothing. Each problem names its row (the header is
row 1, as a spreadsheet shows it) and its column."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.common.csvsafe import unreadable_csv
from rems.common.errors import StateConflict
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.common.localtime import patient_practice_today
from rems.patients.models import Patient
from rems.patients.queries import PATIENT_ID_PREFIX
from rems.prior_treatment import elsewhere, services
from rems.prior_treatment.rules import course_problems, dose_date_problem, source_problem
from rems.prior_treatment.store import BATCH_MEANING, store_batch  # noqa: F401 (the batch API)

COLUMNS = ("patient_id", "date_of_birth", "course", "given_on", "source_document")
#: Columns a file may leave out.
OPTIONAL = (elsewhere.COLUMN,)
MAX_BYTES = 1024 * 1024
MAX_ROWS = 20_000
TEMPLATE = (
    "patient_id,date_of_birth,course,given_on,source_document,monitoring_elsewhere_until\r\n"
    "P00000000000,1980-01-31,1,2024-03-04,Infusion record (other clinic) 2024-03,2024-12-31\r\n"
)


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: the row (None for the whole file), the column, and what is wrong."""

    row: int | None
    field: str
    message: str


class BatchRefused(Exception):
    """The batch has problems; nothing was stored."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


@dataclass(slots=True)
class PlannedCourse:
    """One prior course the batch will store."""

    patient: Patient
    nxt: services.NextPrior
    doses: dict[str, date] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    #: The patient's "monitoring done elsewhere until" (the same on each of their plans).
    elsewhere_until: date | None = None
    #: What was against the program's rules but happened (stored, flagged).
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """All of the course's doses were given."""
        return len(self.doses) == self.nxt.doses_allowed


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (row number, column → text); BatchRefused when it cannot be read."""
    reader = csv.reader(io.StringIO(_text(data), newline=""))
    try:
        lines = list(reader)
    except csv.Error as error:  # e.g. a cell over the csv module's 131,072 characters
        raise BatchRefused(
            [RowError(None, "file", unreadable_csv(reader.line_num, error))]
        ) from None
    header = [cell.strip().lower() for cell in lines[0]]
    _check_header(header)
    rows, errors = [], []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            message = f"{len(cells)} columns; the header has {len(header)}."
            errors.append(RowError(number, "row", message))
            continue
        cells = [cell.strip() for cell in cells] + [""] * (len(header) - len(cells))
        rows.append((number, dict.fromkeys(OPTIONAL, "") | dict(zip(header, cells, strict=True))))
    if errors:
        raise BatchRefused(errors)
    if not rows:
        raise BatchRefused([RowError(None, "file", "The file has a header but no rows.")])
    if len(rows) > MAX_ROWS:
        raise BatchRefused([RowError(None, "file", f"At most {MAX_ROWS} rows in one file.")])
    return rows


def _text(data: bytes) -> str:
    """The file as text: not empty, not too big, UTF-8 (a byte-order mark is fine)."""
    if not data.strip():
        raise BatchRefused([RowError(None, "file", "The file is empty.")])
    if len(data) > MAX_BYTES:
        raise BatchRefused([RowError(None, "file", f"The file is over {MAX_BYTES // 1024} KB.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        message = "The file is not UTF-8 text: save it from the spreadsheet as CSV UTF-8."
        raise BatchRefused([RowError(None, "file", message)]) from None


def _check_header(header: list[str]) -> None:
    """Every column once, in any order, and no other."""
    errors = [
        RowError(1, name, "This column is missing.") for name in COLUMNS if name not in header
    ]
    errors += [
        RowError(1, name or "(blank)", "Unknown column.")
        for name in header
        if name not in COLUMNS + OPTIONAL
    ]
    errors += [
        RowError(1, name, "This column appears twice.")
        for name in set(header)
        if header.count(name) > 1
    ]
    if errors:
        raise BatchRefused(errors)


@dataclass(frozen=True, slots=True)
class _Row:
    """A row that reads well on its own."""

    number: int
    patient: Patient
    course: int
    given_on: date
    source: str
    elsewhere_until: date | None = None


def plan_batch(
    session: Session, rows: list[tuple[int, dict[str, str]]], today: date
) -> list[PlannedCourse]:
    """Every prior course the rows describe, checked against each patient's record and each
    other; BatchRefused with every problem otherwise."""
    errors: list[RowError] = []
    patients = _patients(session, [values["patient_id"] for _, values in rows])
    good = [r for n, values in rows if (r := _read_row(n, values, patients, today, errors))]
    plans: list[PlannedCourse] = []
    by_patient: dict[int, list[_Row]] = {}
    for row in good:
        by_patient.setdefault(row.patient.id, []).append(row)
    for patient_rows in by_patient.values():
        plans += _plan_patient(session, patient_rows, errors)
    if errors:
        raise BatchRefused(
            sorted(
                errors,
                key=lambda e: (e.row or 0, COLUMNS.index(e.field) if e.field in COLUMNS else 9),
            )
        )
    return plans


def _patients(session: Session, ids: list[str]) -> dict[str, Patient]:
    """The patients the file names, by normalized REMS ID."""
    codes = {normalize_identifier(i) for i in ids if is_valid_identifier(i, PATIENT_ID_PREFIX)}
    found = session.scalars(sa.select(Patient).where(Patient.rems_id.in_(codes))) if codes else []
    return {p.rems_id: p for p in found}


def _read_row(number, values, patients, today, errors) -> _Row | None:
    """One row's values, each checked on its own; None (and errors noted) when one is bad."""
    before = len(errors)
    patient = None
    raw_id = values["patient_id"]
    born = _date(values["date_of_birth"])
    if born is None:
        errors.append(RowError(number, "date_of_birth", "Enter the date of birth as YYYY-MM-DD."))
    if not is_valid_identifier(raw_id, PATIENT_ID_PREFIX):
        errors.append(
            RowError(number, "patient_id", "Not a REMS patient ID (check each character).")
        )
    else:
        patient = patients.get(normalize_identifier(raw_id))
        if born is not None and (patient is None or patient.date_of_birth != born):
            errors.append(
                RowError(number, "patient_id", "No patient has this REMS ID and date of birth.")
            )
    course = int(values["course"]) if values["course"].isdigit() else 0
    if not 1 <= course <= 99:
        errors.append(RowError(number, "course", "Enter the course number (1, 2, …)."))
    given = _date(values["given_on"])
    if given is None:
        errors.append(RowError(number, "given_on", "Enter the dose date as YYYY-MM-DD."))
    if message := source_problem(values["source_document"]):
        errors.append(RowError(number, "source_document", message))
    until = _date(values[elsewhere.COLUMN])
    if values[elsewhere.COLUMN] and until is None:
        message = "Enter the date as YYYY-MM-DD, or leave it empty."
        errors.append(RowError(number, elsewhere.COLUMN, message))
    if len(errors) > before:
        return None
    return _Row(number, patient, course, given, values["source_document"].strip(), until)


def _date(text: str) -> date | None:
    """An ISO date, or None."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def _plan_patient(
    session: Session, rows: list[_Row], errors: list[RowError]
) -> list[PlannedCourse]:
    """The prior courses of one patient: numbered on from the record, dates in order."""
    patient = rows[0].patient
    try:
        nxt = services.next_prior(session, patient)
    except StateConflict as conflict:
        errors.append(RowError(rows[0].number, "patient_id", str(conflict)))
        return []
    courses: dict[int, list[_Row]] = {}
    for row in rows:
        courses.setdefault(row.course, []).append(row)
    practice = patient_practice_today(session, patient)  # no dose after today there
    until = _elsewhere_until(rows, practice, errors)
    plans, after = [], nxt.after
    for expected, number in enumerate(sorted(courses), start=nxt.number):
        if number != expected:
            message = f"The patient's next prior course is course {expected}."
            errors.append(RowError(courses[number][0].number, "course", message))
            return plans
        plan = _plan_course(patient, number, courses[number], after, practice, errors)
        plan.elsewhere_until = until
        if warning := elsewhere.interval_warning(after, min(plan.doses.values()), number):
            plan.warnings.append(warning)
        after = max(plan.doses.values())
        plans.append(plan)
    return plans


def _elsewhere_until(rows: list[_Row], practice, errors: list[RowError]) -> date | None:
    """The patient's one "monitoring done elsewhere until" date: the same on every row that
    gives it (the row that differs is named), not after today at the practice."""
    given = [row for row in rows if row.elsewhere_until is not None]
    if not given:
        return None
    first = given[0]
    for row in given[1:]:
        if row.elsewhere_until != first.elsewhere_until:
            message = (
                f"Row {first.number} gives {first.elsewhere_until} for this patient: one date."
            )
            errors.append(RowError(row.number, elsewhere.COLUMN, message))
    today, where = practice
    if first.elsewhere_until > today:
        message = f"Monitoring elsewhere until: cannot be after today ({today} at {where})."
        errors.append(RowError(first.number, elsewhere.COLUMN, message))
    return first.elsewhere_until


def _plan_course(patient, number: int, rows: list[_Row], after, practice, errors) -> PlannedCourse:
    """One prior course of the file: each date after the previous course and not after today
    at the practice (`practice`: that day and the practice's name), the dates together."""
    today, where = practice
    allowed = _doses(number)
    plan = PlannedCourse(patient, services.NextPrior(number, allowed, after))
    seen: dict[date, int] = {}
    for row in rows:
        born = patient.date_of_birth
        if message := dose_date_problem(
            row.given_on, today=today, born=born, after=after, where=where
        ):
            errors.append(RowError(row.number, "given_on", message))
        if row.given_on in seen:  # the later row is the duplicate; it names the first
            message = (
                f"Repeats row {seen[row.given_on]}: the same patient, course and date "
                "(one infusion a day)."
            )
            errors.append(RowError(row.number, "given_on", message))
            continue
        seen[row.given_on] = row.number
        plan.doses[f"row {row.number}"] = row.given_on
        plan.sources[f"row {row.number}"] = row.source
    if len(plan.doses) > allowed:  # named on the first row beyond the course's doses
        extra = sorted(seen.values())[allowed]
        message = f"Course {number} has {allowed} doses: {len(plan.doses)} dates were given."
        errors.append(RowError(extra, "given_on", message))
    elif not plan.doses:
        for message in course_problems([], allowed, number):
            errors.append(RowError(rows[0].number, "given_on", message))
    return plan


def _doses(number: int) -> int:
    """The program's dose count of course `number`."""
    from flask import current_app

    return current_app.extensions["rems_program"].course_doses(number)
