"""A database whose disk is full says so (503 `storage_full`), instead of "not reachable", and
stores nothing. The SQLite file is made full for real: its page count is capped where it is,
so the next page it needs fails with SQLITE_FULL, as on a full disk."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.program.model import add_months
from tests.monitoring.helpers import days, move_to, treated_patient

ROWS = 400


@pytest.fixture
def full_disk(app):
    """Every new connection of the app may not grow the database file past its size now."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a full disk is made on the SQLite file")

    def cap(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {int(pages)}")
        cursor.close()

    def arm():
        with app.app_context():
            db.engine.dispose()
            sa.event.listen(db.engine, "connect", cap)

    return arm


def _batch(start):
    return {"results": [
        {"test": "cbc", "collected_on": (start - days(n % 20)).isoformat(), "value": f"v{n}-" * 20}
        for n in range(ROWS)
    ]}  # fmt: skip


def _results(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LabResult))


def test_a_full_disk_is_named_in_the_api_and_on_pages(app, factory, clock, full_disk):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    token = factory.token(treated.world.prescriber.user)
    prescriber = factory.signed_in(treated.world.prescriber.user)
    full_disk()
    answer = app.test_client().post(
        f"/api/v1/patients/{treated.world.patient.rems_id}/results",
        json=_batch(clock.now().date()), headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.status_code == 503, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "storage_full"
    assert "disk is full" in error["message"] and "not reachable" not in error["message"]
    assert _results(app) == 0
    page = prescriber.get(f"/patients/{treated.world.patient.rems_id}")
    assert page.status_code == 200  # reading still works
