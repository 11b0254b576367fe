"""Rate limits: Flask-Limiter, counting in one store shared by every worker and app server.

The store is RATELIMIT_STORAGE_URI: "memory://" (each process counts alone; fine for one
process, refused in production) by default, "redis://host:6379/0" in production so that every
gunicorn worker and every server behind the proxy count together. Limits (each a setting):

* REMS_API_RATE_LIMIT: requests per API token (per client address without a token);
* REMS_PATIENT_NOT_FOUND_LIMIT: the gate's PATIENT_NOT_FOUND answers, per pharmacy site (see
  `rems.authorizations.guessing`);
* REMS_REGISTRATION_LIMIT: self-registration attempts per client address.

The stores are in `rems.ratelimit_stores`: Redis fails open for the ordinary limits when it is
down or stalled; the date-of-birth guessing limit then counts in this process
(`guessing_strategy`).
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests

from rems.ratelimit_stores import FailOpenRedisStorage, SweptMemoryStorage

__all__ = ["FailOpenRedisStorage", "SweptMemoryStorage", "install", "limiter"]

limiter = Limiter(key_func=lambda: f"addr:{request.remote_addr}", key_prefix="rems")
#: Our own stores behind the schemes operators configure.
STORE_SCHEMES = {"memory": "rems-memory", "redis": "rems-redis", "rediss": "rems-rediss"}
_FALLBACK: dict[str, RateLimiter] = {}


def install(app: Flask, *limited: Blueprint) -> None:
    """Bind the limiter (its store comes from RATELIMIT_STORAGE_URI) and limit the API (each
    blueprint given: /api/v1 with every domain's API nested in it, /fhir)."""
    for bp in limited:
        if not getattr(bp, "rems_rate_limited", False):  # once per process: the blueprint is
            limiter.limit(api_limit, key_func=caller_key)(bp)  # shared by every app
            bp.rems_rate_limited = True
    store = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme, _, rest = store.partition("://")
    if scheme in STORE_SCHEMES:
        app.config["RATELIMIT_STORAGE_URI"] = f"{STORE_SCHEMES[scheme]}://{rest}"
    if scheme in ("redis", "rediss"):
        timeout = float(app.config.get("REMS_RATE_LIMIT_STORE_TIMEOUT_SECONDS", 0.25))
        options = app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {})
        options.setdefault("socket_timeout", timeout)
        options.setdefault("socket_connect_timeout", timeout)
    limiter.init_app(app)


def shared_store_up() -> bool:
    """Whether the shared store answers (a failed or stalled Redis is marked down a while)."""
    storage = limiter.storage
    return not isinstance(storage, FailOpenRedisStorage) or storage.up


def guessing_strategy() -> RateLimiter:
    """The limiter for guessing limits: the shared store's while it is up, else this process's
    own (a per-process count beats none while Redis is down)."""
    if shared_store_up():
        return limiter.limiter
    if "strategy" not in _FALLBACK:
        _FALLBACK["strategy"] = FixedWindowRateLimiter(SweptMemoryStorage("rems-memory://"))
    return _FALLBACK["strategy"]


def caller_key() -> str:
    """Who an API request counts against: its bearer token (hashed), else its address."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return "token:" + hashlib.sha256(credential.strip().encode()).hexdigest()[:32]
    return f"addr:{request.remote_addr}"


def api_limit() -> str:
    """The per-token limit of the API, from the configuration."""
    return current_app.config["REMS_API_RATE_LIMIT"]


def registration_limit() -> str:
    """Self-registrations per address, from the configuration."""
    return current_app.config["REMS_REGISTRATION_LIMIT"]


class RateLimited(TooManyRequests):
    """A 429 that says how long to wait."""

    def __init__(self, retry_after: int, description: str):
        super().__init__(description=description)
        self.retry_after = retry_after


def retry_after(error: TooManyRequests) -> int:
    """Seconds to wait, for the Retry-After header of a 429."""
    seconds = getattr(error, "retry_after", None)
    if isinstance(seconds, int):
        return seconds
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))
