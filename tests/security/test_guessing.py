"""Password guessing: the signature oracle, sign-in delays and the proxy, common passwords,
registration's throttle (issue 11, items 1, 5 and 6)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from rems import create_app
from rems.audit.models import AuditEvent
from rems.auth import signatures, users
from rems.auth.models import LoginAttempt, Role
from rems.auth.passwords import COMMON_PASSWORD
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.prescribers import services
from tests.factories import PASSWORD, Factory, sign_in
from tests.prescribers.helpers import (
    SIGN_PATH,
    attestations,
    complete_form,
    count,
    post_page,
    register,
)


def _actions(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _ready_to_sign(app, factory):
    """A prescriber whose form and assessment are done: only the signature is left."""
    user = factory.user(Role.PRESCRIBER)
    with app.app_context(), writing():
        account = users.find_user(db.session, user.username)
        prescriber = services.save_enrollment_form(
            db.session, account, complete_form(), today=today()
        )
        questions = app.extensions["rems_program"].assessment.questions
        services.record_assessment(
            db.session, prescriber, account, order=[q.id for q in questions],
            answers={q.id: q.answer for q in questions}, started_at=prescriber.created_at,
        )  # fmt: skip
        db.session.commit()
    return user


# ---------- 1. The signing password is no guessing oracle ----------


def test_a_wrong_signature_password_is_recorded_although_the_form_rolls_back(db, factory):
    user = factory.user(Role.PRESCRIBER)
    signer = users.find_user(db.session, user.username)
    with pytest.raises(ValidationFailed) as failure:
        signatures.sign(db.session, signer, password="guess", meaning="m", content={"a": 1})
    assert failure.value.errors == {"password": [signatures.WRONG_PASSWORD]}
    db.session.rollback()  # what every form does with a refused signature
    failed = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "signature.failed")
    ).all()
    assert [(e.actor_id, e.new_values) for e in failed] == [(signer.id, {"meaning": "m"})]
    attempts = db.session.scalars(sa.select(LoginAttempt)).all()
    assert [(a.username, a.succeeded) for a in attempts] == [(user.username, False)]


def test_wrong_signature_passwords_end_the_session_at_the_limit(app, factory):
    user = _ready_to_sign(app, factory)
    browser = factory.signed_in(user)
    for _ in range(4):
        page = post_page(browser, SIGN_PATH, attestations(app) | {"password": "a guess!"})
        assert signatures.WRONG_PASSWORD in page.get_data(as_text=True)
    last = post_page(browser, SIGN_PATH, attestations(app) | {"password": "a guess!"})
    assert "you are signed out" in last.get_data(as_text=True)
    assert browser.get("/dashboard").headers["Location"].startswith("/sign-in")
    assert len(_actions(app, "signature.failed")) == 5
    signed_out = _actions(app, "auth.signed_out")
    assert [e.reason for e in signed_out] == [signatures.LOCKOUT_REASON]
    with app.app_context():
        assert count(app, LoginAttempt, ~LoginAttempt.succeeded) == 5


def test_signature_failures_and_sign_in_failures_share_one_count(app, client, factory, clock):
    user = _ready_to_sign(app, factory)
    for _ in range(3):
        sign_in(client, user.username, "wrong password!")
    clock.advance(minutes=1)
    browser = factory.signed_in(user)
    post_page(browser, SIGN_PATH, attestations(app) | {"password": "a guess!"})
    last = post_page(browser, SIGN_PATH, attestations(app) | {"password": "a guess!"})
    assert "you are signed out" in last.get_data(as_text=True)


# ---------- 5. Sign-in: no timing oracle, a growing delay, the proxy, the dashboard ----------


def test_an_unknown_username_costs_no_extra_hash(app, client, factory, monkeypatch):
    factory.user(Role.AUDITOR)
    calls = []
    original = PasswordHasher.hash
    monkeypatch.setattr(
        PasswordHasher, "hash", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    for name in ("ghost-1", "ghost-2", "ghost-3"):
        assert sign_in(client, name, "a guess").status_code == 200
    assert len(calls) <= 1  # the dummy hash is made once per app, never per sign-in


def test_the_right_password_works_after_a_short_growing_wait(app, client, factory, clock):
    user = factory.user(Role.AUDITOR)
    for _ in range(5):
        assert sign_in(client, user.username, "wrong password!").status_code == 200
    refused = sign_in(client, user.username, user.password)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert "Wait 2 seconds" in refused.get_data(as_text=True)
    clock.advance(seconds=2)
    assert sign_in(client, user.username, "wrong again!!").status_code == 200
    assert sign_in(client, user.username, user.password).headers["Retry-After"] == "4"
    clock.advance(seconds=4)
    assert sign_in(client, user.username, user.password).status_code == 302


def _failures_from(client, address: str, count: int) -> None:
    for number in range(count):
        headers = {"X-Forwarded-For": address}
        token = client.get("/sign-in", headers=headers).get_data(as_text=True)
        token = token.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post(
            "/sign-in",
            data={"username": f"guess-{number}", "password": "x", "csrf_token": token},
            headers=headers,
        )


@pytest.fixture
def proxied_app(database_url, clock):
    """The app behind one trusted proxy, failing sign-ins throttled after 2 (20 per address)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TRUSTED_PROXY_HOPS": 1,
                      "REMS_LOGIN_MAX_FAILURES": 2})  # fmt: skip
    app.extensions["rems_clock"] = clock
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_behind_the_proxy_one_address_failing_locks_out_only_itself(proxied_app):
    app, factory = proxied_app, Factory(proxied_app)
    user = factory.user(Role.AUDITOR)
    attacker, colleague = app.test_client(), app.test_client()
    _failures_from(attacker, "203.0.113.5", 20)
    with app.app_context():
        ips = set(db.session.scalars(sa.select(LoginAttempt.ip)))
    assert ips == {"203.0.113.5"}
    token = colleague.get("/sign-in", headers={"X-Forwarded-For": "198.51.100.7"})
    token = token.get_data(as_text=True).split('type="hidden" value="')[1].split('"')[0]
    form = {"username": user.username, "password": user.password, "csrf_token": token}
    ok = colleague.post("/sign-in", data=form, headers={"X-Forwarded-For": "198.51.100.7"})
    assert ok.status_code == 302
    again = attacker.get("/sign-in", headers={"X-Forwarded-For": "203.0.113.5"})
    token = again.get_data(as_text=True).split('type="hidden" value="')[1].split('"')[0]
    form["csrf_token"] = token
    refused = attacker.post("/sign-in", data=form, headers={"X-Forwarded-For": "203.0.113.5"})
    assert refused.status_code == 429


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app, client):
    _failures_from(client, "203.0.113.5", 1)
    with app.app_context():
        assert set(db.session.scalars(sa.select(LoginAttempt.ip))) == {"127.0.0.1"}


def test_repeated_lockouts_reach_the_administrators_dashboard(app, client, factory, clock):
    victim = factory.user(Role.AUDITOR, username="victim.user")
    for _ in range(5):
        sign_in(client, victim.username, "wrong password!")
    for _ in range(3):
        assert sign_in(client, victim.username, "wrong password!").status_code == 429
    admin = factory.signed_in(factory.user(Role.ADMIN))
    page = admin.get("/dashboard").get_data(as_text=True)
    section = page.split('id="lockouts-title"')[1].split("</section>")[0]
    assert "victim.user" in section
    assert "<td>3</td>" in section
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert "lockouts-title" not in auditor.get("/dashboard").get_data(as_text=True)


# ---------- 6. Passwords: common ones refused; registration throttled ----------


@pytest.mark.parametrize(
    "password", ["password1234", "Qwertyuiop123", "Summer2026!!!!", "1q2w3e4r5t6y"]
)
def test_common_passwords_are_refused(db, password):
    with pytest.raises(ValidationFailed) as failure:
        users.create_user(
            db.session, actor=None, actor_label="test", username="new.user",
            email="new@example.org", full_name="New User", role=Role.AUDITOR, password=password,
        )  # fmt: skip
    assert COMMON_PASSWORD in failure.value.errors["password"]


def test_a_password_containing_the_username_is_refused(client):
    form = {"kind": "prescriber", "username": "grace.h", "full_name": "Grace H",
            "email": "g@example.org", "password": "My name is Grace.H, hello",
            "confirm_password": "My name is Grace.H, hello"}  # fmt: skip
    refused = post_page(client, "/register", form)
    assert "The password must not contain the username." in refused.get_data(as_text=True)


def test_a_passphrase_of_ones_own_is_accepted(db):
    users.create_user(
        db.session, actor=None, actor_label="test", username="new.user", email="n@example.org",
        full_name="New User", role=Role.AUDITOR, password=PASSWORD,
    )  # fmt: skip


def test_self_registration_is_throttled_per_address(app):
    app.config["REMS_REGISTRATION_LIMIT"] = "3 per hour"
    for number in range(3):
        page = register(app.test_client(), username=f"dr.number{number}", confirm="differs!")
        assert page.status_code == 200
    refused = register(app.test_client(), username="dr.fourth")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert count(app, AuditEvent, AuditEvent.action == "user.created") == 0
