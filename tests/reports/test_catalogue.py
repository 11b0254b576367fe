"""Each report's figures on the hand-made program of `world.py`, counted by hand, on the
pages readers see; filters, sorting, paging and bad input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from rems.auth.models import Role


def cells(page: str) -> list[list[str]]:
    """The report table's body rows as lists of cell texts."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def show(client, name: str, **args) -> tuple[int, str]:
    response = client.get(f"/reports/{name}", query_string=args)
    return response.status_code, response.get_data(as_text=True)


def test_certifications_by_status_and_expiring_soon(app, world, auditor):
    status, page = show(auditor, "certifications")
    assert status == 200
    rows = cells(page)
    assert [r[0] for r in rows] == ["infusion site", "pharmacy", "prescriber"]
    assert all(r[4] == "certified" and r[5:] == ["2026-11-24", "2028-11-23"] for r in rows)
    assert len(cells(show(auditor, "certifications", party="prescriber")[1])) == 1
    assert cells(show(auditor, "certifications", status="suspended")[1]) == []
    assert cells(show(auditor, "certifications", within_days="30")[1]) == []
    _set_expiry(app, world.gate.pharmacy_code, days=20)
    expiring = cells(show(auditor, "certifications", within_days="30")[1])
    assert [r[2] for r in expiring] == ["Gate Pharmacy"]


def _set_expiry(app, site_code: str, days: int) -> None:
    """Move a site's last certified day (hand-made data)."""
    import sqlalchemy as sa

    from rems.common.clock import today
    from rems.common.transactions import writing
    from rems.extensions import db
    from rems.sites.models import Site

    with app.app_context(), writing():
        site = db.session.scalar(sa.select(Site).where(Site.site_code == site_code))
        site.expires_on = today() + timedelta(days=days)
        db.session.commit()


def test_certification_history_lists_each_transition(world, auditor):
    rows = cells(show(auditor, "certification-history", **{"from": "2026-11-01"})[1])
    assert len(rows) == 6
    assert (
        sorted((r[4], r[5]) for r in rows)
        == [("draft", "submitted")] * 3 + [("submitted", "certified")] * 3
    )
    certified = cells(show(auditor, "certification-history", status="certified")[1])
    assert {r[6] for r in certified} == {world.gate.admin.username}


def test_enrollments_by_status_with_ages(world, auditor):
    rows = cells(show(auditor, "enrollments", sort="last_name")[1])
    assert [(r[1], r[3], r[4], r[7]) for r in rows] == [
        ("Costa", "1931-02-03", "95", "enrolled"),
        ("Duarte", "1985-07-09", "41", "pending"),
        (rows[2][1], "1984-02-29", "42", "enrolled"),
    ]
    assert len(cells(show(auditor, "enrollments", status="enrolled")[1])) == 2
    assert cells(show(auditor, "enrollments", status="closed")[1]) == []


def test_guide_coverage_per_version(world, auditor):
    rows = cells(show(auditor, "acknowledgments")[1])
    assert sorted(r[:2] + r[3:7] for r in rows) == [
        ["Medication Guide", "2026-01", "2", "2", "2", "100.0"],
        ["Patient Guide", "2026-01", "2", "2", "2", "100.0"],
    ]
    assert {r[7] for r in rows} == {"2026-12-04 04:00 EST"}  # no snapshot yet: counted now


def test_gate_decisions_denials_and_authorizations(world, auditor):
    assert cells(show(auditor, "gate-decisions")[1]) == [
        ["2026-11-24", world.gate.pharmacy_code, "Gate Pharmacy", "3", "1", "2"]
    ]
    assert cells(show(auditor, "gate-denials", sort="code")[1]) == [
        ["COURSE_NOT_AUTHORIZED", "prescriber", "1"],
        ["PATIENT_NOT_FOUND", "site", "1"],
    ]
    decisions = cells(show(auditor, "gate-decision-list", sort="outcome")[1])
    assert [r[3] for r in decisions] == ["authorized", "denied", "denied"]
    assert decisions[0][4] == world.number
    assert len(cells(show(auditor, "gate-decision-list", status="denied")[1])) == 2
    links = re.findall(
        r'href="(/authorizations/decisions/D\w+)"', show(auditor, "gate-decision-list")[1]
    )
    assert len(links) == 3 and "The request as received" in auditor.get(links[0]).get_data(
        as_text=True
    )
    (row,) = cells(show(auditor, "authorizations")[1])
    assert row[0] == world.number and row[2] == world.gate.patient.rems_id
    assert row[7:9] == ["3", "3"]  # doses authorized, doses given
    assert cells(show(auditor, "authorizations", status="reversed")[1]) == []


def test_infusions_per_site_and_adverse_events(world, auditor):
    site = [world.gate.site_code, "Gate Infusion Center"]
    assert cells(show(auditor, "infusions")[1]) == [
        [*site, "3", "2", "66.7", "3", "100.0", "2", "66.7", "2", "1"]
    ]
    assert cells(show(auditor, "deviations")[1]) == [[*site, "observation_short", "major", "1"]]
    assert cells(show(auditor, "not-infused")[1]) == []
    assert cells(show(auditor, "noncompliance-cases")[1]) == [["site", "1", "0", "1", "0", "0"]]
    assert cells(show(auditor, "adverse-events", sort="category")[1]) == [
        ["infection", "not serious", "1", "0", "—", "—", "—"],
        ["infusion_reaction", "serious", "1", "1", "0", "0.0", "0"],
    ]


def test_sorting_paging_and_filters_keep_together(app, world, auditor):
    app.config["REMS_PAGE_SIZE"] = 2
    status, page = show(auditor, "certification-history", sort="to_status", dir="desc")
    assert status == 200 and len(cells(page)) == 2
    assert 'aria-sort="descending"' in page and "Showing 1–2 of 6" in page
    second = cells(show(auditor, "certification-history", sort="to_status", dir="desc", page=3)[1])
    assert [r[5] for r in second] == ["certified", "certified"]


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ({"from": "2026-12-01", "to": "2026-11-01"}, "from", "after its last day"),
        ({"from": "2000-01-01", "to": "2026-11-01"}, "to", "longer than the longest allowed"),
        ({"from": "yesterday"}, "from", "YYYY-MM-DD"),
        ({"status": "lost"}, "status", "Choose one of"),
        ({"prescriber": "123"}, "prescriber", "Not a valid NPI"),
        ({"prescriber": "1234567893"}, "prescriber", "No prescriber"),
        ({"sort": "password"}, "sort", "cannot be sorted"),
    ],
)
def test_bad_filters_are_field_errors_never_a_file(world, auditor, args, field, message):
    status, page = show(auditor, "certification-history", **args)
    assert status == 400 and message in page.replace("&#39;", "'") and f'href="#f-{field}"' in page
    export = auditor.get("/reports/certification-history/export", query_string=args)
    assert export.status_code == 400 and export.mimetype == "text/html"


def test_unknown_report_is_404_and_readers_only(factory, auditor):
    assert auditor.get("/reports/no-such-report").status_code == 404
    assert auditor.get("/reports/no-such-report/export").status_code == 404
    prescriber = factory.signed_in(factory.user(Role.DELEGATE))
    assert prescriber.get("/reports/enrollments").status_code == 403
