"""Results stored once under concurrency (program.md: duplicates — same patient, test, date and
value — are stored once): concurrent API batches and one CSV preview confirmed from several
sessions at once store each result once, and the database itself refuses a duplicate. Real
concurrent requests on the per-test SQLite file, or PostgreSQL with REMS_TEST_POSTGRES_URL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.auth.models import User
from rems.common.clock import utcnow
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.patients.models import Patient
from rems.program.model import add_months
from tests.concurrent import send, serving, together
from tests.factories import csrf_token
from tests.monitoring.helpers import move_to, treated_patient
from tests.monitoring.test_upload import HEADER, _upload
from tests.patients.helpers import add_delegate

PARALLEL = 8
SESSIONS = 5


@pytest.fixture
def port(app):
    with serving(app) as port:
        yield port


def _rows(app) -> list[tuple]:
    with app.app_context():
        return db.session.execute(
            sa.select(LabResult.test_code, LabResult.value).order_by(LabResult.id)
        ).all()


def _treated(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    return treated


def test_concurrent_batches_store_each_result_once(app, factory, clock, port):
    treated = _treated(app, factory, clock)
    token = factory.token(treated.world.prescriber.user)
    day = clock.now().date().isoformat()
    batch = {"results": [
        {"test": "cbc", "collected_on": day, "value": "5.1"},
        {"test": "creatinine", "collected_on": day, "value": "70"},
        {"test": "tsh", "collected_on": day, "value": "Normal"},
    ]}  # fmt: skip
    variant = {"results": [*batch["results"][:2], {**batch["results"][2], "value": "NORMAL"}]}
    path = f"/api/v1/patients/{treated.world.patient.rems_id}/results"
    calls = [
        lambda body=(batch if index % 2 else variant): send(
            port, "POST", path, json_body=body, Authorization=f"Bearer {token}"
        )
        for index in range(PARALLEL)
    ]
    replies = together(calls)
    assert [reply.status for reply in replies] == [201] * PARALLEL, [
        (reply.status, reply.error or reply.text[:300]) for reply in replies
    ]
    assert sum(reply.json()["stored"] for reply in replies) == 3
    for reply in replies:
        body = reply.json()
        assert body["stored"] + len(body["duplicates"]) == 3, body
    assert sorted(test for test, _value in _rows(app)) == ["cbc", "creatinine", "tsh"]


def test_one_preview_confirmed_from_several_sessions_is_stored_once(app, factory, clock, port):
    treated = _treated(app, factory, clock)
    delegate = add_delegate(app, factory, treated.world.prescriber)
    with app.app_context():
        patient = db.session.get(Patient, treated.world.patient.id)
        rems_id, born = patient.rems_id, patient.date_of_birth.isoformat()
    day = clock.now().date().isoformat()
    lines = [HEADER] + [
        f"{day},{test},{value},{born},{rems_id},u,"
        for test, value in (("cbc", "5.1"), ("creatinine", "70"), ("liver", "ok"))
    ]
    preview = _upload(factory.signed_in(delegate), "\r\n".join(lines).encode())
    assert preview.status_code == 200
    fields = dict(re.findall(r'name="(content|patient|batch)"[^>]*value="([^"]*)"', preview.text))
    sessions = []
    for _ in range(SESSIONS):
        client = factory.signed_in(delegate)
        token = csrf_token(client, "/results/upload")
        sessions.append((client.get_cookie("rems_session").value, token))
    calls = [
        lambda cookie=cookie, token=token: send(
            port,
            "POST",
            "/results/upload/confirm",
            Cookie=f"rems_session={cookie}",
            form=fields | {"csrf_token": token},
        )
        for cookie, token in sessions
    ]
    replies = together(calls)
    assert [reply.status for reply in replies] == [302] * SESSIONS, [
        (reply.status, reply.error or reply.text[:300]) for reply in replies
    ]
    assert sorted(test for test, _value in _rows(app)) == ["cbc", "creatinine", "liver"]
    # Sent once more later, the same preview stores nothing and says so.
    client = factory.signed_in(delegate)
    again = client.post(
        "/results/upload/confirm",
        data=fields | {"csrf_token": csrf_token(client, "/results/upload")},
        follow_redirects=True,
    )
    assert "This file was already confirmed" in again.text
    assert len(_rows(app)) == 3


def test_the_database_refuses_a_duplicate_result(app, factory, clock):
    treated = _treated(app, factory, clock)
    day = clock.now().date()

    def result(value: str) -> LabResult:
        return LabResult(
            patient_id=treated.world.patient.id, test_code="cbc", collected_on=day, value=value,
            source="api", entered_at=utcnow(), entered_by_id=treated.world.prescriber.user.id,
        )  # fmt: skip

    with app.app_context(), writing():
        assert db.session.get(User, treated.world.prescriber.user.id) is not None
        db.session.add(result("Low"))
        db.session.commit()
        db.session.add(result("LOW"))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert _rows(app) == [("cbc", "Low")]


def test_the_migration_keeps_earlier_duplicates_without_a_key(app, factory, clock):
    """Duplicates stored before 0019 stay on file (nothing is deleted); the first keeps the key."""
    from flask_migrate import downgrade, upgrade

    treated = _treated(app, factory, clock)
    with app.app_context(), writing():
        downgrade(revision="0016_time_zones")
        row = {"patient_id": treated.world.patient.id, "test_code": "cbc", "unit": None,
               "collected_on": clock.now().date(), "abnormal": None, "source": "api",
               "batch_id": None, "entered_at": utcnow(),
               "entered_by_id": treated.world.prescriber.user.id, "amendments": 0}  # fmt: skip
        table = sa.table("lab_result", *(sa.column(name) for name in [*row, "value"]))
        db.session.execute(
            table.insert(), [row | {"value": "Low"}, row | {"value": "LOW"}, row | {"value": "5"}]
        )
        db.session.commit()
        upgrade()
        keys = db.session.execute(
            sa.select(LabResult.value, LabResult.value_key).order_by(LabResult.id)
        ).all()
    assert keys == [("Low", "low"), ("LOW", None), ("5", "5")]
