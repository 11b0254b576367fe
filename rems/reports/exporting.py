"""Writing a report to a file: CSV or XLSX, streamed, formula-safe, hashed and audited.

Rows come from the database in batches and leave as bytes as soon as they are written, so
memory does not grow with the number of rows. The CSV is plain: a header row first, then the
rows, UTF-8 with a byte-order mark (spreadsheet programs read it right), every cell through
`csvsafe`. What the file is (report, filters, period, generated at, options, rows, SHA-256) is
stated beside it: in the export's audit event and its JSON sidecar, and in the XLSX's "About"
sheet (everything but the hash, which a file cannot hold of itself). The XLSX is written
directly as SpreadsheetML into a ZIP stream (`workbook`, `xlsxcells`), a batch of rows at a
time, one type per column (dates as dates, numbers as numbers, text always as text, never as a
formula), with column widths, a frozen header and a filter.
Coded cells carry their human labels (see `celllabels`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from operator import itemgetter
from typing import Any

from rems.common.csvsafe import safe_cell
from rems.program.model import Program
from rems.reports.celllabels import labellers
from rems.reports.csvcells import ColumnWriter, column_writer, csv_lines, remembered
from rems.reports.deidentify import APPLIED, Deidentifier
from rems.reports.framework import Column, Filters, Report
from rems.reports.workbook import xlsx_file

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
    program: Program
    #: The de-identification key (see `rems.reports.deidentify`).
    key: bytes = b""
    zone: tzinfo = UTC
    rows: int = 0
    #: The REMS IDs of the patients in an identified export, for the access log.
    patients: set[str] = field(default_factory=set)

    @property
    def options(self) -> str:
        """The options applied, as the metadata and the audit trail state them."""
        return APPLIED if self.deidentified else IDENTIFIED

    @property
    def filename(self) -> str:
        """A descriptive file name."""
        period = ""
        if self.filters.date_from:
            period = f"-{self.filters.date_from:%Y%m%d}-{self.filters.date_to:%Y%m%d}"
        suffix = "-deidentified" if self.deidentified else ""
        return f"rems-{self.report.name}{period}{suffix}.{self.fmt}"

    @property
    def columns(self) -> Sequence[Column]:
        """The columns the file has, known before the first row is read."""
        return self._scrubber().columns if self.deidentified else self.report.columns

    def _scrubber(self) -> Deidentifier:
        if not hasattr(self, "_deidentifier"):
            self._deidentifier = Deidentifier(self.report.columns, self.key, zone=self.zone)
        return self._deidentifier

    def period(self) -> dict[str, str] | None:
        """The period covered, if the report has one."""
        if not self.filters.date_from:
            return None
        return {
            "from": self.filters.date_from.isoformat(),
            "to": self.filters.date_to.isoformat(),
            "of": self.report.period_of,
        }

    def metadata(self, sha256: str | None = None, completed: bool | None = None) -> dict:
        """What the file is: the sidecar's content (the hash and outcome once known)."""
        about = {
            "report": self.report.name,
            "title": self.report.title,
            "file": self.filename,
            "format": self.fmt,
            "filters": self.filters.described(),
            "period": self.period(),
            "generated_at": self.generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "generated_by": self.generated_by,
            "deidentified": self.deidentified,
            "options": self.options,
            "columns": [c.label for c in self.columns],
            "rows": self.rows,
        }
        if sha256 is not None:
            about |= {"sha256": sha256, "complete": bool(completed)}
        return about

    def columns_of(self, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[list]:
        """Each batch of rows (tuples in the order of the report's columns) as one sequence of
        values per file column, de-identified when asked; counted, and the patients of an
        identified export noted. Labels are left to the writer (see `cell_writers`)."""
        at = next((i for i, c in enumerate(self.report.columns) if c.patient_key), None)
        scrub = self._scrubber().column_values if self.deidentified else None
        for batch in batches:
            if not batch:
                continue
            self.rows += len(batch)
            if scrub is not None:
                yield scrub(batch)
                continue
            if at is not None:
                self.patients.update(map(str, filter(None, map(itemgetter(at), batch))))
            yield list(zip(*batch, strict=True))

    def labels(self) -> list[Callable[[Any], Any] | None]:
        """For each file column, what labels its coded cells (None: shown as they are)."""
        keys = tuple(c.key for c in self.columns)
        return labellers(self.program, self.report.name, keys)

    def values(self, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[tuple]:
        """The rows as tuples of cells in column order, labelled, de-identified when asked."""
        labels = [None if f is None else remembered(f) for f in self.labels()]
        for columns in self.columns_of(batches):
            labelled = [v if f is None else f(v) for f, v in zip(labels, columns, strict=True)]
            yield from zip(*labelled, strict=True)

    def cell_writers(self) -> list[ColumnWriter]:
        """For each file column, what turns its values into their CSV cells' text."""
        return list(map(column_writer, self.columns, self.labels()))


def csv_chunks(export: Export, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """The CSV file (header row, then rows), in chunks of about 64 KB or a batch of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([safe_cell(c.label) for c in export.columns])
    writers = export.cell_writers()
    for columns in export.columns_of(batches):
        buffer.write(csv_lines(writers, columns))
        if buffer.tell() >= CHUNK_BYTES:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    """What was written so far, as UTF-8; the buffer is emptied."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def xlsx_chunks(export: Export, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """The XLSX file, in chunks of about 64 KB, written as the rows come (constant memory)."""
    yield from xlsx_file(export, batches, CHUNK_BYTES)


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks}
