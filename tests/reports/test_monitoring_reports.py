"""Monitoring reports on hand-made data: two patients of one prescriber given course 1 on the
same days; 100 days on, with no result recorded, the monthly tests are overdue for both."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from rems.auth.models import Role
from rems.common.transactions import writing
from rems.extensions import db
from rems.patients.models import Patient
from rems.program.model import add_months
from tests.monitoring.helpers import more_treated_patients, treated_patient
from tests.reports.test_catalogue import cells, show


@pytest.fixture
def treated(app, factory, clock):
    first = treated_patient(app, factory, clock)
    more_treated_patients(app, first.world, clock, 1)
    return first


def _overdue_tests(app, first_dose, today) -> set[str]:
    """Tests whose first item (due every N months from the first dose) is past its grace."""
    program = app.extensions["rems_program"]
    return {
        t.code
        for t in program.monitored_tests()
        if add_months(first_dose, t.monitoring.every_months)
        + timedelta(days=t.monitoring.grace_days)
        < today
    }


def test_states_overdue_list_and_compliance(app, factory, clock, treated):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    tests = {t.code for t in app.extensions["rems_program"].monitored_tests()}
    rows = cells(show(auditor, "monitoring")[1])
    assert len(rows) == 2 * len(tests)
    assert {r[3] for r in rows} <= {"upcoming", "due"}
    assert cells(show(auditor, "monitoring-overdue")[1]) == []
    clock.advance(days=100)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))  # sessions end on the moved clock
    overdue = cells(show(auditor, "monitoring-overdue")[1])
    monthly = _overdue_tests(app, treated.first_dose, clock.now().date())
    assert "cbc" in monthly and "skin_exam" not in monthly
    assert sorted({r[5] for r in overdue}) == sorted(monthly) and len(overdue) == 2 * len(monthly)
    states = cells(show(auditor, "monitoring", status="overdue")[1])
    assert len(states) == len(overdue)
    compliance = {r[2]: r[3:6] for r in cells(show(auditor, "monitoring-compliance")[1])}
    for code in tests:
        assert compliance[code] == (["2", "2", "0.0"] if code in monthly else ["2", "0", "100.0"])


def test_the_monitoring_export_is_deidentified_too(app, factory, clock, treated):
    clock.advance(days=100)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    text = (
        auditor.get("/reports/monitoring-overdue/export", query_string={"deidentified": "1"})
        .get_data()
        .decode("utf-8-sig")
    )
    assert treated.world.patient.rems_id not in text and "Last name" not in text
    header, *rows = text.splitlines()
    assert header.startswith("REMS patient ID,") and rows  # header first, then the rows
    assert "CBC with differential" in text and ",cbc," not in text


def _items_due(app, first_dose, date_from, today):
    """Per test: (items due from `date_from` to `today`, of them past their grace on `today`),
    counted by hand from the program file's intervals."""
    program = app.extensions["rems_program"]
    counts = {}
    for test in program.monitored_tests():
        dues = []
        k = 1
        while (due := add_months(first_dose, k * test.monitoring.every_months)) <= today:
            dues.append(due)
            k += 1
        dues = [d for d in dues if d >= date_from]
        late = [d for d in dues if d + timedelta(days=test.monitoring.grace_days) < today]
        counts[test.code] = (len(dues), len(late))
    return counts


def test_the_assessment_shows_monitoring_compliance_of_the_items_due_in_its_period(
    app, factory, clock, treated
):
    clock.advance(days=100)
    today = clock.now().date()
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    period = {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}
    page = auditor.get("/reports/assessment", query_string=period).get_data(as_text=True)
    import re

    plain = " ".join(re.sub(r"<[^>]+>", " ", page.replace("<", " <")).split())
    assert "Items due in the period, as recorded by its end" in plain
    counts = _items_due(app, treated.first_dose, today - timedelta(days=364), today)
    due, late = counts["cbc"]
    assert due >= 3 and late >= 2
    # two patients, no result: nothing met, every item past its grace overdue
    assert f"CBC with differential {2 * due} 0 0 {2 * late} {2 * (due - late)} 0.0%" in plain
    assert " cbc " not in f" {plain} "  # the program file's name, never the code


def test_overdue_list_most_overdue_first_then_in_enrollment_order(app, factory, clock):
    start = clock.now()
    first = treated_patient(app, factory, clock)
    clock.current = start  # the second patient's course on the same days: overdue on the same
    more_treated_patients(app, first.world, clock, 1)
    with app.app_context(), writing():  # the later patient's REMS ID sorts first
        ids = db.session.scalars(sa.select(Patient.id).order_by(Patient.id)).all()
        db.session.get(Patient, ids[-1]).rems_id = "P-0000000000"
        db.session.commit()
        enrolled = [db.session.get(Patient, i).rems_id for i in ids]
    clock.advance(days=100)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    rows = cells(show(auditor, "monitoring-overdue")[1])
    assert len({r[7] for r in rows}) > 1  # more than one overdue day
    expected = sorted(rows, key=lambda r: (-int(r[8]), enrolled.index(r[0]), r[5]))
    assert rows == expected
    days = [list(dict.fromkeys(r[0] for r in rows if r[7] == day)) for day in {r[7] for r in rows}]
    assert enrolled in days  # a day of both patients: in enrollment order, not by REMS ID
    assert "patients of the same day in enrollment order" in show(auditor, "monitoring-overdue")[1]
