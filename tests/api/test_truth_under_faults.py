"""What a client is told when the database connection dies around a write (PostgreSQL).

The connection is killed with pg_terminate_backend from a second connection at the exact
moment under test, and the database then refuses new connections until the answer is out (a
failover or a network cut): right after the commit the answer must still be the truth (the dose
is on record, so 201); during the commit it must say the outcome is unknown, and a retry with
the same Idempotency-Key then tells which; a failed end-of-request rollback never replaces the
answer. Plus the last-resort guard that keeps HTML pages out of /api.
"""

from __future__ import annotations

import json
from datetime import timedelta

import flask
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.errors import JsonErrorsUnderApi
from rems.extensions import db
from rems.infusions.models import Infusion
from tests.authorizations.helpers import gate, infusion, on_day


def _post(client, token, path, body, **headers):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}", **headers})


class Outage:
    """Kills the app's database connection on cue and refuses new ones while it lasts."""

    def __init__(self, app):
        self.app = app
        self.armed = False
        self.down = False
        url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
        self.admin_url = url.render_as_string(hide_password=False)
        with app.app_context():
            sa.event.listen(db.engine, "do_connect", self._refuse)

    def _refuse(self, *_args):
        if self.down:
            raise psycopg.OperationalError("connection refused: the database is down")

    def kill(self, dbapi_connection) -> None:
        """Terminate this connection's backend, then keep the database 'down'."""
        self.armed = False
        pid = dbapi_connection.info.backend_pid
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            # Wait until the backend is gone (5 s at most): the connection is dead, not dying.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        self.down = True

    def over(self) -> None:
        self.armed = self.down = False


@pytest.fixture
def outage(app):
    outage = Outage(app)
    yield outage
    outage.over()


@pytest.fixture
def after_commit_kill(outage):
    """Arms a kill of the connection that just committed, before the answer is built."""
    victims = {}

    def remember(session):
        if outage.armed:
            victims["connection"] = session.connection().connection.dbapi_connection

    def strike(_session):
        if outage.armed and "connection" in victims:
            outage.kill(victims.pop("connection"))

    sa.event.listen(Session, "before_commit", remember)
    sa.event.listen(Session, "after_commit", strike)
    yield outage
    sa.event.remove(Session, "before_commit", remember)
    sa.event.remove(Session, "after_commit", strike)


def _authorized(client, world) -> str:
    response = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert response.status_code == 201
    return response.get_json()["authorization_number"]


def _doses_on_record(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Infusion))


@pytest.mark.postgres
def test_an_infusion_committed_before_the_connection_died_is_answered_201(
    app, client, factory, clock, after_commit_kill
):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_authorized(client, world)}/infusions"
    after_commit_kill.armed = True
    on_day(clock, clock.now().date() + timedelta(days=2))
    response = _post(client, world.nurse_token, path, infusion(clock.now().date()))
    assert after_commit_kill.down, "the connection was not killed"
    after_commit_kill.over()
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dose_number"] == 1
    assert _doses_on_record(app) == 1


@pytest.mark.postgres
def test_a_reversal_committed_before_the_connection_died_is_answered_200(
    app, client, factory, after_commit_kill
):
    world = gate(app, factory)
    number = _authorized(client, world)
    after_commit_kill.armed = True
    response = _post(
        client, world.pharmacy_token, f"/api/v1/authorizations/{number}/reversal", {"reason": "x"}
    )
    assert after_commit_kill.down
    after_commit_kill.over()
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "reversed"
    read = client.get(
        f"/api/v1/authorizations/{number}",
        headers={"Authorization": f"Bearer {world.pharmacy_token}"},
    )
    assert read.get_json()["status"] == "reversed"


@pytest.mark.postgres
def test_a_connection_lost_during_the_commit_is_reported_as_unknown_and_a_retry_settles_it(
    app, client, factory, clock, outage
):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_authorized(client, world)}/infusions"

    committing = []

    def note(_session):  # the request's own commit, not the token's last-use write
        committing.append(True)

    def strike(connection):
        if outage.armed and committing:
            outage.kill(connection.connection.dbapi_connection)

    sa.event.listen(Session, "before_commit", note)
    with app.app_context():
        sa.event.listen(db.engine, "commit", strike)
    key = {"Idempotency-Key": "dose-1"}
    on_day(clock, clock.now().date() + timedelta(days=2))
    record = infusion(clock.now().date())
    outage.armed = True
    try:
        lost = _post(client, world.nurse_token, path, record, **key)
    finally:
        outage.over()
        sa.event.remove(Session, "before_commit", note)
    assert lost.status_code == 503
    error = lost.get_json()["error"]
    assert error["code"] == "outcome_unknown" and "may or may not be stored" in error["message"]
    retry = _post(client, world.nurse_token, path, record, **key)
    assert retry.status_code == 201 and retry.get_json()["dose_number"] == 1
    again = _post(client, world.nurse_token, path, record, **key)
    assert again.headers["Idempotent-Replayed"] == "true" and _doses_on_record(app) == 1


@pytest.mark.postgres
def test_a_failed_end_of_request_rollback_does_not_replace_the_answer(app, client, factory, outage):
    world = gate(app, factory)
    number = _authorized(client, world)

    def strike(_sender, response, **_extra):
        if outage.armed:  # the read's transaction is still open: its rollback will fail
            outage.kill(db.session.connection().connection.dbapi_connection)

    flask.request_finished.connect(strike, app)
    outage.armed = True
    try:
        read = client.get(
            f"/api/v1/authorizations/{number}",
            headers={"Authorization": f"Bearer {world.pharmacy_token}"},
        )
    finally:
        flask.request_finished.disconnect(strike, app)
    assert outage.down
    outage.over()
    assert read.status_code == 200 and read.get_json()["authorization_number"] == number


def test_anything_escaping_the_app_under_the_api_is_answered_in_json():
    def broken(_environ, _start_response):
        raise RuntimeError("boom")

    seen = {}

    def start_response(status, headers, _exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    guarded = JsonErrorsUnderApi(broken)
    body = b"".join(guarded({"PATH_INFO": "/api/v1/authorizations"}, start_response))
    assert (
        seen["status"].startswith("500") and seen["headers"]["Content-Type"] == "application/json"
    )
    assert json.loads(body)["error"]["code"] == "internal_error"
    with pytest.raises(RuntimeError):
        guarded({"PATH_INFO": "/dashboard"}, start_response)


def test_a_failure_after_the_commit_never_says_nothing_was_stored(app):
    from rems.errors import _database_down

    lost = sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    with app.test_request_context("/api/v1/authorizations/A1/infusions", method="POST"):
        flask.g.rems_committed = True
        answer = _database_down(lost)
        assert answer.status_code == 503
        assert answer.get_json()["error"]["code"] == "stored_answer_unavailable"
    with app.test_request_context("/patients/1/transfer", method="POST"):
        flask.g.rems_committed = True
        page, status = _database_down(lost)
        assert status == 503 and "Your change is saved" in page
    with app.test_request_context("/patients/1/transfer", method="POST"):
        page, status = _database_down(lost)
        assert status == 503 and "Nothing was stored" in page
