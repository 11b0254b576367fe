"""Where gate decisions show to the people who act on them: the prescriber's (and delegate's)
dashboard, the patient's page, the receiving site's and administrators' dashboards, and the
pharmacy's own searchable, keyset-paginated history of its decisions."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa

from rems.auth.models import Role
from rems.authorizations.models import AuthorizationDecision
from rems.extensions import db
from rems.sites.models import Site
from tests.authorizations.helpers import gate, site_with_staff
from tests.patients.helpers import add_delegate

GATE = "/api/v1/authorizations"
LINK = re.compile(r'rel="(first|prev|next|last)" href="([^"]+)"')
DECISION = re.compile(r'href="/authorizations/decisions/(D\w{11})"')


def _ask(client, token, body):
    return client.post(GATE, json=body, headers={"Authorization": f"Bearer {token}"})


def _staff(app, factory, code: str):
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == code))
    return factory.signed_in(factory.user(Role.SITE_STAFF, site_id=site_id))


def test_the_prescriber_and_delegate_see_denials_they_must_act_on(app, client, factory, clock):
    world = gate(app, factory, with_course=False)
    delegate = add_delegate(app, factory, world.prescriber)
    prescriber = factory.signed_in(world.prescriber.user)
    page = prescriber.get("/dashboard").get_data(as_text=True)
    assert "No denied dispensing request waits on you." in page
    first = _ask(client, world.pharmacy_token, world.request()).get_json()
    clock.advance(minutes=1)
    second = _ask(client, world.pharmacy_token, world.request(doses=2)).get_json()
    _ask(client, world.pharmacy_token, world.request(date_of_birth="1901-01-01"))  # not theirs
    page = prescriber.get("/dashboard").get_data(as_text=True)
    page = page[page.index("Dispensing denied: yours to act on") :]  # after the messages
    assert page.index(second["decision_id"]) < page.index(first["decision_id"])  # newest first
    assert "COURSE_NOT_AUTHORIZED" in page and "Gate Pharmacy" in page
    assert world.patient.rems_id in page and "PATIENT_NOT_FOUND" not in page
    helper = factory.signed_in(delegate).get("/dashboard").get_data(as_text=True)
    assert first["decision_id"] in helper and "COURSE_NOT_AUTHORIZED" in helper

    patient = prescriber.get(f"/patients/{world.patient.rems_id}").get_data(as_text=True)
    assert "Dispensing denied" in patient
    assert patient.index(second["decision_id"]) < patient.index(first["decision_id"])
    assert "The patient has no authorized treatment course." in patient


def test_the_patient_page_says_when_nothing_was_denied(app, factory):
    world = gate(app, factory)
    prescriber = factory.signed_in(world.prescriber.user)
    page = prescriber.get(f"/patients/{world.patient.rems_id}").get_data(as_text=True)
    assert "No request to dispense for this patient was denied." in page


def test_administrators_see_a_pharmacy_that_may_not_dispense(app, client, factory):
    world = gate(app, factory)
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.site_code == world.pharmacy_code))
        site.dispenses, site.infuses = False, True
        db.session.commit()
    denial = _ask(client, world.pharmacy_token, world.request()).get_json()
    page = factory.signed_in(world.admin).get("/dashboard").get_data(as_text=True)
    assert "Pharmacies that asked to dispense but may not" in page
    assert f"/authorizations/decisions/{denial['decision_id']}" in page
    assert "not enrolled to dispense" in page


def test_the_pharmacy_history_pages_filters_and_searches_its_own_decisions(
    app, client, factory, clock
):
    world = gate(app, factory)
    granted = _ask(client, world.pharmacy_token, world.request(doses=1)).get_json()
    for _ in range(27):
        clock.advance(minutes=1)
        _ask(client, world.pharmacy_token, world.request(doses=9))
    newest = _ask(client, world.pharmacy_token, world.request(date_of_birth="1901-01-01"))
    newest = newest.get_json()["decision_id"]
    pharmacy = _staff(app, factory, world.pharmacy_code)
    dashboard = pharmacy.get("/dashboard").get_data(as_text=True)
    assert 'href="/authorizations/decisions"' in dashboard and "Recent denials" in dashboard

    page = pharmacy.get("/authorizations/decisions").get_data(as_text=True)
    first = DECISION.findall(page)
    assert len(first) == 25 and first[0] == newest  # newest first
    links = {rel: html.unescape(href) for rel, href in LINK.findall(page)}
    assert set(links) == {"next", "last"}
    rest = DECISION.findall(pharmacy.get(links["next"]).get_data(as_text=True))
    assert len(rest) == 4 and rest[-1] == granted_decision(app, granted)
    assert not set(first) & set(rest)

    denied = pharmacy.get("/authorizations/decisions?outcome=denied").get_data(as_text=True)
    assert "Showing 1–25 of 28" in denied
    only = pharmacy.get("/authorizations/decisions?outcome=authorized").get_data(as_text=True)
    assert DECISION.findall(only) == [granted_decision(app, granted)]
    assert granted["authorization_number"] in only

    one = pharmacy.get(f"/authorizations/decisions?q={newest.lower()}").get_data(as_text=True)
    assert DECISION.findall(one) == [newest]
    by_patient = pharmacy.get(f"/authorizations/decisions?q={world.patient.rems_id}")
    assert len(DECISION.findall(by_patient.get_data(as_text=True))) == 25
    wrong = pharmacy.get("/authorizations/decisions?q=hello").get_data(as_text=True)
    assert "Enter a decision ID (D…) or a REMS patient ID (P…)" in wrong
    assert "No decision matches this search." in wrong


def granted_decision(app, body) -> str:
    with app.app_context():
        return db.session.scalar(
            sa.select(AuthorizationDecision.decision_id).where(
                AuthorizationDecision.outcome == "authorized"
            )
        )


def test_another_pharmacy_sees_none_of_these_decisions(app, client, factory):
    world = gate(app, factory)
    denial = _ask(client, world.pharmacy_token, world.request(doses=9)).get_json()
    other_code, _ = site_with_staff(
        app, factory, world.admin, dispenses=True, infuses=False, name="Other Pharmacy"
    )
    other = _staff(app, factory, other_code)
    page = other.get("/authorizations/decisions").get_data(as_text=True)
    assert "Your pharmacy has not asked the gate yet." in page
    assert denial["decision_id"] not in page
    found = other.get(f"/authorizations/decisions?q={denial['decision_id']}")
    found = found.get_data(as_text=True)
    assert DECISION.findall(found) == [] and "No decision matches this search." in found
    assert other.get(f"/authorizations/decisions/{denial['decision_id']}").status_code == 404
    nurse = _staff(app, factory, world.site_code)
    assert nurse.get("/authorizations/decisions").status_code == 403  # not a pharmacy
    prescriber = factory.signed_in(world.prescriber.user)
    assert prescriber.get("/authorizations/decisions").status_code == 403
