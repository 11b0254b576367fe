"""Reading a results CSV file (from a lab or a clinic's spreadsheet) into rows for the results
service: UTF-8 with or without a byte-order mark, any line endings, the header's columns in
any order, dates as Excel writes them. Every problem names its row (the header is row 1, as in
a spreadsheet) and field."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from rems.common.csvsafe import csv_lines, unreadable_csv
from rems.common.errors import ValidationFailed
from rems.monitoring.validation import MAX_RESULTS

#: Largest file accepted by default (a full batch of MAX_RESULTS rows fits well within it);
#: the REMS_RESULTS_UPLOAD_MAX_BYTES setting changes it.
MAX_BYTES = 1024 * 1024
PATIENT_COLUMNS = ("patient_id", "date_of_birth")
#: A row with a `loinc` carries one coded value: `value` and `unit` are that analyte's number
#: and unit; rows of the same patient, test and date with a `loinc` make one result.
RESULT_COLUMNS = (
    "test", "collected_on", "value", "unit", "abnormal", "loinc", "finding", "finding_description",
)  # fmt: skip
#: Dates as Excel writes them: 12/05/2026 (month first, as the US locale does), 2026-12-05
#: 00:00:00, 5-Dec-26 (two-digit years 00-29 are 20xx, 30-99 19xx, as Excel reads them).
_EXCEL_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%d-%b-%y", "%d-%b-%Y", "%d %b %Y", "%b %d, %Y")
_ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?$")
REQUIRED = ("test", "collected_on")
TEMPLATE_ROWS = (
    ("P0000000000X", "1980-01-31", "cbc", "2026-11-20", "182", "10*9/L", "no", "777-3", "", ""),
    ("P0000000000X", "1980-01-31", "cbc", "2026-11-20", "13.9", "g/dL", "no", "718-7", "", ""),
    ("P0000000000X", "1980-01-31", "tsh", "2026-11-20", "2.4", "m[IU]/L", "no", "3016-3", "", ""),
    ("P0000000000X", "1980-01-31", "skin_exam", "2026-11-20", "", "", "", "", "normal", ""),
)


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its spreadsheet row number and its cells by column name."""

    number: int
    cells: dict[str, str]

    @property
    def key(self) -> str:
        """How messages name the row."""
        return f"row {self.number}"


def columns(many_patients: bool) -> tuple[str, ...]:
    """The columns a file has: the patient's two first when it covers many patients."""
    return (*PATIENT_COLUMNS, *RESULT_COLUMNS) if many_patients else RESULT_COLUMNS


def template_lines(many_patients: bool):
    """The template CSV, line by line (a header and two example rows)."""
    rows = TEMPLATE_ROWS if many_patients else tuple(row[2:] for row in TEMPLATE_ROWS)
    return csv_lines(columns(many_patients), rows)


def read_rows(
    content: bytes, *, many_patients: bool, max_bytes: int = MAX_BYTES
) -> tuple[list[CsvRow], dict]:
    """The file's readable data rows, and the problems of the others by "row N.columns".
    ValidationFailed when the file as a whole cannot be read."""
    reader = csv.reader(io.StringIO(_decode(content, max_bytes), newline=""))
    try:
        lines = list(reader)
    except csv.Error as error:  # e.g. a cell over the csv module's 131,072 characters
        raise ValidationFailed.single("file", unreadable_csv(reader.line_num, error)) from None
    header = _header(lines[0] if lines else None, many_patients)
    rows: list[CsvRow] = []
    errors: dict[str, list[str]] = {}
    for number, cells in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, e.g. at the end of a spreadsheet export
        if len(cells) > len(header):
            errors[f"row {number}.columns"] = [
                f"This row has {len(cells)} cells; the header has {len(header)} columns."
            ]
            continue
        rows.append(CsvRow(number, dict(zip(header, [*cells, *[""] * len(header)], strict=False))))
    if not rows and not errors:
        raise ValidationFailed.single("file", "The file has a header but no results.")
    if len(rows) > MAX_RESULTS:
        raise ValidationFailed.single("file", f"Send at most {MAX_RESULTS} results per file.")
    return rows, errors


def _decode(content: bytes, max_bytes: int) -> str:
    """The file as text: UTF-8, a byte-order mark dropped; empty, too big or other encodings
    are refused."""
    if not content or not content.strip():
        raise ValidationFailed.single("file", "The file is empty.")
    if len(content) > max_bytes:
        raise ValidationFailed.single(
            "file", f"The file is larger than {max_bytes // 1024} KB; split it into batches."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed.single(
            "file", "The file is not UTF-8 text. Save it as CSV UTF-8 and upload it again."
        ) from None
    if "\x00" in text:
        raise ValidationFailed.single("file", "The file contains NUL characters: not a CSV.")
    return text


def _header(cells: list[str] | None, many_patients: bool) -> list[str]:
    """The header's column names (any order, any case); unknown or missing ones refused."""
    names = [cell.strip().lower() for cell in cells or []]
    expected = columns(many_patients)
    errors = []
    unknown = [name for name in names if name not in expected]
    if unknown:
        errors.append(f"Unknown column(s): {', '.join(repr(n[:40]) for n in unknown)}.")
    needed = [*PATIENT_COLUMNS, *REQUIRED] if many_patients else list(REQUIRED)
    missing = [name for name in needed if name not in names]
    if missing:
        errors.append(f"Missing column(s): {', '.join(missing)}.")
    if len(set(names)) != len(names):
        errors.append("A column appears twice.")
    if errors:
        errors.append(f"The header is row 1; the columns are: {', '.join(expected)}.")
        raise ValidationFailed({"row 1.header": errors})
    return names


def excel_date(text: str) -> str:
    """A date cell as YYYY-MM-DD when Excel wrote it in one of its forms; otherwise as given
    (the results service then names the field)."""
    text = (text or "").strip()
    if match := _ISO_TIME.match(text):
        return match.group(1)
    for form in _EXCEL_FORMATS:
        try:
            day = datetime.strptime(text, form).date()
        except ValueError:
            continue
        if "%y" in form:
            day = _excel_century(day)
        return day.isoformat()
    return text


def _excel_century(day: date) -> date:
    """Two-digit years as Excel reads them: 00-29 are 2000-2029, 30-99 are 1930-1999."""
    year = day.year % 100
    return day.replace(year=(2000 if year < 30 else 1900) + year)
