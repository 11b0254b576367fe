"""argon2id password hashing, with costs from the configuration, and the new-password rules."""

from __future__ import annotations

import gzip
import itertools
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_DUMMY_PASSWORD = "not-a-real-password-only-for-timing"  # noqa: S105
#: The 10,000 most common passwords, most common first (from Django's list, BSD licence).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")
COMMON_PASSWORD = "This is one of the most common passwords; choose one that is your own."  # noqa: S105
_EDGE_RE = re.compile(r"^[\W\d_]+|[\W\d_]+$")
REPETITIVE = "Use a less repetitive password."
SEQUENCE = "Avoid sequences such as 123456 or qwerty: they are guessed first."
#: Rows whose neighbours make a sequence; digits and letters wrap around (…8, 9, 0, 1…).
ROWS = (
    ("0123456789", True),
    ("abcdefghijklmnopqrstuvwxyz", True),
    ("`1234567890-=", False),
    ("qwertyuiop[]\\", False),
    ("asdfghjkl;'", False),
    ("zxcvbnm,./", False),
)
#: The share of steps along a row from which a password counts as a sequence.
SEQUENCE_SHARE = 0.75


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
        password_hash, password = _dummy_hash(hasher), password + "\x00"
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no user: made once per app, so an unknown
    username costs one verification, exactly like a known one."""
    dummy = current_app.extensions.get("rems_dummy_hash")
    if dummy is None:
        dummy = current_app.extensions["rems_dummy_hash"] = hasher.hash(_DUMMY_PASSWORD)
    return dummy


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-case."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip().lower() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """A listed password, also with digits and symbols at its ends ("Summer2026!")."""
    text = password.strip().lower()
    return text in common_passwords() or _EDGE_RE.sub("", text) in common_passwords()


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
    if password and (len(set(password)) < 4 or is_repeated(password)):
        problems.append(REPETITIVE)
    elif password and is_common(password):
        problems.append(COMMON_PASSWORD)
    elif password and is_sequence(password):
        problems.append(SEQUENCE)
    return problems


def is_repeated(password: str) -> bool:
    """One short piece said again and again: "abcabcabcabc", "121212121212"."""
    text = password.lower()
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size)
        for size in range(1, len(text) // 2 + 1)
    )


def is_sequence(password: str) -> bool:
    """Mostly steps along a row of the keyboard or the alphabet or the digits, either way and
    wrapping ("123456789012", "abcdefghijkl", "qwertyuiop[]", "987654321098")."""
    text = password.lower()
    steps = sum(_is_step(a, b) for a, b in itertools.pairwise(text))
    return len(text) > 1 and steps >= SEQUENCE_SHARE * (len(text) - 1)


def _is_step(first: str, second: str) -> bool:
    """Neighbours on one of the rows, in either direction."""
    for row, cyclic in ROWS:
        if first in row and second in row:
            distance = row.index(second) - row.index(first)
            if abs(distance) == 1 or (cyclic and abs(distance) == len(row) - 1):
                return True
    return False
