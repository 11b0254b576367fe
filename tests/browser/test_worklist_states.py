"""The worklist in Chromium at a phone's 390 px and a laptop's 1366 px: filtered by state, one
row per patient with counts per test, each row's "Record result" in view without sideways
scrolling, and it leads to the patient's result form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from rems.program.model import add_months
from tests.browser.helpers import sign_in_as
from tests.monitoring.helpers import days, more_treated_patients, move_to, treated_patient

WIDTHS = [pytest.param(390, id="phone"), pytest.param(1366, id="laptop")]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_worklist_filters_and_records_from_a_row(viewport_page, app, factory, clock, width):
    treated = treated_patient(app, factory, clock)
    more_treated_patients(app, treated.world, clock, 2)
    move_to(clock, add_months(treated.first_dose, 3) + days(8))  # several items overdue each
    page = viewport_page
    sign_in_as(page, treated.world.prescriber.user.username)
    page.goto("/worklist")
    page.get_by_label("Show").select_option("overdue")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"show=overdue"))
    rows = page.locator("#worklist tbody tr")
    expect(rows).to_have_count(3)
    ours = rows.filter(has_text=treated.world.patient.rems_id)
    expect(ours.locator('[data-test="cbc"]')).to_contain_text(re.compile(r"\d+ overdue"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    buttons = page.get_by_role("link", name="Record result")
    expect(buttons).to_have_count(3)
    for index in range(3):
        box = buttons.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    ours.get_by_role("link", name="Record result").click()
    expect(page).to_have_url(re.compile(rf"/patients/{treated.world.patient.rems_id}/results/new"))
