"""Changing one's own password. Callers commit.

The current password is asked first, and a wrong one is a guess like a failed sign-in
(`rems.auth.guesses`): counted with sign-in and signature failures, recorded as
`user.password_change_failed`, and past the limit every session of the account ends.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.guesses import record_wrong_password
from rems.auth.models import User
from rems.auth.passwords import hash_password, password_problems, verify_password
from rems.auth.users import new_session_token
from rems.common.clock import utcnow
from rems.common.errors import Collector, ValidationFailed

WRONG_CURRENT = "The current password is not correct."
SIGNED_OUT = (
    "The current password is not correct, too many times: you are signed out. Sign in again "
    "to continue."
)


def change_password(
    session: Session, user: User, *, current_password: str, new_password: str
) -> None:
    """Change the user's own password (a temporary one too); every other session of theirs
    ends. A wrong current password is recorded in a transaction of its own (see the module)."""
    if not verify_password(user.password_hash, current_password or ""):
        ended = record_wrong_password(session, user.id, "user.password_change_failed")
        raise ValidationFailed.single("current_password", SIGNED_OUT if ended else WRONG_CURRENT)
    errors = Collector()
    for problem in password_problems(new_password or "", user.username):
        errors.add("new_password", problem)
    if new_password == current_password:
        errors.add("new_password", "Choose a password different from the current one.")
    errors.raise_if_any()
    was_temporary = user.must_change_password
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.session_token = new_session_token()
    user.must_change_password = False
    record_event(
        session, "user.password_changed", actor=user, entity=user,
        old={"must_change_password": True} if was_temporary else None,
        new={"must_change_password": False} if was_temporary else None,
    )  # fmt: skip
