"""The app's SQLAlchemy session class (see `RequestSession`)."""

from __future__ import annotations

import flask_sqlalchemy.session
import sqlalchemy as sa
from flask import has_request_context, request

from rems.common.intent import request_may_write, writing_now

_AUTOCOMMIT_KEY = "rems_autocommit_twin"


class RequestSession(flask_sqlalchemy.session.Session):
    """The app's session: on PostgreSQL, a safe-method API request reads on an
    autocommit connection, with no BEGIN before its first statement and no ROLLBACK after its
    last (two round trips saved, and none spent at all by a request that never reads). Each
    statement still sees what was committed before it began, as inside a READ COMMITTED
    transaction. Writes inside `writing()` (a read that finds something to record) get the
    engine's own connections and a real transaction; by house rule such a read ends its read
    first (`session.rollback()`). SQLite keeps its deferred BEGIN (it needs one to read
    consistently in WAL mode)."""

    def get_bind(self, *args, **kwargs):
        bind = super().get_bind(*args, **kwargs)
        if isinstance(bind, sa.Engine) and bind.dialect.name == "postgresql" and _reads_only():
            return _autocommit(bind)
        return bind


def _reads_only() -> bool:
    """A safe-method API request, outside any `writing()` block. Web pages keep their read
    transaction: their exports stream through server-side cursors, which need one."""
    return (
        has_request_context()
        and not writing_now()
        and not request_may_write()
        and "api" in request.blueprints
    )


def _autocommit(engine: sa.Engine) -> sa.Engine:
    """The engine's autocommit twin (same pool), made once."""
    twin = engine.__dict__.get(_AUTOCOMMIT_KEY)
    if twin is None:
        twin = engine.__dict__[_AUTOCOMMIT_KEY] = engine.execution_options(
            isolation_level="AUTOCOMMIT"
        )
    return twin
