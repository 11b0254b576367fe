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
from rems.reports.xlsxcells import STYLE_HEADER, column_writer, letters, shown_width, text_cell


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
    with zipfile.ZipFile(out, "w") as book:
        for name, text in (("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
                           ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
                           ("xl/styles.xml", STYLES)):  # fmt: skip
            book.writestr(_member(name, stamp), text)
        with book.open(_member("xl/worksheets/sheet1.xml", stamp), "w", force_zip64=True) as sheet:
            for text in _report_sheet(export, batches):
                sheet.write(text.encode())
                if out.size >= chunk:
                    yield out.take()
        book.writestr(_member("xl/worksheets/sheet2.xml", stamp), _about_sheet(export))
        book.writestr(
            _member("xl/workbook.xml", stamp), _workbook(len(export.columns), export.rows + 1)
        )
    yield out.take()


def _member(name: str, stamp: tuple) -> zipfile.ZipInfo:
    """A part of the file, dated when the export was generated (the same rows, the same bytes)."""
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


def _report_sheet(export: Export, batches: Iterable[Sequence]) -> Iterator[str]:
    """The Report sheet's XML in pieces: the header, a batch of rows at a time, the end."""
    columns = export.columns
    labels = export.labels()
    names = [letters(index) for index in range(len(columns))]
    writers = [column_writer(c.kind, label) for c, label in zip(columns, labels, strict=True)]
    rows = export.columns_of(batches)
    first = next(rows, None)
    widths = _widths(columns, labels, first)
    header = "".join(_text(f"{name}1", column.label, STYLE_HEADER)
                     for name, column in zip(names, columns, strict=True))  # fmt: skip
    cols = _cols([width + 1 for width in widths])
    yield f'{SHEET_OPEN}{FROZEN_HEADER}{ROW_HEIGHT}{cols}<sheetData><row r="1">{header}</row>'
    last = 1
    for values in chain([first], rows) if first is not None else ():
        numbers = list(map(str, range(last + 1, last + 1 + len(values[0]))))
        cells = [write(name, numbers, column) for write, name, column in
                 zip(writers, names, values, strict=True)]  # fmt: skip
        opening = [f'<row r="{number}">' for number in numbers]
        last += len(numbers)
        yield "".join(map("".join, zip(opening, *cells, repeat("</row>"))))
    end = f'<autoFilter ref="A1:{names[-1]}{last}"/>' if columns else ""
    yield f"</sheetData>{end}{MARGINS}</worksheet>"


def _text(ref: str, text: str, style: int = 0) -> str:
    """A text cell, or nothing when the text is empty."""
    body = text_cell(text, style)
    return f'<c r="{ref}"{body}' if body else ""


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


def _about_sheet(export: Export) -> str:
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
    rows = "".join(
        f'<row r="{n}">{_text(f"A{n}", name, STYLE_HEADER)}{_text(f"B{n}", text)}</row>'
        for n, (name, text) in enumerate(lines, start=1)
    )
    return (
        f"{SHEET_OPEN}{ROW_HEIGHT}{_cols([20, 100])}<sheetData>{rows}</sheetData>{MARGINS}"
        "</worksheet>"
    )


def _workbook(count: int, last: int) -> str:
    """The workbook part: its two sheets, and the Report sheet's filter range (Excel's hidden
    name for it), known once the last row is."""
    filtered = ""
    if count:
        filtered = (
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">Report!$A$1:${letters(count - 1)}${last}</definedName></definedNames>'
        )
    return (
        f'{XML}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><bookViews><workbookView/></bookViews>'
        '<sheets><sheet name="Report" sheetId="1" r:id="rId1"/>'
        f'<sheet name="About" sheetId="2" r:id="rId2"/></sheets>{filtered}</workbook>'
    )
