"""The aggregate reports read closed days from the daily summaries (`summarise-reports`) and
count today, and any day changed since, from the records: their figures are the records'."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rems.auth.models import Role
from rems.common.localtime import program_today
from rems.extensions import db
from rems.infusions.models import Infusion, InfusionDeviation
from rems.reports.catalogue import report_named
from rems.reports.filters import parse_filters
from rems.reports.queries import all_rows
from rems.reports.summary_models import GateDecisionDay, ReportSummaryDay, ReportSummaryStale
from tests.reports.test_catalogue import cells, show
from tests.reports.world import _post, build

DAILY = ("gate-decisions", "gate-denials", "infusions")
PERIOD = {"from": "2026-11-01", "to": "2026-12-31"}


@pytest.fixture
def world(app, factory, client, clock):
    """The hand-made program, plus a denial five days after its doses and one today: decisions
    on three days, today among them."""
    made = build(app, factory, client, clock)
    today = clock.now()
    wrong = made.gate.request(date_of_birth="1984-03-01")
    clock.current = datetime.combine(made.start + timedelta(days=5), datetime.min.time(), UTC)
    clock.current += timedelta(hours=15)
    _post(client, made.gate.pharmacy_token, "/api/v1/authorizations", wrong)
    clock.current = today
    _post(client, made.gate.pharmacy_token, "/api/v1/authorizations", wrong)
    return made


def figures(app, name: str, args=PERIOD) -> list[tuple]:
    """The report's rows (without the snapshot's time), as its page and exports read them."""
    with app.app_context():
        rows = figures_in_session(name, args)
        db.session.rollback()
    return rows


def direct(app, name: str, args=PERIOD) -> list[tuple]:
    """The report counted from the records alone: every summary set aside (rolled back)."""
    with app.app_context():
        db.session.execute(sa.delete(ReportSummaryDay))
        rows = figures_in_session(name, args)
        db.session.rollback()
    return rows


def figures_in_session(name: str, args) -> list[tuple]:
    report = report_named(name)
    filters = parse_filters(db.session, report, args, today=program_today(), max_days=3660)
    rows = [tuple(v for k, v in row.items() if k != "as_of")
            for row in all_rows(db.session, report, filters)]  # fmt: skip
    return sorted(rows, key=repr)


def summarise(app) -> str:
    result = app.test_cli_runner().invoke(args=["rems", "summarise-reports"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_summarised_reports_equal_the_records_on_closed_days_and_today(app, world, clock):
    before = {name: direct(app, name) for name in DAILY}
    by_day = {row[0]: row[3] for row in before["gate-decisions"]}
    assert sorted(by_day.values()) == [1, 1, 3] and program_today_of(app).isoformat() in by_day
    output = summarise(app)
    assert "gate-decisions: summarised" in output and "monitoring-compliance: snapshot" in output
    with app.app_context():
        marked = db.session.scalar(sa.select(sa.func.count()).select_from(ReportSummaryDay))
    assert marked > 3
    for name in DAILY:
        assert figures(app, name) == before[name], name
        assert figures(app, name, PERIOD | {"site": world.gate.pharmacy_code}) == direct(
            app, name, PERIOD | {"site": world.gate.pharmacy_code}
        )
    assert "summarised 0 day(s)" in summarise(app)  # nothing left to do: idempotent
    assert {name: figures(app, name) for name in DAILY} == before


def test_the_page_reads_the_summary_for_closed_days(app, world, factory):
    summarise(app)
    with app.app_context():
        db.session.execute(
            sa.update(GateDecisionDay).values(requests=GateDecisionDay.requests + 100)
        )
        db.session.commit()
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    rows = cells(show(auditor, "gate-decisions", **PERIOD)[1])
    today = program_today_of(app).isoformat()
    assert sorted(int(r[3]) for r in rows if r[0] != today) == [101, 103]
    assert [int(r[3]) for r in rows if r[0] == today] == [1]  # today: from the decisions


def test_a_record_landing_in_a_closed_day_is_counted_at_once_and_summarised_again(app, world):
    summarise(app)
    with app.app_context():
        first = db.session.scalar(sa.select(Infusion).order_by(Infusion.administered_on))
        day = first.administered_on
        db.session.add(InfusionDeviation(
            infusion_id=first.id, code="late_entry", severity="minor", party="site", facts={},
        ))  # fmt: skip
        db.session.commit()
        stale = db.session.scalars(sa.select(ReportSummaryStale.day)).all()
    assert stale == [day]
    rows = figures(app, "infusions")
    assert rows == direct(app, "infusions")
    assert [row[3] for row in rows] == [1]  # one dose of three now free of deviations
    assert "infusions: summarised 1 day(s)" in summarise(app)
    assert figures(app, "infusions") == rows
    with app.app_context():
        assert db.session.scalars(sa.select(ReportSummaryStale)).all() == []


@pytest.mark.parametrize("name", ["monitoring-compliance", "acknowledgments"])
def test_a_state_report_is_the_daily_snapshot_as_of_its_time(app, world, clock, factory, name):
    prescriber = {"prescriber": world.gate.prescriber.npi}
    live = figures(app, name, {}), figures(app, name, prescriber)
    summarise(app)
    taken = clock.now()
    assert (figures(app, name, {}), figures(app, name, prescriber)) == live
    clock.advance(hours=5)
    with app.app_context():
        report = report_named(name)
        filters = parse_filters(db.session, report, {}, today=program_today(), max_days=3660)
        as_of = {row["as_of"] for row in all_rows(db.session, report, filters)}
    assert as_of == {taken}
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    page = show(auditor, name)[1]
    assert "As of" in page and "daily snapshot" in page


def program_today_of(app):
    with app.app_context():
        return program_today()
