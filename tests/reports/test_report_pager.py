"""A report's pager counts its rows up to REMS_REPORT_COUNT_CAP: under the cap the reader sees
the exact count and every page, over it "more than" the cap and the pages up to it; the export
keeps every row either way."""

from __future__ import annotations

import csv
import io

from tests.reports.test_catalogue import cells, show

# The hand-made world of `world.py` has six certification transitions in the default period.
ROWS = 6


def summary(page: str) -> str:
    """The pager's sentence, its whitespace collapsed."""
    text = page.split('<p class="pager-summary">', 1)[1].split("</p>", 1)[0]
    return " ".join(text.replace('<span class="pager-page">', "").replace("</span>", "").split())


def test_under_the_cap_the_page_counts_every_row(app, world, auditor):
    app.config.update(REMS_PAGE_SIZE=2, REMS_REPORT_COUNT_CAP=ROWS)
    status, page = show(auditor, "certification-history")
    assert status == 200 and len(cells(page)) == 2
    assert summary(page) == f"Showing 1–2 of {ROWS} (page 1 of 3)"
    assert "Narrow the filters" not in page
    last = show(auditor, "certification-history", page=3)[1]
    assert summary(last) == f"Showing 5–6 of {ROWS} (page 3 of 3)"
    assert 'rel="next"' not in last


def test_over_the_cap_the_page_says_more_than_and_offers_pages_up_to_it(app, world, auditor):
    app.config.update(REMS_PAGE_SIZE=2, REMS_REPORT_COUNT_CAP=3)
    page = show(auditor, "certification-history")[1]
    assert summary(page) == (
        "Showing 1–2 of more than 3 rows. Narrow the filters, or export the report for every row."
    )
    assert 'rel="next"' in page and "page 1 of" not in page
    second = show(auditor, "certification-history", page=2)[1]
    assert summary(second).startswith("Showing 3–4 of more than 3 rows.")
    assert len(cells(second)) == 2 and 'rel="next"' not in second and 'rel="prev"' in second
    beyond = show(auditor, "certification-history", page=3)[1]  # past the cap's pages: the last
    assert summary(beyond).startswith("Showing 3–4 of more than 3 rows.")
    assert cells(beyond) == cells(second)


def test_the_rows_of_capped_pages_are_those_of_the_whole_report_in_order(app, world, auditor):
    app.config.update(REMS_PAGE_SIZE=2)
    whole = [row for number in (1, 2, 3) for row in
             cells(show(auditor, "certification-history", page=number)[1])]  # fmt: skip
    app.config.update(REMS_REPORT_COUNT_CAP=3)
    capped = [row for number in (1, 2) for row in
              cells(show(auditor, "certification-history", page=number)[1])]  # fmt: skip
    assert len(whole) == ROWS and capped == whole[:4]


def test_a_capped_page_still_exports_every_row(app, world, auditor):
    app.config.update(REMS_PAGE_SIZE=2, REMS_REPORT_COUNT_CAP=3)
    assert "of more than 3 rows" in show(auditor, "certification-history")[1]
    text = auditor.get("/reports/certification-history/export?format=csv").get_data()
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert len(rows) == 1 + ROWS


def test_a_short_summary_is_counted_from_its_one_page(app, world, auditor):
    app.config.update(REMS_REPORT_COUNT_CAP=1)  # a count would say "more than 1"
    page = show(auditor, "adverse-events")[1]
    assert len(cells(page)) == 2 and summary(page) == "Showing 1–2 of 2"


def test_the_capped_count_agrees_with_the_full_count_for_every_report(app, world):
    from werkzeug.datastructures import MultiDict

    from rems.common.clock import today
    from rems.extensions import db
    from rems.reports.catalogue import REPORTS
    from rems.reports.filters import parse_filters
    from rems.reports.framework import capped_count_of, count_of, ordered
    from rems.reports.queries import dialect_of

    with app.test_request_context("/"):
        seen = {}
        for name, report in REPORTS.items():
            filters = parse_filters(db.session, report, MultiDict(), today=today(), max_days=3660)
            statement = ordered(report, filters, dialect_of(db.session))
            exact = db.session.scalar(count_of(statement))
            assert db.session.scalar(capped_count_of(statement, 10**6)) == exact, name
            assert db.session.scalar(capped_count_of(statement, 1)) == min(exact, 2), name
            seen[name] = exact
        assert sum(1 for n in seen.values() if n > 1) >= 5  # grouped and listed reports both


def test_a_report_counted_from_its_own_table_counts_its_rows_under_every_filter(app, world):
    """`Report.counted` (the pager's cheaper count) gives the report's own number of rows, for
    every status and for the pharmacy, prescriber and state the world's rows carry."""
    from werkzeug.datastructures import MultiDict

    from rems.common.clock import today
    from rems.extensions import db
    from rems.reports.catalogue import REPORTS
    from rems.reports.filters import parse_filters
    from rems.reports.framework import count_of
    from rems.reports.queries import dialect_of

    counted = {name: report for name, report in REPORTS.items() if report.counted is not None}
    assert set(counted) >= {"enrollments", "gate-decision-list", "authorizations"}
    with app.test_request_context("/"):
        dialect = dialect_of(db.session)
        for name, report in counted.items():
            rows = list(db.session.execute(report.query(
                parse_filters(db.session, report, MultiDict(), today=today(), max_days=3660),
                dialect,
            )).mappings())  # fmt: skip
            assert rows, f"{name}: the world has no rows to count"
            asked = [{}] + [{"status": status} for status in report.statuses]
            for key, column in (("site", "pharmacy"), ("site", "planned_site"),
                                ("prescriber", "prescriber_npi"), ("state", "state")):  # fmt: skip
                if key in report.filters and column in rows[0]:
                    asked += [{key: value} for value in {row[column] for row in rows} if value]
            counts = []
            for args in asked:
                filters = parse_filters(
                    db.session, report, MultiDict(args), today=today(), max_days=3660
                )
                exact = db.session.scalar(count_of(report.query(filters, dialect)))
                assert db.session.scalar(count_of(report.counted(filters, dialect))) == exact, (
                    name, args,
                )  # fmt: skip
                counts.append(exact)
            assert counts[0] == len(rows) and min(counts) < len(rows), (name, counts)
