"""Rate limits: Flask-Limiter, counting in one store shared by every worker and app server.

The store is RATELIMIT_STORAGE_URI: "memory://" (each process counts alone; fine for one
process) by default, "redis://host:6379/0" in production so that every gunicorn worker and every
server behind the proxy count together. Limits (each a setting):

* REMS_API_RATE_LIMIT: requests per API token (per client address without a token);
* REMS_PATIENT_NOT_FOUND_LIMIT: PATIENT_NOT_FOUND answers per token and, separately, per patient
  ID, whoever asks. Once spent, the gate refuses with 429 before deciding anything, so guessing a
  patient's date of birth costs an attacker hours, and stores nothing while refused;
* REMS_REGISTRATION_LIMIT: self-registration attempts per client address.

"memory://" is served by `SweptMemoryStorage`: limits' MemoryStorage starts a timer thread
(10 ms) to drop expired keys whenever none is alive, which under load is nearly every request
and costs as much CPU as the request itself. Expired windows are already ignored when read, so
the sweep is only housekeeping: here it runs inline, at most once a second.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import Blueprint, Flask, current_app, request
from flask_limiter import Limiter
from limits import parse
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests


class SweptMemoryStorage(MemoryStorage):
    """The in-process store, its expired keys swept inline at most every SWEEP_SECONDS."""

    STORAGE_SCHEME = ["rems-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # The parent starts a non-daemon timer thread for its first sweep; sweeping is inline
        # here, so stop it at once (a clock that never reaches its deadline would otherwise
        # keep the process from exiting).
        self.timer.cancel()
        self.next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread per expiry
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


limiter = Limiter(key_func=lambda: f"addr:{request.remote_addr}", key_prefix="rems")
NOT_FOUND_KEY = "patient-not-found"


def install(app: Flask, *limited: Blueprint) -> None:
    """Bind the limiter (its store comes from RATELIMIT_STORAGE_URI) and limit the API (each
    blueprint given: /api/v1 with every domain's API nested in it, /fhir)."""
    for bp in limited:
        if not getattr(bp, "rems_rate_limited", False):  # once per process: the blueprint is
            limiter.limit(api_limit, key_func=caller_key)(bp)  # shared by every app
            bp.rems_rate_limited = True
    store = app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if store.startswith("memory://"):
        app.config["RATELIMIT_STORAGE_URI"] = "rems-memory://" + store.removeprefix("memory://")
    limiter.init_app(app)


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


def check_patient_lookups(caller: str, patient_id: str) -> None:
    """Refuse (429) when this caller or this patient ID has used up its not-found answers."""
    item = parse(current_app.config["REMS_PATIENT_NOT_FOUND_LIMIT"])
    strategy = limiter.limiter
    for keys in ((NOT_FOUND_KEY, "caller", caller), (NOT_FOUND_KEY, "patient", patient_id)):
        if not strategy.test(item, *keys):
            reset = strategy.get_window_stats(item, *keys).reset_time
            raise RateLimited(
                max(1, math.ceil(reset - time.time())),
                "Too many requests named a patient that was not found; wait before trying again.",
            )


def note_patient_not_found(caller: str, patient_id: str) -> None:
    """Count one PATIENT_NOT_FOUND answer against the caller and against the patient ID."""
    item = parse(current_app.config["REMS_PATIENT_NOT_FOUND_LIMIT"])
    limiter.limiter.hit(item, NOT_FOUND_KEY, "caller", caller)
    limiter.limiter.hit(item, NOT_FOUND_KEY, "patient", patient_id)


def retry_after(error: TooManyRequests) -> int:
    """Seconds to wait, for the Retry-After header of a 429."""
    seconds = getattr(error, "retry_after", None)
    if isinstance(seconds, int):
        return seconds
    current = limiter.current_limit
    if current is None:
        return 1
    return max(1, math.ceil(current.reset_at - time.time()))
