"""How SQLite transactions begin: write lock only where a write may follow."""

from __future__ import annotations

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
