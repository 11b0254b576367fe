"""Web sessions: sign-in, server-side sign-out, timeouts, throttling, CSRF, headers."""

from __future__ import annotations

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth import users
from rems.auth.models import Role
from rems.auth.signin import INVALID_CREDENTIALS
from rems.extensions import db
from tests.factories import csrf_token, sign_in


def _copy_cookie(source, target) -> None:
    """What an attacker who stole the session cookie would do."""
    cookie = source.get_cookie("rems_session")
    assert cookie is not None
    target.set_cookie("rems_session", cookie.value)


def _is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_sign_in_redirects_to_the_dashboard(client, factory):
    user = factory.user(Role.AUDITOR)
    response = sign_in(client, user.username, user.password)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Test Auditor" in page


def test_sign_in_follows_only_local_next_links(client, factory):
    user = factory.user(Role.AUDITOR)
    response = sign_in(client, user.username, user.password, next_path="/audit/events")
    assert response.headers["Location"] == "/audit/events"
    other = factory.app.test_client()
    response = sign_in(other, user.username, user.password, next_path="https://evil.example/")
    assert response.headers["Location"] == "/dashboard"


def test_unknown_user_and_wrong_password_get_the_same_answer(client, factory):
    user = factory.user(Role.AUDITOR)
    wrong = sign_in(client, user.username, "not the password")
    unknown = sign_in(client, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert INVALID_CREDENTIALS.replace("'", "&#39;") in response.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_no_remember_me_cookie_is_ever_set(client, factory):
    user = factory.user(Role.AUDITOR)
    response = sign_in(client, user.username, user.password)
    assert "remember_token" not in response.headers.get("Set-Cookie", "")
    assert client.get_cookie("remember_token") is None
    assert "remember" not in client.get("/sign-in").get_data(as_text=True).lower()


def test_sign_out_kills_a_copied_cookie(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    thief = app.test_client()
    _copy_cookie(browser, thief)
    assert _is_signed_in(thief)
    token = csrf_token(browser, "/account")
    assert browser.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert not _is_signed_in(browser)
    assert not _is_signed_in(thief)


def test_password_change_kills_other_sessions_but_keeps_this_one(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    thief = app.test_client()
    _copy_cookie(browser, thief)
    token = csrf_token(browser, "/account/password")
    response = browser.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": user.password,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert _is_signed_in(browser)
    assert not _is_signed_in(thief)


def test_deactivation_kills_a_live_session(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    admin = factory.user(Role.ADMIN)
    with app.app_context():
        users.set_active(
            db.session, users.find_user(db.session, user.username), False,
            actor=users.find_user(db.session, admin.username), reason="left",
        )  # fmt: skip
        db.session.commit()
    assert not _is_signed_in(browser)
    assert sign_in(browser, user.username, user.password).status_code == 200


def test_idle_timeout_ends_the_session(factory, clock):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    clock.advance(minutes=14, seconds=59)
    assert _is_signed_in(browser)
    clock.advance(minutes=14, seconds=59)
    assert _is_signed_in(browser)  # activity keeps it alive
    clock.advance(minutes=15, seconds=1)
    response = browser.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


def test_absolute_timeout_ends_even_an_active_session(factory, clock):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    for _ in range(12 * 6):  # active every ten minutes for twelve hours
        clock.advance(minutes=10)
        assert _is_signed_in(browser)
    clock.advance(minutes=1)  # 12 h 1 min after signing in, 1 min after the last request
    assert not _is_signed_in(browser)


def test_repeated_failures_throttle_the_username(app, client, factory, clock):
    user = factory.user(Role.AUDITOR)
    for _ in range(5):
        assert sign_in(client, user.username, "wrong password!").status_code == 200
    throttled = sign_in(client, user.username, user.password)
    assert throttled.status_code == 429
    assert "Too many failed sign-in attempts" in throttled.get_data(as_text=True)
    unknown = sign_in(client, "no-such-user", "x")  # an unknown name is not told apart
    assert unknown.status_code == 200
    clock.advance(minutes=16)
    assert sign_in(client, user.username, user.password).status_code == 302
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action)))
        assert actions.count("auth.sign_in_failed") == 6
        assert actions.count("auth.sign_in_throttled") == 1


def test_throttling_applies_to_unknown_usernames_too(client):
    for _ in range(5):
        sign_in(client, "ghost", "guess")
    assert sign_in(client, "ghost", "guess").status_code == 429


def test_post_without_csrf_token_is_refused(factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    response = browser.post("/sign-out")
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert _is_signed_in(browser)
    forged = browser.post("/account/tokens", data={"name": "x", "csrf_token": "forged"})
    assert forged.status_code == 400


def test_forged_session_cookie_is_ignored(client, factory):
    factory.user(Role.AUDITOR)
    client.set_cookie("rems_session", "eyJfdXNlcl9pZCI6IjE6eCJ9.forged.signature")
    assert not _is_signed_in(client)


def test_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = client.get_cookie("rems_session")
    assert cookie is None or cookie.http_only


def test_session_cookie_is_httponly_and_samesite(client, factory):
    user = factory.user(Role.AUDITOR)
    response = sign_in(client, user.username, user.password)
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header
