"""Exports: CSV (UTF-8 with BOM, formula-safe) and XLSX for every report, each an audit event
with its SHA-256; the de-identified option; the CLI; the exports report."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.common.transactions import writing
from rems.extensions import db
from rems.patients.models import Patient
from rems.reports.catalogue import REPORTS
from tests.reports.test_catalogue import cells, show


def data_rows(text: str) -> list[list[str]]:
    """The CSV's rows, header first."""
    return list(csv.reader(text.splitlines()))


def exports(app) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "report.exported")
            .order_by(AuditEvent.seq)
        ).all()
        for event in found:
            db.session.expunge(event)
        return found


def test_every_report_exports_csv_and_xlsx_and_each_export_is_audited(app, world, auditor):
    for name in REPORTS:
        for fmt in ("csv", "xlsx"):
            response = auditor.get(f"/reports/{name}/export", query_string={"format": fmt})
            assert response.status_code == 200, (name, fmt)
            body = response.get_data()
            event = exports(app)[-1]
            assert event.entity_id == name and event.new_values["format"] == fmt
            assert event.new_values["sha256"] == hashlib.sha256(body).hexdigest()
            assert event.new_values["completed"] is True
            if fmt == "xlsx":
                assert zipfile.ZipFile(io.BytesIO(body)).testzip() is None
    assert len(exports(app)) == 2 * len(REPORTS)


def test_csv_is_plain_and_its_metadata_is_in_the_audit_event(app, world, auditor):
    response = auditor.get(
        "/reports/enrollments/export", query_string={"format": "csv", "status": "enrolled"}
    )
    assert response.headers["Content-Disposition"].startswith('attachment; filename="rems-')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbfREMS patient ID,")  # the header row comes first
    text = raw.decode("utf-8-sig")
    assert "#" not in text
    rows = list(csv.reader(text.splitlines()))
    assert rows[0][:3] == ["REMS patient ID", "Last name", "First name"] and len(rows) == 3
    (event,) = exports(app)
    assert event.new_values["rows"] == 2
    assert event.new_values["filters"]["status"] == "enrolled"
    assert event.new_values["period"] == {"from": "2026-09-06", "to": "2026-12-04",
                                          "of": "enrollment begun on"}  # fmt: skip
    assert event.new_values["generated_at"].endswith("Z")
    assert "identified" in event.new_values["options"]
    assert event.actor_label.startswith("auditor")


def test_the_deviation_figures_export_as_the_page_shows_them(world, auditor):
    for name, row in (
        ("deviations", [world.gate.site_code, "Gate Infusion Center",
                        "Observation shorter than the program's minutes", "Major", "1"]),
        ("noncompliance-cases", ["Site", "1", "0", "1", "0", "0"]),
    ):  # fmt: skip
        text = auditor.get(f"/reports/{name}/export?format=csv").get_data().decode("utf-8-sig")
        assert data_rows(text)[1] == row, name
    xlsx = auditor.get("/reports/deviations/export?format=xlsx").get_data()
    sheet = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "Observation shorter than the program" in sheet and "observation_short" not in sheet


def test_cells_that_a_spreadsheet_would_run_are_neutralised(app, world, auditor):
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.carla.id)
        patient.last_name = '=HYPERLINK("http://evil.example","x")'
        db.session.commit()
    text = auditor.get("/reports/enrollments/export").get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    xlsx = auditor.get("/reports/enrollments/export?format=xlsx").get_data()
    sheet = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "HYPERLINK" in sheet


def test_the_deidentified_export_holds_no_identifier(app, world, auditor):
    identifiers = _identifiers(app)
    args = {"format": "csv", "deidentified": "1", "to": "2026-12-04"}
    texts = [
        auditor.get(f"/reports/{name}/export", query_string=args).get_data().decode("utf-8-sig")
        for name in ("enrollments", "authorizations")
    ]
    for text in texts:
        for value in identifiers:  # as a word: "Pat" may not appear, "Patients" may
            assert not re.search(rf"\b{re.escape(value)}\b", text), value
    rows = data_rows(texts[0])
    assert "Last name" not in rows[0] and "Date of birth" not in rows[0]
    keys = [row[0] for row in rows[1:]]
    assert len(set(keys)) == 3 and all(re.fullmatch(r"K[0-9a-f]{16}", k) for k in keys)
    assert sorted(int(row[1]) for row in rows[1:]) == [41, 42, 89]  # 95 capped at 89


def _identifiers(app) -> list[str]:
    """Every name, date of birth and REMS ID of the patients, as they could appear."""
    with app.app_context():
        patients = db.session.scalars(sa.select(Patient)).all()
        values = []
        for p in patients:
            values += [p.first_name, p.last_name, p.rems_id, p.date_of_birth.isoformat()]
        return values


def test_one_patient_keeps_one_key_and_one_date_shift_in_an_export(app, world, auditor):
    args = {"format": "csv", "deidentified": "1", "to": "2026-12-04"}
    text = auditor.get("/reports/authorizations/export", query_string=args).get_data()
    header, row = data_rows(text.decode("utf-8-sig"))
    values = dict(zip(header, row, strict=True))
    issued = date.fromisoformat(values["Issued (shifted day)"])
    valid_until = date.fromisoformat(values["Valid until (shifted day)"])
    shift = date(2026, 11, 24) - issued
    assert timedelta(days=1) <= shift <= timedelta(days=364)
    assert date(2026, 12, 1) - valid_until == shift  # the same patient's dates move together
    enrollments = auditor.get("/reports/enrollments/export", query_string=args).get_data()
    other_keys = [r[0] for r in data_rows(enrollments.decode("utf-8-sig"))[1:]]
    assert values["REMS patient ID"] in other_keys  # one key per patient, export after export
    (event, _) = exports(app)
    assert "de-identified" in event.new_values["options"] and event.new_values["deidentified"]


def test_the_exports_report_lists_who_exported_what(app, world, auditor):
    auditor.get("/reports/gate-denials/export", query_string={"format": "xlsx"}).get_data()
    (row,) = cells(show(auditor, "exports")[1])
    (event,) = exports(app)
    assert row[0] == str(event.seq) and row[3:5] == ["gate-denials", "xlsx"]
    assert row[7] == "2" and row[8] == event.new_values["sha256"] and row[9] == "complete"
    assert cells(show(auditor, "exports", status="enrollments")[1]) == []


def test_a_download_cut_off_midway_is_recorded_as_cut_off(app, world, auditor):
    response = auditor.get("/reports/enrollments/export")
    response.close()  # the browser went away before reading the file
    (event,) = exports(app)
    assert event.new_values["completed"] is False and event.new_values["outcome"] == "cut off"


def test_cli_export_writes_the_file_and_audits_it(app, world, runner, tmp_path):
    target = tmp_path / "gate.csv"
    result = runner.invoke(
        args=["rems", "export", "gate-decisions", "--from", "2026-11-01", "--to", "2026-11-30",
              "--format", "csv", "-o", str(target)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Exported 1 row(s) of gate-decisions" in result.output
    body = target.read_bytes()
    (event,) = exports(app)
    assert event.actor_label == "cli:export"
    assert event.new_values["sha256"] == hashlib.sha256(body).hexdigest()
    assert data_rows(body.decode("utf-8-sig"))[1][3:] == ["3", "1", "2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-report"], "No report 'no-such-report'"),
        (["enrollments", "--from", "2026-12-01", "--to", "2026-11-01"], "after its last day"),
        (["enrollments", "--from", "2000-01-01"], "longer than the longest allowed"),
        (["enrollments", "--filter", "status=lost"], "Choose one of"),
        (["enrollments", "--filter", "colour=red"], "Unknown filter"),
    ],
)
def test_cli_export_refuses_bad_input_and_writes_nothing(app, runner, tmp_path, args, message):
    target = tmp_path / "out" / "file.csv"
    target.parent.mkdir()
    result = runner.invoke(args=["rems", "export", *args, "-o", str(target)])
    assert result.exit_code != 0 and message in result.output
    assert list(target.parent.iterdir()) == []
    assert exports(app) == []
