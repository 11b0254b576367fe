"""/api/v1/health answers within 2 s whatever hangs: a server that accepts the connection and
never answers, and (PostgreSQL) the app's own database backends stopped with SIGSTOP. The test
undoes what it stopped, whatever happens."""

from __future__ import annotations

import os
import signal
import socket
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from rems import create_app
from tests.concurrent import Background, Reply

WITHIN = 2.0  # seconds: what the issue asks of the health check
#: Under libfaketime (the suite's moved-clock run) a timed wait on a lock never times out: the
#: process's monotonic clock is shifted, the kernel's deadline is not. Waiting 1 s is then
#: untestable; the date rules this run exists for are not involved here.
real_waits_only = pytest.mark.skipif(
    "FAKETIME" in os.environ, reason="libfaketime: timed waits never time out under it"
)


def _health(app) -> Reply:
    response = app.test_client().get("/api/v1/health")
    return Reply(response.status_code, dict(response.headers), response.get_data(as_text=True))


def _timed_health(app) -> tuple[Reply, float]:
    """The health answer and how long it took, never waiting past 3 × WITHIN for it."""
    started = time.monotonic()
    asked = Background(lambda: _health(app))
    assert asked.done.wait(3 * WITHIN), "health did not answer"
    return asked.reply(), time.monotonic() - started


@contextmanager
def _silent_server():
    """A port that accepts TCP connections (the kernel's backlog) and never says a word."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@real_waits_only
def test_a_database_server_that_never_answers_reads_down_within_two_seconds():
    with _silent_server() as port:
        silent = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql://rems@127.0.0.1:{port}/x"})
        reply, took = _timed_health(silent)
    assert took < WITHIN, took
    assert reply.status == 503
    assert reply.json()["error"]["details"]["database"] == ["down"]


@contextmanager
def _stopped(pids: list[int]):
    """SIGSTOP these processes; SIGCONT them afterwards, whatever happens."""
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


@pytest.mark.postgres
def test_stopped_database_backends_read_down_within_two_seconds_and_recover(app, database_url):
    assert _health(app).json()["database"] == "ok"  # the pool now holds a live connection
    name = sa.engine.make_url(database_url).database
    watcher = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with watcher.connect() as connection:
        backends = connection.scalars(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        ).all()
    watcher.dispose()
    assert backends, "the app keeps no connection to stop"
    with _stopped(backends):
        reply, took = _timed_health(app)
    assert took < WITHIN, took
    assert reply.status == 503 and reply.json()["error"]["details"]["database"] == ["down"]
    # Resumed, the stalled check ends and the next health check reads the database again.
    assert _health(app).json()["database"] == "ok"


@pytest.mark.postgres
def test_a_statement_past_the_statement_timeout_is_cancelled_by_the_server(database_url):
    limited = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "REMS_DB_STATEMENT_TIMEOUT_SECONDS": 1}
    )
    with limited.app_context():
        from rems.extensions import db

        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            db.session.execute(sa.text("SELECT pg_sleep(5)"))
        db.session.rollback()
        db.engine.dispose()
