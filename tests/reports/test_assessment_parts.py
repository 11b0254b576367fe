"""The assessment's parts on their own: the program file's `[assessment_reports]` table and its
timetable, the human labels every report uses, and the charts (whole-number axes, every month,
a legend swatch for every series, percentages on a 0–100 axis)."""

from __future__ import annotations

import base64
import re
from datetime import date
from pathlib import Path

import pytest

from rems.program.assessment_reports import METRICS as PROGRAM_METRICS
from rems.program.loader import ProgramFileError, load_program
from rems.reports import charts
from rems.reports.assessment_frame import METRICS, previous_period
from rems.reports.assessment_period import every_month, months_of
from rems.reports.labels import label, spelt_out

REAL = Path(__file__).resolve().parents[2] / "rems" / "program" / "lemtrada.toml"


def test_the_timetable_numbers_each_assessment_by_the_due_date_it_reports_to():
    reports = load_program(REAL).assessment_reports
    assert reports.approved_on == date(2025, 6, 1) and reports.timetable_months == (18, 36, 84)
    assert reports.number_of(date(2026, 12, 1)) == (1, date(2026, 12, 1))
    assert reports.number_of(date(2026, 12, 2)) == (2, date(2028, 6, 1))
    assert reports.number_of(date(2032, 6, 2)) == (None, None)
    assert len(reports.goals) == 4 and reports.goals[0].code == "informed_prescribing"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("approved_on = 2025-06-01", 'approved_on = "June"', "assessment_reports.approved_on: "),
        ("timetable_months = [18, 36, 84]", "timetable_months = [36, 18]",
         "assessment_reports.timetable_months: expected increasing"),
        ('metrics = ["monitoring_compliance", ', 'metrics = ["happiness", ',
         "assessment_reports.goals[3].metrics: unknown metric 'happiness'"),
    ],
)  # fmt: skip
def test_a_wrong_assessment_reports_table_is_refused_by_its_key(tmp_path, old, new, message):
    text = REAL.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "lemtrada.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ProgramFileError) as caught:
        load_program(path)
    assert message in str(caught.value)


def test_every_metric_a_goal_may_name_is_computed():
    assert set(PROGRAM_METRICS) == set(METRICS)


def test_periods_and_months():
    assert previous_period(date(2026, 11, 1), date(2026, 11, 30)) == (
        date(2026, 10, 2), date(2026, 10, 31)
    )  # fmt: skip
    assert months_of(date(2026, 11, 30), date(2027, 2, 1)) == [
        "2026-11", "2026-12", "2027-01", "2027-02"
    ]  # fmt: skip
    rows = every_month([{"month": "2026-12", "n": 3}], ["2026-11", "2026-12"], {"n": 0})
    assert rows == [{"month": "2026-11", "n": 0}, {"month": "2026-12", "n": 3}]


def test_labels_come_from_the_program_file_or_are_spelt_out(app):
    with app.app_context():
        assert label("test", "cbc") == "CBC with differential"
        assert label("test", "skin_exam") == "Skin exam (melanoma)"
        assert label("deviation", "observation_short").startswith("Observation shorter")
        assert label("status", "partially_used") == "Partially used"
        assert label("gate_reason", "GUIDE_NOT_ACKNOWLEDGED") == "Medication Guide not acknowledged"
        assert label("adverse_event", "serious_infection") == "Serious infection"
        assert label("test", None) == "—"
    assert spelt_out("tsh_overdue") == "TSH overdue"


def _svg(uri: str) -> str:
    return base64.b64decode(uri.split(",", 1)[1]).decode()


def _ticks(svg: str) -> list[str]:
    """The tick labels' texts (matplotlib groups each in an element id="xtick_N"/"ytick_N")."""
    return re.findall(r'<g id="[xy]tick_\d+">.*?<text[^>]*>([^<]*)</text>', svg, flags=re.S)


def test_the_decisions_chart_has_whole_ticks_every_month_and_both_swatches():
    months = [{"month": "2026-10", "authorized": 1, "denied": 0},
              {"month": "2026-11", "authorized": 0, "denied": 0},
              {"month": "2026-12", "authorized": 0, "denied": 0}]  # fmt: skip
    svg = _svg(charts.decisions_chart(months))
    ticks = _ticks(svg)
    assert {"2026-10", "2026-11", "2026-12"} <= set(ticks)
    numbers = [t for t in ticks if re.fullmatch(r"[\d.−-]+", t)]
    assert numbers and all("." not in t for t in numbers), numbers
    # the legend draws an outlined swatch for Denied even though no request was denied
    legend = svg[svg.index('id="legend_1"') :]
    swatch = re.search(r'style="fill: ([#\w]+); stroke: #222222[^"]*"/>\s*</g>\s*<g id="text_\d+">'
                       r"\s*<text[^>]*>Denied<", legend)  # fmt: skip
    assert swatch and swatch.group(1) == charts.DENIED.lower()


def test_a_percentage_axis_runs_to_100_and_counts_stay_whole():
    svg = _svg(charts.bars_chart(["CBC with differential"], [80.0], "Met (%)", percent=True))
    assert "100" in _ticks(svg)
    counts = _svg(charts.bars_chart(["Infection"], [1], "Events"))
    numbers = [t for t in _ticks(counts) if re.fullmatch(r"[\d.−-]+", t)]
    assert numbers and all("." not in t for t in numbers), numbers


def test_a_denial_followed_by_a_grant_counts_as_resolved_with_its_days(app, factory, clock):
    """A grant two days after a denial of the same patient resolves it in 2.0 days, under each
    reason it gave; a denial recorded as imported from paper, beside the gate's real grant."""
    from datetime import timedelta

    import sqlalchemy as sa

    from rems.authorizations.models import AuthorizationDecision as Decision
    from rems.common.clock import today
    from rems.extensions import db
    from rems.reports.assessment_period import denial_resolution
    from tests.authorizations.helpers import gate

    world = gate(app, factory)
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    reply = app.test_client().post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert reply.status_code == 201
    with app.app_context():
        grant = db.session.scalars(
            sa.select(Decision).where(Decision.outcome == "authorized")
        ).one()
        columns = {c.key: getattr(grant, c.key) for c in sa.inspect(Decision).column_attrs}
        columns.update(id=None, decision_id="D-DENIED-1", outcome="denied", idempotency_key=None,
                       decided_at=grant.decided_at - timedelta(days=2), authorization_id=None,
                       reasons=[{"code": "no_course"}, {"code": "no_course"},
                                {"code": "age"}])  # fmt: skip
        db.session.add(Decision(**columns))
        db.session.commit()
        day = today()
        rows = denial_resolution(db.session, day - timedelta(days=5), day)
        before = denial_resolution(db.session, day - timedelta(days=5), day - timedelta(days=1))
    # each of its reasons once, however often the denial names it
    assert rows == [{"code": code, "denials": 1, "resolved": 1, "median_days": 2.0}
                    for code in ("age", "no_course")]  # fmt: skip
    assert before == [{"code": code, "denials": 1, "resolved": 0, "median_days": None}
                      for code in ("age", "no_course")]  # fmt: skip


@pytest.mark.parametrize("values", [[3], [0, 5], [1, 1, 2, 9], [2, 2, 2, 7, 8], [4, 0, 0, 0, 1, 6]])
def test_the_median_of_counted_values_is_the_median_of_the_values(values):
    from collections import Counter
    from statistics import median

    from rems.reports.assessment_period import _median

    assert _median(sorted(Counter(values).items()), len(values)) == median(values)
