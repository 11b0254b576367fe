"""A results batch does not hold SQLite's write lock while it validates (issue 22, item 11):
three large batches held a gate request for 6.5 s. Validation reads; only the short write of
what was validated takes the lock."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from rems.monitoring import results
from tests.monitoring.helpers import treated_patient


@pytest.fixture
def sqlite_file(database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock; PostgreSQL locks rows, not the database")
    return sa.make_url(database_url).database


def test_a_batch_validates_without_the_write_lock(app, factory, clock, sqlite_file, monkeypatch):
    treated = treated_patient(app, factory, clock)
    token = factory.token(treated.world.prescriber.user)
    validating, release = threading.Event(), threading.Event()
    checked = results._checked

    def slow_check(*args, **kwargs):
        planned = checked(*args, **kwargs)
        validating.set()  # a large batch's validation, still going on
        release.wait(timeout=20)
        return planned

    monkeypatch.setattr(results, "_checked", slow_check)
    day = clock.now().date().isoformat()
    body = {"results": [{"test": "cbc", "collected_on": day, "value": "5.1"}]}
    answers = []

    path = f"/api/v1/patients/{treated.world.patient.rems_id}/results"

    def send():
        bearer = {"Authorization": f"Bearer {token}"}
        answers.append(app.test_client().post(path, json=body, headers=bearer))

    batch = threading.Thread(target=send)
    batch.start()
    try:
        assert validating.wait(timeout=20)
        other = sqlite3.connect(sqlite_file, timeout=0.5, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another request's write, while the batch checks
            other.execute("ROLLBACK")
        finally:
            other.close()
    finally:
        release.set()
        batch.join(timeout=30)
    assert answers[0].status_code == 201, answers[0].get_data(as_text=True)
    assert answers[0].get_json()["stored"] == 1
