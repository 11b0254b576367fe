"""Users, their API tokens, sign-in attempts and electronic signatures."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from rems.db import str_enum
from rems.extensions import db


class Role(StrEnum):
    """What a user is in the program; the permission policies are written in these terms."""

    ADMIN = "admin"
    PRESCRIBER = "prescriber"
    DELEGATE = "delegate"
    SITE_STAFF = "site_staff"
    AUDITOR = "auditor"

    @property
    def label(self) -> str:
        """The role as people say it."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Program administrator",
    Role.PRESCRIBER: "Prescriber",
    Role.DELEGATE: "Prescriber delegate",
    Role.SITE_STAFF: "Site staff",
    Role.AUDITOR: "Auditor",
}


class User(UserMixin, db.Model):
    """A person who signs in. Patients never do."""

    __tablename__ = "user_account"
    #: The account list filtered by role, by username (its keyset).
    __table_args__ = (sa.Index("ix_user_account_role_username", "role", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)  # stored lower-case
    email: Mapped[str] = mapped_column(sa.String(254))
    #: The name printed on the user's signatures (frozen into each signature when signed).
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    #: Site staff only: the person who signs for the site and manages its staff and tokens.
    is_authorized_representative: Mapped[bool] = mapped_column(default=False)
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("site.id", use_alter=True), index=True
    )
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    #: Rotated on logout, password change and deactivation: every older session cookie dies.
    session_token: Mapped[str] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    password_changed_at: Mapped[datetime]
    #: Set by an administrator's password reset: until the user chooses a new password, the
    #: change-password page (and signing out) is all they can reach.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Failed sign-ins (and signature passwords) up to this moment no longer count towards the
    #: throttle: set by a password reset or an unlock.
    failures_cleared_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        """Whether the account may sign in and use its tokens."""
        return self.active

    def get_id(self) -> str:
        """The session identity: the user id bound to the current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_site_representative(self) -> bool:
        """Site staff who represent their site."""
        return self.role == Role.SITE_STAFF and self.is_authorized_representative

    site = db.relationship("Site", foreign_keys=[site_id])
    #: A prescriber's own enrollment record (None for other roles, or before the form).
    prescriber_record = db.relationship(
        "Prescriber", primaryjoin="Prescriber.user_id == User.id", uselist=False, viewonly=True
    )

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(db.Model):
    """A bearer token for the JSON API: stored only as a hash, shown once, revocable."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: The first characters of the token, enough to recognise it in a list; never enough to use.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    user: Mapped[User] = db.relationship(foreign_keys=[user_id])

    @property
    def is_live(self) -> bool:
        """Not revoked (the owner's status is checked separately, on every use)."""
        return self.revoked_at is None


class LoginAttempt(db.Model):
    """One sign-in attempt, kept to throttle guessing by username and by address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        sa.Index("ix_login_attempt_username_at", "username", "attempted_at"),
        sa.Index("ix_login_attempt_ip_at", "ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80))  # as typed, lower-cased
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    attempted_at: Mapped[datetime]
    succeeded: Mapped[bool]


class Signature(db.Model):
    """An electronic signature: who, when, what it means, and a hash of exactly what was signed."""

    __tablename__ = "signature"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The signing user; empty for a patient, who signs in clinic by typing their full name.
    signer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The printed name at the moment of signing; later name changes do not alter it.
    printed_name: Mapped[str] = mapped_column(sa.String(200))
    #: What the signature means, e.g. "Prescriber attests to the enrollment form".
    meaning: Mapped[str] = mapped_column(sa.String(300))
    signed_at: Mapped[datetime]
    #: SHA-256 of `content`, the canonical JSON of everything the signer saw and agreed to.
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[str] = mapped_column(sa.Text)
    #: For a patient's signature: the logged-in user who witnessed it.
    witness_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    signer: Mapped[User | None] = db.relationship(foreign_keys=[signer_id])
    witness: Mapped[User | None] = db.relationship(foreign_keys=[witness_id])
