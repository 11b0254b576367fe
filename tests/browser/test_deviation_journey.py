"""A protocol deviation end to end in Chromium: the nurse records a dose observed for 90
minutes, sees the deviation and confirms "I am recording what happened"; the site's
representative writes the corrective action; the administrator accepts it and the case closes;
the auditor's assessment shows the deviation and the true checklist compliance."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from rems.auth.models import Role
from rems.extensions import db
from rems.sites.models import Site
from tests.authorizations.helpers import gate
from tests.browser.helpers import sign_in_as, sign_out

DAY = "2026-11-24"  # the frozen clock's first day
#: 20:00 in New York on DAY: the dose is over when it is recorded.
EVENING = datetime(2026, 11, 25, 1, tzinfo=UTC)


def _record_short_observation(page: Page, number: str) -> None:
    """Every check ticked, a 4-hour infusion, then 90 minutes of observation."""
    page.goto(f"/infusions/{number}/record")
    for label in (
        "The patient's identity was verified", "No signs of an active infection",
        "Corticosteroid premedication given immediately before the infusion",
        "Antiviral (herpes) prophylaxis taken",
    ):  # fmt: skip
        page.get_by_label(label).check()
    page.get_by_label("Infusion start").fill(f"{DAY}T13:00")
    page.get_by_label("Infusion end").fill(f"{DAY}T17:00")
    page.get_by_label("Observation end").fill(f"{DAY}T18:30")
    page.get_by_label("Infusion reaction").select_option("none")
    page.get_by_role("button", name="Record the infusion").click()


def _open_case(page: Page) -> None:
    page.goto("/dashboard")
    page.get_by_role("link", name=re.compile(r"^Case \d+$")).first.click()
    expect(page.get_by_role("heading", name=re.compile("Non-compliance case"))).to_be_visible()


def test_a_short_observation_is_recorded_answered_and_counted(
    browser_page, app, factory, client, clock
):
    world = gate(app, factory)
    granted = client.post("/api/v1/authorizations", json=world.request(),
                          headers={"Authorization": f"Bearer {world.pharmacy_token}"})  # fmt: skip
    number = granted.get_json()["authorization_number"]
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == world.site_code))
    nurse = factory.user(Role.SITE_STAFF, site_id=site_id)
    rep = factory.user(Role.SITE_STAFF, site_id=site_id, representative=True)
    auditor = factory.user(Role.AUDITOR)
    clock.current = EVENING
    page = browser_page

    sign_in_as(page, nurse.username)
    _record_short_observation(page, number)
    warning = page.get_by_role("alert").filter(has_text="Protocol deviations in this record")
    expect(warning).to_contain_text("observed for 90 minutes")
    page.get_by_label("I am recording what happened").check()
    page.get_by_label("Reason for the deviations (optional)").fill("The patient left early.")
    page.get_by_role("button", name="Record the infusion").click()
    expect(page).to_have_url(re.compile(rf"/authorizations/{number}$"))
    expect(page.locator(".flashes")).to_contain_text("1 protocol deviation(s) are recorded")
    expect(page.get_by_text("Deviation: observation short")).to_be_visible()
    sign_out(page)

    sign_in_as(page, rep.username)
    expect(page.get_by_role("heading", name="Your open non-compliance cases (1)")).to_be_visible()
    _open_case(page)
    page.get_by_label("Root cause").fill("No timer at the chair")
    page.get_by_role("textbox", name="Corrective action").fill("A timer at every chair")
    page.get_by_label("Due date").fill("2026-12-20")
    page.get_by_role("button", name="Submit the corrective action").click()
    expect(page.locator(".flashes")).to_contain_text("an administrator reviews it")
    sign_out(page)

    sign_in_as(page, world.admin.username)
    _open_case(page)
    page.get_by_label("Accepted: close the case").check()
    page.get_by_role("button", name="Record the review").click()
    expect(page.locator(".flashes")).to_contain_text("the case is closed")
    expect(page.locator(".page-subtitle")).to_contain_text("Closed")
    sign_out(page)

    sign_in_as(page, auditor.username)
    page.goto("/reports/assessment?from=2026-11-01&to=2026-11-30")
    expect(page.locator("#checklist-compliance")).to_have_text("0 (0.0%)")
    deviations = page.get_by_role("table", name=re.compile("Protocol deviations by kind"))
    expect(deviations).to_contain_text("Observation shorter than the program's minutes")
    cases = page.get_by_role("region", name=re.compile("Non-compliance and corrective actions"))
    # opened 1, closed 1, open at the period's end 0, escalated 0, overdue 0
    expect(cases.get_by_role("row", name="Site 1 1 0 0 0")).to_be_visible()
