"""Writing a report to a file: CSV or XLSX, streamed, formula-safe, hashed and audited.

Rows come from the database in batches and leave as bytes as soon as they are written, so
memory does not grow with the number of rows. CSV is UTF-8 with a byte-order mark (spreadsheet
programs read it right) and every cell passes through `csvsafe`; XLSX is written by xlsxwriter
in constant-memory mode with every text cell written as text (never as a formula), then sent
from its temporary file. Lines starting with '#' say what the file is (report, period, filters,
options) and, last, that it is complete: a file cut short lacks that line.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from rems.common.csvsafe import safe_cell
from rems.reports.deidentify import APPLIED, Deidentifier
from rems.reports.framework import Column, Filters, Report

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
CHUNK_BYTES = 64 * 1024
IDENTIFIED = "identified: no de-identification applied"


@dataclass
class Export:
    """One export being written: what was asked, and the rows counted so far."""

    report: Report
    filters: Filters
    fmt: str
    deidentified: bool
    generated_at: datetime
    generated_by: str
    rows: int = 0
    columns: tuple[Column, ...] = field(default=())

    @property
    def options(self) -> str:
        """The options applied, as the file and the audit trail state them."""
        return APPLIED if self.deidentified else IDENTIFIED

    @property
    def filename(self) -> str:
        """A descriptive file name."""
        period = ""
        if self.filters.date_from:
            period = f"-{self.filters.date_from:%Y%m%d}-{self.filters.date_to:%Y%m%d}"
        suffix = "-deidentified" if self.deidentified else ""
        return f"rems-{self.report.name}{period}{suffix}.{self.fmt}"

    def preamble(self) -> list[str]:
        """What the file is, line by line."""
        filters = "; ".join(f"{k}={v}" for k, v in self.filters.described().items()) or "none"
        lines = [
            f"LEMTRADA REMS report: {self.report.title} ({self.report.name})",
            f"Generated {self.generated_at:%Y-%m-%dT%H:%M:%SZ} by {self.generated_by}",
        ]
        if self.filters.date_from:
            lines.append(
                f"Period ({self.report.period_of}): {self.filters.date_from} to "
                f"{self.filters.date_to}"
            )
        return [*lines, f"Filters: {filters}", f"Options: {self.options}"]

    def values(self, rows: Iterable[dict[str, Any]]) -> Iterator[list[Any]]:
        """The rows as lists of cells in column order, de-identified when asked; counted."""
        if self.deidentified:
            scrub = Deidentifier(self.report.columns)
            self.columns = scrub.columns
            convert = scrub.row
        else:
            self.columns = self.report.columns
            keys = [c.key for c in self.columns]

            def convert(row):
                return [row.get(key) for key in keys]

        for row in rows:
            self.rows += 1
            yield convert(row)

    def trailer(self) -> str:
        """The last line: the file is complete."""
        return f"End of export: {self.rows} row(s), complete"


def csv_chunks(export: Export, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The CSV file in chunks of about 64 KB."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    for line in export.preamble():
        buffer.write(f"# {line}\r\n")
    values = export.values(rows)
    writer.writerow([c.label for c in _columns_first(export)])
    for row in values:
        writer.writerow([safe_cell(value) for value in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    buffer.write(f"# {export.trailer()}\r\n")
    yield _drain(buffer)


def _columns_first(export: Export) -> Sequence[Column]:
    """The columns the file will have, known before the first row is read."""
    if export.deidentified:
        return Deidentifier(export.report.columns).columns
    return export.report.columns


def _drain(buffer: io.StringIO) -> bytes:
    """What was written so far, as UTF-8; the buffer is emptied."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def xlsx_chunks(export: Export, rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """The XLSX file, written in constant memory to a temporary file, then sent in chunks."""
    with tempfile.TemporaryFile() as handle:
        _write_workbook(handle, export, rows)
        handle.seek(0)
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def _write_workbook(handle, export: Export, rows: Iterable[dict[str, Any]]) -> None:
    """A data sheet (header, rows) and an 'About' sheet (the preamble and the trailer)."""
    book = xlsxwriter.Workbook(
        handle, {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    formats = {
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "header": book.add_format({"bold": True}),
    }
    sheet = book.add_worksheet("Report")
    columns = _columns_first(export)
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.label, formats["header"])
    for number, row in enumerate(export.values(rows), start=1):
        for index, value in enumerate(row):
            _write_cell(sheet, number, index, value, formats)
    about = book.add_worksheet("About")
    for number, line in enumerate([*export.preamble(), export.trailer()]):
        about.write_string(number, 0, line)
    book.close()


def _write_cell(sheet, row: int, col: int, value: Any, formats: dict) -> None:
    """One cell with its real type; text always as text, so nothing becomes a formula."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "yes" if value else "no")
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value))
    elif isinstance(value, datetime):
        sheet.write_datetime(
            row, col, value.astimezone(UTC).replace(tzinfo=None), formats["datetime"]
        )
    elif isinstance(value, date):
        sheet.write_datetime(
            row, col, datetime(value.year, value.month, value.day), formats["date"]
        )
    else:
        sheet.write_string(row, col, str(value))


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks}
