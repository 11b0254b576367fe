"""Onboarding historic patients by import: monitoring done elsewhere until a date (the items
before it waived under one signed reason), the 12-month interval between courses (flagged, told
to the prescriber), duplicates named on the row that repeats, the whole batch or nothing."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Signature
from rems.courses.models import Course
from rems.extensions import db
from rems.monitoring import rules
from rems.monitoring.models import MonitoringWaiver
from rems.monitoring.queries import schedule_facts
from rems.notifications.models import Notification
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from rems.prior_treatment.store import BATCH_MEANING
from tests.factories import PASSWORD
from tests.patients.pages import count_rows
from tests.prior_treatment.test_import import born, confirm, two_patients, upload

HEADER = "patient_id,date_of_birth,course,given_on,source_document,monitoring_elsewhere_until"
UNTIL = date(2025, 6, 30)


def _rows(app, patient, course: int, days: list[str], until: str = "") -> list[str]:
    dob = born(app, patient)
    return [f"{patient.rems_id},{dob},{course},{day},Chart,{until}" for day in days]


def _file(*parts: list[str]) -> bytes:
    return "\n".join([HEADER, *(line for part in parts for line in part)]).encode()


def _problems(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<th scope="row" class="num">(\d+)</th><td><code>(\w+)</code></td>', html)


def _confirm_with_reason(browser, html: str, reason: str):
    payload = re.search(r'name="payload"[^>]*value="([^"]*)"', html).group(1)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    values = {"csrf_token": token, "payload": payload, "password": PASSWORD,
              "elsewhere_reason": reason}  # fmt: skip
    return browser.post("/admin/prior-treatment/confirm", data=values)


COURSE_1 = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]


def test_monitoring_done_elsewhere_waives_the_earlier_items_under_one_signed_reason(app, factory):
    world, second = two_patients(app, factory)
    admin = factory.signed_in(world.admin)
    data = _file(
        _rows(app, world.patient, 1, COURSE_1, until=UNTIL.isoformat()),
        _rows(app, second, 1, ["2025-10-01", "2025-10-02", "2025-10-03"]),
    )
    preview = upload(admin, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Why monitoring was done elsewhere" in html
    assert "2025-06-30" in html
    unsigned = confirm(admin, html)  # no reason given: nothing stored
    assert unsigned.status_code == 422
    assert "Give the reason monitoring was done elsewhere" in unsigned.get_data(as_text=True)
    assert count_rows(app, Course) == 0 and count_rows(app, MonitoringWaiver) == 0
    reason = "Monitored at St. Elsewhere MS centre; records transferred 2025-07."
    done = _confirm_with_reason(admin, html, reason)
    assert done.status_code == 302, done.get_data(as_text=True)
    with app.app_context():
        waivers = db.session.scalars(sa.select(MonitoringWaiver)).all()
        assert waivers and {w.patient_id for w in waivers} == {world.patient.id}
        assert all(w.due_on <= UNTIL and w.reason == reason for w in waivers)
        assert len({w.signature_id for w in waivers}) == 1
        (signature,) = db.session.scalars(
            sa.select(Signature).where(Signature.meaning == BATCH_MEANING)
        ).all()
        assert {w.signature_id for w in waivers} == {signature.id}
        patient = db.session.get(Patient, world.patient.id)
        items = rules.schedule(schedule_facts(db.session, patient), date(2026, 11, 24))
        before = [i for i in items if i.due_on <= UNTIL]
        after = [i for i in items if i.due_on > UNTIL]
        assert before and all(i.state == rules.ItemState.WAIVED for i in before)
        assert any(i.state == rules.ItemState.OVERDUE for i in after)  # still owed here
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "monitoring.waived_elsewhere")
        ).all()
        assert event.new_values["count"] == len(waivers) and event.reason == reason


def test_the_elsewhere_date_is_one_per_patient_and_not_in_the_future(app, factory):
    world, second = two_patients(app, factory)
    rows = _rows(app, world.patient, 1, COURSE_1[:2], until="2025-06-30")
    rows += _rows(app, world.patient, 1, COURSE_1[2:3], until="2025-07-31")
    rows += _rows(app, second, 1, ["2025-10-01"], until="2026-11-25")
    rows += _rows(app, second, 2, ["2026-11-01"], until="someday")
    response = upload(factory.signed_in(world.admin), _file(rows))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _problems(html) == [
        ("4", "monitoring_elsewhere_until"), ("5", "monitoring_elsewhere_until"),
        ("6", "monitoring_elsewhere_until"),
    ]  # fmt: skip
    assert "Row 2 gives 2025-06-30 for this patient: one date." in html
    assert "cannot be after today (2026-11-24 at" in html
    assert count_rows(app, Course) == 0


def test_a_course_within_twelve_months_is_stored_flagged_and_told(app, factory):
    world, _ = two_patients(app, factory)
    admin = factory.signed_in(world.admin)
    short = ["2025-02-10", "2025-02-11", "2025-02-12"]  # 11 months after 2024-03-08
    data = _file(_rows(app, world.patient, 1, COURSE_1), _rows(app, world.patient, 2, short))
    html = upload(admin, data).get_data(as_text=True)
    assert "Flagged" in html
    assert "Course 2 began on 2025-02-10, less than 12 months after" in html
    assert "from 2025-03-08" in html
    assert confirm(admin, html).status_code == 302
    assert count_rows(app, Course) == 2
    with app.app_context():
        flags = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "course.prior_interval_short")
        ).all()
        assert len(flags) == 1 and "Course 2 began on 2025-02-10" in flags[0].reason
        told = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "prior_treatment.interval_short")
        ).all()
    assert [n.recipient_id for n in told] == [world.prescriber.user.id]


def test_a_repeated_dose_is_named_on_the_row_that_repeats_and_nothing_is_stored(app, factory):
    world, second = two_patients(app, factory)
    rows = _rows(app, world.patient, 1, ["2024-03-04", "2024-03-05", "2024-03-05"])
    rows += _rows(app, second, 1, ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-04",
                                   "2025-10-05", "2025-10-06"])  # fmt: skip
    response = upload(factory.signed_in(world.admin), _file(rows))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _problems(html) == [("4", "given_on"), ("10", "given_on")]
    assert "Repeats row 3: the same patient, course and date" in html
    assert "Course 1 has 5 doses: 6 dates were given." in html
    assert count_rows(app, Course) == 0 and count_rows(app, PriorDose) == 0
