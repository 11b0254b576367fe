"""The audit trail: one event per change, none after a rollback, append-only, chained."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.audit.trail import GENESIS_HASH, record_event
from rems.audit.verify import verify_chain
from rems.auth import tokens, users
from rems.auth.models import Role
from rems.common.transactions import writing
from tests.factories import PASSWORD


def _events(db, action=None):
    statement = sa.select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return list(db.session.scalars(statement))


def _new_user(db, username="alice"):
    return users.create_user(
        db.session, actor=None, actor_label="test", username=username,
        email=f"{username}@example.org", full_name="Alice Example", role=Role.AUDITOR,
        password=PASSWORD,
    )  # fmt: skip


def test_one_change_writes_one_chained_event(db, clock):
    user = _new_user(db)
    db.session.commit()
    [event] = _events(db)
    assert (event.seq, event.action, event.entity_type) == (1, "user.created", "user_account")
    assert event.entity_id == str(user.id)
    assert event.new_values["username"] == "alice"
    assert "password_hash" not in event.new_values
    assert event.actor_label == "test"
    assert event.occurred_at == clock.now()
    assert event.prev_hash == GENESIS_HASH
    assert len(event.row_hash) == 64


def test_rolled_back_change_leaves_no_event(db):
    _new_user(db)
    db.session.rollback()
    assert _events(db) == []
    assert db.session.scalar(sa.text("SELECT count(*) FROM user_account")) == 0
    _new_user(db, "bob")
    db.session.commit()
    assert [e.new_values["username"] for e in _events(db)] == ["bob"]
    assert _events(db)[0].seq == 1


def test_events_link_to_their_predecessor(db):
    owner = _new_user(db)
    tokens.issue_token(db.session, owner=owner, name="EHR", actor=owner)
    db.session.commit()
    first, second = _events(db)
    assert second.seq == 2
    assert second.prev_hash == first.row_hash
    assert verify_chain(db.session).ok


def test_update_of_an_audit_row_is_refused_by_the_database(db):
    _new_user(db)
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text("UPDATE audit_event SET reason = 'edited'"))
        db.session.flush()
    db.session.rollback()
    assert _events(db)[0].reason is None


def test_delete_of_an_audit_row_is_refused_by_the_database(db):
    _new_user(db)
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text("DELETE FROM audit_event"))
    db.session.rollback()
    assert len(_events(db)) == 1


def _tamper(db, statement: str) -> None:
    """What an attacker with database superuser rights could do: lift the guard, edit, restore."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        connection.exec_driver_sql(statement)
        connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
    else:
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
        connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        connection.exec_driver_sql(statement)
    db.session.commit()


def _three_events(db):
    for name in ("ann", "ben", "cat"):
        _new_user(db, name)
    db.session.commit()


def test_audit_verify_names_the_altered_row(db, runner):
    _three_events(db)
    assert runner.invoke(args=["rems", "audit-verify"]).output.startswith(
        "Audit chain intact: 3 events checked."
    )
    _tamper(db, "UPDATE audit_event SET reason = 'nothing happened' WHERE seq = 2")
    result = runner.invoke(args=["rems", "audit-verify"])
    assert result.exit_code == 1
    assert "BROKEN at event seq 2" in result.output
    assert "was altered" in result.output


def test_audit_verify_finds_a_deleted_row(db, runner):
    _three_events(db)
    _tamper(db, "DELETE FROM audit_event WHERE seq = 2")
    result = runner.invoke(args=["rems", "audit-verify"])
    assert result.exit_code == 1
    assert "BROKEN at event seq 3" in result.output
    assert "expected sequence number 2" in result.output


def test_record_event_needs_an_entity(db):
    with pytest.raises(ValueError, match="entity"):
        record_event(db.session, "nothing.happened", actor=None)


def test_parallel_writers_keep_one_valid_chain(app):
    """Eight threads, five audited writes each, on a file database or PostgreSQL."""
    from rems.extensions import db as database

    with app.app_context(), writing():
        owner = _new_user(database, "owner")
        database.session.commit()
        owner_id = owner.id
    app.config["REMS_API_TOKENS_PER_DAY"] = 40  # the tokens are only something to write
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(number: int) -> None:
        try:
            start.wait()
            for round_ in range(5):
                with app.app_context(), writing():
                    user = database.session.get(type(owner), owner_id)
                    tokens.issue_token(
                        database.session, owner=user, name=f"t{number}-{round_}", actor=user
                    )
                    database.session.commit()
        except BaseException as error:  # reported below, with the thread's number
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        report = verify_chain(database.session)
        assert report.ok, report.problem
        assert report.checked == 1 + 8 * 5
        seqs = database.session.scalars(sa.select(AuditEvent.seq).order_by(AuditEvent.seq))
        assert list(seqs) == list(range(1, 42))
