"""Administrators reset forgotten passwords and unlock accounts (page and command line); the user
must then choose a new password before anything else."""

from __future__ import annotations

import re

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.auth.passwords import COMMON_PASSWORD
from rems.extensions import db
from rems.notifications.models import Notification
from tests.factories import PASSWORD, csrf_token, sign_in

SECRET_RE = re.compile(r'<p class="token-secret"><code>([^<]+)</code></p>')
NEW_PASSWORD = "a quiet meadow after rain"


def _reset_on_the_page(admin_client, user_id: int) -> str:
    """Confirm the reset as an administrator; the temporary password the answer shows."""
    path = f"/admin/users/{user_id}/reset-password"
    confirm = admin_client.get(path)
    assert confirm.status_code == 200 and "Reset the password" in confirm.get_data(as_text=True)
    token = csrf_token(admin_client, path)
    done = admin_client.post(path, data={"csrf_token": token, "reason": "forgot it, called in",
                                         "admin_password": PASSWORD})  # fmt: skip
    assert done.status_code == 200
    match = SECRET_RE.search(done.get_data(as_text=True))
    assert match, "the temporary password is shown on the answer"
    return match.group(1)


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _account(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def test_a_reset_ends_sessions_and_forces_a_new_password_before_anything_else(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.AUDITOR)
    their_browser = factory.signed_in(user)
    admin_client = factory.signed_in(admin)
    detail = admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert f"/admin/users/{user.id}/reset-password" in detail

    temporary = _reset_on_the_page(admin_client, user.id)
    assert their_browser.get("/account").status_code == 302  # the old session is dead
    assert sign_in(app.test_client(), user.username, user.password).status_code == 200  # refused
    stored = _account(app, user.id)
    assert stored.must_change_password and stored.password_hash.startswith("$argon2id$")
    assert temporary not in stored.password_hash
    assert temporary not in admin_client.get(f"/admin/users/{user.id}").get_data(as_text=True)

    browser = app.test_client()
    signed = sign_in(browser, user.username, temporary, next_path="/audit/events")
    assert signed.headers["Location"] == "/account/password"
    for path in ("/dashboard", "/audit/events", "/account", "/admin/users"):
        response = browser.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/account/password"
    page = browser.get("/account/password").get_data(as_text=True)
    assert "An administrator reset your password" in page and 'href="/audit/events"' not in page

    events = _events(app, "user.password_reset")
    assert [(e.actor_label, e.entity_id, e.reason) for e in events] == [
        (admin.username, str(user.id), "forgot it, called in")
    ]
    with app.app_context():
        trail = " ".join(
            str((e.old_values, e.new_values, e.reason))
            for e in db.session.scalars(sa.select(AuditEvent))
        )
        told = db.session.scalar(
            sa.select(Notification).where(Notification.recipient_id == user.id)
        )
    assert temporary not in trail
    assert told.kind == "account.password_reset" and temporary not in told.body


def test_the_new_password_must_pass_the_policy_then_every_page_opens_again(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.AUDITOR)
    temporary = _reset_on_the_page(factory.signed_in(admin), user.id)
    browser = app.test_client()
    sign_in(browser, user.username, temporary)
    token = csrf_token(browser, "/account/password")

    def change(new: str):
        values = {"current_password": temporary, "new_password": new, "confirm_password": new}
        return browser.post("/account/password", data={"csrf_token": token, **values})

    common = change("Password2026!")
    assert common.status_code == 200
    assert COMMON_PASSWORD.replace("'", "&#39;") in common.get_data(as_text=True)
    assert browser.get("/dashboard").status_code == 302

    done = change(NEW_PASSWORD)
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard"
    assert browser.get("/dashboard").status_code == 200
    assert browser.get("/audit/events").status_code == 200
    assert not _account(app, user.id).must_change_password
    assert sign_in(app.test_client(), user.username, NEW_PASSWORD).status_code == 302


def test_sign_out_stays_reachable_before_the_new_password(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.DELEGATE)
    temporary = _reset_on_the_page(factory.signed_in(admin), user.id)
    browser = app.test_client()
    sign_in(browser, user.username, temporary)
    token = csrf_token(browser, "/account/password")
    out = browser.post("/sign-out", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"] == "/sign-in"


def test_unlock_lets_a_throttled_user_sign_in_at_once(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.PRESCRIBER)
    for _ in range(app.config["REMS_LOGIN_MAX_FAILURES"]):
        sign_in(app.test_client(), user.username, "not the password")
    assert sign_in(app.test_client(), user.username, user.password).status_code == 429

    admin_client = factory.signed_in(admin)
    path = f"/admin/users/{user.id}/unlock"
    confirm = admin_client.get(path).get_data(as_text=True)
    assert "Unlock the account" in confirm and "has 5 failed sign-in(s)" in confirm
    assert sign_in(app.test_client(), user.username, user.password).status_code == 429  # not yet
    done = admin_client.post(path, data={"csrf_token": csrf_token(admin_client, path)})
    assert done.status_code == 302
    assert sign_in(app.test_client(), user.username, user.password).status_code == 302
    assert not _account(app, user.id).must_change_password  # the password did not change
    [event] = _events(app, "user.unlocked")
    assert event.actor_label == admin.username and event.old_values == {"failed_sign_ins": 5}


def test_a_reset_also_clears_the_failed_sign_ins(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.PRESCRIBER)
    for _ in range(app.config["REMS_LOGIN_MAX_FAILURES"]):
        sign_in(app.test_client(), user.username, "not the password")
    temporary = _reset_on_the_page(factory.signed_in(admin), user.id)
    assert sign_in(app.test_client(), user.username, temporary).status_code == 302


def test_the_actions_need_csrf_and_an_administrator(app, factory):
    admin = factory.user(Role.ADMIN)
    user = factory.user(Role.DELEGATE)
    before = _account(app, user.id).password_hash
    admin_client = factory.signed_in(admin)
    forged = admin_client.post(f"/admin/users/{user.id}/reset-password", data={})
    assert forged.status_code in (400, 422)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    page = auditor.get(f"/admin/users/{user.id}")
    assert page.status_code == 200 and "reset-password" not in page.get_data(as_text=True)
    token = csrf_token(auditor, f"/admin/users/{user.id}")
    for action in ("reset-password", "unlock"):
        path = f"/admin/users/{user.id}/{action}"
        assert auditor.get(path).status_code == 403
        assert auditor.post(path, data={"csrf_token": token}).status_code == 403
    assert _account(app, user.id).password_hash == before
    assert not _events(app, "user.password_reset") and not _events(app, "user.unlocked")


def test_an_administrator_cannot_reset_their_own_password_here(app, factory):
    admin = factory.user(Role.ADMIN)
    client = factory.signed_in(admin)
    response = client.get(f"/admin/users/{admin.id}/reset-password")
    assert response.status_code == 302
    assert "change it on your account page" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_the_command_line_prints_a_temporary_password_once(app, factory, runner):
    user = factory.user(Role.AUDITOR)
    result = runner.invoke(args=["rems", "reset-password", user.username])
    assert result.exit_code == 0, result.output
    temporary = result.output.strip().splitlines()[-1]
    assert sign_in(app.test_client(), user.username, user.password).status_code == 200
    signed = sign_in(app.test_client(), user.username, temporary)
    assert signed.headers["Location"] == "/account/password"
    [event] = _events(app, "user.password_reset")
    assert event.actor_label == "cli:reset-password" and temporary not in str(event.new_values)


def test_the_command_line_reads_a_typed_password_and_checks_it(app, factory, runner):
    user = factory.user(Role.AUDITOR)
    weak = runner.invoke(args=["rems", "reset-password", user.username, "--prompt"],
                         input="password\npassword\n")  # fmt: skip
    assert weak.exit_code == 1 and "Error: password:" in weak.output
    typed = "handed over on paper 42"
    result = runner.invoke(
        args=["rems", "reset-password", user.username, "--prompt"], input=f"{typed}\n{typed}\n"
    )
    assert result.exit_code == 0 and typed not in result.output
    assert sign_in(app.test_client(), user.username, typed).status_code == 302
    unknown = runner.invoke(args=["rems", "reset-password", "nobody-here"])
    assert unknown.exit_code == 1 and "No user named 'nobody-here'" in unknown.output


def test_the_command_line_unlocks(app, factory, runner):
    user = factory.user(Role.PRESCRIBER)
    for _ in range(app.config["REMS_LOGIN_MAX_FAILURES"]):
        sign_in(app.test_client(), user.username, "not the password")
    assert sign_in(app.test_client(), user.username, user.password).status_code == 429
    result = runner.invoke(args=["rems", "unlock-user", user.username])
    assert result.exit_code == 0 and "5 failed sign-in(s)" in result.output
    assert sign_in(app.test_client(), user.username, user.password).status_code == 302
    [event] = _events(app, "user.unlocked")
    assert event.actor_label == "cli:unlock-user"
