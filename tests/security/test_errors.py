"""What failures show and log (issue 11, items 3 and 7): database errors are logged by class and
request id, never with their values; a dead database gives a 503 page, not a bare 500."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from rems import create_app
from rems.auth.models import Role
from rems.extensions import db
from tests.factories import Factory, csrf_token

REFUSE_SQLITE = """CREATE TRIGGER refuse_account_update BEFORE UPDATE ON user_account
BEGIN SELECT RAISE(ABORT, 'refused for the test'); END"""
REFUSE_POSTGRES = [
    """CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$""",
    """CREATE TRIGGER refuse_account_update BEFORE UPDATE ON user_account
    FOR EACH ROW EXECUTE FUNCTION refuse_for_test()""",
]
SECRET_LOOKING = re.compile(r"\$argon2|[0-9a-f]{64}")


def _served_app(url: str, clock):
    """The app as a server runs it: unexpected errors are caught, logged and answered."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    app.extensions["rems_clock"] = clock
    return app


@pytest.fixture
def served_app(database_url, clock):
    app = _served_app(database_url, clock)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _refuse_account_updates(app) -> None:
    with app.app_context(), db.engine.begin() as connection:
        statements = REFUSE_POSTGRES if connection.dialect.name == "postgresql" else [REFUSE_SQLITE]
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_a_database_error_is_logged_without_its_values(served_app, caplog):
    user = Factory(served_app).user(Role.AUDITOR)
    browser = Factory(served_app).signed_in(user)
    _refuse_account_updates(served_app)
    token = csrf_token(browser, "/account/password")
    new = "an entirely new passphrase"
    with caplog.at_level(logging.INFO):
        response = browser.post(
            "/account/password",
            data={"csrf_token": token, "current_password": user.password,
                  "new_password": new, "confirm_password": new},
            headers={"X-Request-ID": "probe-4711"},
        )  # fmt: skip
    assert response.status_code == 500
    logged = caplog.text
    assert not SECRET_LOOKING.search(logged), logged  # no argon2 hash, no session token
    assert new not in logged and "UPDATE" not in logged
    assert "probe-4711" in logged
    assert "database error: " in logged and "SQLSTATE" in logged  # its class, not its values


def test_the_engine_hides_bound_values_from_error_messages(served_app):
    Factory(served_app).user(Role.AUDITOR)
    _refuse_account_updates(served_app)
    update = sa.text("UPDATE user_account SET password_hash = :h")
    with (
        served_app.app_context(),
        pytest.raises(sa.exc.DBAPIError) as failure,
        db.engine.begin() as connection,
    ):
        connection.execute(update, {"h": "$argon2id$secret"})
    assert "$argon2id$secret" not in str(failure.value)


def test_web_pages_answer_503_when_the_database_is_down(app, factory, tmp_path, clock, caplog):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    on_postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    gone = (
        "postgresql://postgres@127.0.0.1:1/nowhere"
        if on_postgres
        else f"sqlite:///{tmp_path}/missing-directory/rems.sqlite3"
    )
    down = _served_app(gone, clock)
    stranded = down.test_client()
    stranded.set_cookie("rems_session", browser.get_cookie("rems_session").value)
    with caplog.at_level(logging.INFO):
        page = stranded.get("/dashboard", headers={"X-Request-ID": "probe-down"})
    assert page.status_code == 503
    assert "briefly unavailable" in page.get_data(as_text=True)
    assert "probe-down" in caplog.text
    api = down.test_client().get("/api/v1/me", headers={"Authorization": "Bearer rems_x"})
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "service_unavailable"
