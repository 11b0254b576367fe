"""The certification journeys end to end in Chromium: a prescriber enrolls, a site's
representative enrolls the site, and the administrator certifies both."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from rems.auth.models import Role
from tests.browser.helpers import sign_in_as, sign_out
from tests.certification.helpers import next_ncpdp, next_npi

NEW_PASSWORD = "a long and private passphrase"


def _register(page: Page, kind: str, username: str, full_name: str) -> None:
    """Create an account from the sign-in page's link."""
    page.goto("/sign-in")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label(kind).check()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Full name").fill(full_name)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create account").click()


def _fill_prescriber_form(page: Page, npi: str) -> None:
    """Every field of the Prescriber Enrollment Form."""
    for label, value in (
        ("Credentials", "MD"), ("Specialty", "Neurology"), ("NPI", npi),
        ("State license number", "MA-204518"), ("Practice name", "Back Bay Neurology"),
        ("Practice address", "1 Boylston Street"), ("City", "Boston"), ("ZIP code", "02116"),
        ("Practice phone", "(617) 555-0142"), ("Practice email", "ramirez@example.org"),
    ):  # fmt: skip
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("License state").select_option("MA")
    page.get_by_label("State", exact=True).select_option("MA")


def _answer_assessment(page: Page, program) -> None:
    """Pick the right answer of every question, whatever order they come in."""
    for question in program.assessment.questions:
        group = page.get_by_role("group", name=re.compile(re.escape(question.text[:40])))
        group.get_by_label(question.answer, exact=True).check()
    page.get_by_role("button", name="Submit my answers").click()


def _prescriber_enrolls(page: Page, app) -> None:
    """Register, fill in the form (with one correction), pass the assessment, sign."""
    _register(page, "Prescriber", "dr.browser", "Elena Browser")
    expect(page.get_by_role("heading", name=re.compile("enrollment", re.I)).first).to_be_visible()
    page.get_by_role("link", name=re.compile("form", re.I)).first.click()
    page.get_by_label("First name").fill("Elena")
    page.get_by_label("Last name").fill("Browser")
    _fill_prescriber_form(page, "1234567890")  # a typo: wrong check digit
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("not a valid NPI").first).to_be_visible()
    expect(page.locator(".form-errors")).to_be_focused()  # the summary is read out first
    page.get_by_label("NPI", exact=True).fill(next_npi())
    page.get_by_role("button", name="Save draft").click()
    page.goto("/prescriber/enrollment/assessment")
    _answer_assessment(page, app.extensions["rems_program"])
    expect(page.get_by_text(re.compile("passed", re.I)).first).to_be_visible()
    page.goto("/prescriber/enrollment/sign")
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label(re.compile("password", re.I)).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign and submit").click()
    expect(page.locator("main")).to_contain_text(re.compile("waiting|review", re.I))


def _representative_enrolls_site(page: Page) -> None:
    """Register as a representative, register the site, sign its attestations."""
    _register(page, "Authorized representative of a pharmacy or infusion site", "rep.browser",
              "Rosa Browser")  # fmt: skip
    page.get_by_label("Name of the healthcare setting").fill("Browser Infusion Pharmacy")
    page.get_by_label(re.compile(r"^Pharmacy")).check()
    page.get_by_label(re.compile(r"^Infusion site")).check()
    page.get_by_label("NPI", exact=True).fill(next_npi())
    page.get_by_label("NCPDP ID").fill(next_ncpdp())
    page.get_by_label("Address", exact=True).fill("200 Longwood Avenue")
    page.get_by_label("City").fill("Boston")
    page.get_by_label("State").select_option("MA")
    page.get_by_label("ZIP code").fill("02115")
    page.get_by_label("Phone").fill("(617) 555-0199")
    page.get_by_role("button", name="Register the site").click()
    page.goto("/site/sign")
    for box in page.get_by_role("checkbox").all():
        box.check()
    page.get_by_label(re.compile("password", re.I)).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign and submit").click()
    expect(page.locator("main")).to_contain_text(re.compile("waiting|review", re.I))


def _administrator_certifies(page: Page, name: str) -> None:
    """Open the pending submission from the queue and certify it."""
    page.goto("/admin/certification/queue?state=pending")
    row = page.get_by_role("row").filter(has_text=name)
    row.get_by_role("link", name=re.compile("open submission")).click()
    expect(page.locator("main")).to_contain_text(name)
    page.get_by_label("Reason").fill("Form, assessment and attestations complete.")
    page.get_by_role("button", name="Certify").click()
    expect(page.locator("main")).to_contain_text(re.compile("certified", re.I))


def test_prescriber_site_and_administrator_journeys(browser_page, app, factory):
    admin = factory.user(Role.ADMIN, username="browser.admin")
    _prescriber_enrolls(browser_page, app)
    sign_out(browser_page)
    _representative_enrolls_site(browser_page)
    sign_out(browser_page)
    sign_in_as(browser_page, admin.username)
    _administrator_certifies(browser_page, "Elena Browser")
    _administrator_certifies(browser_page, "Browser Infusion Pharmacy")
    sign_out(browser_page)
    sign_in_as(browser_page, "dr.browser", NEW_PASSWORD)
    expect(browser_page.locator("main")).to_contain_text("Certified")
