"""A wrong password typed by someone already signed in is a guess like a failed sign-in.

Signing a form, changing one's own password and an administrator's re-authentication all check
the password again. Each wrong one is counted in the sign-in throttle's window (so the three and
sign-in share one count), recorded in the audit trail in a transaction of its own (the caller's
unfinished work is rolled back, the record of the guess is not), and past the limit every
session of the account ends.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth import throttle
from rems.auth.models import User
from rems.auth.signin import sign_out
from rems.common.clock import utcnow
from rems.common.transactions import write_of_its_own

LOCKOUT_REASON = "too many wrong passwords"


def record_wrong_password(
    session: Session, user_id: int, action: str, *, new: dict[str, Any] | None = None,
    lockout_reason: str = LOCKOUT_REASON,
) -> bool:  # fmt: skip
    """Roll the caller's work back, then record the failed check (`action`) in a transaction
    of its own; past the limit end the user's sessions. True when they were ended."""
    with write_of_its_own(session):
        user = session.get(User, user_id)
        now = utcnow()
        throttle.record_failure(session, user.username, throttle.client_ip(), now)
        record_event(session, action, actor=user, entity=user, new=new)
        session.flush()
        limit = current_app.config["REMS_LOGIN_MAX_FAILURES"]
        ended = throttle.failures(session, user.username, now) >= limit
        if ended:
            sign_out(session, user, reason=lockout_reason)
    return ended
