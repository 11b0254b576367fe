"""Signing in and out: one answer for unknown users and wrong passwords, throttled guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import LoginAttempt, User
from rems.auth.passwords import verify_password
from rems.auth.users import find_user, new_session_token, normalize_username
from rems.common.clock import utcnow

INVALID_CREDENTIALS = "The username or password is not correct."
THROTTLED = "Too many failed sign-in attempts. Wait {minutes} minutes, then try again."
#: An address may fail this many times more than a single username before it is throttled.
ADDRESS_FACTOR = 10


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """A user on success; otherwise the message to show and whether the caller is throttled."""

    user: User | None
    message: str | None = None
    throttled: bool = False


def sign_in(session: Session, username: str, password: str, ip: str | None) -> SignInOutcome:
    """Check credentials, record the attempt and its audit event; the caller commits either way."""
    name = normalize_username(username)[:80]
    now = utcnow()
    if _is_throttled(session, name, ip, now):
        record_event(
            session,
            "auth.sign_in_throttled",
            actor=None,
            entity_type="user_account",
            new={"username": name},
        )
        minutes = int(current_app.config["REMS_LOGIN_WINDOW"].total_seconds() // 60)
        return SignInOutcome(None, THROTTLED.format(minutes=minutes), throttled=True)
    user = find_user(session, name)
    ok = verify_password(user.password_hash if user else None, password or "")
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=name, ip=ip, attempted_at=now, succeeded=ok))
    if not ok:
        record_event(
            session,
            "auth.sign_in_failed",
            actor=None,
            entity_type="user_account",
            entity_id=user.id if user else None,
            new={"username": name},
        )
        return SignInOutcome(None, INVALID_CREDENTIALS)
    record_event(session, "auth.signed_in", actor=user, entity=user)
    return SignInOutcome(user)


def sign_out(session: Session, user: User, *, reason: str = "signed out") -> None:
    """End every session of the user on the server: a copied cookie is dead from now on."""
    user.session_token = new_session_token()
    record_event(session, "auth.signed_out", actor=user, entity=user, reason=reason)


def _is_throttled(session: Session, username: str, ip: str | None, now: datetime) -> bool:
    """Too many recent failures for this username, or far too many from this address."""
    window_start = now - current_app.config["REMS_LOGIN_WINDOW"]
    limit = current_app.config["REMS_LOGIN_MAX_FAILURES"]
    recent = sa.and_(LoginAttempt.attempted_at >= window_start, ~LoginAttempt.succeeded)
    by_name = session.scalar(
        sa.select(sa.func.count()).where(recent, LoginAttempt.username == username)
    )
    if by_name >= limit:
        return True
    if ip is None:
        return False
    by_ip = session.scalar(sa.select(sa.func.count()).where(recent, LoginAttempt.ip == ip))
    return by_ip >= limit * ADDRESS_FACTOR
