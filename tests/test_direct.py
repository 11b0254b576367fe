"""Statements run on the driver (rems.common.direct) answer exactly as Session.execute does.

They carry the gate's hot path, so each property the rest of the app relies on is checked on
both databases: the same rows and Python values (enums, booleans, dates, time-zone-aware
datetimes, JSON), IN lists of any length, a value that is missing refused before anything is
sent, the engine's statement events, and driver errors wrapped as SQLAlchemy's own.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.common.direct import Direct
from rems.common.transactions import writing
from tests.factories import Factory

USERS = User.__table__
BY_ROLE = (
    sa.select(USERS.c.id, USERS.c.username, USERS.c.role, USERS.c.active, USERS.c.created_at)
    .where(USERS.c.role.in_(sa.bindparam("roles", expanding=True)))
    .order_by(USERS.c.id)
)
EVENTS = AuditEvent.__table__
NEWEST_EVENT = sa.select(EVENTS.c.seq, EVENTS.c.new_values, EVENTS.c.occurred_at).order_by(
    EVENTS.c.seq.desc()
)


@pytest.fixture
def people(app):
    factory = Factory(app)
    return [factory.user(role) for role in (Role.ADMIN, Role.AUDITOR, Role.AUDITOR)]


def test_rows_match_session_execute_value_for_value(db, people):
    for roles in ([Role.AUDITOR], [Role.ADMIN, Role.AUDITOR], [Role.PRESCRIBER]):
        params = {"roles": roles}
        expected = [tuple(row) for row in db.session.execute(BY_ROLE, params)]
        got = Direct(BY_ROLE).all(db.session, params)
        assert [tuple(row) for row in got] == expected
    row = Direct(BY_ROLE).first(db.session, {"roles": [Role.ADMIN]})
    assert row.role is Role.ADMIN and row.active is True
    assert row.created_at.utcoffset() is not None  # aware, as the UTC column type promises
    assert row._mapping["username"] == people[0].username
    newest = Direct(NEWEST_EVENT.limit(1)).one(db.session)
    assert newest == tuple(db.session.execute(NEWEST_EVENT.limit(1)).one())
    assert isinstance(newest.new_values, dict)


def test_a_missing_value_is_refused_before_anything_is_sent(db, people):
    with pytest.raises(sa.exc.InvalidRequestError, match="roles"):
        Direct(BY_ROLE).all(db.session, {})


def test_statement_events_see_every_statement(app, db, people):
    seen = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        db.session.rollback()  # a new connection, which joins the engine's listeners
        Direct(BY_ROLE).all(db.session, {"roles": [Role.ADMIN]})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert [s for s in seen if "user_account" in s]


def test_driver_errors_arrive_as_sqlalchemy_errors_and_nothing_is_kept(db, people):
    taken = people[0].username
    rename = Direct(
        USERS.update().where(USERS.c.id == sa.bindparam("user_id")).values(username=taken)
    )
    with writing(), pytest.raises(sa.exc.IntegrityError):
        rename.execute(db.session, {"user_id": people[1].id})
    db.session.rollback()
    assert db.session.get(User, people[1].id).username == people[1].username


def test_sqlalchemy_is_the_minor_version_the_driver_path_was_written_for():
    """direct.py reads `compiled._bind_processors` and calls `Connection._handle_dbapi_exception`:
    an upgrade past the pinned minor version must be a decision, taken with the bench, not an
    accident of `pip install`."""
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.compiler import SQLCompiler

    assert sa.__version__.startswith("2.1."), (
        f"SQLAlchemy {sa.__version__}: rems/common/direct.py was written for 2.1. Check its two "
        "internals, re-run `python -m bench.hot_statements`, then move the pin in pyproject.toml "
        "and this test together (bench/README.md, 'Hot statements on the driver')."
    )
    assert callable(getattr(Connection, "_handle_dbapi_exception", None))
    compiled = BY_ROLE.compile(dialect=sa.dialects.sqlite.dialect())
    assert isinstance(compiled, SQLCompiler)
    assert isinstance(compiled._bind_processors, dict)
