"""API tokens: issued once in plain text, kept only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from rems.audit.trail import record_event
from rems.auth.models import ApiToken, User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.transactions import writing

TOKEN_PREFIX = "rems_"  # noqa: S105  (a prefix, not a secret)
#: last_used_at is refreshed at most this often, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(plaintext: str) -> str:
    """The stored form of a token. Tokens are long random strings, so a plain hash suffices."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def issue_token(
    session: Session, *, owner: User, name: str, actor: User | None, actor_label: str | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `owner`; return it and its plain text, which is never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed.single("name", "Name the token after the system that will use it.")
    if len(name) > 100:
        raise ValidationFailed.single("name", "Use at most 100 characters.")
    if not owner.active:
        raise StateConflict("A deactivated account cannot have API tokens.")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=owner.id,
        name=name,
        prefix=plaintext[:12],
        token_hash=hash_token(plaintext),
        created_at=utcnow(),
        created_by_id=actor.id if actor else owner.id,
    )
    session.add(token)
    session.flush()
    record_event(
        session,
        "api_token.created",
        actor=actor,
        actor_label=actor_label,
        entity=token,
        new={"name": name, "owner": owner.username, "prefix": token.prefix},
    )
    return token, plaintext


def revoke_token(session: Session, token: ApiToken, *, actor: User, reason: str | None = None):
    """Revoke a token at once; revoking twice is a conflict."""
    if token.revoked_at is not None:
        raise StateConflict("This token is already revoked.")
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    record_event(
        session,
        "api_token.revoked",
        actor=actor,
        entity=token,
        old={"revoked": False},
        new={"revoked": True},
        reason=reason,
    )


def user_for_token(session: Session, plaintext: str) -> tuple[User, ApiToken] | None:
    """The active user and live token behind a presented bearer token, or None."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    row = session.execute(
        sa.select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .options(joinedload(User.site), joinedload(User.prescriber_record))
        .where(ApiToken.token_hash == hash_token(plaintext))
    ).first()
    if row is None or row.ApiToken.revoked_at is not None or not row.User.active:
        return None
    return row.User, row.ApiToken


def note_token_use(session: Session, token: ApiToken, *, request_writes: bool) -> None:
    """Record when a token was last used, at most once a minute. A request that writes does it
    in its own transaction (which already holds SQLite's write lock); a read does it in a short
    transaction of its own, so reading never waits for the write lock."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    table = ApiToken.__table__
    statement = (
        table.update()
        .where(table.c.id == token.id)
        .where(sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at < now))
        .values(last_used_at=now)
    )
    if request_writes:
        session.execute(statement)
        return
    with writing(), session.get_bind().begin() as connection:
        connection.execute(statement)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
