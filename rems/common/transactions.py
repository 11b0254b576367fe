"""How transactions begin: SQLite pragmas, BEGIN IMMEDIATE for anything that may write, and a
blocking lock file that hands SQLite's write lock from process to process.

SQLite in WAL mode lets readers run beside one writer, but a transaction that reads first and
writes later fails at once ("database is locked") if another writer got in between. Starting
every transaction that may write with BEGIN IMMEDIATE takes the write lock up front. Before that
BEGIN IMMEDIATE, the writer takes an exclusive `flock` on a lock file next to the database
(`<database>.writelock`), a lock the kernel hands to the next waiting process the moment it is
released, instead of SQLite's busy handler, which polls with sleeps and lets the tail grow.
The lock file is released right after COMMIT or ROLLBACK.

Safe-method web requests (GET, HEAD) begin deferred and read in parallel. Hot paths that read
first and write briefly (the dispensing decision) read in `reading()` and then write in
`write_phase()`, so the write lock is held only for the writes. PostgreSQL needs none of this.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.orm import Session, scoped_session

from rems.common.errors import OutcomeUnknown
from rems.common.intent import (  # noqa: F401  (re-exported: the rest of the app imports them here)
    SAFE_METHODS,
    _force_deferred,
    _force_immediate,
    reading,
    request_may_write,
    writing,
)
from rems.common.programday import sqlite_local_day
from rems.extensions import db

_busy_timeout_ms = 10_000
_LOCK_KEY = "rems_write_lock_fd"
_BEGIN_KEY = "rems_begin"
_held = threading.local()  # lock files this thread holds (a second connection must not wait)


@contextmanager
def write_phase(session: Session) -> Iterator[None]:
    """The writes after a read phase. On SQLite a transaction that began deferred (a read) is
    ended first, so the writes begin afresh with the write lock; one that already holds the lock
    simply goes on. What was read stays valid where the writes re-check it (a conditional
    UPDATE), which is how the dose invariant is kept."""
    real = session() if isinstance(session, scoped_session) else session
    sqlite = real.get_bind().dialect.name == "sqlite"
    if sqlite and real.in_transaction() and real.connection().info.get(_BEGIN_KEY) == "BEGIN":
        real.rollback()
    with writing():
        yield


@contextmanager
def write_of_its_own(session: Session) -> Iterator[None]:
    """A short write that a read found it must make (an expiry, a lapse, an export's audit
    event): the read's transaction ends first (on SQLite, so the write lock is taken afresh
    rather than upgraded), the block writes in a transaction of its own, committed as the block
    ends; an error rolls it back and goes on up."""
    session.rollback()
    with writing():
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise


def configure_sqlite(busy_timeout_ms: int) -> None:
    """Set the busy timeout every new SQLite connection gets."""
    global _busy_timeout_ms
    _busy_timeout_ms = busy_timeout_ms


def _begin_statement() -> str:
    """BEGIN for reads, BEGIN IMMEDIATE for a transaction that may write: outside requests, and
    the first transaction of a POST. Requests commit once (house rule), so what follows a
    request's commit only reads to render the answer and must not hold the write lock."""
    if _force_immediate.get():
        return "BEGIN IMMEDIATE"
    if _force_deferred.get():
        return "BEGIN"
    reading_ = has_request_context() and (not request_may_write() or g.get("rems_committed", False))
    return "BEGIN" if reading_ else "BEGIN IMMEDIATE"


@sa.event.listens_for(Session, "after_commit")
def _note_request_commit(_session) -> None:
    """Remember that this request has committed its change."""
    if has_request_context():
        g.rems_committed = True


@sa.event.listens_for(sa.engine.Engine, "connect")
def _on_connect(dbapi_connection, _record) -> None:
    """Per-connection SQLite settings; the driver's own transaction handling is switched off."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(_busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    dbapi_connection.create_function("rems_local_day", 2, sqlite_local_day, deterministic=True)


@sa.event.listens_for(sa.engine.Engine, "begin")
def _on_begin(connection) -> None:
    """Emit SQLite's BEGIN ourselves; an immediate one takes the lock file first."""
    if connection.dialect.name != "sqlite":
        return
    statement = _begin_statement()
    if statement == "BEGIN IMMEDIATE":
        _take_lock_file(connection)
    connection.info[_BEGIN_KEY] = statement
    try:
        connection.exec_driver_sql(statement)
    except BaseException:
        _release_lock_file(connection.info)
        raise


@sa.event.listens_for(sa.engine.Engine, "commit")
def _on_commit(connection) -> None:
    """Commit now, then hand the lock file on (SQLAlchemy's own commit finds nothing to do)."""
    if connection.dialect.name == "sqlite" and _LOCK_KEY in connection.info:
        try:
            connection.connection.dbapi_connection.commit()
        finally:
            _release_lock_file(connection.info)


@sa.event.listens_for(sa.engine.Engine, "rollback")
def _on_rollback(connection) -> None:
    """Roll back now, then hand the lock file on."""
    if connection.dialect.name == "sqlite" and _LOCK_KEY in connection.info:
        try:
            connection.connection.dbapi_connection.rollback()
        finally:
            _release_lock_file(connection.info)


@sa.event.listens_for(sa.pool.Pool, "reset")
def _on_reset(_dbapi_connection, record, _state=None) -> None:
    """A connection going back to the pool never keeps the lock file."""
    _release_lock_file(record.info)


def lock_file_path(database: str | None) -> str | None:
    """The lock file beside a SQLite database file (None for an in-memory database)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + ".writelock"


def _take_lock_file(connection: sa.Connection) -> None:
    """Wait (blocking, no polling) for the database's lock file, unless this thread holds it
    already through another connection: then SQLite's busy timeout decides, as before."""
    path = lock_file_path(connection.engine.url.database)
    held = getattr(_held, "paths", None)
    if held is None:
        held = _held.paths = set()
    if path is None or path in held:
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    held.add(path)
    connection.info[_LOCK_KEY] = (fd, path)


def _release_lock_file(info: dict) -> None:
    """Release the lock file this connection holds, if any."""
    taken = info.pop(_LOCK_KEY, None)
    if taken is None:
        return
    fd, path = taken
    getattr(_held, "paths", set()).discard(path)
    os.close(fd)  # closing releases the flock


def commit_answer() -> None:
    """Commit the request's change, its answer already built (nothing is read after the commit).
    A connection lost during the commit leaves the outcome unknown: never report it as a plain
    failure, since the server may have committed before the connection broke."""
    try:
        db.session.commit()
    except sa.exc.DBAPIError as error:
        db.session.rollback()
        if not error.connection_invalidated:
            raise  # refused by the database (a lock, a constraint): nothing was stored
        raise OutcomeUnknown(str(error)) from error
