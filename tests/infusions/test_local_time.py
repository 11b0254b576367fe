"""An infusion is a fact of the site that gave it: its date may not be after today *at the site*
(in the site's time zone), on the page and over the API, and the times typed on the page are
read in the site's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from rems.courses.models import Course
from rems.extensions import db
from rems.infusions.models import Infusion
from rems.sites.models import Site
from tests.authorizations.helpers import gate, infusion
from tests.infusions.test_pages import field_errors, post_record, record_values, staff_of

SITE = "Gate Infusion Center"


@pytest.fixture
def world(app, factory, client):
    """The gate, and a 5-dose authorization granted on 2026-11-24 (09:00 UTC) for the site."""
    world = gate(app, factory)
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    granted = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert granted.status_code == 201
    return world, granted.get_json()["authorization_number"]


def _site_in(app, site_code: str, zone: str) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(Site).where(Site.site_code == site_code).values(time_zone=zone)
        )
        db.session.commit()


def _infuse(client, world, number: str, record: dict):
    return client.post(
        f"/api/v1/authorizations/{number}/infusions",
        json=record,
        headers={"Authorization": f"Bearer {world.nurse_token}"},
    )


def _doses_given(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Course.doses_given))


def test_an_infusion_dated_tomorrow_is_refused_on_the_page(app, factory, world):
    """The reported bug: tomorrow's date became dose 1 (later dose 3). Refused, on its field."""
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    tomorrow = "2026-11-25"
    values = record_values(
        administered_on=tomorrow,
        infusion_started_at=f"{tomorrow}T08:00",
        infusion_ended_at=f"{tomorrow}T09:00",
        observation_ended_at=f"{tomorrow}T11:00",
    )
    response = post_record(nurse, number, values)
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "administered_on")
    assert f"Infusion date: cannot be after today (2026-11-24 at {SITE})." in errors
    assert _doses_given(app) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Infusion)) == 0


def test_an_infusion_dated_tomorrow_is_refused_by_the_api(app, client, factory, world):
    gate_, number = world
    response = _infuse(client, gate_, number, infusion(date(2026, 11, 25)))
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details["administered_on"] == [
        f"Infusion date: cannot be after today (2026-11-24 at {SITE})."
    ]
    assert "Infusion start: cannot be after today" in details["infusion_started_at"][0]
    assert _doses_given(app) == 0


def test_at_2330_in_new_york_tomorrow_is_refused_and_today_accepted(
    app, client, factory, world, clock
):
    """2026-11-25 04:30 UTC is 2026-11-24 23:30 in New York: UTC's date is already the 25th."""
    gate_, number = world
    _site_in(app, gate_.site_code, "America/New_York")
    clock.current = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)
    refused = _infuse(client, gate_, number, infusion(date(2026, 11, 25)))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"]["administered_on"] == [
        f"Infusion date: cannot be after today (2026-11-24 at {SITE})."
    ]
    accepted = _infuse(client, gate_, number, infusion(date(2026, 11, 24)))
    assert accepted.status_code == 201, accepted.get_json()
    assert _doses_given(app) == 1


def test_in_tokyo_the_local_date_is_accepted_while_utc_is_still_the_day_before(
    app, client, factory, world, clock
):
    """2026-11-24 23:30 UTC is 2026-11-25 08:30 in Tokyo: the 25th is today at the site."""
    gate_, number = world
    _site_in(app, gate_.site_code, "Asia/Tokyo")
    clock.current = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    times = {
        "infusion_started_at": "2026-11-25T04:00:00+09:00",
        "infusion_ended_at": "2026-11-25T05:00:00+09:00",
        "observation_ended_at": "2026-11-25T07:00:00+09:00",
    }
    accepted = _infuse(client, gate_, number, infusion(date(2026, 11, 25), **times))
    assert accepted.status_code == 201, accepted.get_json()
    later = {name: value.replace("-25T", "-26T") for name, value in times.items()}
    refused = _infuse(client, gate_, number, infusion(date(2026, 11, 26), **later))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"]["administered_on"] == [
        f"Infusion date: cannot be after today (2026-11-25 at {SITE})."
    ]


def test_typed_times_are_read_at_the_site_and_shown_back_in_its_zone(app, factory, world, clock):
    """At 23:30 in Chicago the nurse types the evening's times: read as Chicago time (stored in
    UTC, already the next day there), shown back as typed, with the zone's abbreviation."""
    gate_, number = world
    _site_in(app, gate_.site_code, "America/Chicago")
    clock.current = datetime(2026, 11, 25, 5, 30, tzinfo=UTC)  # 23:30 CST on the 24th
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    form = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    assert 'value="2026-11-24"' in form and "read in America/Chicago" in form
    values = record_values(
        infusion_started_at="2026-11-24T19:00",
        infusion_ended_at="2026-11-24T20:00",
        observation_ended_at="2026-11-24T22:00",
    )
    response = post_record(nurse, number, values)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "form")
    with app.app_context():
        stored = db.session.scalar(sa.select(Infusion))
        assert stored.infusion_started_at.replace(tzinfo=UTC) == datetime(
            2026, 11, 25, 1, 0, tzinfo=UTC
        )
    page = nurse.get(f"/authorizations/{number}").get_data(as_text=True)
    assert "19:00–20:00" in page and "2026-11-24 22:00 CST" in page
