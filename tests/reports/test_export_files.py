"""Export files ready to use: a plain CSV, its metadata as a JSON sidecar next to it, and an
XLSX with typed columns, widths, a frozen header, a filter and an "About" sheet."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime

import openpyxl
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.extensions import db
from rems.reports.catalogue import REPORTS


def _last_export(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.action == "report.exported")
        )


def test_every_csv_reads_as_a_table_from_its_first_line(world, auditor):
    for name, report in REPORTS.items():
        text = auditor.get(f"/reports/{name}/export").get_data().decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == [c.label for c in report.columns], name
        assert all(len(row) == len(rows[0]) for row in rows), name  # no comment lines


def test_the_metadata_is_offered_next_to_the_csv_and_matches_the_file(app, world, auditor):
    args = {"format": "csv", "from": "2026-11-01", "to": "2026-12-04", "status": "enrolled"}
    body = auditor.get("/reports/enrollments/export", query_string=args).get_data()
    seq = _last_export(app)
    page = auditor.get("/reports/enrollments", query_string=args).get_data(as_text=True)
    link = f"/reports/exports/{seq}.json"
    assert link in page and "metadata (JSON)" in page  # offered on the report's page
    response = auditor.get(link)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].endswith('.csv.json"')
    about = json.loads(response.get_data())
    assert about["sha256"] == hashlib.sha256(body).hexdigest()
    assert about["report"] == "enrollments" and about["rows"] == 2 and about["completed"]
    assert about["period"] == {"from": "2026-11-01", "to": "2026-12-04",
                               "of": "enrollment begun on"}  # fmt: skip
    assert about["filters"]["status"] == "enrolled"
    assert datetime.fromisoformat(about["generated_at"].replace("Z", "+00:00"))
    assert about["columns"][:2] == ["REMS patient ID", "Last name"]
    assert auditor.get("/reports/exports/1.json").status_code == 404  # not an export


def test_the_sidecar_is_for_auditors_and_administrators_only(app, world, auditor, factory):
    auditor.get("/reports/gate-denials/export").get_data()
    seq = _last_export(app)
    prescriber = factory.signed_in(world.gate.prescriber.user)
    assert prescriber.get(f"/reports/exports/{seq}.json").status_code == 403


def _sheet(auditor, name: str, **args):
    body = auditor.get(f"/reports/{name}/export", query_string={"format": "xlsx", **args})
    return openpyxl.load_workbook(io.BytesIO(body.get_data()))


def test_xlsx_columns_are_typed_sized_frozen_and_filterable(world, auditor):
    book = _sheet(auditor, "authorizations", to="2026-12-04")
    sheet = book["Report"]
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Authorization", "Issued (UTC)", "REMS patient ID"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:L{sheet.max_row}"
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert isinstance(row["Issued (UTC)"], datetime)
    assert isinstance(row["Valid until"], datetime) and row["Valid until"].time().hour == 0
    assert sheet.cell(2, header.index("Valid until") + 1).number_format == "yyyy-mm-dd"
    assert row["Doses authorized"] == 3 and isinstance(row["Doses authorized"], int | float)
    assert row["Status"] == "Used"  # a human label, not the code "used"
    widths = [sheet.column_dimensions[letter].width for letter in "ABCL"]
    assert all(width and width >= 9 for width in widths)
    assert sheet.column_dimensions["B"].width >= 17  # a date-time fits
    about = {r[0].value: r[1].value for r in book["About"].iter_rows()}
    assert about["Report"].endswith("(authorizations)")
    assert "2026-12-04" in about["Period"] and about["Rows"] == "1"


def test_each_xlsx_column_holds_one_type(world, auditor):
    for name, report in REPORTS.items():
        sheet = _sheet(auditor, name, to="2026-12-04")["Report"]
        for index, column in enumerate(report.columns, start=1):
            values = [sheet.cell(r, index).value for r in range(2, sheet.max_row + 1)]
            kinds = {type(v).__name__ for v in values if v is not None}
            expected = {"date": {"datetime"}, "datetime": {"datetime"},
                        "number": {"int", "float"}, "percent": {"int", "float"}}  # fmt: skip
            assert kinds <= expected.get(column.kind, {"str"}), (name, column.key, kinds)
