"""argon2id password hashing, with costs from the configuration."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_DUMMY_PASSWORD = "not-a-real-password-only-for-timing"  # noqa: S105


def _hasher() -> PasswordHasher:
    """The app's hasher, built once from its configured costs."""
    hasher = current_app.extensions.get("rems_password_hasher")
    if hasher is None:
        hasher = PasswordHasher(
            time_cost=current_app.config["REMS_ARGON2_TIME_COST"],
            memory_cost=current_app.config["REMS_ARGON2_MEMORY_KIB"],
            parallelism=1,
            type=Type.ID,
        )
        current_app.extensions["rems_password_hasher"] = hasher
    return hasher


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches; with no hash, spend the same time and say no."""
    hasher = _hasher()
    if password_hash is None:
        dummy = current_app.extensions.setdefault("rems_dummy_hash", hasher.hash(_DUMMY_PASSWORD))
        password_hash, password = dummy, password + "\x00"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str, username: str) -> list[str]:
    """What makes `password` unacceptable as a new password (empty when it is fine)."""
    minimum = current_app.config["REMS_PASSWORD_MIN_LENGTH"]
    problems = []
    if len(password) < minimum:
        problems.append(f"Use at least {minimum} characters.")
    if len(password) > 256:
        problems.append("Use at most 256 characters.")
    if username and username.lower() in password.lower():
        problems.append("The password must not contain the username.")
    if password and len(set(password)) < 4:
        problems.append("Use a less repetitive password.")
    return problems
