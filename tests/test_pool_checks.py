"""PostgreSQL connections are checked before use (rems.common.pool_checks): a round trip only
after they sat idle, a look at the socket every time.

A backend is terminated between two requests, as a server restart or a failover would: whether
the connection is past the idle window (pinged) or inside it (its socket shows the server closed
it, so it is pinged too), it is replaced before the request uses it: the request never notices.
"""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from rems import create_app
from rems.auth.models import Role
from rems.extensions import db
from tests.factories import Factory

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_with_idle_window(database_url, clock):
    """Build the app with a given idle window (seconds) on this test's database."""
    apps = []

    def build(seconds: int):
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": database_url, "REMS_DB_PING_AFTER_IDLE_S": seconds}
        )
        app.extensions["rems_clock"] = clock
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _terminate_app_backends(app) -> int:
    """Terminate every other backend connected to the app's database, waiting (up to 5 s each)
    until each has exited; how many."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
        return admin.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def _me(client, token):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_connection_past_the_idle_window_is_checked_and_replaced_unnoticed(
    app_with_idle_window,
):
    app = app_with_idle_window(0)  # every pooled connection counts as idle: always checked
    token = Factory(app).token(Factory(app).user(Role.AUDITOR))
    client = app.test_client()
    assert _me(client, token).status_code == 200
    assert _terminate_app_backends(app) >= 1
    assert _me(client, token).status_code == 200


def test_inside_the_idle_window_a_connection_the_server_closed_is_still_replaced_unnoticed(
    app_with_idle_window,
):
    app = app_with_idle_window(3600)  # never idle long enough for the timed ping
    token = Factory(app).token(Factory(app).user(Role.AUDITOR))
    client = app.test_client()
    assert _me(client, token).status_code == 200
    assert _terminate_app_backends(app) >= 1
    assert _me(client, token).status_code == 200
