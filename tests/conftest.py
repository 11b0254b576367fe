"""Fixtures: a fresh, migrated database per test (SQLite file, or PostgreSQL), the app, a frozen
clock, clients and factories.

Run on SQLite by default. Set REMS_TEST_POSTGRES_URL (an admin URL such as
postgresql://postgres@127.0.0.1:5432/postgres) to run the whole suite on PostgreSQL: the suite
creates its own databases there and drops them afterwards.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa

os.environ["REMS_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)

import flask
from flask import request
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing import Rule

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


class RuleWithSharedBuilders(Rule):
    """A URL rule whose builder functions are compiled once per test process, not once per app.

    Werkzeug compiles two small Python functions for every URL rule an app registers; with a
    hundred rules that was 85 % of `create_app`, paid again for every test's fresh app. A rule's
    builders depend only on its text, its parsed parts, its defaults and whether unknown values
    are appended, so apps made by the same factory can share them. Tests only: the app keeps
    werkzeug's own rules, and without the method this overrides the suite is just slower.
    """

    _shared: ClassVar[dict[tuple, Callable]] = {}

    def _compile_builder(self, append_unknown: bool = True) -> Callable:
        key = (
            self.rule,
            self.host,
            self.subdomain,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        builder = self._shared.get(key)
        if builder is None:
            builder = self._shared[key] = super()._compile_builder(append_unknown)
        return builder


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every app of the test process.

    Each test's fresh app has its own Jinja environment, which compiled every template it
    rendered again. Jinja's bytecode cache (its public extension point for exactly this) keys
    each entry by template name and source checksum, so an edited template is compiled anew.
    """

    def __init__(self):
        self._code: dict[str, object] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Give the bucket the code compiled earlier for the same source, if any."""
        bucket.code = self._code.get(f"{bucket.key}:{bucket.checksum}")

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled."""
        self._code[f"{bucket.key}:{bucket.checksum}"] = bucket.code


TEMPLATE_CODE = SharedTemplateCode()


def pytest_configure(config):
    """Every app the tests create shares compiled URL builders (see RuleWithSharedBuilders)
    and, per database, its engine (see SharedEngines)."""
    if hasattr(Rule, "_compile_builder"):
        flask.Flask.url_rule_class = RuleWithSharedBuilders
    if hasattr(type(_db), "_make_engine"):
        type(_db)._make_engine = _shared_engine


def _shared_engine(_extension, bind_key: str | None, options: dict, _app) -> sa.Engine:
    return SharedEngines.engine_for(bind_key, options)


def migrate_to_head(url: str) -> None:
    """Build the schema with the project's migrations, exactly as `flask db upgrade` does."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        _db.engine.dispose()


class SharedEngines:
    """One SQLAlchemy engine per database URL and engine options for the whole test process.

    Every test builds a fresh app, and Flask-SQLAlchemy gave each app an engine of its own. An
    engine keeps its compiled statements in its own cache, keyed by its own dialect object, so
    each test compiled every statement it ran again: a quarter of the suite's CPU time. The
    apps of one test process now share the engine made for the same URL and options (SQLite:
    the process's own file, copied from the template before each test; PostgreSQL: the
    process's database, emptied between tests), and with it the compiled statements.

    Before each test every shared pool closes its idle connections (`Pool.dispose` keeps the
    pool and its listeners), so no test inherits a connection from the one before. An engine a
    test added a listener to (a fault it injects, a statement counter) is thrown away instead:
    the next test gets a new one, as before. Tests only.
    """

    engines: ClassVar[dict[str, tuple[sa.Engine, tuple[int, ...]]]] = {}

    @classmethod
    def engine_for(cls, bind_key: str | None, options: dict) -> sa.Engine:
        """The process's engine for these options (what Flask-SQLAlchemy's `_make_engine`
        would have made anew)."""
        key = repr((bind_key, sorted(options.items(), key=lambda item: item[0])))
        if key not in cls.engines:
            engine = sa.engine_from_config(options, prefix="")
            cls.engines[key] = (engine, cls._listeners(engine))
        return cls.engines[key][0]

    @classmethod
    def close_idle(cls) -> None:
        """Close every idle pooled connection (checked-out ones are the test's own); forget
        the engines a test added listeners to."""
        for key, (engine, listeners) in list(cls.engines.items()):
            if cls._listeners(engine) == listeners:
                engine.pool.dispose()
            else:
                engine.dispose()
                del cls.engines[key]

    @staticmethod
    def _listeners(engine: sa.Engine) -> tuple[int, ...]:
        """How many listeners each of the engine's and its pool's events has."""
        return tuple(
            len(getattr(dispatch, name))
            for dispatch in (engine.dispatch, engine.pool.dispatch)
            for name in dispatch._event_names
        )


class SQLiteDatabases:
    """A migrated template file, copied for each test over the process's own file."""

    def __init__(self, directory: Path):
        self.template = directory / "template.sqlite3"
        migrate_to_head(f"sqlite:///{self.template}")
        with sqlite3.connect(self.template) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("PRAGMA journal_mode=DELETE")

    def create(self, _directory: Path) -> str:
        """A fresh database for one test: the template copied over the process's file (one
        name per process, so its engine and compiled statements are shared; see
        SharedEngines). The copy is renamed into place, so a connection some test leaked
        still sees the old file, never a half-copied one."""
        target = self.template.with_name(f"rems-{os.getpid()}.sqlite3")
        for leftover in (
            target.with_name(target.name + "-wal"),
            target.with_name(target.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        copy = target.with_name(target.name + ".new")
        shutil.copyfile(self.template, copy)
        copy.replace(target)
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        """Files go with the test's temporary directory."""

    def close(self) -> None:
        """Nothing to drop."""


class SchemaChanged(Exception):
    """A test left the schema other than the migrations built it."""


class PostgresDatabases:
    """One migrated database per test process, emptied between tests.

    A database per test (`CREATE DATABASE … TEMPLATE`, then `DROP DATABASE`) costs the server about
    a second each way, which made the PostgreSQL pass three times slower than SQLite's. Emptying
    the tables takes milliseconds: one transaction deletes every row and restarts every sequence,
    so the next test sees exactly what the migrations left (they seed no rows; `_emptying` checks
    that). The reset runs as the superuser with `session_replication_role = replica`, so neither
    the audit trail's append-only triggers nor the foreign keys stand in its way; nothing the app
    or a test does runs that way. Under pytest-xdist each worker process has its own database.
    """

    def __init__(self, admin_url: str):
        self.admin = sa.create_engine(
            normalize_database_url(admin_url), isolation_level="AUTOCOMMIT"
        )
        self.name = f"rems_test_{os.getpid()}"
        self.url = self.admin.url.set(database=self.name).render_as_string(hide_password=False)
        self._build()

    #: What a test may have changed in the schema itself (a trigger it added or disabled, a
    #: function, a grant, a dropped table): names, kinds, columns, privileges and trigger states.
    SCHEMA_FINGERPRINT = """
        SELECT md5(string_agg(item, ',' ORDER BY item)) FROM (
          SELECT concat_ws(':', 'class', c.relname, c.relkind, c.relnatts, c.relacl::text) AS item
          FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
          UNION ALL
          SELECT concat_ws(':', 'trigger', c.relname, t.tgname, t.tgenabled)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE c.relnamespace = current_schema()::regnamespace
          UNION ALL
          SELECT concat_ws(':', 'function', p.proname, md5(p.prosrc))
          FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
          UNION ALL
          SELECT concat_ws(':', 'constraint', conname, contype)
          FROM pg_constraint WHERE connamespace = current_schema()::regnamespace
        ) AS schema_items
    """

    def create(self, _directory: Path) -> str:
        """The process's database, empty as the migrations left it."""
        if self._used:
            try:
                self._empty()
            except (sa.exc.DBAPIError, SchemaChanged):  # a test changed the schema: build again
                self._build()
        self._used = True
        return self.url

    def drop(self, url: str) -> None:
        """Nothing to drop: the next `create` empties the database."""

    def close(self) -> None:
        """Drop the process's database."""
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()

    def _build(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._execute(f'CREATE DATABASE "{self.name}"')
        migrate_to_head(self.url)
        self._emptying = self._emptying_statement()
        self._used = False

    def _emptying_statement(self) -> str:
        """One transaction that deletes every row the tests may write and restarts sequences."""
        engine = self._engine()
        with engine.connect() as connection:
            # The catalog quotes every name (%I): no statement is built from Python strings.
            deletes, counts = connection.execute(
                sa.text(
                    "SELECT string_agg(format('DELETE FROM %I', tablename), '; '), "
                    "string_agg(format('SELECT %L, count(*) FROM %I', tablename, tablename), "
                    "' UNION ALL ') FROM pg_tables WHERE schemaname = current_schema() "
                    "AND tablename <> 'alembic_version'"
                )
            ).one()
            restarts = connection.execute(
                sa.text(
                    "SELECT string_agg(format('ALTER SEQUENCE %I RESTART', sequencename), '; ') "
                    "FROM pg_sequences WHERE schemaname = current_schema()"
                )
            ).scalar()
            seeded = [name for name, rows in connection.exec_driver_sql(counts) if rows]
            self._schema = connection.exec_driver_sql(self.SCHEMA_FINGERPRINT).scalar()
        engine.dispose()
        assert not seeded, f"migrations seed rows in {seeded}: emptying would lose them"
        return "; ".join(
            ["BEGIN", "SET LOCAL session_replication_role = replica", deletes, restarts, "COMMIT"]
        )

    def _empty(self) -> None:
        """End whatever a test left connected, then empty every table."""
        with self.admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )
        engine = self._engine()
        try:
            with engine.connect() as connection:
                if connection.exec_driver_sql(self.SCHEMA_FINGERPRINT).scalar() != self._schema:
                    raise SchemaChanged
                connection.exec_driver_sql(self._emptying)
        finally:
            engine.dispose()

    def _engine(self) -> sa.Engine:
        """The process's database, as the superuser, one connection at a time, no transaction
        but the ones the statements begin."""
        return sa.create_engine(
            normalize_database_url(self.url),
            poolclass=sa.pool.NullPool,
            isolation_level="AUTOCOMMIT",
        )

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
    SharedEngines.close_idle()
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
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    app.after_request(_check_html)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.pool.dispose()  # the pool stays, with its listeners (see SharedEngines)


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
