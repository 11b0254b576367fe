"""An export's exact bytes: the CSV of known rows, byte for byte, and every report's file as
the plain writer (a dict per row, cells labelled, de-identified, guarded one at a time) writes
it. The streaming writer may be faster; it may not write one byte differently."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from rems.auth.models import Role
from rems.common.csvsafe import safe_cell
from rems.extensions import db
from rems.reports.catalogue import REPORTS
from rems.reports.celllabels import labellers
from rems.reports.deidentify import Deidentifier
from rems.reports.exporting import csv_chunks
from rems.reports.framework import Column, Filters, Report, ordered
from rems.reports.queries import dialect_of
from rems.reports.services import new_export
from rems.reports.views import read_filters
from tests.reports.world import build

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


@pytest.fixture
def world(app, factory, client, clock):
    return build(app, factory, client, clock)


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


@pytest.fixture
def auditor(factory):
    return factory.signed_in(factory.user(Role.AUDITOR))


@pytest.mark.parametrize("deidentified", [False, True], ids=["identified", "deidentified"])
def test_every_report_csv_is_byte_for_byte_the_plain_writers(app, world, auditor, deidentified):
    args = {"to": "2026-12-04", **({"deidentified": "1"} if deidentified else {})}
    for name, report in REPORTS.items():
        with app.test_request_context(query_string=args):
            plain = _plain_csv(report, deidentified)  # first: the export lists the exports
        body = auditor.get(f"/reports/{name}/export", query_string=args).get_data()
        assert body == plain, name
