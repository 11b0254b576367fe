"""PostgreSQL connections checked before use without a round trip on every checkout.

SQLAlchemy's `pool_pre_ping` sends a round trip before every request's first statement, which
doubles the cost of the cheapest reads (`/api/v1/me`, the token check). Here a connection is
checked at checkout in two steps:

- **Locally, every time** (one `select()` on its socket, no round trip): an idle connection has
  nothing to read, so a socket that is readable means the server closed it or said something
  (a terminated backend, a restart, a failover), and the connection gets a real ping.
- **With a round trip, after `idle_seconds` in the pool** (0: every time, as `pool_pre_ping`):
  a connection that sat idle is the one a network device may have dropped without a word.

A failed ping raises `DisconnectionError`, on which the pool throws the connection away and
opens a fresh one: the request never sees the dead connection.
"""

from __future__ import annotations

import select
import time

import sqlalchemy as sa

_CHECKED_IN = "rems_checked_in"


def ping_idle_connections(engine: sa.Engine, idle_seconds: float) -> None:
    """Install the check on a PostgreSQL engine's pool (see the module); once per pool."""
    pool = engine.pool
    if getattr(pool, "rems_pings_idle", False):
        return
    pool.rems_pings_idle = True

    def on_checkout(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None:
            return  # opened for this checkout
        if time.monotonic() - since >= idle_seconds or _has_input(dbapi_connection):
            _ping(dbapi_connection)

    sa.event.listen(pool, "checkin", _on_checkin)
    sa.event.listen(pool, "checkout", on_checkout)


def _on_checkin(_dbapi_connection, record) -> None:
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _has_input(dbapi_connection) -> bool:
    """Whether the server sent anything (or closed) while the connection sat in the pool."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # closed already (no descriptor): let the ping fail and replace it
        return True
    return bool(readable)


def _ping(dbapi_connection) -> None:
    """One round trip outside any transaction; a dead connection is replaced by the pool."""
    try:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # the ping opens no transaction
        try:
            dbapi_connection.execute("SELECT 1")
        finally:
            dbapi_connection.autocommit = autocommit
    except Exception as error:  # any driver failure: this connection cannot be trusted
        raise sa.exc.DisconnectionError(f"idle connection failed its ping: {error}") from error
