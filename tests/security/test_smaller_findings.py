"""The smaller findings (issue 11, item 7): NUL characters in forms, the access log of patient
reads, trusted hosts and the __Host- cookie, deeply nested JSON, reactivated accounts' tokens.
(A dead database's 503 page is in test_errors; duplicates in tests/patients/test_pages.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from config import config_for
from rems import create_app
from rems.audit.access import RecordAccess
from rems.audit.models import AuditEvent
from rems.auth import users
from rems.auth.models import Role, User
from rems.extensions import db
from tests.factories import csrf_token
from tests.patients.helpers import prepare_patient, team
from tests.patients.pages import count_rows, post_form

# ---------- NUL characters ----------


def test_a_nul_in_the_sign_in_form_is_a_400_naming_the_field(client, factory):
    user = factory.user(Role.AUDITOR)
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in",
        data={"username": user.username + "\x00", "password": "x", "csrf_token": token},
    )
    assert response.status_code == 400
    assert "“username” contains a NUL character" in response.get_data(as_text=True)


def test_a_nul_is_never_stored(app, client):
    form = {"kind": "prescriber", "username": "dr.nul", "full_name": "Ada\x00 Nul",
            "email": "ada@example.org", "password": "a long enough new password",
            "confirm_password": "a long enough new password"}  # fmt: skip
    response = post_form(client, "/register", form)
    assert response.status_code == 400
    assert "“full_name”" in response.get_data(as_text=True)
    assert count_rows(app, User) == 0


def test_a_nul_in_a_web_query_string_is_a_400(factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    assert browser.get("/patients?q=a%00b").status_code == 400
    assert browser.get("/audit/events?actor=%00").status_code == 400


# ---------- The access log ----------


def _accesses(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(RecordAccess.channel, RecordAccess.entity_id, RecordAccess.actor_label,
                      RecordAccess.request_id).order_by(RecordAccess.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]


def test_reading_a_patient_is_logged_apart_from_the_chain(app, factory):
    admin = factory.user(Role.ADMIN)
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    patient = prepare_patient(app, ours.prescriber)
    reader, outsider = (factory.signed_in(t.prescriber.user) for t in (ours, theirs))
    token = factory.token(ours.prescriber.user)
    events = count_rows(app, AuditEvent)
    page = reader.get(f"/patients/{patient.rems_id}", headers={"X-Request-ID": "r-1"})
    assert page.status_code == 200
    headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "r-2"}
    answer = app.test_client().get(f"/api/v1/patients/{patient.rems_id}", headers=headers)
    assert answer.status_code == 200
    assert outsider.get(f"/patients/{patient.rems_id}").status_code == 404  # no read, no row
    who = ours.prescriber.user.username
    assert _accesses(app) == [
        ("page", patient.rems_id, who, "r-1"),
        ("api", patient.rems_id, who, "r-2"),
    ]
    assert count_rows(app, AuditEvent) == events  # reads never touch the hash chain


# ---------- Hosts, cookies, the OpenAPI server ----------


def test_a_forged_host_is_not_reflected_into_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json", headers={"Host": "evil.example"}).get_json()
    assert document["servers"] == [{"url": "/api/v1"}]


def test_trusted_hosts_refuse_any_other_host(database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                      "TRUSTED_HOSTS": ["rems.example.org"]})  # fmt: skip
    client = app.test_client()
    assert client.get("/sign-in", headers={"Host": "rems.example.org"}).status_code == 200
    forged = client.get("/sign-in", headers={"Host": "evil.example"})
    assert forged.status_code == 400 and "evil" not in forged.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_production_needs_trusted_hosts_and_uses_a_host_only_cookie(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "1")  # one process: memory:// limits are whole
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://rems@db.internal/rems")
    monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
    with pytest.raises(RuntimeError, match="TRUSTED_HOSTS"):
        config_for("production")
    monkeypatch.setenv("REMS_ENV", "production")
    monkeypatch.setenv("TRUSTED_HOSTS", "rems.example.org, rems-admin.example.org")
    app = create_app()
    assert app.config["TRUSTED_HOSTS"] == ["rems.example.org", "rems-admin.example.org"]
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    page = app.test_client().get("/sign-in", headers={"Host": "rems.example.org"})
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("__Host-rems_session=") and "Secure" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


# ---------- JSON and tokens ----------


def test_a_deeply_nested_json_body_is_a_400(client, factory):
    token = factory.token(factory.user(Role.AUDITOR))
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/authorizations", data=body,
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code in (400, 403)  # an auditor may not ask; never a 500
    staff_token = _pharmacy_token(client.application, factory)
    response = client.post("/api/v1/authorizations", data=body,
                           headers={"Authorization": f"Bearer {staff_token}",
                                    "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def _pharmacy_token(app, factory) -> str:
    from tests.authorizations.helpers import site_with_staff

    admin = factory.user(Role.ADMIN)
    return site_with_staff(app, factory, admin, dispenses=True, infuses=False, name="Deep")[1]


def test_reactivating_an_account_does_not_revive_its_tokens(app, client, factory):
    user, admin = factory.user(Role.AUDITOR), factory.user(Role.ADMIN)
    token = factory.token(user)
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    for active in (False, True):
        with app.app_context():
            users.set_active(db.session, db.session.get(User, user.id), active,
                             actor=db.session.get(User, admin.id), reason="test")  # fmt: skip
            db.session.commit()
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    revoked = count_rows(app, AuditEvent, AuditEvent.action == "api_token.revoked")
    assert revoked == 1
