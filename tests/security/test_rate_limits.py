"""Rate limits (issue 11, item 2): per API token, PATIENT_NOT_FOUND answers per pharmacy site
(tests/security/test_dob_guessing.py has the rest), 429 in the API's error shape with
Retry-After, one store shared by every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.authorizations.models import AuthorizationDecision
from rems.extensions import db
from rems.ratelimit import SweptMemoryStorage
from tests.authorizations.helpers import gate
from tests.redis_server import real_clock_environment


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _assert_rate_limited(response) -> int:
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 3600
    return wait


def test_each_api_token_has_its_own_request_limit(app, factory):
    app.config["REMS_API_RATE_LIMIT"] = "3 per minute"
    busy = factory.token(factory.user(Role.AUDITOR))
    other = factory.token(factory.user(Role.AUDITOR))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/me", headers=_bearer(busy)).status_code == 200
    refused = client.get("/api/v1/me", headers=_bearer(busy))
    assert 0 < _assert_rate_limited(refused) <= 60
    assert client.get("/api/v1/me", headers=_bearer(other)).status_code == 200


def test_patient_not_found_answers_are_limited_per_pharmacy_site(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "3 per hour"
    world = gate(app, factory)
    client, pharmacy = app.test_client(), _bearer(world.pharmacy_token)
    for day in ("1950-01-01", "1950-01-02", "1950-01-03"):
        answer = client.post("/api/v1/authorizations", json=world.request(date_of_birth=day),
                             headers=pharmacy)  # fmt: skip
        assert [r["code"] for r in answer.get_json()["reasons"]] == ["PATIENT_NOT_FOUND"]
    decisions, events = _rows(app, AuthorizationDecision), _rows(app, AuditEvent)
    # Even the right date of birth is refused now: the answer must not tell the guess was right.
    refused = client.post("/api/v1/authorizations", json=world.request(), headers=pharmacy)
    _assert_rate_limited(refused)
    other_patient = world.request(patient_id="P000000000", date_of_birth="1960-01-01")
    _assert_rate_limited(client.post("/api/v1/authorizations", json=other_patient,
                                     headers=pharmacy))  # fmt: skip
    assert (_rows(app, AuthorizationDecision), _rows(app, AuditEvent)) == (decisions, events)


def test_a_matching_request_does_not_use_the_not_found_allowance(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "1 per hour"
    world = gate(app, factory)
    client, pharmacy = app.test_client(), _bearer(world.pharmacy_token)
    for _ in range(3):
        granted = client.post("/api/v1/authorizations", json=world.request(doses=1),
                              headers=pharmacy)  # fmt: skip
        assert granted.status_code == 201


# ---------- One store for every process: a real redis-server ----------

PROCESS = """
import json, os, sys
from rems import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["DB_URL"],
                  "RATELIMIT_STORAGE_URI": os.environ["STORE"],
                  "REMS_API_RATE_LIMIT": "4 per minute"})
client = app.test_client()
headers = {"Authorization": "Bearer " + os.environ["TOKEN"]}
print(json.dumps([client.get("/api/v1/me", headers=headers).status_code for _ in range(3)]))
"""


def _run_process(database_url: str, store: str, token: str) -> list[int]:
    env = real_clock_environment() | {"DB_URL": database_url, "STORE": store, "TOKEN": token,
                        "REMS_ENV": "testing"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", PROCESS], env=env, capture_output=True,
                          text=True, timeout=120, cwd=os.getcwd(), check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_app_processes_share_one_count_in_redis(app, factory, database_url, redis_url):
    token = factory.token(factory.user(Role.AUDITOR))
    first = _run_process(database_url, redis_url, token)
    second = _run_process(database_url, redis_url, token)
    assert first == [200, 200, 200]
    assert second == [200, 429, 429]  # 4 per minute, counted across both processes


def test_the_in_process_store_counts_each_process_alone(app, factory, database_url):
    token = factory.token(factory.user(Role.AUDITOR))
    assert _run_process(database_url, "memory://", token) == [200, 200, 200]
    assert _run_process(database_url, "memory://", token) == [200, 200, 200]


def test_the_in_process_store_starts_no_timer_thread_that_could_outlive_the_process():
    """The parent store starts a non-daemon timer for its first sweep; ours sweeps inline and
    cancels it at once (under a clock that never reaches the timer's deadline — libfaketime in
    the moved-clock run — that thread kept the process from exiting)."""
    store = SweptMemoryStorage("rems-memory://")
    assert store.timer.finished.is_set()
