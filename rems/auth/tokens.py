"""API tokens: issued once in plain text, kept only as a SHA-256 hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import ApiToken, Role, User
from rems.certification.models import CertStatus
from rems.certification.rules import effective_status
from rems.common.clock import today, utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.statements import Statement
from rems.common.transactions import writing
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

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
    if refusal := _creation_refusal(session, owner):
        raise StateConflict(refusal)
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


def _creation_refusal(session: Session, owner: User) -> str | None:
    """Why `owner` may not have a new token now: site staff of a site that is not certified
    (its requests are answered PHARMACY_NOT_CERTIFIED and nothing else), or too many tokens
    made in the last day (each would otherwise be a fresh allowance for guessing)."""
    if owner.role == Role.SITE_STAFF:
        site = session.get(Site, owner.site_id) if owner.site_id is not None else None
        status = effective_status(site.status, site.expires_on, today()) if site else None
        if status != CertStatus.CERTIFIED:
            return (
                "The site of this account is not certified: its staff cannot have new API tokens."
            )
    allowed = current_app.config["REMS_API_TOKENS_PER_DAY"]
    since = utcnow() - timedelta(days=1)
    made = session.scalar(
        sa.select(sa.func.count()).select_from(ApiToken)
        .where(ApiToken.user_id == owner.id, ApiToken.created_at >= since)
    )  # fmt: skip
    if made >= allowed:
        return (f"{made} API tokens were made for this account in the last 24 hours, the most "
                "allowed: revoke none needlessly, and try again tomorrow.")  # fmt: skip
    return None


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


@dataclass(frozen=True, slots=True)
class TokenIdentity:
    """Who a bearer token acts as, read in one Core select: the token, its user and the user's
    party (site or prescriber record). Enough to check the route policy and the certification
    and to serve the hot paths; `current_actor()` loads the ORM user only when a view asks."""

    token_id: int
    last_used_at: datetime | None
    user_id: int
    username: str
    full_name: str
    role: Role
    is_authorized_representative: bool
    site_id: int | None
    site_code: str | None
    party_status: CertStatus | None
    party_expires_on: date | None
    #: The time zone of the user's site or practice (None: the program's).
    party_time_zone: str | None = None

    @property
    def id(self) -> int:
        """The user's id, as services read it from an actor."""
        return self.user_id

    @property
    def is_site_representative(self) -> bool:
        """Site staff who represent their site."""
        return self.role == Role.SITE_STAFF and self.is_authorized_representative

    def certified(self, today: date) -> bool:
        """Prescribers and site staff act only while their party is certified; others always."""
        if self.role not in (Role.PRESCRIBER, Role.SITE_STAFF):
            return True
        if self.party_status is None:
            return False
        status = effective_status(self.party_status, self.party_expires_on, today)
        return status == CertStatus.CERTIFIED


def _identity_statement() -> sa.Select:
    """The token, its active user and the user's party, by token hash."""
    token, user = ApiToken.__table__, User.__table__
    site, prescriber = Site.__table__, Prescriber.__table__
    is_site = user.c.role == Role.SITE_STAFF.value
    return (
        sa.select(
            token.c.id.label("token_id"), token.c.last_used_at, user.c.id.label("user_id"),
            user.c.username, user.c.full_name, user.c.role, user.c.is_authorized_representative,
            user.c.site_id, site.c.site_code,
            sa.case((is_site, site.c.status), else_=prescriber.c.status).label("party_status"),
            sa.case((is_site, site.c.expires_on), else_=prescriber.c.expires_on).label(
                "party_expires_on"
            ),
            sa.case((is_site, site.c.time_zone), else_=prescriber.c.time_zone).label(
                "party_time_zone"
            ),
        )
        .select_from(token.join(user, user.c.id == token.c.user_id))
        .outerjoin(site, site.c.id == user.c.site_id)
        .outerjoin(prescriber, prescriber.c.user_id == user.c.id)
        .where(token.c.token_hash == sa.bindparam("token_hash"))
        .where(token.c.revoked_at.is_(None), user.c.active.is_(True))
    )  # fmt: skip


_IDENTITY = Statement(_identity_statement())


def authenticate_token(session: Session, plaintext: str) -> TokenIdentity | None:
    """The identity behind a presented bearer token: live token, active user; else None.
    One statement; certification is checked separately (`TokenIdentity.certified`)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    row = _IDENTITY.first(session, {"token_hash": hash_token(plaintext)})
    if row is None:
        return None
    values = row._asdict()
    status = values["party_status"]
    if status is not None and not isinstance(status, CertStatus):
        values["party_status"] = CertStatus(status)
    return TokenIdentity(**values)


def note_token_use(session: Session, identity: TokenIdentity) -> None:
    """Record when a token was last used, at most once a minute per token, in a short write
    transaction of its own (so reads stay reads and never wait for the write lock)."""
    now = utcnow()
    last = identity.last_used_at
    if last is not None and now - last < LAST_USED_RESOLUTION:
        return
    table = ApiToken.__table__
    statement = (
        table.update()
        .where(table.c.id == identity.token_id)
        .where(sa.or_(table.c.last_used_at.is_(None), table.c.last_used_at < now))
        .values(last_used_at=now)
    )
    session.rollback()  # the read is done: hand its connection back before taking one to write
    with writing(), session.get_bind().begin() as connection:
        connection.execute(statement)


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(
        session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        )
    )
