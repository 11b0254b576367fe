"""How transactions begin: SQLite pragmas, and BEGIN IMMEDIATE for anything that may write.

SQLite in WAL mode lets readers run beside one writer, but a transaction that reads first and
writes later fails at once ("database is locked") if another writer got in between. Starting
every transaction that may write with BEGIN IMMEDIATE takes the write lock up front, so
concurrent writers queue on the busy timeout instead. Safe-method web requests (GET, HEAD)
begin deferred and read in parallel. PostgreSQL needs none of this.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy.orm import Session

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_force_immediate: ContextVar[bool] = ContextVar("rems_force_immediate", default=False)
_busy_timeout_ms = 10_000


@contextmanager
def writing() -> Iterator[None]:
    """Inside this block SQLite transactions take the write lock when they begin."""
    token = _force_immediate.set(True)
    try:
        yield
    finally:
        _force_immediate.reset(token)


def configure_sqlite(busy_timeout_ms: int) -> None:
    """Set the busy timeout every new SQLite connection gets."""
    global _busy_timeout_ms
    _busy_timeout_ms = busy_timeout_ms


def request_may_write() -> bool:
    """Whether the current request may write (an unsafe method). A read that finds something
    to record (an expiry, say) ends its read and writes in a `writing()` transaction of its own."""
    return request.method not in SAFE_METHODS


def _begin_statement() -> str:
    """BEGIN for reads, BEGIN IMMEDIATE for a transaction that may write: outside requests, and
    the first transaction of a POST. Requests commit once (house rule), so what follows a
    request's commit only reads to render the answer and must not hold the write lock."""
    if _force_immediate.get():
        return "BEGIN IMMEDIATE"
    reading = has_request_context() and (not request_may_write() or g.get("rems_committed", False))
    return "BEGIN" if reading else "BEGIN IMMEDIATE"


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


@sa.event.listens_for(sa.engine.Engine, "begin")
def _on_begin(connection) -> None:
    """Emit SQLite's BEGIN ourselves, immediate when the transaction may write."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_begin_statement())
