"""An export's exact bytes: the CSV of known rows, byte for byte, and every report's file as
the plain writer (a dict per row, cells labelled, de-identified, guarded one at a time) writes
it. The streaming writer may be faster; it may not write one byte differently. The XLSX of the
same rows: its sheet's XML character for character, the parts Excel needs, and what a
spreadsheet library reads back from it."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from xml.etree import ElementTree

import openpyxl
import pytest

from rems.common.csvsafe import safe_cell
from rems.extensions import db
from rems.reports import workbook
from rems.reports.catalogue import REPORTS
from rems.reports.celllabels import labellers
from rems.reports.deidentify import Deidentifier
from rems.reports.exporting import csv_chunks, xlsx_chunks
from rems.reports.framework import Column, Filters, Report, ordered
from rems.reports.queries import dialect_of
from rems.reports.services import new_export
from rems.reports.views import read_filters

COLUMNS = (
    Column("patient_id", "REMS patient ID", patient_key=True),
    Column("last_name", "Last name, as given", identifier=True),
    Column("test", "Test"),
    Column("state", "State today"),
    Column("first_dose", "First dose", "date", patient_date=True),
    Column("at", "Recorded (UTC)", "datetime"),
    Column("number", "Authorization", record_key=True),
    Column("age", "Age", "number", age=True),
    Column("days", "Days overdue", "number", days_to_today=True),
    Column("amount", "Share", "percent"),
    Column("flag", "Flag", "flag"),
    Column("note", "Note"),
)
AT = datetime(2026, 3, 1, 23, 30, 15, 250, tzinfo=UTC)
ROWS = (
    {"patient_id": "P1", "last_name": "=cmd()", "test": "cbc", "state": "due_soon",
     "first_dose": date(2026, 2, 1), "at": AT, "number": "A-1", "age": 95, "days": 3,
     "amount": Decimal("12.50"), "flag": True, "note": 'a "quoted", comma\nline'},
    {"patient_id": "P1", "last_name": "O'Neil", "test": "no_such_code", "state": None,
     "first_dose": "2026-02-02", "at": AT.astimezone(timezone(timedelta(hours=-5))),
     "number": None, "age": 40, "days": -2, "amount": 0.1, "flag": False, "note": "-1+1"},
    {"patient_id": "P2", "last_name": "", "test": "tsh", "state": "overdue",
     "first_dose": None, "at": None, "number": "A-2", "age": None, "days": None,
     "amount": None, "flag": None, "note": "@SUM(A1)\t+x"},
)  # fmt: skip

IDENTIFIED = (
    '\ufeffREMS patient ID,"Last name, as given",Test,State today,First dose,Recorded (UTC),'
    "Authorization,Age,Days overdue,Share,Flag,Note\r\n"
    "P1,'=cmd(),CBC with differential,Due soon,2026-02-01,"
    '2026-03-01T23:30:15.000250+00:00,A-1,95,3,12.50,yes,"a ""quoted"", comma\nline"\r\n'
    "P1,O'Neil,No such code,,2026-02-02,2026-03-01T18:30:15.000250-05:00,,40,'-2,0.1,no,'-1+1\r\n"
    "P2,,Thyroid function (TSH),Overdue,,,A-2,,,,,'@SUM(A1)\t+x\r\n"
)
DEIDENTIFIED = (
    "\ufeffREMS patient ID,Test,State today,First dose (shifted day),Recorded (shifted day),"
    "Authorization,Age,Days overdue,Share,Flag,Note\r\n"
    "Kc7a30b38257ac334,CBC with differential,Due soon,2025-03-13,2025-04-10,R459976206e282b28,"
    '89,328,12.50,yes,"a ""quoted"", comma\nline"\r\n'
    "Kc7a30b38257ac334,No such code,,2025-03-14,2025-04-10,,40,323,0.1,no,'-1+1\r\n"
    "Kebfdabbbba6373eb,Thyroid function (TSH),Overdue,,,R8a63ef3f8d674a24,,,,,'@SUM(A1)\t+x\r\n"
)

#: The rows as the database gives them: one batch of tuples in the columns' order.
BATCH = [tuple(row[c.key] for c in COLUMNS) for row in ROWS]


def _export(app, deidentified: bool):
    report = Report("monitoring", "Pinned", "", COLUMNS, query=None, filters=frozenset(),
                    default_sort="patient_id", about_patients=True)  # fmt: skip
    job = new_export(report, Filters(), "csv", deidentified, "tester")
    job.key = b"pinned key"
    return job


@pytest.mark.parametrize(
    ("deidentified", "expected"),
    [(False, IDENTIFIED), (True, DEIDENTIFIED)],
    ids=["identified", "deidentified"],
)
def test_the_csv_of_known_rows_is_these_bytes(app, deidentified, expected):
    with app.app_context():
        body = b"".join(csv_chunks(_export(app, deidentified), [BATCH]))
    assert body == expected.encode("utf-8")


#: The Report sheet of the rows above: typed cells, labels, text never a formula.
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '<selection pane="bottomLeft"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><cols>'
    '<col min="1" max="1" width="16.7109375" customWidth="1"/>'
    '<col min="2" max="2" width="20.7109375" customWidth="1"/>'
    '<col min="3" max="3" width="23.7109375" customWidth="1"/>'
    '<col min="4" max="4" width="12.7109375" customWidth="1"/>'
    '<col min="5" max="5" width="12.7109375" customWidth="1"/>'
    '<col min="6" max="6" width="18.7109375" customWidth="1"/>'
    '<col min="7" max="7" width="14.7109375" customWidth="1"/>'
    '<col min="8" max="8" width="9.7109375" customWidth="1"/>'
    '<col min="9" max="9" width="13.7109375" customWidth="1"/>'
    '<col min="10" max="10" width="9.7109375" customWidth="1"/>'
    '<col min="11" max="11" width="9.7109375" customWidth="1"/>'
    '<col min="12" max="12" width="23.7109375" customWidth="1"/></cols><sheetData>'
    '<row r="1"><c r="A1" s="4" t="inlineStr"><is><t>REMS patient ID</t></is></c>'
    '<c r="B1" s="4" t="inlineStr"><is><t>Last name, as given</t></is></c>'
    '<c r="C1" s="4" t="inlineStr"><is><t>Test</t></is></c><c r="D1" s="4" t="inlineStr">'
    '<is><t>State today</t></is></c><c r="E1" s="4" t="inlineStr"><is><t>First dose</t>'
    '</is></c><c r="F1" s="4" t="inlineStr"><is><t>Recorded (UTC)</t></is></c>'
    '<c r="G1" s="4" t="inlineStr"><is><t>Authorization</t></is></c>'
    '<c r="H1" s="4" t="inlineStr"><is><t>Age</t></is></c><c r="I1" s="4" t="inlineStr">'
    '<is><t>Days overdue</t></is></c><c r="J1" s="4" t="inlineStr"><is><t>Share</t></is>'
    '</c><c r="K1" s="4" t="inlineStr"><is><t>Flag</t></is></c>'
    '<c r="L1" s="4" t="inlineStr"><is><t>Note</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c><c r="B2" t="inlineStr"><is>'
    '<t>=cmd()</t></is></c><c r="C2" t="inlineStr"><is><t>CBC with differential</t></is>'
    '</c><c r="D2" t="inlineStr"><is><t>Due soon</t></is></c><c r="E2" s="1"><v>46054</v>'
    '</c><c r="F2" s="2"><v>46082.97934028067</v></c><c r="G2" t="inlineStr"><is><t>A-1</t>'
    '</is></c><c r="H2"><v>95</v></c><c r="I2"><v>3</v></c><c r="J2" s="3"><v>12.5</v></c>'
    '<c r="K2" t="inlineStr"><is><t>yes</t></is></c><c r="L2" t="inlineStr"><is>'
    '<t>a "quoted", comma\n'
    'line</t></is></c></row>'
    '<row r="3"><c r="A3" t="inlineStr"><is><t>P1</t></is></c><c r="B3" t="inlineStr"><is>'
    '<t>O\'Neil</t></is></c><c r="C3" t="inlineStr"><is><t>No such code</t></is></c>'
    '<c r="D3"/><c r="E3" s="1"><v>46055</v></c><c r="F3" s="2"><v>46082.97934028067</v>'
    '</c><c r="G3"/><c r="H3"><v>40</v></c><c r="I3"><v>-2</v></c><c r="J3" s="3"><v>0.1'
    '</v></c><c r="K3" t="inlineStr"><is><t>no</t></is></c><c r="L3" t="inlineStr"><is>'
    '<t>-1+1</t></is></c></row>'
    '<row r="4"><c r="A4" t="inlineStr"><is><t>P2</t></is></c><c r="B4"/>'
    '<c r="C4" t="inlineStr"><is><t>Thyroid function (TSH)</t></is></c>'
    '<c r="D4" t="inlineStr"><is><t>Overdue</t></is></c><c r="E4"/><c r="F4"/>'
    '<c r="G4" t="inlineStr"><is><t>A-2</t></is></c><c r="H4"/><c r="I4"/><c r="J4"/>'
    '<c r="K4"/><c r="L4" t="inlineStr"><is><t>@SUM(A1)\t+x</t></is></c></row></sheetData>'
    '<autoFilter ref="A1:L4"/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
    ' footer="0.3"/></worksheet>'
)  # fmt: skip


def _xlsx(app, batch=BATCH) -> zipfile.ZipFile:
    with app.app_context():
        job = _export(app, deidentified=False)
        job.fmt = "xlsx"
        return zipfile.ZipFile(io.BytesIO(b"".join(xlsx_chunks(job, [batch]))))


def test_the_xlsx_sheet_of_known_rows_is_this_xml(app):
    assert _xlsx(app).read("xl/worksheets/sheet1.xml").decode() == SHEET


def test_the_xlsx_has_the_parts_excel_needs_each_declared_and_well_formed(app):
    book = _xlsx(app)
    assert book.testzip() is None
    names = set(book.namelist())
    assert names == {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/styles.xml",
                     "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml",
                     "xl/worksheets/sheet2.xml"}  # fmt: skip
    parts = {name: ElementTree.fromstring(book.read(name)) for name in names}  # noqa: S314
    declared = {e.get("PartName") for e in parts["[Content_Types].xml"]}
    assert {f"/{n}" for n in names if not n.endswith(".rels") and n.startswith("xl/")} == (
        declared - {None}
    )
    (root,) = parts["_rels/.rels"]
    assert root.get("Target") == "xl/workbook.xml" and root.get("Type").endswith("/officeDocument")
    targets = {e.get("Target") for e in parts["xl/_rels/workbook.xml.rels"]}
    assert {f"xl/{t}" for t in targets} == names - {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
    }
    # Plain ZIP headers: Excel refuses a small file whose parts carry ZIP64 ones.
    assert {(info.extract_version, info.extra) for info in book.infolist()} == {(20, b"")}
    workbook = book.read("xl/workbook.xml").decode()
    assert '<sheet name="Report" sheetId="1" r:id="rId1"/>' in workbook
    assert 'hidden="1">Report!$A$1:$L$4</definedName>' in workbook  # Excel's filter range


def test_the_xlsx_reads_back_typed_frozen_filtered_with_its_about_sheet(app):
    awkward = (
        "P3",
        "a<b> & c\x01\x1f",
        "=1+1",
        " edge ",
        date(1900, 3, 1),
        datetime(2026, 3, 1, 12),
        "_x0041_",
        "12",
        float("nan"),
        "n/a",
        "no",
        "x\r\ny",
    )
    archive = _xlsx(app, [*BATCH, awkward])
    book = openpyxl.load_workbook(archive.fp)
    sheet = book["Report"]
    assert [c.value for c in sheet[1]][:3] == ["REMS patient ID", "Last name, as given", "Test"]
    assert sheet[1][0].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:L5"
    first, second, third, fourth = ([c.value for c in row] for row in sheet.iter_rows(min_row=2))
    assert first == ["P1", "=cmd()", "CBC with differential", "Due soon", datetime(2026, 2, 1),
                     datetime(2026, 3, 1, 23, 30, 15), "A-1", 95, 3, 12.5, "yes",
                     'a "quoted", comma\nline']  # fmt: skip
    assert sheet["A2"].data_type == "s" and sheet["B2"].data_type == "s"  # text, not a formula
    assert [sheet[f"{c}2"].number_format for c in "EFJ"] == [
        "yyyy-mm-dd",
        "yyyy-mm-dd hh:mm",
        "0.0",
    ]
    assert second[3:6] == [None, datetime(2026, 2, 2), datetime(2026, 3, 1, 23, 30, 15)]
    assert second[8] == -2 and third[4:6] == [None, None] and third[10] is None
    assert fourth[1:4] == ["a<b> & c", "=1+1", " edge "]  # control characters dropped
    assert fourth[4:6] == [datetime(1900, 3, 1), datetime(2026, 3, 1, 12)]
    assert fourth[7:10] == [12, "nan", "n/a"]  # a value of the wrong type stays visible, as text
    assert fourth[10] == "no"
    xml = archive.read("xl/worksheets/sheet1.xml").decode()  # Excel's own escapes, which Excel
    assert "<t>_x005F_x0041_</t>" in xml and "<t>x_x000D_\ny</t>" in xml  # reads as written
    assert sheet.column_dimensions["B"].width >= len("Last name, as given")
    about = {row[0].value: row[1].value for row in book["About"].iter_rows()}
    assert about["Report"] == "Pinned (monitoring)" and about["Rows"] == "4"
    assert about["Period"] == "none" and about["Generated by"] == "tester"


def test_an_xlsx_sheet_holds_the_rows_a_sheet_can_and_says_so(app, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)  # Excel's is 1,048,576, the header included
    book = openpyxl.load_workbook(_xlsx(app).fp)
    sheet = book["Report"]
    assert [row[0].value for row in sheet.iter_rows()] == ["REMS patient ID", "P1", "P1"]
    assert sheet.auto_filter.ref == "A1:L3"
    about = {row[0].value: row[1].value for row in book["About"].iter_rows()}
    assert about["Rows"] == "3"  # every row was read, counted and audited
    assert about["Rows in this file"].startswith("the first 2: one sheet holds no more")


def _plain_csv(report: Report, deidentified: bool) -> bytes:
    """The report's CSV as the plain writer wrote it, from the same filters as the request."""
    job = new_export(report, read_filters(report), "csv", deidentified, "reference")
    statement = ordered(report, job.filters, dialect_of(db.session))
    rows = [dict(row) for row in db.session.execute(statement).mappings()]
    label = labellers(job.program, report.name, tuple(c.key for c in job.columns))
    scrub = Deidentifier(report.columns, job.key, zone=job.zone)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c.label) for c in job.columns])
    for row in rows:
        cells = scrub.row(row) if job.deidentified else [row.get(c.key) for c in job.columns]
        writer.writerow([safe_cell(f(v) if f else v) for f, v in zip(label, cells, strict=True)])
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("deidentified", [False, True], ids=["identified", "deidentified"])
def test_every_report_csv_is_byte_for_byte_the_plain_writers(app, world, auditor, deidentified):
    args = {"to": "2026-12-04", **({"deidentified": "1"} if deidentified else {})}
    for name, report in REPORTS.items():
        with app.test_request_context(query_string=args):
            plain = _plain_csv(report, deidentified)  # first: the export lists the exports
        body = auditor.get(f"/reports/{name}/export", query_string=args).get_data()
        assert body == plain, name
