"""Bad dates at every entry point that takes an "as of" or a report period: malformed, or outside
the years 1900 to 9999, each is a 400 that names the field (pages, API) or a CLI error naming
the option; never a 500, and nothing written."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.extensions import db
from rems.reports.catalogue import REPORTS
from rems.sites.models import Site
from tests.authorizations.helpers import gate

BAD = ("0999-12-31", "1899-12-31", "10000-01-01", "2026-02-30", "2026-13-01", "yesterday",
       "2026-1-5", "")  # fmt: skip
#: Dates in 1900 to 9999 that a reader may give: never a 500 either (the far future is refused
#: as such for an "as of", and is too long or in order for a period).
EDGES = ("1900-01-01", "9999-12-31")


@pytest.fixture
def world(app, factory):
    return gate(app, factory)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _period_reports():
    return [r.name for r in REPORTS.values() if "period" in r.filters]


@pytest.mark.parametrize("field", ["from", "to"])
def test_report_pages_and_exports_refuse_a_bad_period_day_naming_it(app, world, factory, field):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    paths = [f"/reports/{name}" for name in _period_reports()]
    paths += [f"/reports/{name}/export" for name in _period_reports()]
    paths += ["/reports/assessment", "/reports/assessment/print", "/reports/assessment.pdf"]
    for path in paths:
        for value in BAD[:-1]:
            response = auditor.get(path, query_string={field: value})
            assert response.status_code == 400, (path, value, response.status_code)
            assert "YYYY-MM-DD" in _text(response) or "between 1900" in _text(response), path
            assert f'name="{field}"' in response.get_data(as_text=True), (path, value)
    with app.app_context():
        exported = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action.like("report.%"))
        )
    assert exported == 0
    for path in paths:
        for value in EDGES:
            response = auditor.get(path, query_string={field: value})
            response.get_data()  # a file is read to its end, as a browser would
            assert response.status_code in (200, 400), (path, value, response.status_code)


@pytest.mark.parametrize("option", ["--from", "--to"])
def test_cli_export_refuses_a_bad_period_day_naming_the_option(world, runner, tmp_path, option):
    target = tmp_path / "out.csv"
    for value in BAD[:-1]:
        result = runner.invoke(
            args=["rems", "export", "enrollments", option, value, "-o", str(target)]
        )
        assert result.exit_code != 0, (value, result.output)
        assert isinstance(result.exception, SystemExit), (value, result.exception)
        assert f"{option.strip('-')}:" in result.output, (value, result.output)
        assert not target.exists()
    for value in EDGES:  # refused or exported, never a crash
        result = runner.invoke(
            args=["rems", "export", "enrollments", option, value, "-o", str(target)]
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), value


def test_audit_trail_filters_refuse_a_bad_day_naming_it(world, factory):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    for path in ("/audit/events", "/audit/events.csv"):
        for field in ("date_from", "date_to"):
            for value in [*BAD[:-2], *EDGES]:  # 2026-1-5 reads as 2026-01-05 there
                response = auditor.get(path, query_string={field: value})
                response.get_data()
                assert response.status_code in (200, 400), (path, field, value)
                if value in BAD:
                    assert response.status_code == 400, (path, field, value)
                    page = response.get_data(as_text=True)
                    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page) or re.search(
                        rf'aria-invalid="true"[^>]*id="{field}"', page
                    ), (path, field, value)


def _as_of_paths(app, world) -> tuple[list[str], list[str]]:
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == world.site_code))
    pages = [
        f"/admin/certification/prescribers/{world.prescriber.id}",
        f"/admin/certification/sites/{site_id}",
        f"/patients/{world.patient.rems_id}",
    ]
    api = [
        f"/api/v1/prescribers/{world.prescriber.npi}",
        f"/api/v1/sites/{world.site_code}",
        f"/api/v1/patients/{world.patient.rems_id}",
    ]
    return pages, api


def test_as_of_pages_and_api_refuse_a_bad_date_naming_the_field(app, world, factory, client):
    pages, api = _as_of_paths(app, world)
    auditor = factory.user(Role.AUDITOR)
    browser = factory.signed_in(auditor)
    headers = {"Authorization": f"Bearer {factory.token(auditor)}"}
    for value in [*BAD[:-1], "1899-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00"]:
        for path in pages:
            response = browser.get(path, query_string={"as_of": value})
            assert response.status_code == 400, (path, value)
            assert 'aria-invalid="true"' in response.get_data(as_text=True), (path, value)
        for path in api:
            response = client.get(path, query_string={"as_of": value}, headers=headers)
            assert response.status_code == 400, (path, value)
            assert "as_of" in response.get_json()["error"]["details"], (path, value)
    for value in ("9999-12-31", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59+14:00"):
        for path in pages:
            assert browser.get(path, query_string={"as_of": value}).status_code == 400
        for path in api:
            response = client.get(path, query_string={"as_of": value}, headers=headers)
            assert response.status_code == 422, (path, value)
    for path in api:  # the first year allowed: nobody was on record yet
        response = client.get(path, query_string={"as_of": "1900-01-01"}, headers=headers)
        assert response.status_code == 404, path
