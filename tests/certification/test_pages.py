"""The administrators' certification pages: the review queue, the submission page and
decisions, and who may see and do what."""

from __future__ import annotations

from datetime import date

import pytest

from rems.auth.models import Role
from rems.certification.models import CertificationSubmission, CertStatus
from rems.extensions import db
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from tests.certification.helpers import (
    BASE,
    FIRST_NPI,
    act,
    admin_browser,
    certify,
    decide,
    fresh,
    history,
    make_prescriber,
    make_site,
    page_text,
    resubmit_prescriber,
)
from tests.factories import csrf_token

START = date(2026, 11, 24)  # the frozen clock's first day
END_OF_FIRST_PERIOD = date(2028, 11, 23)  # 24 months, counting the first day


# ---------- Review queue ----------


def test_queue_lists_pending_first_and_filters(app, factory):
    admin, browser, _ = admin_browser(factory)
    decided = make_prescriber(app, factory, last_name="Abbott", npi=FIRST_NPI)
    certify(app, decided, admin)
    waiting = make_prescriber(app, factory, last_name="Zimmer")
    site = make_site(app, factory, name="Harbor Infusion Center")

    page = page_text(browser.get(f"{BASE}/queue"))
    assert page.index("Harbor Infusion Center") < page.index("Abbott")
    assert page.index("Zimmer") < page.index("Abbott")
    assert "Renewal" not in page and "Initial" in page

    sites_only = page_text(browser.get(f"{BASE}/queue?party=site"))
    assert "Harbor Infusion Center" in sites_only and "Zimmer" not in sites_only
    certified = page_text(browser.get(f"{BASE}/queue?state=certified"))
    assert "Abbott" in certified and "Zimmer" not in certified and "Harbor" not in certified
    pending = page_text(browser.get(f"{BASE}/queue?state=pending"))
    assert "Zimmer" in pending and "Harbor" in pending and "Abbott" not in pending
    by_npi = page_text(browser.get(f"{BASE}/queue?q={waiting.npi}"))
    assert "Zimmer" in by_npi and "Abbott" not in by_npi and "Harbor" not in by_npi
    by_name = page_text(browser.get(f"{BASE}/queue?q=harbor"))
    assert "Harbor Infusion Center" in by_name and "Zimmer" not in by_name
    links = browser.get(f"{BASE}/queue").get_data(as_text=True)
    assert f'{BASE}/prescribers/{waiting.id}"' in links and f'{BASE}/sites/{site.id}"' in links
    assert "No submission matches these filters" in page_text(browser.get(f"{BASE}/queue?q=nobody"))


def test_queue_empty_state_and_paging(app, factory):
    _, browser, _ = admin_browser(factory)
    assert "No enrollment form has been submitted yet" in page_text(browser.get(f"{BASE}/queue"))
    for name in ("Adams", "Baker", "Clark"):
        make_prescriber(app, factory, last_name=name)
    app.config["REMS_PAGE_SIZE"] = 2
    first = page_text(browser.get(f"{BASE}/queue"))
    second = page_text(browser.get(f"{BASE}/queue?page=2"))
    assert "Showing 1–2 of 3" in first and "Showing 3–3 of 3" in second
    assert "Clark" in first and "Adams" in second and "Adams" not in first


# ---------- Submission page and decisions ----------


def test_submission_page_shows_the_signed_form_attestations_and_signature(app, factory):
    _, browser, _ = admin_browser(factory)
    party = make_prescriber(app, factory)
    response = browser.get(f"{BASE}/submissions/{party.submission_id}")
    assert response.status_code == 200
    page = page_text(response)
    signed = fresh(app, CertificationSubmission, party.submission_id)
    for value in signed.form["fields"].values():
        assert value in page
    for attestation in app.extensions["rems_program"].attestations.prescriber:
        assert attestation.text in page
    assert "Score 8 of 8 correct" in page
    with app.app_context():
        signature = db.session.get(CertificationSubmission, party.submission_id).signature
        assert signature.printed_name in page and signature.content_sha256 in page
        assert signature.meaning in page
    assert "The stored form matches its signature" in page
    assert "does not match" not in page
    assert 'value="certify"' in response.get_data(as_text=True)


def test_site_submission_shows_its_site_code_and_site_attestations(app, factory):
    _, browser, _ = admin_browser(factory)
    site = make_site(app, factory, dispenses=False, infuses=True)
    page = page_text(browser.get(f"{BASE}/submissions/{site.submission_id}"))
    program = app.extensions["rems_program"]
    for attestation in program.site_attestations(False, True):
        assert attestation.text in page
    assert fresh(app, Site, site.id).site_code in page
    assert "Knowledge assessment" not in page


def test_a_form_changed_after_signing_shows_a_warning(app, factory):
    _, browser, _ = admin_browser(factory)
    party = make_prescriber(app, factory)
    with app.app_context():
        submission = db.session.get(CertificationSubmission, party.submission_id)
        submission.form = {**submission.form, "fields": {**submission.form["fields"], "city": "X"}}
        db.session.commit()
    page = page_text(browser.get(f"{BASE}/submissions/{party.submission_id}"))
    assert "Warning: the stored form does not match its signature" in page
    assert "The stored form matches its signature" not in page


def test_certify_starts_a_24_month_period_with_a_history_row_naming_the_admin(app, factory):
    admin, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    done = decide(browser, token, party.submission_id, "certify")
    assert done.status_code == 302
    record = fresh(app, Prescriber, party.id)
    assert record.status == CertStatus.CERTIFIED
    assert (record.certified_on, record.expires_on) == (START, END_OF_FIRST_PERIOD)
    assert history(app, Prescriber, party.id)[-1] == ("submitted", "certified", None, admin.id)
    page = page_text(browser.get(done.headers["Location"]))
    assert f"certified until {END_OF_FIRST_PERIOD.isoformat()}" in page
    assert f"Decided by {admin.username}" in page
    assert 'value="certify"' not in page


def test_reject_without_a_reason_is_a_field_error_and_changes_nothing(app, factory):
    _, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    before = history(app, Prescriber, party.id)
    refused = decide(browser, token, party.submission_id, "reject", reason="   ")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Give the reason for the rejection." in html and "field-invalid" in html
    assert fresh(app, CertificationSubmission, party.submission_id).decision is None
    assert fresh(app, Prescriber, party.id).status == CertStatus.SUBMITTED
    assert history(app, Prescriber, party.id) == before


def test_reject_with_a_reason_returns_the_form_to_draft(app, factory):
    admin, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    reason = "The license number does not match the state board's record."
    done = decide(browser, token, party.submission_id, "reject", reason=reason)
    assert done.status_code == 302
    assert fresh(app, Prescriber, party.id).status == CertStatus.DRAFT
    assert history(app, Prescriber, party.id)[-1] == ("submitted", "draft", reason, admin.id)
    decided = fresh(app, CertificationSubmission, party.submission_id)
    assert (decided.decision, decided.decision_reason) == ("rejected", reason)
    page = page_text(browser.get(done.headers["Location"]))
    assert reason in page and f"Decided by {admin.username}" in page


def test_a_decision_posted_twice_is_refused_the_second_time(app, factory):
    _, browser, token = admin_browser(factory)
    party = make_prescriber(app, factory)
    assert decide(browser, token, party.submission_id, "certify").status_code == 302
    again = decide(browser, token, party.submission_id, "reject", reason="Second thoughts")
    page = page_text(browser.get(again.headers["Location"]))
    assert "already decided (certified)" in page
    assert fresh(app, Prescriber, party.id).status == CertStatus.CERTIFIED


def test_an_early_renewal_extends_the_period(app, factory, clock):
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    clock.advance(days=(END_OF_FIRST_PERIOD - START).days - 10)
    renewal = resubmit_prescriber(app, party)
    _, browser, token = admin_browser(factory, admin)
    assert "Renewal" in page_text(browser.get(f"{BASE}/queue?state=pending"))
    assert decide(browser, token, renewal, "certify").status_code == 302
    assert fresh(app, Prescriber, party.id).expires_on == date(2030, 11, 23)


def test_a_renewal_still_waiting_when_the_period_ends_can_be_decided(app, factory, clock):
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    clock.advance(days=(END_OF_FIRST_PERIOD - START).days - 10)
    renewal = resubmit_prescriber(app, party)
    clock.advance(days=20)  # the period ended 10 days ago; nobody decided yet
    _, browser, token = admin_browser(factory, admin)
    done = decide(browser, token, renewal, "certify")
    assert "Certified:" in page_text(browser.get(done.headers["Location"]))
    record = fresh(app, Prescriber, party.id)
    assert record.status == CertStatus.CERTIFIED
    assert record.certified_on == clock.now().date()
    assert [row[:2] for row in history(app, Prescriber, party.id)[-3:]] == [
        ("certified", "expired"), ("expired", "submitted"), ("submitted", "certified"),
    ]  # fmt: skip


# ---------- Who may see and do what ----------


def test_an_auditor_reads_every_page_but_has_no_forms_and_cannot_post(app, factory):
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory)
    site = make_site(app, factory)
    certify(app, site, admin)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    for path in (
        "/queue", "/prescribers", "/sites", f"/submissions/{party.submission_id}",
        f"/prescribers/{party.id}", f"/sites/{site.id}",
    ):  # fmt: skip
        response = auditor.get(BASE + path)
        assert response.status_code == 200, path
        assert 'method="post"' not in response.get_data(as_text=True).replace(
            'class="session-signout" method="post"', ""
        ), path
    token = csrf_token(auditor, f"{BASE}/queue")
    assert decide(auditor, token, party.submission_id, "certify").status_code == 403
    assert act(auditor, token, "sites", site.id, "suspend", "Because").status_code == 403
    assert fresh(app, Prescriber, party.id).status == CertStatus.SUBMITTED
    assert fresh(app, Site, site.id).status == CertStatus.CERTIFIED


@pytest.mark.parametrize("role", [Role.PRESCRIBER, Role.SITE_STAFF, Role.DELEGATE])
def test_other_roles_are_refused(app, factory, role):
    party = make_prescriber(app, factory)
    browser = factory.signed_in(party.user if role == Role.PRESCRIBER else factory.user(role))
    for path in ("/queue", "/prescribers", "/sites", f"/prescribers/{party.id}"):
        assert browser.get(BASE + path).status_code == 403, path
    token = csrf_token(browser, "/account")
    assert decide(browser, token, party.submission_id, "certify").status_code == 403
    assert fresh(app, Prescriber, party.id).status == CertStatus.SUBMITTED


def test_unknown_ids_are_not_found(factory):
    _, browser, token = admin_browser(factory)
    for path in ("/submissions/999", "/prescribers/999", "/sites/999"):
        assert browser.get(BASE + path).status_code == 404, path
    assert decide(browser, token, 999, "certify").status_code == 404
    assert act(browser, token, "sites", 999, "revoke", "Gone").status_code == 404
    assert act(browser, token, "patients", 1, "revoke", "Gone").status_code == 404
