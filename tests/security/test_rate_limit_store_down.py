"""Redis down or stalled (issue 21, item 4): the ordinary limits fail open within a short
timeout (logged, counted in /metrics), the date-of-birth guessing limit keeps counting in the
process, and /api/v1/health reports the store down quickly. A real redis-server, stalled with
SIGSTOP and resumed."""

from __future__ import annotations

import logging
import time

import pytest

from rems import create_app
from rems.auth.models import Role
from rems.extensions import db
from rems.ratelimit import FailOpenRedisStorage, limiter
from tests.authorizations.helpers import gate

METRICS = "metrics-token"
QUICK = 2.0  # seconds: the longest any answer may take while Redis hangs


@pytest.fixture
def served(app, database_url, redis_url):
    """The app with the real Redis as its shared store."""
    served = create_app({"SQLALCHEMY_DATABASE_URI": database_url,
                         "RATELIMIT_STORAGE_URI": redis_url, "METRICS_TOKEN": METRICS,
                         "REMS_HEALTH_CACHE_SECONDS": 0})  # fmt: skip
    served.extensions["rems_clock"] = app.extensions["rems_clock"]
    assert isinstance(limiter.storage, FailOpenRedisStorage)
    yield served
    limiter.storage.down_until = 0.0
    with served.app_context():
        db.session.remove()
        db.engine.dispose()


def _timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def _failures(client) -> float:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS}"}).text
    name = 'rems_rate_limit_store_failures_total{outcome="failed"}'
    lines = [line for line in text.splitlines() if line.startswith(name)]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_a_stalled_store_fails_open_quickly_and_health_says_down(
    served, factory, redis_server, caplog
):
    bearer = {"Authorization": f"Bearer {factory.token(factory.user(Role.AUDITOR))}"}
    client = served.test_client()
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.get("/api/v1/health").get_json()["rate_limit_store"] == "ok"
    before = _failures(client)
    with redis_server.stalled(), caplog.at_level(logging.WARNING):
        me, took = _timed(lambda: client.get("/api/v1/me", headers=bearer))
        assert me.status_code == 200 and took < QUICK
        health, took = _timed(lambda: client.get("/api/v1/health"))
        assert health.status_code == 200 and took < QUICK
        assert health.get_json()["rate_limit_store"] == "down"
        assert health.get_json()["status"] == "degraded"
        ping, took = _timed(lambda: client.get("/api/v1/me", headers=bearer))
        assert ping.status_code == 200 and took < QUICK
    assert _failures(client) > before
    assert "rate-limit store failed" in caplog.text
    limiter.storage.down_until = 0.0  # the store's down period is over: it is asked again
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert client.get("/api/v1/health").get_json()["rate_limit_store"] == "ok"


def test_the_guessing_limit_holds_while_the_store_hangs(served, app, factory, redis_server):
    served.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "2 per hour"
    world = gate(app, factory)
    client = served.test_client()
    bearer = {"Authorization": f"Bearer {world.pharmacy_token}"}
    with redis_server.stalled():
        for day in ("1950-01-01", "1950-01-02"):
            body = world.request(date_of_birth=day)
            wrong, took = _timed(
                lambda b=body: client.post("/api/v1/authorizations", json=b, headers=bearer)
            )
            assert [r["code"] for r in wrong.get_json()["reasons"]] == ["PATIENT_NOT_FOUND"]
            assert took < QUICK + 1
        refused = client.post("/api/v1/authorizations", json=world.request(), headers=bearer)
        assert refused.status_code == 429
        assert refused.get_json()["error"]["code"] == "rate_limited"
