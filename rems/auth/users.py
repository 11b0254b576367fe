"""Account services: create, deactivate, reactivate. Callers commit (changing one's own
password: `rems.auth.own_password`)."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import ApiToken, Role, User
from rems.auth.passwords import hash_password, password_problems
from rems.auth.tokens import revoke_token
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict, ValidationFailed

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
USERNAME_TAKEN = "This username is already taken."
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_session_token() -> str:
    """A fresh per-user session token; rotating it ends every existing session."""
    return secrets.token_hex(32)


def normalize_username(username: str) -> str:
    """Usernames are compared trimmed and lower-case."""
    return (username or "").strip().lower()


def find_user(session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.scalar(sa.select(User).where(User.username == normalize_username(username)))


def create_user(
    session: Session,
    *,
    actor: User | None,
    username: str,
    email: str,
    full_name: str,
    role: Role | str,
    password: str,
    is_authorized_representative: bool = False,
    site_id: int | None = None,
    actor_label: str | None = None,
) -> User:
    """Create an account after checking every field; the audit event carries no password."""
    username = normalize_username(username)
    role = _check_new_user(session, username, email, full_name, role, password)
    now = utcnow()
    user = User(
        username=username,
        email=email.strip(),
        full_name=full_name.strip(),
        role=role,
        is_authorized_representative=bool(is_authorized_representative),
        site_id=site_id,
        password_hash=hash_password(password),
        session_token=new_session_token(),
        active=True,
        created_at=now,
        password_changed_at=now,
    )
    _insert_new(session, user)
    record_event(
        session,
        "user.created",
        actor=actor,
        actor_label=actor_label,
        entity=user,
        new=_public_fields(user),
    )
    return user


def _insert_new(session: Session, user: User) -> None:
    """Insert the account in a savepoint: the same username registered at the same moment
    (checked free by both, PostgreSQL's unique index refusing the second) is the field's
    error, not a failed request."""
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except sa.exc.IntegrityError as error:
        if "username" not in str(error.orig):
            raise
        raise ValidationFailed.single("username", USERNAME_TAKEN) from None


def _check_new_user(session, username, email, full_name, role, password) -> Role:
    """Validate a new account's fields all at once; return the role."""
    errors = Collector()
    if not USERNAME_RE.match(username):
        errors.add(
            "username",
            "Use 3 to 80 characters: letters, digits, dot, dash or underscore.",
        )
    elif find_user(session, username) is not None:
        errors.add("username", USERNAME_TAKEN)
    if not EMAIL_RE.match((email or "").strip()):
        errors.add("email", "Enter a valid email address.")
    if not (full_name or "").strip():
        errors.add("full_name", "Enter the person's full name.")
    try:
        role = Role(role)
    except ValueError:
        errors.add("role", f"Choose one of: {', '.join(r.value for r in Role)}.")
    for problem in password_problems(password or "", username):
        errors.add("password", problem)
    errors.raise_if_any()
    return role


def set_active(session: Session, user: User, active: bool, *, actor: User, reason: str) -> None:
    """Deactivate (sessions and tokens die at once) or reactivate an account, with a reason."""
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for this change.")
    if user.active == active:
        raise StateConflict(f"The account is already {'active' if active else 'deactivated'}.")
    if user.id == getattr(actor, "id", None) and not active:
        raise StateConflict("You cannot deactivate your own account.")
    user.active = active
    user.deactivated_at = None if active else utcnow()
    user.session_token = new_session_token()
    _revoke_live_tokens(session, user, actor, "account deactivated" if not active else
                        "account reactivated: old tokens stay dead")  # fmt: skip
    record_event(
        session,
        "user.reactivated" if active else "user.deactivated",
        actor=actor,
        entity=user,
        old={"active": not active},
        new={"active": active},
        reason=reason.strip(),
    )


def _revoke_live_tokens(session: Session, user: User, actor: User, reason: str) -> None:
    """Revoke the account's live API tokens: a reactivated account starts with none, so a
    token copied before the deactivation never works again."""
    live = session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    for token in live:
        revoke_token(session, token, actor=actor, reason=reason)


def _public_fields(user: User) -> dict:
    """The account fields worth recording (never the hash or session token)."""
    return {
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role.value,
        "is_authorized_representative": user.is_authorized_representative,
        "site_id": user.site_id,
    }
