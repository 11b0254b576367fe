"""The infusion site's pages: the authorizations for the site, the infusion record (errors on
their fields, the course moving on, a serious reaction), and who may use them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.auth.models import Role
from rems.courses.models import Course
from rems.extensions import db
from rems.infusions.models import Infusion
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from rems.sites.models import Site
from tests.authorizations.helpers import gate, site_with_staff
from tests.factories import csrf_token
from tests.patients.pages import count_rows

DAY = "2026-11-24"  # the frozen clock's today


@pytest.fixture
def world(app, factory, client):
    """The gate, and an authorization of 5 doses granted to the pharmacy for the site."""
    world = gate(app, factory)
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    granted = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert granted.status_code == 201
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


def test_missing_premedication_on_dose_1_shows_on_its_field(app, factory, world):
    gate_, number = world
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    values = record_values(corticosteroid_premedication=None, observation_ended_at=f"{DAY}T18:30")
    response = post_record(nurse, number, values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dose 1 needs corticosteroid premedication" in field_errors(
        html, "corticosteroid_premedication"
    )
    assert "at least 120 minutes" in field_errors(html, "observation_ended_at")
    assert field_errors(html, "antiviral_prophylaxis") == ""
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


def test_an_expired_authorization_takes_no_dose(app, factory, world, clock):
    gate_, number = world
    clock.advance(days=8)
    nurse = factory.signed_in(staff_of(app, factory, gate_.site_code))
    page = nurse.get(f"/infusions/{number}/record").get_data(as_text=True)
    assert "No dose can be recorded under this authorization: it is expired" in page
    response = post_record(nurse, number, record_values(administered_on="2026-12-02"))
    assert response.status_code == 302
    assert "no dose may be recorded" in nurse.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert count_rows(app, Infusion) == 0
