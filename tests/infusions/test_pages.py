"""The infusion site's pages: the authorizations for the site, the infusion record (impossible
data on its fields, protocol deviations shown then recorded once confirmed, a late entry, the
course moving on, a serious reaction, a visit not infused), and who may use them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.auth.models import Role
from rems.compliance.models import NonComplianceCase
from rems.courses.models import Course
from rems.extensions import db
from rems.infusions.models import Infusion, InfusionDeviation, NotInfusedVisit
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from rems.sites.models import Site
from tests.authorizations.helpers import gate, site_with_staff
from tests.factories import csrf_token
from tests.patients.pages import count_rows

DAY = "2026-11-24"  # the frozen clock's today
#: 20:00 in New York on DAY: the day's infusion (13:00–19:00 there) is over when it is recorded.
EVENING = datetime(2026, 11, 25, 1, tzinfo=UTC)


@pytest.fixture
def world(app, factory, client, clock):
    """The gate, and an authorization of 5 doses granted to the pharmacy for the site; then the
    evening of the day comes at the site."""
    world = gate(app, factory)
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    granted = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert granted.status_code == 201
    clock.current = EVENING
    return world, granted.get_json()["authorization_number"]


def staff_of(app, factory, site_code: str):
    """A new staff account of the site with this code."""
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
    return factory.user(Role.SITE_STAFF, site_id=site_id)


def record_values(**changes) -> dict[str, str]:
    """A complete infusion record as the form posts it (boxes left out are unticked)."""
    values = {
        "administered_on": DAY,
        "identity_verified": "y",
        "no_active_infection": "y",
        "corticosteroid_premedication": "y",
        "antiviral_prophylaxis": "y",
        "infusion_started_at": f"{DAY}T13:00",
        "infusion_ended_at": f"{DAY}T17:00",
        "observation_ended_at": f"{DAY}T19:00",
        "reaction": "none",
        "notes": "",
    }
    return {k: v for k, v in (values | changes).items() if v is not None}


def field_errors(html: str, field_id: str) -> str:
    """The error list shown on one field ('' when it has none)."""
    match = re.search(rf'<ul class="field-errors" id="{field_id}-error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def post_record(client, number: str, values: dict):
    path = f"/infusions/{number}/record"
    return client.post(path, data={"csrf_token": csrf_token(client, path), **values})


def test_the_site_lists_its_authorizations_with_a_record_link(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    page = nurse.get("/infusions").get_data(as_text=True)
    assert number in page and f"/infusions/{number}/record" in page and "Gate Pharmacy" in page
    form = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    assert "dose 1 of 5" in form
    assert "Required for doses 1–3" in form and "Required on dose 1" in form
    assert "At least 120 minutes after the infusion ends" in form
    assert "read in America/New_York" in form


def test_the_form_shows_whom_to_identify_next_to_the_identity_check(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    form = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    with app.app_context():
        patient = db.session.get(Patient, gate_.patient.id)
        name, last, initials = patient.name, patient.last_name, patient.initials
        born = patient.date_of_birth.isoformat()
    check = form.index('name="identity_verified"')
    identity = form[form.index('id="patient-identity"') : check]
    assert initials in identity and born in identity and gate_.patient.rems_id in identity
    assert last not in form and name not in form  # initials and birth date, no more
    with app.app_context():
        reads = db.session.scalars(sa.select(RecordAccess.entity_id)).all()
    assert gate_.patient.rems_id in reads  # showing who the patient is is a read of the record


def test_deviations_are_shown_then_recorded_with_the_dose_once_confirmed(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    values = record_values(corticosteroid_premedication=None, observation_ended_at=f"{DAY}T18:30")
    shown = post_record(nurse, number, values)
    assert shown.status_code == 422
    html = shown.get_data(as_text=True)
    assert "Protocol deviations in this record" in html
    assert "No corticosteroid premedication" in html and "observed for 90 minutes" in html
    assert "I am recording what happened" in html
    assert "confirm that you are recording what happened" in field_errors(
        html, "deviations_acknowledged"
    )
    assert count_rows(app, Infusion) == 0
    confirmed = {**values, "deviations_acknowledged": "y", "deviation_reason": "Pharmacy late"}
    response = post_record(nurse, number, confirmed)
    assert response.status_code == 302
    page = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 protocol deviation(s) are recorded with the dose and flagged" in page
    assert "Deviation: premedication missing" in page and "Deviation: observation short" in page
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert course.doses_given == 1 and course.status == "in_progress"
        rows = db.session.scalars(sa.select(InfusionDeviation).order_by(InfusionDeviation.id))
        assert [(d.code, d.severity, d.acknowledged_reason) for d in rows] == [
            ("premedication_missing", "major", "Pharmacy late"),
            ("observation_short", "major", "Pharmacy late"),
        ]
        case = db.session.scalar(sa.select(NonComplianceCase))
        assert (case.party, case.state, case.severity) == ("site", "open", "major")


def test_impossible_times_are_refused_on_their_fields(app, factory, world, clock):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    clock.current = datetime(2026, 11, 24, 23, tzinfo=UTC)  # 18:00 in New York
    response = post_record(nurse, number, record_values())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "later than now" in field_errors(html, "observation_ended_at")
    assert field_errors(html, "infusion_ended_at") == ""
    ended_first = record_values(observation_ended_at=f"{DAY}T16:00")
    html = post_record(nurse, number, ended_first).get_data(as_text=True)
    assert "The observation ends after the infusion ends." in field_errors(
        html, "observation_ended_at"
    )
    assert count_rows(app, Infusion) == 0


def test_a_good_record_moves_the_course_to_in_progress(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    response = post_record(nurse, number, record_values())
    assert response.status_code == 302
    assert response.headers["Location"] == f"/authorizations/{number}"
    page = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dose 1 of course 1 is recorded. The course is now in progress." in page
    assert "1 of 5" in page and "badge-in_progress" in page and "badge-partially_used" in page
    assert "adverse event" not in page.lower()
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        infusion = db.session.scalar(sa.select(Infusion))
        assert course.status == "in_progress" and course.doses_given == 1
        # the typed 13:00 is read at the site (the program's zone: New York, EST) = 18:00 UTC
        assert infusion.infusion_started_at.hour == 18


def test_a_serious_reaction_creates_an_adverse_event(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    values = record_values(reaction="serious", notes="Anaphylaxis; infusion stopped early.")
    response = post_record(nurse, number, values)
    assert response.status_code == 302
    page = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "an adverse event is now on the patient&#39;s record" in page
    assert "Adverse event recorded" in page
    with app.app_context():
        event = db.session.scalar(sa.select(AdverseEvent))
        assert event.serious and event.description == "Anaphylaxis; infusion stopped early."


def test_pharmacy_staff_and_other_sites_cannot_record(app, factory, world):
    gate_, number = world
    pharmacy = factory.signed_in(staff_of(app, factory, gate_.pharmacy_code))
    for path in ("/infusions", f"/infusions/{number}/record"):
        response = pharmacy.get(path)
        assert response.status_code == 403
        assert "This page is for infusion sites" in response.get_data(as_text=True)
    code, _ = site_with_staff(
        app, factory, gate_.admin, dispenses=True, infuses=True, name="Other Center"
    )
    other = factory.signed_in(staff_of(app, factory, code))
    assert other.get(f"/infusions/{number}/record").status_code == 404
    token = csrf_token(other, "/infusions")
    posted = other.post(
        f"/infusions/{number}/record", data={"csrf_token": token, **record_values()}
    )
    assert posted.status_code == 404
    assert count_rows(app, Infusion) == 0


def test_a_dose_given_on_a_valid_day_is_entered_later(app, factory, world, clock):
    gate_, number = world
    clock.advance(days=8)  # 2026-12-02 in New York: the authorization ended on 2026-12-01
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    page = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    assert "A dose given while it was valid may still be entered" in page
    last_day = "2026-12-01"
    values = record_values(
        administered_on=last_day, infusion_started_at=f"{last_day}T13:00",
        infusion_ended_at=f"{last_day}T17:00", observation_ended_at=f"{last_day}T19:00",
    )  # fmt: skip
    response = post_record(nurse, number, values)
    assert response.status_code == 302
    detail = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dose 1 of course 1 is recorded." in detail and "Deviation:" not in detail
    with app.app_context():
        infusion = db.session.scalar(sa.select(Infusion))
        assert infusion.recorded_at.date().isoformat() == "2026-12-03"  # entered, UTC
        assert db.session.scalar(sa.select(Course)).doses_given == 1
    assert count_rows(app, InfusionDeviation) == 0


def test_a_dose_given_after_the_validity_is_recorded_as_a_deviation(app, factory, world, clock):
    gate_, number = world
    clock.advance(days=8)
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    day = "2026-12-02"
    values = record_values(
        administered_on=day, infusion_started_at=f"{day}T13:00",
        infusion_ended_at=f"{day}T17:00", observation_ended_at=f"{day}T19:00",
    )  # fmt: skip
    shown = post_record(nurse, number, values)
    assert shown.status_code == 422
    assert "Given outside the authorization&#39;s validity" in shown.get_data(as_text=True)
    assert count_rows(app, Infusion) == 0
    response = post_record(nurse, number, {**values, "deviations_acknowledged": "y"})
    assert response.status_code == 302
    with app.app_context():
        (row,) = db.session.scalars(sa.select(InfusionDeviation))
        assert row.code == "outside_validity" and row.facts["valid_until"] == "2026-12-01"
        assert db.session.scalar(sa.select(Course)).doses_given == 1


def test_a_visit_not_infused_is_on_record_and_counts_no_dose(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    path = f"/infusions/{number}/not-infused"
    assert "The visit ended without an infusion" in nurse.get(path).get_data(as_text=True)
    token = csrf_token(nurse, path)
    other = nurse.post(path, data={"csrf_token": token, "visit_on": DAY, "reason": "other"})
    assert other.status_code == 422
    assert "Say why" in field_errors(other.get_data(as_text=True), "notes")
    data = {"csrf_token": token, "visit_on": DAY, "reason": "active_infection", "notes": "Fever"}
    response = nurse.post(path, data=data)
    assert response.status_code == 302
    page = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "not infused (active infection): Fever" in page
    with app.app_context():
        assert db.session.scalar(sa.select(Course)).doses_given == 0
    assert count_rows(app, NotInfusedVisit) == 1
