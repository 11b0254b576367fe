"""Passwords typed again while signed in (issue 22, items 1 and 7): the change-password page and
an administrator's reset count with sign-in and signature failures, are recorded, and end the
session at the limit; a reset password signs nothing until its owner chooses their own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth import guesses, own_password, resets, signatures, users
from rems.auth.models import LoginAttempt, Role, User
from rems.auth.passwords import REPETITIVE, SEQUENCE, password_problems
from rems.common.errors import ValidationFailed
from rems.extensions import db
from tests.factories import PASSWORD, csrf_token, sign_in

NEW = "a quiet meadow after rain"
PAGE = "/account/password"


def _change(browser, current: str, new: str = NEW):
    token = csrf_token(browser, PAGE)
    form = {"csrf_token": token, "current_password": current, "new_password": new,
            "confirm_password": new}  # fmt: skip
    return browser.post(PAGE, data=form)


def _actions(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _password_hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).password_hash


# ---------- 1. The change-password page is no oracle ----------


def test_each_wrong_current_password_is_recorded(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    page = _change(browser, "a wrong guess")
    assert own_password.WRONG_CURRENT in page.get_data(as_text=True)
    [failed] = _actions(app, "user.password_change_failed")
    assert failed.actor_id == user.id
    with app.app_context():
        failed_checks = sa.select(LoginAttempt).where(~LoginAttempt.succeeded)
        attempts = db.session.scalars(failed_checks).all()
        assert [a.username for a in attempts] == [user.username]


def test_wrong_current_passwords_end_the_session_at_the_limit(app, factory):
    user = factory.user(Role.AUDITOR)
    before = _password_hash(app, user.id)
    browser = factory.signed_in(user)
    for _ in range(4):
        assert own_password.WRONG_CURRENT in _change(browser, "a guess").get_data(as_text=True)
    last = _change(browser, "a guess")
    assert "you are signed out" in last.get_data(as_text=True)
    # The session is dead: the right password cannot be tried with it any more.
    assert browser.get(PAGE).headers["Location"].startswith("/sign-in")
    assert _change_refused_without_session(browser)
    assert _password_hash(app, user.id) == before
    assert len(_actions(app, "user.password_change_failed")) == 5
    ended = _actions(app, "auth.signed_out")
    assert [e.reason for e in ended] == [guesses.LOCKOUT_REASON]


def _change_refused_without_session(browser) -> bool:
    answer = browser.post(PAGE, data={"current_password": PASSWORD, "new_password": NEW,
                                      "confirm_password": NEW})  # fmt: skip
    return answer.status_code in (302, 400)


def test_change_password_failures_count_with_sign_in_failures(app, client, factory, clock):
    user = factory.user(Role.AUDITOR)
    for _ in range(3):
        sign_in(client, user.username, "wrong password!")
    clock.advance(minutes=1)
    browser = factory.signed_in(user)
    _change(browser, "a guess")
    last = _change(browser, "a guess")
    assert "you are signed out" in last.get_data(as_text=True)


def test_the_right_current_password_still_changes_it(app, factory):
    user = factory.user(Role.AUDITOR)
    browser = factory.signed_in(user)
    _change(browser, "one wrong guess")
    done = _change(browser, PASSWORD)
    assert done.status_code == 302
    assert _password_hash(app, user.id) != PASSWORD
    assert len(_actions(app, "user.password_changed")) == 1


# ---------- 7. An administrator's reset ----------


def _reset(browser, user_id: int, admin_password: str):
    path = f"/admin/users/{user_id}/reset-password"
    token = csrf_token(browser, path)
    return browser.post(path, data={"csrf_token": token, "admin_password": admin_password,
                                    "reason": "called in"})  # fmt: skip


def test_a_reset_asks_for_the_administrators_own_password(app, factory):
    admin, user = factory.user(Role.ADMIN), factory.user(Role.AUDITOR)
    browser = factory.signed_in(admin)
    before = _password_hash(app, user.id)
    refused = _reset(browser, user.id, "not my password")
    assert refused.status_code == 422
    assert resets.WRONG_OWN in refused.get_data(as_text=True)
    assert _password_hash(app, user.id) == before
    assert not _actions(app, "user.password_reset")
    [failed] = _actions(app, "user.reauthentication_failed")
    assert failed.actor_id == admin.id
    missing = _reset(browser, user.id, "")
    assert missing.status_code == 422 and _password_hash(app, user.id) == before
    assert _reset(browser, user.id, PASSWORD).status_code == 200
    assert _password_hash(app, user.id) != before


def test_the_service_refuses_a_reset_without_the_administrators_password(db, factory):
    admin, user = factory.user(Role.ADMIN), factory.user(Role.AUDITOR)
    actor = db.session.get(User, admin.id)
    with pytest.raises(ValidationFailed) as failure:
        resets.reset_password(db.session, db.session.get(User, user.id), actor=actor)
    assert list(failure.value.errors) == ["admin_password"]


def test_a_reset_password_signs_nothing_until_its_owner_chooses_one(db, factory):
    admin, user = factory.user(Role.ADMIN), factory.user(Role.PRESCRIBER)
    account = db.session.get(User, user.id)
    temporary = resets.reset_password(db.session, account, actor=db.session.get(User, admin.id),
                                      actor_password=PASSWORD)  # fmt: skip
    db.session.commit()
    with pytest.raises(ValidationFailed) as failure:
        signatures.sign(db.session, account, password=temporary, meaning="m", content={"a": 1})
    assert failure.value.errors == {"password": [signatures.MUST_CHANGE_FIRST]}
    own_password.change_password(db.session, account, current_password=temporary,
                                 new_password=NEW)  # fmt: skip
    signed = signatures.sign(db.session, account, password=NEW, meaning="m", content={"a": 1})
    assert signed.printed_name == account.full_name
    assert users.find_user(db.session, user.username).must_change_password is False


# ---------- 10. Sequences and repetitions are no passwords ----------


@pytest.mark.parametrize(
    ("password", "problem"),
    [("123456789012", SEQUENCE), ("987654321098", SEQUENCE), ("abcdefghijklm", SEQUENCE),
     ("qwertyuiopas", SEQUENCE), ("ABCDEFGHIJKL", SEQUENCE), ("abcabcabcabc", REPETITIVE),
     ("121212121212", REPETITIVE)],
)  # fmt: skip
def test_sequences_and_repetitions_are_refused(app, password, problem):
    with app.app_context():
        assert password_problems(password, "casey") == [problem]


@pytest.mark.parametrize("password", [NEW, PASSWORD, "Tr0ub4dor&3 horse"])
def test_passphrases_are_not_mistaken_for_sequences(app, password):
    with app.app_context():
        assert password_problems(password, "casey") == []
