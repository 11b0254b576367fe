"""/api/v1/health tells operators which dependency is in trouble; 503 only when the gate cannot
decide (the database is down)."""

from __future__ import annotations

import socket

import pytest


def _closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def relay():
    """A listening TCP socket standing in for the mail relay."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


def test_all_ok_with_nothing_optional_configured(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "rate_limit_store": "not configured",
        "mail_relay": "not configured",
    }


def test_a_reachable_relay_is_ok_and_an_unreachable_one_degrades_the_service(app, client, relay):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=relay)
    assert client.get("/api/v1/health").get_json()["mail_relay"] == "ok"
    app.config["MAIL_PORT"] = _closed_port()
    response = client.get("/api/v1/health")
    assert response.status_code == 200  # the gate still decides; mail waits in the outbox
    assert response.get_json()["mail_relay"] == "down"
    assert response.get_json()["status"] == "degraded"


def test_a_down_rate_limit_store_degrades_but_does_not_fail(app, client):
    app.config["RATELIMIT_STORAGE_URI"] = f"redis://127.0.0.1:{_closed_port()}/0"
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json()["rate_limit_store"] == "down"
    assert response.get_json()["status"] == "degraded"


def test_a_slow_dependency_reads_as_degraded(app, client, relay):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=relay, REMS_HEALTH_SLOW_MS=-1)
    body = client.get("/api/v1/health").get_json()
    assert body["database"] == "degraded" and body["mail_relay"] == "degraded"
    assert body["status"] == "degraded"


def test_a_down_database_is_503_in_the_error_shape_with_every_state():
    from rems import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    response = broken.test_client().get("/api/v1/health")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["details"] == {
        "database": ["down"],
        "rate_limit_store": ["not configured"],
        "mail_relay": ["not configured"],
    }
