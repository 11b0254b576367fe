"""The LEMTRADA REMS enrollment and compliance system: the application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from config import config_for
from rems.common.requests import BoundedJSONRequest

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, extensions, program file, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.request_class = BoundedJSONRequest
    _configure(app, overrides or {})
    _init_extensions(app)
    _load_program(app)
    _register_blueprints(app)
    _install_proxy_fix(app)
    from rems import cli, errors, ratelimit, templating
    from rems.api.core import bp as api_bp
    from rems.auth import guard
    from rems.common import nul_guard
    from rems.interop.fhir_routes import bp as fhir_bp
    from rems.observability import metrics
    from rems.reports import summarise

    # before the guard: a refused request costs no database work
    ratelimit.install(app, api_bp, fhir_bp)
    nul_guard.install(app)
    guard.install(app)
    metrics.install(app)
    summarise.install()
    errors.install(app)
    templating.install(app)
    cli.install(app)
    return app


def _configure(app: Flask, overrides: dict[str, Any]) -> None:
    """Load the REMS_ENV configuration, then the environment, then explicit overrides."""
    app.config.from_object(config_for(os.environ.get("REMS_ENV")))
    for name in ("SECRET_KEY", "DATABASE_URL"):
        if os.environ.get(name):
            key = "SQLALCHEMY_DATABASE_URI" if name == "DATABASE_URL" else name
            app.config[key] = os.environ[name]
    if os.environ.get("TRUSTED_HOSTS"):
        hosts = os.environ["TRUSTED_HOSTS"].split(",")
        app.config["TRUSTED_HOSTS"] = [host.strip() for host in hosts if host.strip()]
    app.config.update(overrides)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        database = Path(app.instance_path) / "rems.sqlite3"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SECRET_KEY is not set.")
    _engine_options(app)


def _engine_options(app: Flask) -> None:
    """JSON columns stored in the canonical spelling (sorted keys, no spaces), which exports
    can copy as they are. PostgreSQL: a pool sized for the worker's threads, renewed after 30
    minutes; connections are checked before use when they sat idle (`rems.common.pool_checks`).
    Explicit SQLALCHEMY_ENGINE_OPTIONS win; SQLite keeps SQLAlchemy's pool defaults."""
    from rems.db import canonical_json

    options: dict[str, Any] = {"json_serializer": canonical_json}
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options |= {
            "pool_size": app.config.get("REMS_DB_POOL_SIZE", 4),
            "max_overflow": app.config.get("REMS_DB_MAX_OVERFLOW", 4),
            "pool_recycle": 1800,
            "connect_args": _postgres_timeouts(app),
        }
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **options,
        **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
    }


def _postgres_timeouts(app: Flask) -> dict[str, Any]:
    """A server that does not answer must not hold a request forever: connecting gives up
    after REMS_DB_CONNECT_TIMEOUT_SECONDS, and the server cancels any statement running longer
    than REMS_DB_STATEMENT_TIMEOUT_SECONDS (0: no limit), before gunicorn's worker timeout.
    Options already in DATABASE_URL's `options` parameter are kept."""
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    statement_ms = int(app.config.get("REMS_DB_STATEMENT_TIMEOUT_SECONDS", 25)) * 1000
    options = " ".join(
        filter(None, [url.query.get("options"), f"-c statement_timeout={statement_ms}"])
    )
    return {
        "connect_timeout": app.config.get("REMS_DB_CONNECT_TIMEOUT_SECONDS", 5),
        "options": options,
    }


def _install_proxy_fix(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS proxies, take the client's address, scheme and host from their
    X-Forwarded-* headers (werkzeug's ProxyFix); with 0 (the default) trust no such header."""
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def normalize_database_url(url: str) -> str:
    """PostgreSQL URLs use the psycopg 3 driver whatever spelling they arrive in."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _init_extensions(app: Flask) -> None:
    """Bind the extensions and the session hooks that chain the audit trail."""
    from rems import models  # noqa: F401  (every table registered before Alembic looks)
    from rems.audit.trail import discard_pending, seal_pending
    from rems.common import transactions
    from rems.common.clock import SystemClock
    from rems.extensions import csrf, db, login_manager, migrate

    transactions.configure_sqlite(app.config.get("REMS_SQLITE_BUSY_TIMEOUT_MS", 10_000))
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from rems.common.pool_checks import ping_idle_connections

        with app.app_context():
            ping_idle_connections(db.engine, app.config.get("REMS_DB_PING_AFTER_IDLE_S", 5))
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    app.extensions.setdefault("rems_clock", SystemClock())
    if not sa.event.contains(Session, "before_commit", seal_pending):
        sa.event.listen(Session, "before_commit", seal_pending)
        sa.event.listen(Session, "after_rollback", discard_pending)


def _load_program(app: Flask) -> None:
    """Load the program file once; a malformed file stops the app with the key named."""
    from rems.program import DEFAULT_PROGRAM_FILE, load_program

    path = app.config.get("REMS_PROGRAM_FILE") or DEFAULT_PROGRAM_FILE
    app.extensions["rems_program"] = load_program(path)


def _register_blueprints(app: Flask) -> None:
    """Web pages and the JSON API."""
    from rems.admin.views import bp as admin_bp
    from rems.adverse_events.views import bp as adverse_events_bp
    from rems.alerts.views import bp as alerts_bp
    from rems.api.v1 import bp as api_bp
    from rems.audit.views import bp as audit_bp
    from rems.auth.registration import bp as registration_bp
    from rems.auth.views import bp as auth_bp
    from rems.authorizations.views import bp as authorizations_bp
    from rems.certification.views import bp as certification_bp
    from rems.compliance.views import bp as compliance_bp
    from rems.courses.draft_views import bp as course_drafts_bp
    from rems.courses.views import bp as courses_bp
    from rems.documents.views import bp as documents_bp
    from rems.extensions import csrf
    from rems.infusions.views import bp as infusions_bp
    from rems.interop.cds_admin import bp as cds_admin_bp
    from rems.interop.cds_api import bp as cds_bp
    from rems.interop.fhir_routes import bp as fhir_bp
    from rems.monitoring.followup_views import bp as followup_bp
    from rems.monitoring.views import bp as monitoring_bp
    from rems.notifications.views import bp as notifications_bp
    from rems.patients.views import bp as patients_bp
    from rems.prescribers.views import bp as prescribers_bp
    from rems.prior_treatment.views import bp as prior_treatment_bp
    from rems.reports.narrative_views import bp as reports_bp
    from rems.sites.views import bp as sites_bp
    from rems.web.views import bp as web_bp

    blueprints = (
        web_bp, auth_bp, registration_bp, admin_bp, audit_bp, certification_bp, prescribers_bp,
        sites_bp, patients_bp, documents_bp, courses_bp, course_drafts_bp, authorizations_bp,
        infusions_bp, compliance_bp,
        notifications_bp, adverse_events_bp, prior_treatment_bp, monitoring_bp, reports_bp,
        followup_bp,
        api_bp, fhir_bp, alerts_bp, cds_bp, cds_admin_bp,
    )  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    for name, blueprint in app.blueprints.items():
        if name.split(".")[0] in (api_bp.name, fhir_bp.name, cds_bp.name):
            csrf.exempt(blueprint)  # the APIs authenticate with bearer tokens, never cookies
