"""The XLSX of an export: a "Report" sheet ready to filter and sort, an "About" sheet.

Each column holds one type, chosen by the column's kind: dates as dates, date-times as
date-times, numbers and percentages as numbers, flags as yes/no, everything else as text
(never a formula, never a link). The header is bold and frozen, an autofilter covers the rows,
and each column is as wide as its longest value (within limits). Constant-memory mode writes
rows as they come; widths and the filter's range are set at the end, when they are known.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import xlsxwriter

from rems.reports.framework import Column


class Export(Protocol):
    """What the workbook needs of an export (see `rems.reports.exporting.Export`)."""

    @property
    def columns(self) -> Sequence[Column]: ...

    def values(self, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[Sequence[Any]]: ...

    def metadata(self) -> dict: ...


MIN_WIDTH = 8
MAX_WIDTH = 60
WIDTHS = {"date": 11, "datetime": 17}
SHA_NOTE = (
    "In the export's audit event (the Exports report) and its JSON sidecar: a file cannot "
    "hold its own hash."
)


def xlsx_file(export: Export, batches: Iterable[Sequence], chunk: int) -> Iterator[bytes]:
    """The file's bytes, written to a temporary file first, in chunks of `chunk` bytes."""
    with tempfile.TemporaryFile() as handle:
        _write(handle, export, batches)
        handle.seek(0)
        while data := handle.read(chunk):
            yield data


def _write(handle, export: Export, batches: Iterable[Sequence]) -> None:
    book = xlsxwriter.Workbook(
        handle, {"constant_memory": True, "strings_to_formulas": False,
                 "strings_to_urls": False, "strings_to_numbers": False},
    )  # fmt: skip
    formats = {
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "percent": book.add_format({"num_format": "0.0"}),
        "header": book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
    }
    sheet = book.add_worksheet("Report")
    columns = export.columns
    kinds = [c.kind for c in columns]
    widths = [max(MIN_WIDTH, min(len(c.label), MAX_WIDTH)) for c in columns]
    for index, column in enumerate(columns):
        sheet.write_string(0, index, column.label, formats["header"])
        widths[index] = max(widths[index], WIDTHS.get(column.kind, 0))
    sheet.freeze_panes(1, 0)
    last = 0
    for last, row in enumerate(export.values(batches), start=1):
        for index, value in enumerate(row):
            shown = _cell(sheet, last, index, kinds[index], value, formats)
            if shown > widths[index]:
                widths[index] = min(shown, MAX_WIDTH)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width + 1)
    if columns:
        sheet.autofilter(0, 0, last, len(columns) - 1)
    _about(book.add_worksheet("About"), export, formats["header"])
    book.close()


def _cell(sheet, row: int, col: int, kind: str, value: Any, formats: dict) -> int:
    """Write one cell as its column's type; return its width in characters."""
    if value is None or value == "":
        return 0
    if kind in ("number", "percent"):
        number = _number(value)
        if number is not None:
            sheet.write_number(row, col, number, formats.get(kind))
            return len(f"{number:g}")
    elif kind == "date":
        day = _date(value)
        if day is not None:
            sheet.write_datetime(row, col, datetime(day.year, day.month, day.day), formats[kind])
            return 10
    elif kind == "datetime":
        moment = _datetime(value)
        if moment is not None:
            sheet.write_datetime(row, col, moment, formats[kind])
            return 16
    elif kind == "flag" or isinstance(value, bool):
        text = "yes" if value and value not in ("0", "false", "no") else "no"
        sheet.write_string(row, col, text)
        return len(text)
    text = str(value)
    sheet.write_string(row, col, text)  # a value of the wrong type stays visible, as text
    return len(text)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    """A naive UTC date-time (Excel has no zones; the column's heading names it)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def _about(sheet, export: Export, bold) -> None:
    """What the file is, one fact a row."""
    about = export.metadata()
    period = about["period"]
    lines = [
        ("Report", f"{about['title']} ({about['report']})"),
        ("Generated at (UTC)", about["generated_at"]),
        ("Generated by", about["generated_by"]),
        ("Period", f"{period['from']} to {period['to']} ({period['of']})" if period else "none"),
        ("Filters", "; ".join(f"{k}={v}" for k, v in about["filters"].items()) or "none"),
        ("Options", about["options"]),
        ("Rows", str(about["rows"])),
        ("SHA-256", SHA_NOTE),
    ]
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 1, 100)
    for number, (name, text) in enumerate(lines):
        sheet.write_string(number, 0, name, bold)
        sheet.write_string(number, 1, text)
