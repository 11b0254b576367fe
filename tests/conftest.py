"""Fixtures: a fresh, migrated database per test (SQLite file, or PostgreSQL), the app, a frozen
clock, clients and factories.

Run on SQLite by default. Set REMS_TEST_POSTGRES_URL (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres) to run the whole suite on PostgreSQL: the suite
creates its own databases there and drops them afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ["REMS_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)

from flask import request

from rems import create_app, normalize_database_url
from rems.common.clock import FrozenClock
from rems.extensions import db as _db
from tests import html_checks, smtp
from tests.factories import Factory
from tests.redis_server import start_redis

POSTGRES_ADMIN_URL = os.environ.get("REMS_TEST_POSTGRES_URL")


def pytest_report_header(config):
    """Say which database the suite runs on."""
    return f"rems database: {'PostgreSQL' if POSTGRES_ADMIN_URL else 'SQLite (file)'}"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip when no PostgreSQL URL is given."""
    if POSTGRES_ADMIN_URL:
        return
    skip = pytest.mark.skip(reason="needs REMS_TEST_POSTGRES_URL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def migrate_to_head(url: str) -> None:
    """Build the schema with the project's migrations, exactly as `flask db upgrade` does."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        _db.engine.dispose()


class SQLiteDatabases:
    """A migrated template file, copied for each test."""

    def __init__(self, directory: Path):
        self.template = directory / "template.sqlite3"
        migrate_to_head(f"sqlite:///{self.template}")
        with sqlite3.connect(self.template) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")

    def create(self, directory: Path) -> str:
        """A fresh database for one test."""
        target = directory / "rems.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        """Files go with the test's temporary directory."""

    def close(self) -> None:
        """Nothing to drop."""


class PostgresDatabases:
    """A migrated template database, cloned for each test and dropped after it.

    Cloning takes about as long as a test, so one background thread clones a few databases
    ahead of the tests that will use them and drops used ones behind them. It is the only
    thread that touches the template: PostgreSQL refuses two clones of one template at once.
    """

    #: How many clones wait ready for the next tests.
    AHEAD = 2

    def __init__(self, admin_url: str):
        self.admin = sa.create_engine(
            normalize_database_url(admin_url), isolation_level="AUTOCOMMIT"
        )
        self.prefix = f"rems_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.template}"')
        migrate_to_head(self.url_for(self.template))
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clones")
        self._ready: deque[Future[str]] = deque()
        self._fill()

    def url_for(self, name: str) -> str:
        """The URL of database `name` on the same server."""
        return self.admin.url.set(database=name).render_as_string(hide_password=False)

    def create(self, _directory: Path) -> str:
        """A fresh database for one test, cloned from the template (usually ahead of time)."""
        clone = self._ready.popleft()
        self._fill()
        return clone.result()

    def drop(self, url: str) -> None:
        """Drop one test's database, behind the tests."""
        self._worker.submit(self._drop_now, url)

    def close(self) -> None:
        """Drop the clones nobody used, then the template."""
        for clone in self._ready:
            self.drop(clone.result())
        self._worker.shutdown(wait=True)
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.dispose()

    def _fill(self) -> None:
        while len(self._ready) < self.AHEAD:
            self._ready.append(self._worker.submit(self._clone))

    def _clone(self) -> str:
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url_for(name)

    def _drop_now(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        if re.fullmatch(r"rems_test_\d+_[0-9a-f]{10}", name or ""):
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(statement)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """The suite's database server: SQLite files, or PostgreSQL when a URL is given."""
    if POSTGRES_ADMIN_URL:
        servers = PostgresDatabases(POSTGRES_ADMIN_URL)
    else:
        servers = SQLiteDatabases(tmp_path_factory.mktemp("template"))
    yield servers
    servers.close()


@pytest.fixture
def database_url(databases, tmp_path):
    """A fresh, migrated database for this test."""
    url = databases.create(tmp_path)
    yield url
    databases.drop(url)


@pytest.fixture(autouse=True)
def machine_clock_is_off_limits(monkeypatch):
    """A test that reads the machine's date passes today and fails on another day: refuse it.

    Everything in a test takes time from the frozen clock (`clock`, or `today()` inside the
    app's context); code outside an app context that asks for the time fails loudly here.
    """

    def refuse(_self):
        raise AssertionError("a test read the machine's clock; use the frozen `clock` fixture")

    monkeypatch.setattr("rems.common.clock.SystemClock.now", refuse)


@pytest.fixture
def clock():
    """A frozen clock the test moves by hand (2026-11-24 09:00 UTC to start)."""
    return FrozenClock()


@pytest.fixture
def app(database_url, clock):
    """The app on this test's database and frozen clock."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    app.extensions["rems_clock"] = clock
    app.after_request(_check_html)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _check_html(response):
    """Every page a test renders has unique ids and error summaries in page order."""
    if response.mimetype == "text/html" and not response.is_streamed:
        found = html_checks.problems(response.get_data(as_text=True))
        assert not found, f"{request.path}: {'; '.join(found)}"
    return response


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free loopback port for this test: (port, inbox)."""
    inbox = smtp.Inbox()
    with smtp.running(inbox) as port:
        yield port, inbox


@pytest.fixture
def db(app):
    """The database inside an app context, for tests that call services directly."""
    with app.app_context():
        yield _db
        _db.session.rollback()


@pytest.fixture
def client(app):
    """A browser-like test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """The CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def factory(app):
    """Builds users, tokens and sign-ins, each in its own app context and transaction."""
    return Factory(app)


@pytest.fixture
def redis_server(tmp_path):
    """A private, real redis-server for this test (see `tests.redis_server`): the shared
    rate-limit store of the security tests and of the served app with several workers."""
    yield from start_redis(tmp_path)


@pytest.fixture
def redis_url(redis_server):
    """The private redis-server's URL."""
    return redis_server.url
