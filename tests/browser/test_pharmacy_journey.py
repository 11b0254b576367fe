"""The gate end to end in Chromium: a pharmacy is denied because a new Medication Guide is not
acknowledged; the prescriber records the acknowledgment; the pharmacy is granted; the infusion
site records the first dose, and the authorization shows it."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from rems.auth.models import Role
from rems.common.clock import today
from rems.extensions import db
from rems.sites.models import Site
from tests.authorizations.helpers import Gate, gate
from tests.browser.helpers import sign_in_as, sign_out
from tests.patients.helpers import publish_guides

#: 20:00 in New York on 2026-11-24, the frozen clock's first day.
EVENING = datetime(2026, 11, 25, 1, tzinfo=UTC)


def _staff(app, factory, site_code: str):
    """A staff account of the site with this code."""
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == site_code))
    return factory.user(Role.SITE_STAFF, site_id=site_id)


def _request(page: Page, world: Gate) -> None:
    """The pharmacy's request form, filled in and sent."""
    page.goto("/authorizations/new")
    page.get_by_label("REMS patient ID").fill(world.patient.rems_id)
    page.get_by_label("Patient's date of birth").fill(world.date_of_birth)
    page.get_by_label("Prescriber NPI").fill(world.prescriber.npi)
    page.get_by_label("Receiving infusion site").select_option(world.site_code)
    page.get_by_role("button", name="Request the authorization").click()


def _record_first_dose(page: Page, number: str) -> None:
    """The infusion site records dose 1 from its list of authorizations."""
    page.goto("/infusions")
    page.get_by_role("row").filter(has_text=number).get_by_role(
        "link", name="Record infusion"
    ).click()
    expect(page.get_by_role("heading", name="Record an infusion")).to_be_visible()
    for label in (
        "The patient's identity was verified", "No signs of an active infection",
        "Corticosteroid premedication given immediately before the infusion",
        "Antiviral (herpes) prophylaxis taken",
    ):  # fmt: skip
        page.get_by_label(label).check()
    page.get_by_label("Infusion start").fill("2026-11-24T13:00")
    page.get_by_label("Infusion end").fill("2026-11-24T17:00")
    page.get_by_label("Observation end").fill("2026-11-24T19:05")
    page.get_by_label("Infusion reaction").select_option("none")
    page.get_by_role("button", name="Record the infusion").click()


def test_a_new_guide_blocks_dispensing_until_acknowledged(browser_page, app, factory, clock):
    world = gate(app, factory)
    with app.app_context():
        day = today()
    publish_guides(app, world.admin, label="2026-11", effective_on=day, codes=("medication_guide",))
    pharmacist, nurse = (
        _staff(app, factory, world.pharmacy_code),
        _staff(app, factory, world.site_code),
    )
    page = browser_page

    sign_in_as(page, pharmacist.username)
    _request(page, world)
    expect(page.get_by_role("heading", name="Denied: do not dispense")).to_be_visible()
    reasons = page.get_by_role("region", name="Why it is denied, and who must act")
    expect(reasons.get_by_role("listitem")).to_have_count(1)
    expect(reasons).to_contain_text("has not acknowledged the current version of: medication guide")
    expect(reasons).to_contain_text("Who must act: The prescriber")
    expect(page.locator("main")).to_contain_text(re.compile(r"decision ID D\w{11}"))
    sign_out(page)

    sign_in_as(page, world.prescriber.user.username)
    page.goto(f"/patients/{world.patient.rems_id}")
    expect(page.get_by_text("Not acknowledged: Medication Guide")).to_be_visible()
    page.get_by_label(re.compile(r"^In person")).check()
    page.get_by_role("button", name=re.compile("Record the acknowledgment")).click()
    expect(page.locator(".flashes")).to_contain_text("the Medication Guide, version 2026-11")
    sign_out(page)

    sign_in_as(page, pharmacist.username)
    _request(page, world)
    expect(page.get_by_role("heading", name="Authorized: you may dispense")).to_be_visible()
    number = page.locator(".verdict code").inner_text()
    assert re.fullmatch(r"A\w{11}", number)
    sign_out(page)

    clock.current = EVENING  # the dose was given; it is recorded once it is over
    sign_in_as(page, nurse.username)
    _record_first_dose(page, number)
    expect(page).to_have_url(re.compile(rf"/authorizations/{number}$"))
    expect(page.locator(".flashes")).to_contain_text("Dose 1 of course 1 is recorded")
    expect(page.locator(".stats")).to_contain_text("1 of 5")
    infusions = page.get_by_role("table", name=re.compile("Infusions recorded"))
    expect(infusions.get_by_role("row")).to_have_count(2)  # header, dose 1
