"""The administrators' party pages: lists, a party's page, and suspend, reinstate, revoke."""

from __future__ import annotations

from datetime import date

import pytest

from rems.auth.models import Role
from rems.certification.models import CertStatus
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from tests.certification.helpers import (
    BASE,
    act,
    admin_browser,
    certify,
    fresh,
    history,
    make_prescriber,
    make_site,
    page_text,
)

START = date(2026, 11, 24)  # the frozen clock's first day
END_OF_FIRST_PERIOD = date(2028, 11, 23)  # 24 months, counting the first day


# ---------- Party lists and pages ----------


def test_party_lists_search_filter_and_page(app, factory):
    admin, browser, _ = admin_browser(factory)
    certified = make_prescriber(app, factory, last_name="Okafor")
    certify(app, certified, admin)
    make_prescriber(app, factory, last_name="Novak")
    make_prescriber(app, factory, last_name="Lind", submit=False)
    make_site(app, factory, name="Riverside Pharmacy")

    everyone = page_text(browser.get(f"{BASE}/prescribers"))
    assert all(name in everyone for name in ("Okafor", "Novak", "Lind"))
    assert "Riverside" not in everyone
    assert f"Elena Okafor, MD {certified.npi}" in everyone
    only_certified = page_text(browser.get(f"{BASE}/prescribers?status=certified"))
    assert "Okafor" in only_certified and "Novak" not in only_certified
    assert "Lind" in page_text(browser.get(f"{BASE}/prescribers?status=draft"))
    assert "Novak" in page_text(browser.get(f"{BASE}/prescribers?q=elena novak"))
    assert "Okafor" not in page_text(browser.get(f"{BASE}/prescribers?q=novak"))
    assert "No prescriber matches" in page_text(browser.get(f"{BASE}/prescribers?q=0000000000"))
    app.config["REMS_PAGE_SIZE"] = 2
    assert "Showing 3–3 of 3" in page_text(browser.get(f"{BASE}/prescribers?page=2"))
    sites = page_text(browser.get(f"{BASE}/sites?q=riverside"))
    assert "Riverside Pharmacy" in sites and "Submitted" in sites


def test_empty_party_lists_say_so(factory):
    _, browser, _ = admin_browser(factory)
    assert "No prescriber has started an enrollment yet" in page_text(
        browser.get(f"{BASE}/prescribers")
    )
    assert "No healthcare setting has registered yet" in page_text(browser.get(f"{BASE}/sites"))


def test_a_lapsed_certification_reads_expired_before_the_daily_job(app, factory, clock):
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory, last_name="Okafor")
    certify(app, party, admin)
    clock.advance(days=(END_OF_FIRST_PERIOD - START).days - 5)
    _, browser, _ = admin_browser(factory, admin)
    soon = page_text(browser.get(f"{BASE}/prescribers"))
    assert "Expiring within 30 days" in soon and "(5 days left)" in soon
    clock.advance(days=6)
    _, browser, _ = admin_browser(factory, admin)
    lapsed = page_text(browser.get(f"{BASE}/prescribers"))
    assert "Expired (recorded as certified" in lapsed
    assert "Expiring within" not in lapsed
    assert "Okafor" in page_text(browser.get(f"{BASE}/prescribers?status=certified"))
    page = browser.get(f"{BASE}/prescribers/{party.id}").get_data(as_text=True)
    assert "/revoke" in page and "/suspend" not in page
    assert fresh(app, Prescriber, party.id).status == CertStatus.CERTIFIED  # a read writes nothing


def test_prescriber_page_shows_form_attempts_history_and_submissions(app, factory):
    admin, browser, _ = admin_browser(factory)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    response = browser.get(f"{BASE}/prescribers/{party.id}")
    page = page_text(response)
    assert "Back Bay Neurology" in page and "MA-204518" in page and party.npi in page
    assert f"Certified on {START.isoformat()}" in page
    assert f"Expires on {END_OF_FIRST_PERIOD.isoformat()}" in page
    assert "8 of 8 Passed" in page
    assert f"Draft Submitted 2026-11-24 04:00 EST {party.user.username}" in page
    assert f"Submitted Certified 2026-11-24 04:00 EST {admin.username}" in page
    assert f"/submissions/{party.submission_id}" in response.get_data(as_text=True)


def test_site_page_shows_form_and_staff(app, factory):
    _, browser, _ = admin_browser(factory)
    site = make_site(app, factory, name="Harbor Infusion Center")
    pending = page_text(browser.get(f"{BASE}/sites/{site.id}"))
    assert "A submission is waiting for a decision" in pending
    assert site.user.username in pending and "200 Harbor Way" in pending
    assert "Dispenses (pharmacy) Yes" in pending


# ---------- Suspend, reinstate, revoke ----------


def test_suspend_reinstate_and_revoke_keep_reasons_in_the_history(app, factory):
    admin, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    steps = [
        ("suspend", "Open investigation of a dispensing complaint.", "suspended"),
        ("reinstate", "Investigation closed without findings.", "certified"),
        ("revoke", "License revoked by the state board.", "revoked"),
    ]
    for action, reason, status in steps:
        done = act(browser, token, "prescribers", party.id, action, reason)
        assert done.status_code == 302
        assert fresh(app, Prescriber, party.id).status == CertStatus(status)
        assert history(app, Prescriber, party.id)[-1][1:] == (status, reason, admin.id)
    page = page_text(browser.get(f"{BASE}/prescribers/{party.id}"))
    assert "Revocation is final" in page
    assert "License revoked by the state board." in page


def test_a_site_is_suspended_from_its_page(app, factory):
    admin, browser, token = admin_browser(factory)
    site = make_site(app, factory)
    certify(app, site, admin)
    assert "Suspend the certification" in page_text(browser.get(f"{BASE}/sites/{site.id}"))
    act(browser, token, "sites", site.id, "suspend", "Audit found missing records.")
    assert fresh(app, Site, site.id).status == CertStatus.SUSPENDED
    assert history(app, Site, site.id)[-1][2] == "Audit found missing records."


def test_a_status_change_without_a_reason_is_a_field_error(app, factory):
    admin, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    before = history(app, Prescriber, party.id)
    refused = act(browser, token, "prescribers", party.id, "suspend", "")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="suspend-reason"' in html and "Give the reason for this change." in html
    assert fresh(app, Prescriber, party.id).status == CertStatus.CERTIFIED
    assert history(app, Prescriber, party.id) == before


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ([], "reinstate", "Cannot reinstate a party whose status is certified"),
        (["revoke"], "suspend", "Cannot suspend a party whose status is revoked"),
        (["revoke"], "reinstate", "Cannot reinstate a party whose status is revoked"),
        (["revoke"], "revoke", "Cannot revoke a party whose status is revoked"),
    ],
)
def test_an_action_the_status_does_not_allow_is_refused(app, factory, setup, action, message):
    admin, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    for step in setup:
        act(browser, token, "prescribers", party.id, step, "Setting the scene.")
    status, rows = fresh(app, Prescriber, party.id).status, history(app, Prescriber, party.id)
    for reason in ("A reason.", ""):  # with a reason, and from a stale page without one
        refused = act(browser, token, "prescribers", party.id, action, reason)
        assert refused.status_code == 302
        assert message in page_text(browser.get(refused.headers["Location"]))
    assert fresh(app, Prescriber, party.id).status == status
    assert history(app, Prescriber, party.id) == rows
