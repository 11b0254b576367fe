"""Readiness for operators: the database, the rate-limit store and the mail relay, each "ok",
"degraded" (answered, but slower than REMS_HEALTH_SLOW_MS), "down" (no answer within
REMS_HEALTH_TIMEOUT_SECONDS) or "not configured". Only a database that is down makes the whole
service down: without it the gate cannot decide. The remote checks are cached briefly per
process, so a busy health endpoint never hammers the relay or the store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from rems import ratelimit
from rems.common.intent import reading
from rems.extensions import db

OK, DEGRADED, DOWN, NOT_CONFIGURED = "ok", "degraded", "down", "not configured"
_CACHE_KEY = "rems_health_cache"
_RUNNING: dict[str, Future] = {}  # per process: the check of each dependency now under way
_RUNNING_LOCK = threading.Lock()


def health_report() -> tuple[dict[str, str], int]:
    """The report and its status code: 503 only when the database is down."""
    checks = {
        "database": _timed("database", _ping_database),
        "rate_limit_store": _rate_limit_store_state(),
        "mail_relay": _cached("mail_relay", _check_mail_relay),
    }
    if checks["database"] == DOWN:
        overall = DOWN
    elif any(state in (DEGRADED, DOWN) for state in checks.values()):
        overall = DEGRADED
    else:
        overall = OK
    return {"status": overall, **checks}, 503 if overall == DOWN else 200


def _timed(name: str, check: Callable[[], None]) -> str:
    """Run one check: ok, degraded when slow, down when it fails."""
    started = time.perf_counter()
    try:
        check()
    except Exception as error:  # every failure of a dependency reads as "down"
        current_app.logger.warning("health check of the %s failed: %s", name, error)
        return DOWN
    slow_ms = current_app.config.get("REMS_HEALTH_SLOW_MS", 500)
    return DEGRADED if (time.perf_counter() - started) * 1000 > slow_ms else OK


def _cached(name: str, check: Callable[[], str]) -> str:
    """A remote check's state, re-checked at most every REMS_HEALTH_CACHE_SECONDS."""
    cache = current_app.extensions.setdefault(_CACHE_KEY, {})
    ttl = current_app.config.get("REMS_HEALTH_CACHE_SECONDS", 10)
    now = time.monotonic()
    if name in cache and now - cache[name][0] < ttl:
        return cache[name][1]
    state = check()
    cache[name] = (now, state)
    return state


def _ping_database() -> None:
    """One round trip on a connection of the pool, waited for REMS_HEALTH_TIMEOUT_SECONDS at
    most: a stalled server (a stopped backend, a full connection table) reads as down instead
    of hanging the health check (statement and connect timeouts bound the rest)."""
    engine = db.engine
    within_deadline(f"database {engine.url!r}", lambda: _select_one(engine), _timeout())


def _select_one(engine: sa.Engine) -> None:
    """SELECT 1 in a read transaction of its own (deferred on SQLite: no write lock)."""
    with reading(), engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def within_deadline(name: str, check: Callable[[], None], seconds: float) -> None:
    """Run `check` in a thread of its own and wait `seconds` for it; raise TimeoutError past
    that. While a check still hangs, later calls wait on the same one: a stalled dependency
    holds one thread per process, never one per health request."""
    with _RUNNING_LOCK:
        running = _RUNNING.get(name)
        if running is None or running.done():
            running = _RUNNING[name] = Future()
            threading.Thread(target=_settle, args=(running, check), daemon=True,
                             name=f"health-{name}").start()  # fmt: skip
    try:
        running.result(timeout=seconds)
    except FutureTimeout:
        raise TimeoutError(f"no answer within {seconds:g} s") from None


def _settle(future: Future, check: Callable[[], None]) -> None:
    """The check's outcome, into its future."""
    try:
        check()
    except BaseException as error:  # the waiting request reads it as "down"
        future.set_exception(error)
    else:
        future.set_result(None)


def _rate_limit_store_state() -> str:
    """Down at once when a request just found the store failing (no cached "ok" hides it)."""
    if not ratelimit.shared_store_up():
        return DOWN
    return _cached("rate_limit_store", _check_rate_limit_store)


def _check_rate_limit_store() -> str:
    """Redis answers PING; a per-process memory store is "not configured" (nothing shared)."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme = urlsplit(uri).scheme
    if scheme in ("memory", "rems-memory"):  # rems.ratelimit's swept in-process store
        return NOT_CONFIGURED
    if scheme in ("redis", "rediss", "unix", "rems-redis", "rems-rediss"):
        return _timed("rate-limit store", lambda: _redis_ping(uri.removeprefix("rems-")))
    parts = urlsplit(uri)
    return _timed("rate-limit store", lambda: _connect(parts.hostname or "", parts.port or 0))


def _redis_ping(uri: str) -> None:
    """PING the Redis store with the configured timeout."""
    import redis

    timeout = _timeout()
    client = redis.Redis.from_url(uri, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def _check_mail_relay() -> str:
    """The SMTP relay accepts a TCP connection (nothing is sent)."""
    host = current_app.config.get("MAIL_SERVER")
    if not host:
        return NOT_CONFIGURED
    port = int(current_app.config.get("MAIL_PORT") or 25)
    return _timed("mail relay", lambda: _connect(host, port))


def _connect(host: str, port: int) -> None:
    """Open and close one TCP connection."""
    with socket.create_connection((host, port), timeout=_timeout()):
        pass


def _timeout() -> float:
    """Seconds a remote check may take before it reads as down."""
    return float(current_app.config.get("REMS_HEALTH_TIMEOUT_SECONDS", 1.0))
