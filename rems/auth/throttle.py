"""Throttling password guesses: failed sign-ins and failed signature passwords, counted together.

Past the allowed number of failures in the window (per username, and ten times that per client
address) every further try must wait a delay that doubles with each failure, capped at the
window. The right password is never locked out for long: after the wait it works again.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import Session

from rems.auth.models import LoginAttempt, User

#: An address may fail this many times more than a single username before it waits.
ADDRESS_FACTOR = 10
#: The delay doubles per failure up to this many doublings (then the window caps it).
MAX_DOUBLINGS = 20


def client_ip() -> str | None:
    """The client's address (the proxy's X-Forwarded-For when TRUSTED_PROXY_HOPS allows it)."""
    return request.remote_addr if has_request_context() else None


def record_failure(session: Session, username: str, ip: str | None, now: datetime) -> None:
    """Count one failed password check against the username and the address."""
    session.add(LoginAttempt(username=username, ip=ip, attempted_at=now, succeeded=False))


def failures(session: Session, username: str, now: datetime) -> int:
    """Failed password checks of this username in the window (sign-ins and signatures) since
    an administrator last cleared them."""
    return _failures(session, _of_username(session, username), now)[0]


def seconds_to_wait(session: Session, username: str, ip: str | None, now: datetime) -> int:
    """How long the next try of this username from this address must wait (0: try now)."""
    limit = current_app.config["REMS_LOGIN_MAX_FAILURES"]
    wait = _wait(*_failures(session, _of_username(session, username), now), limit, now)
    if ip is not None:
        by_ip = _failures(session, LoginAttempt.ip == ip, now)
        wait = max(wait, _wait(*by_ip, limit * ADDRESS_FACTOR, now))
    return wait


def _of_username(session: Session, username: str):
    """The attempts that count against `username`: those after its account's failures were
    last cleared (a password reset or an unlock); the address's count is left as it is."""
    cleared = session.scalar(sa.select(User.failures_cleared_at).where(User.username == username))
    condition = LoginAttempt.username == username
    return condition if cleared is None else sa.and_(condition, LoginAttempt.attempted_at > cleared)


def _window() -> timedelta:
    return current_app.config["REMS_LOGIN_WINDOW"]


def _failures(session: Session, condition, now: datetime) -> tuple[int, datetime | None]:
    """How many failures match `condition` in the window, and when the last one was."""
    row = session.execute(
        sa.select(sa.func.count(), sa.func.max(LoginAttempt.attempted_at)).where(
            condition, LoginAttempt.attempted_at >= now - _window(), ~LoginAttempt.succeeded
        )
    ).one()
    return row[0], row[1]


def _wait(count: int, last: datetime | None, allowed: int, now: datetime) -> int:
    """Seconds left of the delay that `count` failures (the last at `last`) impose."""
    if count < allowed or last is None:
        return 0
    base = current_app.config["REMS_LOGIN_BASE_DELAY_SECONDS"]
    doublings = min(count - allowed, MAX_DOUBLINGS)
    delay = min(base * 2**doublings, _window().total_seconds())
    remaining = (last - now).total_seconds() + delay
    return math.ceil(remaining) if remaining > 0 else 0
