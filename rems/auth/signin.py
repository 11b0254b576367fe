"""Signing in and out: one answer for unknown users and wrong passwords, throttled guessing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth import throttle
from rems.auth.models import LoginAttempt, User
from rems.auth.passwords import verify_password
from rems.auth.users import find_user, new_session_token, normalize_username
from rems.common.clock import utcnow

INVALID_CREDENTIALS = "The username or password is not correct."
THROTTLED = "Too many failed sign-in attempts. Wait {wait}, then try again."


@dataclass(frozen=True, slots=True)
class SignInOutcome:
    """A user on success; otherwise the message to show and whether the caller is throttled."""

    user: User | None
    message: str | None = None
    throttled: bool = False
    #: Seconds the caller must wait before the next try (throttled answers only).
    retry_after: int = 0


def sign_in(session: Session, username: str, password: str, ip: str | None) -> SignInOutcome:
    """Check credentials, record the attempt and its audit event; the caller commits either way."""
    name = normalize_username(username)[:80]
    now = utcnow()
    wait = throttle.seconds_to_wait(session, name, ip, now)
    if wait:
        record_event(
            session,
            "auth.sign_in_throttled",
            actor=None,
            entity_type="user_account",
            new={"username": name, "retry_after": wait},
        )
        message = THROTTLED.format(wait=_spoken(wait))
        return SignInOutcome(None, message, throttled=True, retry_after=wait)
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


def _spoken(seconds: int) -> str:
    """A wait as people say it."""
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"
