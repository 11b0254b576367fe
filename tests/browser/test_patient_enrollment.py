"""Patient enrollment end to end in Chromium: a certified prescriber enrolls a patient, confirms
a possible duplicate, records the patient's signature in clinic and signs with the password."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect

from rems.auth.models import Role
from tests.browser.helpers import sign_in_as
from tests.patients.helpers import certified_prescriber, prepare_patient, publish_guides

BORN = date(1987, 3, 14)


def _fill_enrollment_form(page: Page) -> None:
    """The Patient Enrollment Form for Grace Hopper, as a prescriber types it."""
    page.get_by_label("First name").fill("Grace")
    page.get_by_label("Last name").fill("Hopper")
    page.get_by_label("Date of birth").fill(BORN.isoformat())
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("The patient is able to become pregnant").check()
    page.get_by_label("Phone (optional)").fill("(617) 555-0123")
    page.get_by_label("State (optional)").select_option("MA")
    page.get_by_role("button", name="Save the enrollment form").click()


def _patient_signs(page: Page) -> None:
    """In clinic: the documents received in person, every statement ticked, the name typed."""
    page.get_by_role("link", name="Record the patient's signature").click()
    expect(page.get_by_role("heading", name="The patient's signature")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Medication Guide, version 2026-01")
    page.get_by_label(re.compile(r"^In person")).check()
    statements = page.locator("input[type=checkbox][name^=attest_]")
    expect(statements).to_have_count(4)  # the contraception statement applies
    for box in statements.all():
        box.check()
    page.get_by_label("The patient types their full legal name").fill("Grace Hopper")
    page.get_by_role("button", name="Record the patient's signature").click()
    expect(page.locator(".flashes")).to_contain_text("The patient's signature is recorded")


def test_a_prescriber_enrolls_a_patient_who_might_be_a_duplicate(browser_page, app, factory):
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish_guides(app, admin)
    earlier = prepare_patient(
        app, prescriber, first_name="Grace", last_name="Hopper", date_of_birth=BORN
    )
    page = browser_page
    sign_in_as(page, prescriber.user.username)
    page.goto("/patients")
    expect(page.get_by_role("row").filter(has_text=earlier.rems_id)).to_be_visible()
    page.get_by_role("link", name="Enroll a patient").click()
    _fill_enrollment_form(page)

    warning = page.get_by_role("region", name=re.compile("already enrolled"))
    expect(warning).to_contain_text(earlier.rems_id)
    page.get_by_label("This is a different person; flag it for the program to review").check()
    page.get_by_role("button", name="Save the enrollment form").click()
    expect(page.locator(".flashes")).to_contain_text("flagged as a possible duplicate")
    expect(page.get_by_role("heading", name="Grace Hopper")).to_be_visible()

    _patient_signs(page)
    page.get_by_role("link", name="Sign the enrollment").click()
    page.get_by_label("Your password, again, to sign").fill("not the password")
    page.get_by_role("button", name="Sign and enroll").click()
    expect(page.locator("main")).to_contain_text("The password is not correct")
    page.get_by_label("Your password, again, to sign").fill(prescriber.user.password)
    page.get_by_role("button", name="Sign and enroll").click()

    expect(page.locator(".flashes")).to_contain_text("the patient is enrolled")
    expect(page.locator(".page-subtitle")).to_contain_text("Enrolled")
    acknowledgments = page.get_by_role("table", name=re.compile("acknowledged"))
    expect(acknowledgments.get_by_role("row")).to_have_count(3)  # header, two guides
    expect(acknowledgments).to_contain_text("Medication Guide")
    expect(acknowledgments).to_contain_text("Patient Guide")
