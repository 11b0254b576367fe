"""The program's day: report periods and "as of" dates are calendar days in the program's time
zone (New York), not UTC days. From 19:00 to midnight in New York, UTC's date is already the
next day; a patient enrolled then still belongs to the New York day, and an "as of" date means
the end of the day in New York."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from rems.auth.models import Role, User
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.transactions import writing
from rems.extensions import db
from rems.prescribers.models import Prescriber
from tests.patients.helpers import certified_prescriber, enroll_patient, publish_guides

NEW_YORK = ZoneInfo("America/New_York")


def _new_york(text: str) -> datetime:
    """A wall-clock time in New York, as the frozen clock's UTC moment."""
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).astimezone(UTC)


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def evening(app, factory, clock):
    """A certified prescriber; on 2026-12-04 at 19:10 New York (00:10 UTC on the 5th) a
    patient is enrolled."""
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish_guides(app, admin)
    clock.current = _new_york("2026-12-04T19:10")
    patient = enroll_patient(app, prescriber)
    return admin, prescriber, patient


@pytest.mark.parametrize("wall_clock", ["19:30", "23:59"])
def test_an_evening_enrollment_is_in_the_period_ending_that_new_york_day(
    evening, factory, clock, runner, tmp_path, wall_clock
):
    _, _, patient = evening
    clock.current = _new_york(f"2026-12-04T{wall_clock}")
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    ending_today = _text(auditor.get("/reports/enrollments", query_string={"to": "2026-12-04"}))
    assert patient.rems_id in ending_today
    assert patient.rems_id in _text(auditor.get("/reports/enrollments"))  # today: the 4th
    that_day = {"from": "2026-12-04", "to": "2026-12-04"}
    assert patient.rems_id in _text(auditor.get("/reports/enrollments", query_string=that_day))
    the_day_before = {"from": "2026-11-01", "to": "2026-12-03"}
    before = _text(auditor.get("/reports/enrollments", query_string=the_day_before))
    assert patient.rems_id not in before
    target = tmp_path / "enrollments.csv"
    result = runner.invoke(
        args=["rems", "export", "enrollments", "--to", "2026-12-04", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert patient.rems_id in target.read_text(encoding="utf-8-sig")
    result = runner.invoke(
        args=["rems", "export", "enrollments", "--to", "2026-12-03", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert patient.rems_id not in target.read_text(encoding="utf-8-sig")


def _suspend_at_seven_pm(app, clock, admin, prescriber) -> None:
    """The prescriber is suspended at 19:00 New York on 2026-12-05 (00:00 UTC on the 6th)."""
    clock.current = _new_york("2026-12-05T19:00")
    with app.app_context(), writing():
        apply_transition(
            db.session, db.session.get(Prescriber, prescriber.id), Transition.SUSPEND,
            actor=db.session.get(User, admin.id), today=clock.current.date(),
            reason="License under review",
        )  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize("wall_clock", ["2026-12-05T19:30", "2026-12-05T23:59", "2026-12-08T10:00"])
def test_an_evening_suspension_reads_suspended_as_of_that_day(
    app, evening, factory, clock, client, wall_clock
):
    admin, prescriber, _ = evening
    _suspend_at_seven_pm(app, clock, admin, prescriber)
    clock.current = _new_york(wall_clock)
    auditor = factory.user(Role.AUDITOR)
    token = factory.token(auditor)
    lookup = client.get(
        f"/api/v1/prescribers/{prescriber.npi}", query_string={"as_of": "2026-12-05"},
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()  # fmt: skip
    assert lookup["status"] == "suspended", lookup
    the_day_before = client.get(
        f"/api/v1/prescribers/{prescriber.npi}", query_string={"as_of": "2026-12-04"},
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()  # fmt: skip
    assert the_day_before["status"] == "certified"
    page = factory.signed_in(auditor).get(
        f"/admin/certification/prescribers/{prescriber.id}", query_string={"as_of": "2026-12-05"}
    )
    assert "was suspended" in _text(page)


def test_an_as_of_date_of_tomorrow_in_new_york_is_in_the_future(evening, factory, clock, client):
    _, prescriber, _ = evening
    clock.current = _new_york("2026-12-05T23:59")  # 04:59 UTC on the 6th
    token = factory.token(factory.user(Role.AUDITOR))
    answer = client.get(
        f"/api/v1/prescribers/{prescriber.npi}", query_string={"as_of": "2026-12-06"},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    error = answer.get_json()["error"]
    assert answer.status_code == 422 and "future" in error["message"]
    assert "as_of" in error["details"]


def test_times_carry_their_zone_and_utc_headings_hold_utc(evening, factory, clock):
    _, _, patient = evening
    clock.current = _new_york("2026-12-04T23:59")
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    page = _text(auditor.get("/reports/enrollments", query_string={"to": "2026-12-04"}))
    row = page.split(patient.rems_id, 1)[1]
    assert "2026-12-04 19:10 EST" in row  # the program's time, with its zone
    assert "Enrolled (UTC)" not in page and "Enrolled" in page
    exported = auditor.get("/reports/enrollments/export", query_string={"to": "2026-12-04"})
    body = exported.get_data(as_text=True)
    assert "Enrolled (UTC)" in body
    line = next(x for x in body.splitlines() if patient.rems_id in x)
    assert "2026-12-05T00:10:00+00:00" in line and "19:10" not in line  # UTC, as headed


def test_the_audit_trail_shows_utc_and_the_program_zone_and_filters_program_days(
    evening, factory, clock
):
    clock.current = _new_york("2026-12-04T23:59")
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    that_day = {"date_from": "2026-12-04", "date_to": "2026-12-04", "entity_type": "patient"}
    page = _text(auditor.get("/audit/events", query_string=that_day))
    assert "2026-12-05 00:10 UTC" in page and "2026-12-04 19:10 EST" in page
    next_day = that_day | {"date_from": "2026-12-05", "date_to": "2026-12-05"}
    assert "2026-12-05 00:10 UTC" not in _text(auditor.get("/audit/events", query_string=next_day))
    assert "America/New_York" in page  # the filter says whose days they are
