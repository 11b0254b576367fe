"""The national-volume world (`bench.scale_world`), built at a tiny size, is one the app agrees
with: every foreign key holds, the audit chain verifies, the stored monitoring state is what the
app's own schedule computes, new rows get fresh ids, and a ready patient passes the gate."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bench import scale_rows, scale_world
from rems.extensions import db

pytestmark = pytest.mark.postgres

PATIENTS, PRESCRIBERS, FOCUS = 200, 4, 50


@pytest.fixture
def world(app):
    with app.app_context():
        counts, _ = scale_world.build(PATIENTS, PRESCRIBERS, FOCUS, missed=0.5)
        yield counts


def _scalar(statement: str, **params):
    return db.session.scalar(sa.text(statement), params)


def test_counts_follow_the_shape(app, world):
    bulk = PATIENTS - PRESCRIBERS
    ready = len(range(0, bulk, scale_rows.READY_EVERY))
    treated = bulk - ready
    assert world["patient"] == bulk
    assert world["course"] == bulk
    assert world["infusion"] == 5 * treated
    assert world["authorization_decision"] == 2 * treated
    assert world["audit_event"] == 3 * treated + ready
    with app.app_context():
        assert _scalar("SELECT count(*) FROM patient") == PATIENTS
        assert _scalar("SELECT count(*) FROM monitoring_status") == world["monitoring_status"]
        assert world["monitoring_status"] == 6 * treated  # every monitored test, every patient
        assert world["lab_result"] > treated  # a history, half the items missed
        doctor = _scalar("SELECT p.prescriber_id FROM patient p ORDER BY p.id LIMIT 1")
        mine = _scalar("SELECT count(*) FROM patient WHERE prescriber_id = :d", d=doctor)
        assert mine == FOCUS + 1  # the focus patients and the template


def test_every_foreign_key_and_constraint_holds(app, world):
    """Re-adding each foreign key makes PostgreSQL check every row (the load skipped them)."""
    with app.app_context():
        names = [f'"{t}"' if t == "authorization" else t for t in scale_world.BULK_TABLES]
        keys = db.session.execute(sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text = ANY(:t)"
        ), {"t": names}).all()  # fmt: skip
        assert len(keys) > 20
        for table, name, definition in keys:
            db.session.execute(sa.text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
            db.session.execute(sa.text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        db.session.rollback()


def test_the_audit_chain_verifies(app, world):
    from rems.audit.verify import verify_chain

    with app.app_context():
        report = verify_chain(db.session)
        assert report.ok, report
        assert report.checked == _scalar("SELECT count(*) FROM audit_event")


def test_stored_monitoring_state_is_what_the_app_computes(app, world):
    from rems.common.localtime import program_today
    from rems.monitoring.services import rebuild

    with app.app_context():
        ids = list(db.session.scalars(sa.text("SELECT id FROM patient ORDER BY id")))
        assert rebuild(db.session, ids, today=program_today()) == 0
        db.session.rollback()


def test_sequences_are_past_the_copied_ids(app, world):
    with app.app_context():
        for table in ("patient", "lab_result", "audit_event", "authorization_decision"):
            last = _scalar(f"SELECT last_value FROM {table}_id_seq")  # noqa: S608
            assert last == _scalar(f'SELECT max(id) FROM "{table}"')  # noqa: S608


def test_a_ready_patient_passes_the_gate(app, world, client):
    from rems.auth import tokens
    from rems.auth.models import User

    with app.app_context():
        rems_id, born, npi = db.session.execute(sa.text(
            "SELECT p.rems_id, p.date_of_birth, d.npi FROM patient p "
            "JOIN course c ON c.patient_id = p.id AND c.status = 'authorized' "
            "JOIN prescriber d ON d.id = p.prescriber_id WHERE p.last_name LIKE 'Scale%' "
            "ORDER BY p.id DESC LIMIT 1"
        )).one()  # fmt: skip
        site = _scalar("SELECT site_code FROM site WHERE infuses ORDER BY id LIMIT 1")
        staff = db.session.scalar(sa.select(User).where(User.username == "bench-site-staff-1"))
        _, token = tokens.issue_token(db.session, owner=staff, name="t", actor=staff)
        db.session.commit()
    request = {"patient_id": rems_id, "date_of_birth": born.isoformat(), "prescriber_npi": npi,
               "infusion_site_id": site, "doses": 1}  # fmt: skip
    bearer = {"Authorization": f"Bearer {token}"}
    answer = client.post("/api/v1/authorizations", headers=bearer, json=request)
    assert answer.status_code == 201, answer.get_json()


def test_the_gate_proof_finds_every_dose_of_the_history_authorized(app, world):
    from datetime import timedelta

    from rems.common.localtime import program_today
    from rems.reports import gateproof

    with app.app_context():
        today = program_today()
        history = (today - timedelta(days=scale_rows.HISTORY_DAYS + 60), today)
        proof = gateproof.prove(db.session, *history)
        assert proof.doses_checked > 0 and proof.authorizations_checked > 0
        assert proof.total == 0, [check for check in proof.checks if check.found]
