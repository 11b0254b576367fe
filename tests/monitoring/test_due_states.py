"""Due means due: an item is upcoming, due soon from its due date − the program's due_soon_days
(turning at midnight in New York), due from its due date to the end of its grace, then
overdue. The worklist filters by those states, the digest is the worklist's week grouped by
patient, and the dashboard counts the same patients."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from rems.auth.models import User
from rems.common.localtime import program_today
from rems.extensions import db
from rems.monitoring.worklist import patients_count, worklist_counts, worklist_page
from rems.reminders.services import candidates, digest_by_patient, digest_text
from tests.authorizations.helpers import gate
from tests.factories import csrf_token
from tests.patients.helpers import enroll_patient
from tests.reminders.test_send_reminders import treated

NEW_YORK = "America/New_York"


def _ny(day: date, hour: int, minute: int = 30) -> datetime:
    """That wall-clock time in New York, as UTC."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(NEW_YORK))
    return local.astimezone(UTC)


def _shown(client, show: str) -> int:
    page = client.get(f"/worklist?show={show}").get_data(as_text=True)
    return int(re.search(r"<strong>(\d+)</strong> patient\(s\)", page).group(1))


def test_each_state_turns_at_midnight_in_new_york(app, factory, clock):
    """First dose 2026-11-09: the first CBC is due 2026-12-09, due soon from 2026-11-25
    (14 days before), due until 2026-12-16 (7 days' grace), overdue from 2026-12-17."""
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 11, 9))
    steps = [  # (New York day, hour, patients due soon-or-worse, due-or-worse, overdue)
        (date(2026, 11, 24), 23, 0, 0, 0),  # already the 25th in UTC: not yet due soon
        (date(2026, 11, 25), 0, 1, 0, 0),
        (date(2026, 12, 8), 23, 1, 0, 0),
        (date(2026, 12, 9), 0, 1, 1, 0),
        (date(2026, 12, 16), 23, 1, 1, 0),
        (date(2026, 12, 17), 0, 1, 1, 1),
    ]
    for day, hour, soon, due, overdue in steps:
        clock.current = _ny(day, hour)
        client = factory.signed_in(world.prescriber.user)  # a session does not last weeks
        assert (_shown(client, "14"), _shown(client, "due"), _shown(client, "overdue")) == (
            soon, due, overdue), day  # fmt: skip
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'show=overdue">1</a>', dashboard)


def test_a_result_in_the_window_before_due_soon_still_counts(app, factory, clock):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 11, 9))  # CBC #1 window opens 2026-11-10
    client = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/results/new"
    fields = {"test": "cbc", "collected_on": "2026-11-20", "value": "", "unit": ""}
    posted = client.post(path, data={"csrf_token": csrf_token(client, path), **fields})
    assert posted.status_code == 302
    clock.current = _ny(date(2026, 12, 20), 9)  # CBC #1 would be overdue without it
    client = factory.signed_in(world.prescriber.user)
    page = client.get("/worklist?show=overdue&test=cbc").get_data(as_text=True)
    assert world.patient.rems_id not in page


def test_the_digest_tells_the_worklist_s_patients_and_numbers(app, factory, clock):
    """2026-11-24: A's first items are overdue and the second due 12-01 (this week); B's first
    are due 11-28 (this week); C's fall due 12-05 (within 14 days, not this week)."""
    world = gate(app, factory, with_course=False)
    a = world.patient
    b, c = enroll_patient(app, world.prescriber), enroll_patient(app, world.prescriber)
    treated(app, world, a, date(2026, 10, 1))
    treated(app, world, b, date(2026, 10, 28))
    treated(app, world, c, date(2026, 11, 5))
    with app.app_context():
        today = program_today()
        user = db.session.get(User, world.prescriber.user.id)
        ((_, found),) = list(candidates(db.session, today))
        grouped = digest_by_patient(found)
        assert [g[0].rems_id for g in grouped] == [a.rems_id, b.rems_id]  # overdue first
        week = worklist_page(db.session, user, today, which="7", page=1, per_page=50)
        assert {row.patient.rems_id for row in week.rows} == {a.rems_id, b.rems_id}
        assert len(grouped) == week.total == patients_count(db.session, user, today, "7")
        with_overdue = sum(1 for g in grouped if g[1])
        assert with_overdue == patients_count(db.session, user, today, "overdue") == 1
        rows = {row.patient.rems_id: row for row in week.rows}
        for first, overdue, _ in grouped:  # the same items, test by test
            for t in rows[first.rems_id].tests:
                assert t.overdue == sum(1 for r in overdue if r.item.test_code == t.code)
        assert worklist_counts(db.session, user, today) == {
            "overdue": 1, "due": 0, "due_soon": 2, "total": 3}  # fmt: skip
        text = digest_text(found, today)
        assert f"{a.name} ({a.rems_id}) — /patients/{a.rems_id}" in text
        assert f"({b.rems_id})" in text and c.rems_id not in text
