"""Configuration classes, selected by REMS_ENV and filled from environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name: str, default: int) -> int:
    """Read an integer environment variable, naming it when it is not a number."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from None


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    #: Database errors never carry their bound values (password hashes, session tokens, patient
    #: data) into messages and logs.
    SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}
    REMS_PROGRAM_FILE = os.environ.get("REMS_PROGRAM_FILE")  # None: the shipped lemtrada.toml
    #: Sessions end after this much inactivity and, whatever the activity, after the absolute limit.
    REMS_IDLE_TIMEOUT = timedelta(minutes=_env_int("REMS_IDLE_TIMEOUT_MINUTES", 15))
    REMS_ABSOLUTE_TIMEOUT = timedelta(hours=_env_int("REMS_ABSOLUTE_TIMEOUT_HOURS", 12))
    #: Failed sign-ins allowed per username (and, ten times that, per address) in the window.
    REMS_LOGIN_MAX_FAILURES = _env_int("REMS_LOGIN_MAX_FAILURES", 5)
    REMS_LOGIN_WINDOW = timedelta(minutes=_env_int("REMS_LOGIN_WINDOW_MINUTES", 15))
    #: Past the limit each further try waits this many seconds, doubling with every failure.
    REMS_LOGIN_BASE_DELAY_SECONDS = _env_int("REMS_LOGIN_BASE_DELAY_SECONDS", 2)
    REMS_PASSWORD_MIN_LENGTH = 12
    #: Proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (werkzeug's
    #: ProxyFix). 0 trusts none: the client address is the connection's.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)
    #: Flask-Limiter's store, shared by every worker and server: "redis://host:6379/0" in
    #: production; the in-process default counts per process only.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: Requests per API token; much fewer PATIENT_NOT_FOUND answers per pharmacy site (then 429)
    #: and per patient ID (then administrators are told; nobody is refused).
    REMS_API_RATE_LIMIT = os.environ.get("REMS_API_RATE_LIMIT", "3000 per minute")
    REMS_PATIENT_NOT_FOUND_LIMIT = os.environ.get("REMS_PATIENT_NOT_FOUND_LIMIT", "10 per hour")
    #: Self-registration attempts per client address.
    REMS_REGISTRATION_LIMIT = os.environ.get("REMS_REGISTRATION_LIMIT", "10 per hour")
    #: API tokens an account may be given in 24 hours.
    REMS_API_TOKENS_PER_DAY = _env_int("REMS_API_TOKENS_PER_DAY", 10)
    #: Seconds a call to the rate-limit store may take before the ordinary limits fail open.
    REMS_RATE_LIMIT_STORE_TIMEOUT_SECONDS = 0.25
    #: argon2id cost; the defaults follow RFC 9106's second recommended profile.
    REMS_ARGON2_TIME_COST = _env_int("REMS_ARGON2_TIME_COST", 3)
    REMS_ARGON2_MEMORY_KIB = _env_int("REMS_ARGON2_MEMORY_KIB", 65536)
    REMS_PAGE_SIZE = 25
    #: PostgreSQL connections each app process keeps (size it to gunicorn's --threads) and may
    #: open beyond that under a burst; workers × (size + overflow) must stay below the server's
    #: max_connections. Connections are renewed after 30 min.
    REMS_DB_POOL_SIZE = _env_int("REMS_DB_POOL_SIZE", 4)
    REMS_DB_MAX_OVERFLOW = _env_int("REMS_DB_MAX_OVERFLOW", 4)
    #: A pooled connection idle this many seconds is pinged before use (0: always).
    REMS_DB_PING_AFTER_IDLE_S = _env_int("REMS_DB_PING_AFTER_IDLE_S", 5)
    #: PostgreSQL: give up connecting after this many seconds, and have the server cancel a
    #: statement running longer than this many (0: never; migrations run without a limit).
    REMS_DB_CONNECT_TIMEOUT_SECONDS = _env_int("REMS_DB_CONNECT_TIMEOUT_SECONDS", 5)
    REMS_DB_STATEMENT_TIMEOUT_SECONDS = _env_int("REMS_DB_STATEMENT_TIMEOUT_SECONDS", 25)
    #: The longest period a report or an export may cover, in days (an assessment at 7 years fits).
    REMS_REPORT_MAX_DAYS = _env_int("REMS_REPORT_MAX_DAYS", 3660)
    #: A report's page counts its rows up to this many, then says "more than" (exports have all).
    REMS_REPORT_COUNT_CAP = max(1, _env_int("REMS_REPORT_COUNT_CAP", 10000))
    #: The key of de-identified exports' keyed hashes (patient keys, date shifts, record
    #: numbers); unset, one is derived from SECRET_KEY. Changing it changes every pseudonym.
    REMS_DEIDENTIFY_KEY = os.environ.get("REMS_DEIDENTIFY_KEY") or None
    #: The audit anchor: an HMAC key the database never holds, and the file anchors go to.
    AUDIT_ANCHOR_KEY = os.environ.get("AUDIT_ANCHOR_KEY")
    AUDIT_ANCHOR_PATH = os.environ.get("AUDIT_ANCHOR_PATH")  # None: instance/audit-anchors
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "rems_session"
    # No remember-me: Flask-Login's long-lived cookie is never issued (login_user(remember=False)).
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    #: Uploads (document versions) may be 10 MB; the rest leaves room for the multipart envelope.
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024 + 64 * 1024
    PREFERRED_URL_SCHEME = "http"
    #: The mail relay for the notifications outbox; unset, messages stay in the outbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in {"1", "true", "yes"}
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "lemtrada-rems@localhost")
    #: The app's public address, used to make links in mailed messages absolute.
    REMS_BASE_URL = os.environ.get("REMS_BASE_URL") or None
    #: The bearer token Prometheus scrapes /metrics with; unset, /metrics answers 404.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    #: /api/v1/health: a dependency slower than this reads "degraded", one silent this long
    #: "down"; the rate-limit store and mail relay are re-checked at most this often.
    REMS_HEALTH_SLOW_MS = _env_int("REMS_HEALTH_SLOW_MS", 500)
    REMS_HEALTH_TIMEOUT_SECONDS = 1.0
    REMS_HEALTH_CACHE_SECONDS = _env_int("REMS_HEALTH_CACHE_SECONDS", 10)
    #: Retry-After on 409 `request_in_progress`: a retry that overlapped its first request.
    REMS_RETRY_IN_PROGRESS_SECONDS = _env_int("REMS_RETRY_IN_PROGRESS_SECONDS", 2)


class DevelopmentConfig(Config):
    """The embedded default: a SQLite file in the instance folder."""

    SECRET_KEY = Config.SECRET_KEY or "dev-only-secret-key-do-not-use-in-production"


class TestingConfig(Config):
    """The test suite's settings: cheap password hashing, a database chosen per test."""

    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105  (tests only)
    REMS_ARGON2_TIME_COST = 1
    REMS_ARGON2_MEMORY_KIB = 1024
    #: Past the limit each further try waits this many seconds, doubling with every failure.
    REMS_LOGIN_BASE_DELAY_SECONDS = _env_int("REMS_LOGIN_BASE_DELAY_SECONDS", 2)
    REMS_PASSWORD_MIN_LENGTH = 12
    #: Proxies in front of the app whose X-Forwarded-For/-Proto/-Host are trusted (werkzeug's
    #: ProxyFix). 0 trusts none: the client address is the connection's.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)
    #: Flask-Limiter's store, shared by every worker and server: "redis://host:6379/0" in
    #: production; the in-process default counts per process only.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    #: Requests per API token; much fewer PATIENT_NOT_FOUND answers per pharmacy site (then 429)
    #: and per patient ID (then administrators are told; nobody is refused).
    REMS_API_RATE_LIMIT = os.environ.get("REMS_API_RATE_LIMIT", "3000 per minute")
    REMS_PATIENT_NOT_FOUND_LIMIT = os.environ.get("REMS_PATIENT_NOT_FOUND_LIMIT", "10 per hour")
    #: Self-registration attempts per client address.
    REMS_REGISTRATION_LIMIT = os.environ.get("REMS_REGISTRATION_LIMIT", "10 per hour")
    REMS_HEALTH_CACHE_SECONDS = 0  # tests change the relay between requests


class ProductionConfig(Config):
    """Production: PostgreSQL, secure cookies; refuses to start without its secrets and the
    host names it answers to."""

    SESSION_COOKIE_SECURE = True
    #: "__Host-": browsers keep it only when Secure, for the whole site, set by this very host.
    SESSION_COOKIE_NAME = "__Host-rems_session"
    PREFERRED_URL_SCHEME = "https"

    #: Settings whose value must never be a placeholder copied from deploy/rems.env.example.
    SECRETS = ("SECRET_KEY", "DATABASE_URL", "AUDIT_ANCHOR_KEY", "METRICS_TOKEN", "MAIL_PASSWORD")
    PLACEHOLDER = "change-me"

    @classmethod
    def check(cls) -> None:
        """Refuse to start when a required setting is missing, a secret is still the example
        file's placeholder, or rate limits would count per worker."""
        required = ("SECRET_KEY", "DATABASE_URL", "TRUSTED_HOSTS")
        missing = [name for name in required if not os.environ.get(name)]
        if missing:
            raise RuntimeError(
                "Production configuration refuses to start: set "
                + " and ".join(missing)
                + " in the environment."
            )
        placeholders = [n for n in cls.SECRETS if cls.PLACEHOLDER in os.environ.get(n, "")]
        if placeholders:
            raise RuntimeError(
                "Production configuration refuses to start: "
                + " and ".join(placeholders)
                + f" still hold the example file's placeholder {cls.PLACEHOLDER!r}; set real"
                " secrets in the environment."
            )
        cls._check_shared_limits()

    @staticmethod
    def _check_shared_limits() -> None:
        """memory:// counts per process: only a single gunicorn worker may use it (the shipped
        gunicorn.conf.py starts two per CPU unless GUNICORN_WORKERS says otherwise)."""
        store = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
        if store.startswith("memory://") and os.environ.get("GUNICORN_WORKERS") != "1":
            raise RuntimeError(
                "Production configuration refuses to start: RATELIMIT_STORAGE_URI is "
                "memory://, which counts in each worker alone; point it at Redis "
                "(redis://host:6379/0), or run a single worker (GUNICORN_WORKERS=1)."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """The configuration class for REMS_ENV (development when unset)."""
    key = (name or "development").lower()
    if key not in CONFIGS:
        raise RuntimeError(f"REMS_ENV must be one of {', '.join(CONFIGS)}, got {name!r}")
    config = CONFIGS[key]
    if config is ProductionConfig:
        ProductionConfig.check()
    return config
