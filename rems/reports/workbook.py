"""The XLSX of an export: a "Report" sheet ready to filter and sort, an "About" sheet.

Each column holds one type, chosen by the column's kind (see `xlsxcells`): dates as dates,
date-times as date-times, numbers and percentages as numbers, flags as yes/no, everything else
as text (never a formula, never a link). The header is bold and frozen, an autofilter covers the
rows, and each column is as wide as its longest value (within limits) among the header and the
first batch of rows.

The file is written as it goes, straight into a ZIP stream that leaves in chunks: the parts
every workbook needs ([Content_Types].xml, the relationships, the styles), then the Report
sheet a batch of rows at a time (ZIP64, deflated at `LEVEL`), then the About sheet and the
workbook part, which names the filter's range once the last row is known. Nothing grows with
the rows: no shared-string table (cells hold their text inline), no temporary file. The one
thing the XML needs before the rows that only the rows could tell is the columns' widths
(`<cols>` comes before `<sheetData>`): they are taken from the first batch (up to 2,000 rows,
in the report's order), so a longer value further down is shown cut at the column's edge (the
cell holds all of it) rather than the whole sheet being written twice. The filter's range
(`<autoFilter>`) comes after the rows and is exact.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import Any, Protocol

from rems.reports.framework import Column
from rems.reports.xlsxcells import (
    STYLE_HEADER,
    column_writer,
    letters,
    rows_xml,
    shown_width,
    text_cell,
)


class Export(Protocol):
    """What the workbook needs of an export (see `rems.reports.exporting.Export`)."""

    generated_at: datetime
    #: The rows written so far (counted by `columns_of`).
    rows: int

    @property
    def columns(self) -> Sequence[Column]: ...

    def columns_of(self, batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[list]: ...

    def labels(self) -> list[Callable[[Any], Any] | None]: ...

    def metadata(self) -> dict: ...


MIN_WIDTH = 8
MAX_WIDTH = 60
WIDTHS = {"date": 11, "datetime": 17}
#: Deflate level: 1 is about as small as 6 here (rows repeat) and much cheaper to write.
LEVEL = 1
#: The most rows a sheet holds (Excel's limit, the header included).
MAX_ROWS = 1_048_576
#: The most XML the Report sheet holds: a part of a plain (not ZIP64) ZIP, as zipfile writes
#: it, stays under 2 GiB; room is kept for the sheet's end.
MAX_BYTES = zipfile.ZIP64_LIMIT - 64 * 1024
SHOWN_NOTE = (
    "the first {shown}: one sheet holds no more (Excel's limit is 1,048,575 rows under the "
    "header; this file's, 2 GiB of sheet XML); the CSV export holds them all"
)
SHA_NOTE = (
    "In the export's audit event (the Exports report) and its JSON sidecar: a file cannot "
    "hold its own hash."
)

XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    f'{XML}<Types xmlns="{PACKAGE}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{TYPES}.worksheet+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{TYPES}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{TYPES}.styles+xml"/></Types>'
)
ROOT_RELS = (
    f'{XML}<Relationships xmlns="{PACKAGE}/relationships"><Relationship Id="rId1" '
    f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    f'{XML}<Relationships xmlns="{PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/worksheet" Target="worksheets/sheet2.xml"/>'
    f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'
)
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_XF = 'fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"'
#: Cell styles (`xlsxcells.STYLE_*`): 0 plain, 1 date, 2 date-time, 3 percent, 4 header.
STYLES = (
    f'{XML}<styleSheet xmlns="{MAIN}"><numFmts count="3">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/>'
    '<numFmt numFmtId="166" formatCode="0.0"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    f'<xf numFmtId="164" {_XF}/><xf numFmtId="165" {_XF}/><xf numFmtId="166" {_XF}/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/><tableStyles count="0"/></styleSheet>'
)
SHEET_OPEN = f'{XML}<worksheet xmlns="{MAIN}" xmlns:r="{RELS}">'
FROZEN_HEADER = (
    '<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" '
    'topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
    "</sheetView></sheetViews>"
)
ROW_HEIGHT = '<sheetFormatPr defaultRowHeight="15"/>'
MARGINS = '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'


def xlsx_file(export: Export, batches: Iterable[Sequence], chunk: int) -> Iterator[bytes]:
    """The file's bytes as they are written, in chunks of about `chunk` bytes."""
    out = _Pipe()
    stamp = export.generated_at.astimezone(UTC).timetuple()[:6]
    report = _ReportSheet(export)
    with zipfile.ZipFile(out, "w") as book:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                           ("xl/styles.xml", STYLES)):  # fmt: skip
            book.writestr(_member(name, stamp), text)
        with book.open(_member("xl/worksheets/sheet1.xml", stamp), "w") as sheet:
            for data in report.pieces(batches):
                sheet.write(data)
                if out.size >= chunk:
                    yield out.take()
        book.writestr(_member("xl/worksheets/sheet2.xml", stamp), _about_sheet(export, report))
        book.writestr(_member("xl/workbook.xml", stamp), _workbook(len(export.columns), report))
    yield out.take()


def _member(name: str, stamp: tuple) -> zipfile.ZipInfo:
    """A part of the file, dated when the export was generated (the same rows, the same bytes).
    Never ZIP64: Excel refuses a small part with ZIP64 headers (what `force_zip64` writes when
    the size is not known in advance), and `_ReportSheet` keeps the sheet within plain ZIP's
    size."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = LEVEL  # what `ZipFile.open(name)` sets from the file's own level
    return info


class _Pipe:
    """Where the ZIP is written: held until taken (the file is not seekable, so zipfile writes
    each part's sizes after it)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


class _ReportSheet:
    """The Report sheet's XML, and how many rows it holds: at most `MAX_ROWS` (Excel's limit;
    xlsxwriter dropped the rows past it without a word) and `MAX_BYTES` of XML. Every row is
    still read and counted (the export's audit event and its access log name them all), the
    About sheet says how many the sheet holds when that is fewer, and the CSV holds them all."""

    def __init__(self, export: Export) -> None:
        self.export = export
        self.last = 1  # the last row written; row 1 is the header
        self.size = 0

    @property
    def shown(self) -> int:
        """The rows in the sheet."""
        return self.last - 1

    def pieces(self, batches: Iterable[Sequence]) -> Iterator[bytes]:
        """The XML in pieces: the header, a batch of rows at a time, the end."""
        columns = self.export.columns
        labels = self.export.labels()
        names = [letters(index) for index in range(len(columns))]
        writers = [column_writer(c.kind, f) for c, f in zip(columns, labels, strict=True)]
        rows = self.export.columns_of(batches)
        first = next(rows, None)
        widths = _widths(columns, labels, first)
        header = "".join(_text(f"{name}1", column.label, STYLE_HEADER)
                         for name, column in zip(names, columns, strict=True))  # fmt: skip
        cols = _cols([width + 1 for width in widths])
        yield self._counted(
            f'{SHEET_OPEN}{FROZEN_HEADER}{ROW_HEIGHT}{cols}<sheetData><row r="1">{header}</row>'
        )
        full = False
        for values in chain([first], rows) if first is not None else ():
            room = MAX_ROWS - self.last
            if full or room <= 0:
                continue  # read on, so that every row is counted
            if len(values[0]) > room:
                values = [column[:room] for column in values]
            cells = [write(column) for write, column in zip(writers, values, strict=True)]
            data = rows_xml(self.last + 1, names, cells).encode()
            if self.size + len(data) > MAX_BYTES:
                full = True
                continue
            self.last += len(values[0])
            yield self._counted(data)
        end = f'<autoFilter ref="A1:{names[-1]}{self.last}"/>' if columns else ""
        yield self._counted(f"</sheetData>{end}{MARGINS}</worksheet>")

    def _counted(self, data: str | bytes) -> bytes:
        data = data.encode() if isinstance(data, str) else data
        self.size += len(data)
        return data


def _text(ref: str, text: str, style: int = 0) -> str:
    """A text cell, or nothing when the text is empty."""
    body = text_cell(text, style)
    return f'<c r="{ref}{body}' if body else ""


def _widths(columns: Sequence[Column], labels: list, first: Sequence | None) -> list[int]:
    """Each column's width in characters: its header's and its first batch's longest value,
    at least its kind's, within `MIN_WIDTH`..`MAX_WIDTH`."""
    widths = []
    for index, column in enumerate(columns):
        width = max(MIN_WIDTH, min(len(column.label), MAX_WIDTH), WIDTHS.get(column.kind, 0))
        if first is not None:
            label = labels[index]
            values = first[index] if label is None else map(label, first[index])
            width = max(width, min(MAX_WIDTH, max(map(shown_width, repeat(column.kind), values))))
        widths.append(width)
    return widths


def _cols(widths: Sequence[int]) -> str:
    """The `<cols>` of a sheet: each column's width in characters."""
    if not widths:
        return ""
    cols = "".join(
        f'<col min="{n}" max="{n}" width="{_excel_width(w):.16g}" customWidth="1"/>'
        for n, w in enumerate(widths, start=1)
    )
    return f"<cols>{cols}</cols>"


def _excel_width(characters: float) -> float:
    """A width in characters as Excel stores it (Calibri 11: 7-pixel digits, 5 of padding)."""
    pixels = int(characters * 7 + 0.5) + 5
    return (pixels * 256 // 7) / 256


def _about_sheet(export: Export, report: _ReportSheet) -> str:
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
    if report.shown < about["rows"]:
        lines.insert(7, ("Rows in this file", SHOWN_NOTE.format(shown=report.shown)))
    rows = "".join(
        f'<row r="{n}">{_text(f"A{n}", name, STYLE_HEADER)}{_text(f"B{n}", text)}</row>'
        for n, (name, text) in enumerate(lines, start=1)
    )
    return (
        f"{SHEET_OPEN}{ROW_HEIGHT}{_cols([20, 100])}<sheetData>{rows}</sheetData>{MARGINS}"
        "</worksheet>"
    )


def _workbook(count: int, report: _ReportSheet) -> str:
    """The workbook part: its two sheets, and the Report sheet's filter range (Excel's hidden
    name for it), known once the last row is."""
    filtered = ""
    if count:
        filtered = (
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">Report!$A$1:${letters(count - 1)}${report.last}</definedName>'
            "</definedNames>"
        )
    return (
        f'{XML}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><bookViews><workbookView/></bookViews>'
        '<sheets><sheet name="Report" sheetId="1" r:id="rId1"/>'
        f'<sheet name="About" sheetId="2" r:id="rId2"/></sheets>{filtered}</workbook>'
    )
