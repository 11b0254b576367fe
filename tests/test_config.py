"""Configuration and start-up: production secrets, database URLs, the program file."""

from __future__ import annotations

import pytest

from config import config_for
from rems import create_app, normalize_database_url
from rems.extensions import db
from rems.program import DEFAULT_PROGRAM_FILE, ProgramFileError


def test_production_refuses_to_start_without_its_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY and DATABASE_URL"):
        config_for("production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    with pytest.raises(RuntimeError, match="set DATABASE_URL"):
        config_for("production")


def test_production_app_uses_secure_cookies_and_postgresql(monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "1")
    monkeypatch.setenv("REMS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://rems@db.internal/rems")
    monkeypatch.setenv("TRUSTED_HOSTS", "rems.example.org")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://rems@db.internal/rems"


def _production_env(monkeypatch, **values: str) -> None:
    """A production environment that would start, changed by `values`."""
    settings = {"SECRET_KEY": "s" * 40, "DATABASE_URL": "postgresql://rems:pw@db.internal/rems",
                "TRUSTED_HOSTS": "rems.example.org",
                "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0"}  # fmt: skip
    for name in ("AUDIT_ANCHOR_KEY", "METRICS_TOKEN", "MAIL_PASSWORD", "GUNICORN_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (settings | values).items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("SECRET_KEY", "change-me"), ("METRICS_TOKEN", "change-me"), ("MAIL_PASSWORD", "change-me"),
     ("AUDIT_ANCHOR_KEY", "change-me"),
     ("DATABASE_URL", "postgresql://rems:change-me@db.internal/rems")],
)  # fmt: skip
def test_production_refuses_the_example_files_placeholder_secrets(monkeypatch, name, value):
    """Issue 22, item 8: deploy/rems.env.example's `change-me` is not a secret."""
    _production_env(monkeypatch, **{name: value})
    with pytest.raises(RuntimeError, match=f"{name} still hold"):
        config_for("production")


def test_production_refuses_per_worker_limits(monkeypatch):
    _production_env(monkeypatch, RATELIMIT_STORAGE_URI="memory://")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI is memory://"):
        config_for("production")
    monkeypatch.setenv("GUNICORN_WORKERS", "4")
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        config_for("production")
    monkeypatch.delenv("RATELIMIT_STORAGE_URI")  # the default is memory:// too
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        config_for("production")
    monkeypatch.setenv("GUNICORN_WORKERS", "1")  # a single process counts whole
    assert config_for("production").__name__ == "ProductionConfig"
    _production_env(monkeypatch)  # Redis: every worker counts together
    assert config_for("production").__name__ == "ProductionConfig"


def test_unknown_environment_name_is_refused():
    with pytest.raises(RuntimeError, match="REMS_ENV must be one of"):
        config_for("staging")


def test_database_url_spellings_use_psycopg3():
    assert normalize_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_development_default_is_a_sqlite_file_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("REMS_ENV", "development")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/instance/rems.sqlite3")


def test_a_malformed_program_file_stops_the_app_naming_the_key(tmp_path):
    broken = tmp_path / "broken.toml"
    text = DEFAULT_PROGRAM_FILE.read_text()
    broken.write_text(text.replace("validity_days = 7", "validity_days = 0"))
    with pytest.raises(ProgramFileError, match=r"broken.toml: authorization.validity_days"):
        create_app({"REMS_PROGRAM_FILE": str(broken)})


def test_the_app_holds_the_program_file(app):
    program = app.extensions["rems_program"]
    assert program.authorization.validity_days == 7
    assert len(program.assessment.questions) == 8


def test_postgresql_gets_a_pool_sized_for_the_workers_and_checked_after_idling():
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "postgresql://rems@db.example/rems", "REMS_DB_POOL_SIZE": 8}
    )
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 8 and "pool_pre_ping" not in options
    with app.app_context():
        assert db.engine.pool.rems_pings_idle  # see tests/test_pool_checks.py
    assert app.config["REMS_DB_PING_AFTER_IDLE_S"] == 5
    assert options["max_overflow"] == 4 and options["pool_recycle"] == 1800
    sqlite = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:"})
    assert "pool_size" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]
