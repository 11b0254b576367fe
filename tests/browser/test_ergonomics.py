"""Everyday ergonomics in Chromium, at a phone's 390 px and a laptop's 1366 px: the keyboard
reaches the whole monitoring timeline, small links are big enough to hit, error summaries take
focus, the menu leads to the worklist and to one's messages, a saved change is announced where
the eye is, and wide tables keep their first (opening) column in view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from rems.auth.models import Role
from rems.program.model import add_months
from tests.browser import axe
from tests.browser.helpers import sign_in_as
from tests.monitoring.helpers import days, more_treated_patients, move_to, treated_patient
from tests.patients.helpers import add_delegate

WIDTHS = [pytest.param(390, id="phone"), pytest.param(1366, id="laptop")]


def _in_view(page: Page, selector: str) -> bool:
    """The element lies wholly inside the viewport (no scrolling needed to see it)."""
    return page.evaluate(
        """selector => { const r = document.querySelector(selector).getBoundingClientRect();
           return r.top >= 0 && r.left >= 0
                  && r.bottom <= innerHeight && r.right <= innerWidth; }""",
        selector,
    )


def _no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_keyboard_reaches_every_month_of_the_timeline(browser_page, app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    page = browser_page
    sign_in_as(page, treated.world.prescriber.user.username)
    page.goto(f"/patients/{treated.world.patient.rems_id}")
    box = page.get_by_role("region", name=re.compile("Monitoring timeline"))
    assert axe.violations(page, ["scrollable-region-focusable"]) == []
    box.focus()
    assert page.evaluate("document.activeElement.getAttribute('role')") == "region"
    for _ in range(12):
        page.keyboard.press("ArrowRight")
    assert box.evaluate("el => el.scrollLeft") > 0  # the keyboard scrolled toward month 48


def test_small_links_are_big_enough_and_error_summaries_take_focus(
    browser_page, app, factory, clock
):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    page = browser_page
    delegate = add_delegate(app, factory, treated.world.prescriber)
    sign_in_as(page, delegate.username)
    page.goto("/worklist")
    page.get_by_role("link", name="Upload a CSV of results for several patients").click()
    page.get_by_label("CSV file").set_input_files(
        {"name": "labs.csv", "mimeType": "text/csv", "buffer": b"patient_id,test\nP0,cbc\n"}
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#upload-problems")).to_be_focused()  # autofocus, once rendered

    auditor = factory.user(Role.AUDITOR)
    page.context.clear_cookies()
    sign_in_as(page, auditor.username)
    page.goto("/reports/enrollments?from=2026-13-01&to=2026-12-01")
    expect(page.locator("#filter-problems")).to_be_focused()  # autofocus, once rendered


def test_the_messages_link_on_the_dashboard_is_big_enough(browser_page, app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    page = browser_page
    from tests.notifications.test_outbox import _queue

    _queue(app, treated.world.prescriber.user.username, subject="Two tests overdue")
    sign_in_as(page, treated.world.prescriber.user.username)
    link = page.get_by_role("link", name="All your messages →")
    expect(link).to_be_visible()
    assert axe.violations(page, ["target-size"]) == []
    assert link.bounding_box()["height"] >= 24


@pytest.mark.parametrize("width", WIDTHS)
def test_the_menu_leads_to_the_worklist_and_messages(viewport_page, app, factory, clock, width):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    delegate = add_delegate(app, factory, treated.world.prescriber)
    page = viewport_page
    sign_in_as(page, delegate.username)
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Worklist").click()
    expect(page.get_by_role("heading", name="Monitoring worklist")).to_be_visible()
    menu.get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", name="Your messages")).to_be_visible()
    assert _no_sideways_scroll(page)

    page.context.clear_cookies()
    sign_in_as(page, treated.world.admin.username)
    expect(menu.get_by_role("link", name="Messages")).to_be_visible()
    expect(menu.get_by_role("link", name="Worklist")).to_have_count(0)  # not theirs to work


@pytest.mark.parametrize("width", WIDTHS)
def test_a_saved_result_is_announced_where_the_eye_is(viewport_page, app, factory, clock, width):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    page = viewport_page
    sign_in_as(page, treated.world.prescriber.user.username)
    page.goto(f"/patients/{treated.world.patient.rems_id}")
    page.get_by_role("link", name="Record a result").click()
    page.get_by_label("Test", exact=True).select_option("cbc")
    page.get_by_label("Collection date").fill(clock.now().date().isoformat())
    page.get_by_role("button", name=re.compile("Record")).click()

    expect(page).to_have_url(re.compile(r"#monitoring$"))
    message = page.locator(".alert-success")
    expect(message).to_contain_text("Result recorded.")
    expect(message).to_be_focused()
    assert _in_view(page, ".alert-success")  # not scrolled off above the monitoring section
    assert page.evaluate("document.getElementById('monitoring').getBoundingClientRect().top")
    assert _no_sideways_scroll(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_worklist_keeps_each_patients_link_in_view(viewport_page, app, factory, clock, width):
    treated = treated_patient(app, factory, clock)
    more_treated_patients(app, treated.world, clock, 2)
    move_to(clock, add_months(treated.first_dose, 3) + days(8))  # several items overdue each
    page = viewport_page
    sign_in_as(page, treated.world.prescriber.user.username)
    page.goto("/worklist")
    links = page.locator("#worklist tbody th a")
    expect(links).to_have_count(3)
    assert _no_sideways_scroll(page)
    for index in range(3):
        assert _whole_in_box(page, links.nth(index))


@pytest.mark.parametrize("width", WIDTHS)
def test_a_wide_report_keeps_its_first_column_in_view(viewport_page, app, factory, clock, width):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    page = viewport_page
    sign_in_as(page, factory.user(Role.AUDITOR).username)
    page.goto("/reports/monitoring")
    first = page.locator(".report-table tbody tr").first.locator("td").first
    expect(first).to_contain_text(treated.world.patient.rems_id)
    assert _no_sideways_scroll(page)
    wrap = page.locator(".table-wrap").filter(has=page.locator(".report-table"))
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert _whole_in_box(page, first)
    if width == 1366:  # wider than the page: the other columns scroll under the first
        assert wrap.evaluate("el => el.scrollLeft") > 0
    else:  # stacked: every value under its column's name, nothing to scroll
        assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")
        label = first.locator("xpath=following-sibling::td[9]")
        assert label.evaluate("el => getComputedStyle(el, '::before').content") == '"Next due: "'


def _whole_in_box(page: Page, locator) -> bool:
    """The element is wholly visible: inside its scroll box and inside the viewport sideways."""
    return locator.evaluate(
        """el => { const r = el.getBoundingClientRect();
           const box = el.closest('.table-wrap').getBoundingClientRect();
           return r.left >= box.left - 1 && r.right <= box.right + 1
                  && r.left >= 0 && r.right <= window.innerWidth; }"""
    )
