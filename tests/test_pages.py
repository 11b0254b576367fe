"""Pages people use: dashboards per role, account management, the audit trail and its export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from rems.auth import users
from rems.auth.models import ApiToken, Role, User
from rems.extensions import db
from tests.factories import csrf_token

DASHBOARD_TEXT = {
    Role.ADMIN: "At a glance",
    Role.AUDITOR: "At a glance",
    Role.PRESCRIBER: "Prescriber Enrollment Form",
    Role.DELEGATE: "No prescriber has added you as a delegate yet",
    Role.SITE_STAFF: "not attached to a healthcare setting yet",
}


@pytest.mark.parametrize("role", list(Role))
def test_each_role_has_its_dashboard(factory, role):
    browser = factory.signed_in(factory.user(role))
    page = browser.get("/dashboard")
    assert page.status_code == 200
    assert DASHBOARD_TEXT[role] in page.get_data(as_text=True)


def test_navigation_shows_only_what_the_role_may_open(factory):
    auditor = factory.signed_in(factory.user(Role.AUDITOR)).get("/dashboard").get_data(as_text=True)
    assert 'href="/audit/events"' in auditor and 'href="/admin/users"' in auditor
    accounts = factory.signed_in(factory.user(Role.AUDITOR)).get("/admin/users")
    assert 'href="/admin/users/new"' not in accounts.get_data(as_text=True)  # sees, never acts
    admin = factory.signed_in(factory.user(Role.ADMIN)).get("/dashboard").get_data(as_text=True)
    assert 'href="/admin/users"' in admin


def test_admin_creates_an_account_and_sees_field_errors(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    form = {
        "csrf_token": csrf_token(browser, "/admin/users/new"),
        "username": "new.pharmacist",
        "full_name": "Nia Pharmacist",
        "email": "nia@example.org",
        "role": "site_staff",
        "password": "short",
    }
    page = browser.post("/admin/users/new", data=form)
    assert page.status_code == 200
    assert "Use at least 12 characters." in page.get_data(as_text=True)
    form["password"] = "a long enough first password"
    created = browser.post("/admin/users/new", data=form)
    assert created.status_code == 302
    assert "Nia Pharmacist" in browser.get(created.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert users.find_user(db.session, "new.pharmacist").role == Role.SITE_STAFF


def test_admin_deactivates_with_a_reason(app, factory):
    target = factory.user(Role.AUDITOR)
    browser = factory.signed_in(factory.user(Role.ADMIN))
    path = f"/admin/users/{target.id}/deactivate"
    token = csrf_token(browser, f"/admin/users/{target.id}")
    refused = browser.post(path, data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422
    assert "Give the reason" in refused.get_data(as_text=True)
    done = browser.post(path, data={"csrf_token": token, "reason": "Contract ended"})
    assert done.status_code == 302
    with app.app_context():
        assert not db.session.get(User, target.id).active


def test_user_list_searches_and_pages(factory):
    admin = factory.user(Role.ADMIN)
    for number in range(30):
        factory.user(Role.DELEGATE, username=f"delegate-{number:02d}")
    browser = factory.signed_in(admin)
    first = browser.get("/admin/users?role=delegate").get_data(as_text=True)
    assert "delegate-00" in first and "delegate-29" not in first
    assert "of 30" in first
    second = browser.get("/admin/users?role=delegate&page=2").get_data(as_text=True)
    assert "delegate-29" in second
    found = browser.get("/admin/users?q=delegate-07").get_data(as_text=True)
    assert "delegate-07" in found and "delegate-08" not in found


def test_tokens_page_shows_a_new_token_once_and_revokes_it(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    page = browser.post(
        "/account/tokens",
        data={"csrf_token": csrf_token(browser, "/account/tokens"), "name": "EHR"},
    ).get_data(as_text=True)
    assert "shown only once" in page
    again = browser.get("/account/tokens").get_data(as_text=True)
    assert "shown only once" not in again and "EHR" in again
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    token = csrf_token(browser, "/account/tokens")
    assert (
        browser.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_someone_elses_token_is_a_404(app, factory):
    owner = factory.user(Role.AUDITOR)
    factory.token(owner)
    other = factory.signed_in(factory.user(Role.AUDITOR))
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))
    response = other.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(other, "/account")}
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None


def test_audit_trail_filters_and_shows_an_event(factory):
    factory.user(Role.DELEGATE, username="findme")
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    listing = browser.get("/audit/events?action=user.created").get_data(as_text=True)
    assert "user.created" in listing and "auth.signed_in" not in listing
    detail = browser.get("/audit/events/1").get_data(as_text=True)
    assert "findme" in detail
    assert browser.get("/audit/events/9999").status_code == 404


def test_audit_export_is_formula_safe_csv(factory):
    factory.user(Role.DELEGATE, username="plain")
    app = factory.app
    with app.app_context():
        user = users.find_user(db.session, "plain")
        user.full_name = "=HYPERLINK(1)"  # what an attacker would type as a name
        from rems.audit.trail import record_event

        record_event(
            db.session, "user.renamed", actor=None, entity=user, reason="=cmd|' /C calc'!A0"
        )
        db.session.commit()
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    response = browser.get("/audit/events.csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    renamed = next(row for row in rows if row["action"] == "user.renamed")
    assert renamed["reason"] == "'=cmd|' /C calc'!A0"
    assert all(not value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())


def test_chain_status_page(factory):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    page = browser.get("/audit/verify").get_data(as_text=True)
    assert "intact" in page.lower()


def test_error_pages_are_friendly(factory):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    missing = browser.get("/no-such-page")
    assert missing.status_code == 404 and "<html" in missing.get_data(as_text=True)
    forbidden = browser.get("/admin/users/new")
    assert forbidden.status_code == 403 and "dashboard" in forbidden.get_data(as_text=True).lower()


def test_user_supplied_text_is_escaped(factory):
    factory.user(Role.DELEGATE, username="xss")
    app = factory.app
    with app.app_context():
        users.find_user(db.session, "xss").full_name = "<script>alert(1)</script>"
        db.session.commit()
    page = factory.signed_in(factory.user(Role.ADMIN)).get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
