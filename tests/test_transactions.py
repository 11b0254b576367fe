"""How SQLite transactions begin: write lock only where a write may follow."""

from __future__ import annotations

import pytest

from rems.common.transactions import _begin_statement, writing
from rems.extensions import db


def test_reads_begin_deferred_and_writes_take_the_lock_up_front(app):
    with app.test_request_context("/dashboard", method="GET"):
        assert _begin_statement() == "BEGIN"
        with writing():
            assert _begin_statement() == "BEGIN IMMEDIATE"
    with app.test_request_context("/account/tokens", method="POST"):
        assert _begin_statement() == "BEGIN IMMEDIATE"
    with app.app_context():  # CLI commands and jobs
        assert _begin_statement() == "BEGIN IMMEDIATE"


def test_after_a_request_commits_rendering_does_not_hold_the_write_lock(app):
    with app.test_request_context("/account/tokens", method="POST"):
        db.session.execute(db.text("SELECT 1"))
        db.session.commit()
        assert _begin_statement() == "BEGIN"


def _lock_file_is_free(path: str) -> bool:
    """Whether another process could take the write lock file right now."""
    import fcntl
    import os

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # releases it again if it was taken
    return True


def test_writers_hold_the_lock_file_exactly_for_their_write_transaction(app):
    from rems.common.transactions import lock_file_path

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL has no write lock")
        path = lock_file_path(db.engine.url.database)
        with app.test_request_context("/dashboard", method="GET"):
            db.session.execute(db.text("SELECT 1"))  # a read: BEGIN, no lock file
            assert _lock_file_is_free(path)
            db.session.rollback()
        with writing():
            db.session.execute(db.text("SELECT 1"))  # BEGIN IMMEDIATE: lock file first
        assert not _lock_file_is_free(path)
        db.session.commit()
        assert _lock_file_is_free(path)
        with writing():
            db.session.execute(db.text("SELECT 1"))
        assert not _lock_file_is_free(path)
        db.session.rollback()
        assert _lock_file_is_free(path)


def test_the_write_phase_ends_a_read_and_begins_with_the_write_lock(app):
    from rems.common.transactions import lock_file_path, reading, write_phase

    with app.test_request_context("/api/v1/authorizations", method="POST"), app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL has no write lock")
        path = lock_file_path(db.engine.url.database)
        with reading():
            db.session.execute(db.text("SELECT 1"))
        assert _lock_file_is_free(path)
        with write_phase(db.session):
            db.session.execute(db.text("SELECT 1"))
            assert not _lock_file_is_free(path)
        db.session.commit()
        assert _lock_file_is_free(path)


def test_a_write_of_its_own_commits_what_it_wrote_and_a_failed_one_stores_nothing(app):
    from rems.audit.models import AuditEvent
    from rems.audit.trail import record_event
    from rems.common.transactions import write_of_its_own

    def events() -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(AuditEvent))

    with app.test_request_context("/dashboard", method="GET"):
        before = events()  # the read that finds something to record
        with write_of_its_own(db.session):
            record_event(
                db.session, "test.noted", actor=None, actor_label="test", entity_type="test"
            )
        db.session.rollback()  # whatever the request does next, the event is committed
        assert events() == before + 1
        with pytest.raises(RuntimeError), write_of_its_own(db.session):
            record_event(
                db.session, "test.noted", actor=None, actor_label="test", entity_type="test"
            )
            raise RuntimeError("the write failed half-way")
        assert events() == before + 1
