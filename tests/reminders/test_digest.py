"""The digest's counts are the items the per-item path finds, and a patient far behind takes a
few lines: patients treated at different times, each state represented."""

from __future__ import annotations

from datetime import date

from rems.common.localtime import program_today
from rems.extensions import db
from rems.monitoring import rules
from rems.reminders.digest import count_items
from rems.reminders.services import Reminder, candidates, digest_text
from tests.authorizations.helpers import gate
from tests.patients.helpers import enroll_patient
from tests.reminders.test_send_reminders import treated


def test_the_counts_are_the_items_found_one_by_one(app, factory):
    world = gate(app, factory, with_course=False)
    starts = [date(2024, 3, 5), date(2025, 6, 30), date(2026, 10, 1), date(2026, 10, 28),
              date(2026, 11, 5)]  # fmt: skip
    patients = [world.patient] + [enroll_patient(app, world.prescriber) for _ in starts[1:]]
    for patient, first in zip(patients, starts, strict=True):
        treated(app, world, patient, first)
    with app.app_context():
        today = program_today()
        ((prescriber_id, found),) = list(candidates(db.session, today))
        counts = count_items(db.session, today, prescriber_id)
    expected: dict[str, list[int]] = {}
    states = [rules.ItemState.OVERDUE, rules.ItemState.DUE, rules.ItemState.DUE_SOON]
    for r in found:
        expected.setdefault(r.item.test_code, [0, 0, 0])[states.index(r.item.state)] += 1
    assert counts.by_test == expected
    assert counts.items == len(found) > 100  # the 2024 patient is far behind
    assert counts.patients == len({r.patient_id for r in found}) == 4  # not the 11-05 one
    assert counts.overdue_patients == len({r.patient_id for r in found if r.overdue})


def test_a_test_with_many_items_in_one_state_takes_one_line(app):
    def item(k: int, due: date, state=rules.ItemState.OVERDUE) -> Reminder:
        one = rules.Item("cbc", k, due, due, due, state=state)
        return Reminder(1, "PA1", "Ann Lee", one)

    many = [item(k, date(2025, k, 3)) for k in range(1, 6)] + [
        item(6, date(2026, 12, 3), rules.ItemState.DUE_SOON)
    ]
    with app.app_context():
        text = digest_text(many, date(2026, 11, 30))
    assert (
        "  - overdue: CBC with differential: 5 items, #1 (due 2025-01-03) to #5 (due 2025-05-03)"
        in text
    )
    assert "#2 (due" not in text
    assert "  - due this week: CBC with differential #6 (due 2026-12-03)" in text
