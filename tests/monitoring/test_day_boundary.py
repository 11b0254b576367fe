"""Day boundaries: program-wide rules (monitoring overdue, certification expiry) turn at midnight
in the program's time zone (America/New_York), not UTC; a result is a fact of the patient's
practice, so its date is checked against today at the practice."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from rems.certification.models import CertStatus
from rems.extensions import db
from rems.prescribers.models import Prescriber
from tests.authorizations.helpers import gate
from tests.reminders.test_send_reminders import treated

#: 2026-11-24 23:30 in New York, already 2026-11-25 in UTC.
NY_2330 = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)
#: 2026-11-25 00:30 in New York.
NY_0030 = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _overdue(client, token: str, rems_id: str) -> int:
    response = client.get(f"/api/v1/patients/{rems_id}", headers=_bearer(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["monitoring"]["items_overdue"]


def test_an_item_turns_overdue_at_midnight_in_the_program_s_zone(app, client, factory, clock):
    """First dose 2026-10-17: the first CBC is due 2026-11-17 and may come until 2026-11-24
    (7 days' grace). It is overdue from 2026-11-25 in New York, not from midnight UTC."""
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 10, 17))
    token = factory.token(world.admin)
    clock.current = NY_2330
    assert _overdue(client, token, world.patient.rems_id) == 0
    clock.current = NY_0030
    assert _overdue(client, token, world.patient.rems_id) >= 1


def test_certifications_expire_on_the_program_s_date(app, factory, runner, clock):
    """A certification whose last day is 2026-11-24 still holds at 23:30 that day in New York
    (UTC's date is the 25th); the daily job expires it once the 25th begins in New York."""
    world = gate(app, factory, with_course=False)
    with app.app_context():
        db.session.execute(
            sa.update(Prescriber)
            .where(Prescriber.id == world.prescriber.id)
            .values(expires_on=date(2026, 11, 24))
        )
        db.session.commit()

    def status() -> CertStatus:
        with app.app_context():
            return db.session.get(Prescriber, world.prescriber.id).status

    clock.current = NY_2330
    assert runner.invoke(args=["rems", "expire-certifications"]).exit_code == 0
    assert status() == CertStatus.CERTIFIED
    clock.current = NY_0030
    assert runner.invoke(args=["rems", "expire-certifications"]).exit_code == 0
    assert status() == CertStatus.EXPIRED


def _practice_in(app, prescriber_id: int, zone: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Prescriber).where(Prescriber.id == prescriber_id).values(time_zone=zone)
        )
        db.session.commit()


def _post_result(client, token: str, rems_id: str, collected_on: str):
    body = {"results": [{"test": "cbc", "collected_on": collected_on, "value": "5.1"}]}
    return client.post(f"/api/v1/patients/{rems_id}/results", json=body, headers=_bearer(token))


def test_a_result_may_carry_today_at_a_practice_ahead_of_utc(app, client, factory, clock):
    """2026-11-24 23:30 UTC is 2026-11-25 08:30 in Tokyo: a result collected that morning is
    accepted; one dated the 26th is not."""
    world = gate(app, factory, with_course=False)
    _practice_in(app, world.prescriber.id, "Asia/Tokyo")
    token = factory.token(world.prescriber.user)
    clock.current = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert _post_result(client, token, world.patient.rems_id, "2026-11-25").status_code == 201
    refused = _post_result(client, token, world.patient.rems_id, "2026-11-26")
    assert refused.status_code == 422
    with app.app_context():
        practice = db.session.get(Prescriber, world.prescriber.id).practice_name
    assert refused.get_json()["error"]["details"] == {
        "results.0.collected_on": [
            f"Collection date: cannot be after today (2026-11-25 at {practice})."
        ]
    }


def test_a_result_dated_tomorrow_at_a_practice_behind_utc_is_refused(app, client, factory, clock):
    """2026-11-25 04:30 UTC is 2026-11-24 20:30 in Los Angeles: the 25th is still tomorrow."""
    world = gate(app, factory, with_course=False)
    _practice_in(app, world.prescriber.id, "America/Los_Angeles")
    token = factory.token(world.prescriber.user)
    clock.current = NY_2330
    assert _post_result(client, token, world.patient.rems_id, "2026-11-25").status_code == 422
    assert _post_result(client, token, world.patient.rems_id, "2026-11-24").status_code == 201
