"""Every report page and export that shows identified patients writes the access log, one read
per patient shown; aggregate reports and de-identified exports name nobody and log nothing.
Bad export requests are a 400 naming the field."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.auth.models import Role
from rems.extensions import db
from rems.reports.catalogue import REPORTS

#: The reports whose rows name patients, and which of them the small world fills.
IDENTIFIED = {
    "enrollments", "authorizations", "gate-decision-list", "monitoring", "monitoring-overdue",
    "result-amendments", "adverse-event-line-listing",
}  # fmt: skip
FILLED = {
    "enrollments", "authorizations", "gate-decision-list", "monitoring",
    "adverse-event-line-listing",
}  # fmt: skip


@pytest.fixture
def auditor(factory):
    return factory.signed_in(factory.user(Role.AUDITOR, username="reader1"))


def _last_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(RecordAccess.id), 0)))


def _reads_since(app, first: int) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(RecordAccess.channel, RecordAccess.entity_type, RecordAccess.entity_id,
                      RecordAccess.actor_label).where(RecordAccess.id > first)
        )  # fmt: skip
        return [tuple(row) for row in rows]


def test_the_catalogue_says_which_reports_name_patients():
    named = {n for n, r in REPORTS.items() if any(c.patient_key for c in r.columns)}
    assert named == IDENTIFIED


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_a_report_page_logs_the_patients_it_shows(app, world, auditor, name):
    before = _last_id(app)
    page = auditor.get(f"/reports/{name}", query_string={"to": "2026-12-04"})
    assert page.status_code == 200
    shown = {rems_id for rems_id in world.rems_ids if rems_id in page.get_data(as_text=True)}
    reads = _reads_since(app, before)
    assert {r[2] for r in reads} == shown
    assert all(r[:2] == ("page", "patient") and r[3] == "reader1" for r in reads)
    if name in FILLED:
        assert shown  # the world fills these: something was shown, and logged
    if name not in IDENTIFIED:
        assert reads == []


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_an_export_logs_the_patients_it_names_unless_deidentified(app, world, auditor, name):
    for fmt in ("csv", "xlsx"):
        before = _last_id(app)
        args = {"format": fmt, "to": "2026-12-04"}
        body = auditor.get(f"/reports/{name}/export", query_string=args).get_data()
        reads = _reads_since(app, before)
        assert all(r[:2] == ("export", "patient") for r in reads)
        if fmt == "csv":
            text = body.decode("utf-8-sig")
            assert {r[2] for r in reads} == {p for p in world.rems_ids if p in text}
        assert bool(reads) == (name in FILLED), (name, fmt)
    before = _last_id(app)
    args = {"format": "csv", "to": "2026-12-04", "deidentified": "1"}
    auditor.get(f"/reports/{name}/export", query_string=args).get_data()
    assert _reads_since(app, before) == []


def test_the_audit_trail_csv_export_is_logged(app, world, auditor):
    before = _last_id(app)
    args = {"entity_type": "patient", "entity_id": str(world.bruno.id)}  # the trail's row id
    response = auditor.get("/audit/events.csv", query_string=args)
    assert response.status_code == 200 and "patient.enrolled" in response.get_data(as_text=True)
    reads = _reads_since(app, before)
    assert ("export", "patient", world.bruno.rems_id, "reader1") in reads
    (trail,) = [r for r in reads if r[1] == "audit_trail"]
    assert trail[2].startswith("audit trail CSV: entity_type=patient")


def test_the_cli_export_logs_the_patients_and_writes_its_metadata_beside_the_file(
    app, world, runner, tmp_path
):
    import hashlib
    import json

    before = _last_id(app)
    target = tmp_path / "enrollments.csv"
    result = runner.invoke(args=["rems", "export", "enrollments", "--to", "2026-12-04",
                                 "-o", str(target)])  # fmt: skip
    assert result.exit_code == 0, result.output
    about = json.loads((tmp_path / "enrollments.csv.json").read_text())
    assert about["sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert about["report"] == "enrollments" and about["rows"] == 3 and about["complete"]
    assert about["period"]["to"] == "2026-12-04" and about["generated_by"] == "cli:export"
    reads = _reads_since(app, before)
    assert {r[2] for r in reads} == set(world.rems_ids)
    assert {r[3] for r in reads} == {"cli:export"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "from": "2026-02-30"}, "from"),
        ({"format": "xlsx", "to": "not a day"}, "to"),
        ({"format": "csv", "from": "0999-01-01", "to": "0999-02-01"}, "from"),
    ],
)
def test_a_bad_export_request_is_a_400_naming_the_field(app, auditor, args, field):
    response = auditor.get("/reports/enrollments/export", query_string=args)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'href="#f-{field}"' in page and "attachment" not in response.headers.get(
        "Content-Disposition", ""
    )
