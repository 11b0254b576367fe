"""An administrator resets a forgotten password or unlocks an account. Callers commit.

A reset sets a random temporary password (argon2id, like every password), ends every session of
the account, clears its failed sign-ins and obliges the user to choose a new password at the
next sign-in. The temporary password is returned once, to be handed over; it is never stored in
clear nor written to the audit trail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth import throttle
from rems.auth.guesses import record_wrong_password
from rems.auth.models import User
from rems.auth.passwords import hash_password, password_problems, verify_password
from rems.auth.users import new_session_token
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.notifications.services import notify

#: No 0/O, 1/l/I: the password is read out or copied by hand.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LENGTH = 4, 5
NOTICE = (
    "An administrator reset the password of your REMS account {username}. Every session of "
    "yours was ended; sign in with the temporary password you were given, then choose a new "
    "password. If you did not ask for this, tell the program administrator at once."
)

WRONG_OWN = "Your own password is not correct; nothing was reset."
SIGNED_OUT = "Your own password is not correct, too many times: you are signed out."


@dataclass(frozen=True, slots=True)
class SignInState:
    """What an administrator sees of an account's sign-in: the counted failures, the wait."""

    failures: int
    wait_seconds: int
    must_change_password: bool


def sign_in_state(session: Session, user: User) -> SignInState:
    """The account's failed sign-ins in the window (since last cleared) and its current wait."""
    now = utcnow()
    return SignInState(
        failures=throttle.failures(session, user.username, now),
        wait_seconds=throttle.seconds_to_wait(session, user.username, None, now),
        must_change_password=user.must_change_password,
    )


def temporary_password() -> str:
    """About 115 random bits in four groups, easy to read out: `abcde-fghij-…`."""
    while True:
        groups = (
            "".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS)
        )
        password = "-".join(groups)
        if len(set(password)) >= 8:
            return password


def reset_password(
    session: Session,
    user: User,
    *,
    actor: User | None,
    actor_label: str | None = None,
    password: str | None = None,
    reason: str = "",
    actor_password: str | None = None,
) -> str:
    """Set a temporary password (random unless given), end the user's sessions, clear their
    failed sign-ins, make them change it at the next sign-in; return it, to hand over once.
    An administrator (`actor`) confirms with their own password first."""
    if refusal := reset_refusal(user, actor):
        raise StateConflict(refusal)
    if actor is not None:
        _reauthenticate(session, actor, actor_password)
    if password is None:
        password = temporary_password()
    elif problems := password_problems(password, user.username):
        raise ValidationFailed({"password": problems})
    now = utcnow()
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    user.must_change_password = True
    user.session_token = new_session_token()
    user.failures_cleared_at = now
    record_event(
        session, "user.password_reset", actor=actor, actor_label=actor_label, entity=user,
        new={"username": user.username, "must_change_password": True, "sessions_ended": True,
             "failed_sign_ins_cleared": True},
        reason=(reason or "").strip() or None,
    )  # fmt: skip
    notify(
        session, user, kind="account.password_reset", subject="Your REMS password was reset",
        body=NOTICE.format(username=user.username),
        link="/account/password",
    )  # fmt: skip
    return password


def _reauthenticate(session: Session, actor: User, actor_password: str | None) -> None:
    """The administrator's own password, asked again: a wrong one is a counted guess."""
    if not verify_password(actor.password_hash, actor_password or ""):
        ended = record_wrong_password(session, actor.id, "user.reauthentication_failed",
                                      new={"for": "password reset"})  # fmt: skip
        raise ValidationFailed.single("admin_password", SIGNED_OUT if ended else WRONG_OWN)


def unlock(
    session: Session,
    user: User,
    *,
    actor: User | None,
    actor_label: str | None = None,
    reason: str = "",
) -> int:
    """Clear the account's failed sign-ins so that it may sign in at once; how many there were."""
    if not user.active:
        raise StateConflict("The account is deactivated: reactivate it instead.")
    counted = throttle.failures(session, user.username, utcnow())
    user.failures_cleared_at = utcnow()
    record_event(
        session, "user.unlocked", actor=actor, actor_label=actor_label, entity=user,
        old={"failed_sign_ins": counted}, new={"username": user.username, "failed_sign_ins": 0},
        reason=(reason or "").strip() or None,
    )  # fmt: skip
    return counted


def reset_refusal(user: User, actor: User | None) -> str | None:
    """Why this account's password cannot be reset by `actor` (None: it can). Only an active
    account, and never one's own: that is the change-password page."""
    if not user.active:
        return "The account is deactivated: reactivate it before resetting its password."
    if actor is not None and actor.id == user.id:
        return "You cannot reset your own password here: change it on your account page."
    return None
