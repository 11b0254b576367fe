"""The pharmacy's pages: the request form, the decision (a grant's number; a denial's every
reason and who acts), the live list, reversal; the authorization page; who may use them."""

from __future__ import annotations

import re

import sqlalchemy as sa

from rems.auth.models import Role
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.common.clock import today
from rems.courses.models import Course
from rems.extensions import db
from rems.sites.models import Site
from tests.authorizations.helpers import gate, infusion, site_with_staff
from tests.factories import csrf_token
from tests.patients.helpers import add_delegate, publish_guides
from tests.patients.pages import count_rows


def staff_of(app, factory, site_code: str):
    """A new staff account of the site with this code."""
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
    return factory.user(Role.SITE_STAFF, site_id=site_id)


def ask(client, world, **changes):
    """Post the request form as the pharmacy's staff would fill it in."""
    token = csrf_token(client, "/authorizations/new")
    values = {
        "patient_id": world.patient.rems_id,
        "date_of_birth": world.date_of_birth,
        "prescriber_npi": world.prescriber.npi,
        "infusion_site_id": world.site_code,
        "doses": "",
        "csrf_token": token,
    }
    return client.post("/authorizations/new", data=values | changes)


def the_authorization(app) -> Authorization:
    """The only authorization, read fresh."""
    with app.app_context():
        authorization = db.session.scalar(sa.select(Authorization))
        db.session.expunge(authorization)
        return authorization


def test_a_grant_shows_the_authorization_number(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    form = pharmacy.get("/authorizations/new").get_data(as_text=True)
    assert f'value="{world.site_code}"' in form and "Gate Infusion Center" in form
    response = ask(pharmacy, world)
    assert response.status_code == 302
    assert re.fullmatch(r"/authorizations/decisions/D\w{11}", response.headers["Location"])
    page = pharmacy.get(response.headers["Location"]).get_data(as_text=True)
    granted = the_authorization(app)
    assert "Authorized: you may dispense" in page
    assert f"<code>{granted.number}</code>" in page
    assert "2026-12-01" in page and "2026-12-19" in page  # valid until; first dose by
    assert granted.doses == 5
    listed = pharmacy.get("/authorizations").get_data(as_text=True)
    assert granted.number in listed and "Reverse" in listed


def test_a_denial_lists_every_reason_and_who_acts(app, factory):
    world = gate(app, factory, with_course=False)
    publish_guides(
        app, world.admin, label="2026-11", effective_on=today_of(app), codes=("medication_guide",)
    )
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    response = ask(pharmacy, world, prescriber_npi="1234567893")
    page = pharmacy.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalar(sa.select(AuthorizationDecision))
        codes = [reason["code"] for reason in stored.reasons]
    assert codes == ["PRESCRIBER_NOT_CERTIFIED", "GUIDE_NOT_ACKNOWLEDGED", "COURSE_NOT_AUTHORIZED"]
    assert "Denied: do not dispense" in page and stored.decision_id in page
    for reason in stored.reasons:
        assert reason["message"].replace("'", "&#39;") in page and reason["code"] in page
    assert page.count("Who must act: <strong>The prescriber</strong>") == 3
    assert count_rows(app, Authorization) == 0

    response = ask(pharmacy, world, date_of_birth="1984-03-01")
    page = pharmacy.get(response.headers["Location"]).get_data(as_text=True)
    assert "No patient with this REMS ID and date of birth" in page
    assert "Who must act: <strong>The site: your pharmacy" in page


def today_of(app):
    """Today on the app's clock."""
    with app.app_context():
        return today()


def test_a_malformed_request_is_not_decided(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    response = ask(pharmacy, world, date_of_birth="", doses="0")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter the patient&#39;s date of birth" in html and "from 1 to 99" in html
    assert count_rows(app, AuthorizationDecision) == 0


def test_sending_the_same_form_twice_decides_once(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    first = ask(pharmacy, world, request_key="web:order-1")
    again = ask(pharmacy, world, request_key="web:order-1")
    assert again.headers["Location"] == first.headers["Location"]
    assert count_rows(app, AuthorizationDecision) == 1 and count_rows(app, Authorization) == 1
    assert "already sent" in pharmacy.get(again.headers["Location"]).get_data(as_text=True)


def test_staff_of_an_infusion_only_site_are_refused_the_pharmacy_pages(app, factory):
    world = gate(app, factory)
    nurse = factory.signed_in(staff_of(app, factory, world.site_code))
    for path in ("/authorizations/new", "/authorizations"):
        response = nurse.get(path)
        assert response.status_code == 403
        assert "This page is for pharmacies" in response.get_data(as_text=True)
    assert ask(nurse, world, csrf_token=csrf_token(nurse, "/account")).status_code == 403
    assert count_rows(app, AuthorizationDecision) == 0


def test_a_decision_is_only_shown_to_its_pharmacy(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    location = ask(pharmacy, world).headers["Location"]
    code, _ = site_with_staff(
        app, factory, world.admin, dispenses=True, infuses=False, name="Other Pharmacy"
    )
    other = factory.signed_in(staff_of(app, factory, code))
    assert other.get(location).status_code == 404
    number = the_authorization(app).number
    assert other.get(f"/authorizations/{number}").status_code == 404
    delegate = factory.signed_in(add_delegate(app, factory, world.prescriber))
    assert delegate.get(f"/authorizations/{number}").status_code == 404
    prescriber = factory.signed_in(world.prescriber.user)
    assert number in prescriber.get(f"/authorizations/{number}").get_data(as_text=True)


def test_auditors_and_administrators_read_every_decision_and_change_nothing(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    location = ask(pharmacy, world).headers["Location"]
    number = the_authorization(app).number
    for role in (Role.AUDITOR, Role.ADMIN):
        reader = factory.signed_in(factory.user(role))
        page = reader.get(location).get_data(as_text=True)
        assert "Authorized: you may dispense" in page and number in page
        assert "Request another authorization" not in page
        assert reader.get("/authorizations/decisions/D00000000000").status_code == 404
        token = csrf_token(reader, "/account")
        form = {"csrf_token": token, "reason": "auditor tries"}
        assert reader.post(f"/authorizations/{number}/reversal", data=form).status_code == 403
    assert the_authorization(app).status.value == "issued"


def test_a_reversal_needs_a_reason_and_returns_the_doses(app, factory):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    ask(pharmacy, world)
    number = the_authorization(app).number
    path = f"/authorizations/{number}/reversal"
    token = csrf_token(pharmacy, "/authorizations")
    response = pharmacy.post(path, data={"csrf_token": token, "reason": " "})
    assert response.status_code == 422
    assert "Give the reason for the reversal" in response.get_data(as_text=True)
    assert the_authorization(app).status == "issued"

    response = pharmacy.post(path, data={"csrf_token": token, "reason": "Order cancelled."})
    assert response.status_code == 302
    page = pharmacy.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Authorization {number} is reversed" in page and "Order cancelled." in page
    assert the_authorization(app).status == "reversed"
    assert count_rows(app, Course, Course.doses_held == 0) == 1
    assert number not in pharmacy.get("/authorizations").get_data(as_text=True)


def test_an_authorization_with_a_dose_given_is_not_reversed(app, factory, client):
    world = gate(app, factory)
    pharmacy = factory.signed_in(staff_of(app, factory, world.pharmacy_code))
    ask(pharmacy, world)
    number = the_authorization(app).number
    headers = {"Authorization": f"Bearer {world.nurse_token}"}
    day = today_of(app)
    given = client.post(
        f"/api/v1/authorizations/{number}/infusions", json=infusion(day), headers=headers
    )
    assert given.status_code == 201
    assert "A dose was given" in pharmacy.get("/authorizations").get_data(as_text=True)
    token = csrf_token(pharmacy, "/authorizations")
    response = pharmacy.post(
        f"/authorizations/{number}/reversal", data={"csrf_token": token, "reason": "Too late."}
    )
    assert response.status_code == 302
    page = pharmacy.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only an issued authorization with no dose given can be reversed" in page
    assert the_authorization(app).status == "partially_used"
