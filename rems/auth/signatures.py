"""Electronic signatures: the password asked again, the printed name frozen, the content hashed.

A wrong signature password is a guess like a failed sign-in: it is counted in the same window,
recorded as `signature.failed` in a transaction of its own (the unsigned form is rolled back, the
record of the guess is not), and past the limit every session of the signer ends.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.guesses import record_wrong_password
from rems.auth.models import Signature, User
from rems.auth.passwords import verify_password
from rems.common.clock import utcnow
from rems.common.errors import Collector, ValidationFailed
from rems.db import canonical_json

WRONG_PASSWORD = "The password is not correct; the form was not signed."  # noqa: S105  (a message)
LOCKOUT_REASON = "too many wrong signature passwords"
#: A reset password was seen by the administrator who set it: it signs nothing.
MUST_CHANGE_FIRST = "Your password was reset: choose a new password of your own before you sign."
SIGNED_OUT = (
    "The password is not correct, too many times: the form was not signed and you are signed "
    "out. Sign in again to continue."
)


def content_digest(content: Any) -> tuple[str, str]:
    """The canonical text of `content` and its SHA-256."""
    text = canonical_json(content)
    return text, hashlib.sha256(text.encode()).hexdigest()


def sign(session: Session, signer: User, *, password: str, meaning: str, content: Any) -> Signature:
    """The signer's signature of `content`, after re-checking their password."""
    errors = Collector()
    if not signer.active:
        errors.add("password", "A deactivated account cannot sign.")
    elif signer.must_change_password:
        errors.add("password", MUST_CHANGE_FIRST)
    elif not verify_password(signer.password_hash, password or ""):
        ended = record_failed_signature(session, signer.id, meaning)
        raise ValidationFailed.single("password", SIGNED_OUT if ended else WRONG_PASSWORD)
    errors.raise_if_any()
    return _store(session, signer, signer.full_name, meaning, content, witness=None)


def record_failed_signature(session: Session, signer_id: int, meaning: str) -> bool:
    """Record a wrong signature password (see `rems.auth.guesses`); True when the signer's
    sessions were ended."""
    return record_wrong_password(
        session, signer_id, "signature.failed", new={"meaning": meaning},
        lockout_reason=LOCKOUT_REASON,
    )  # fmt: skip


def sign_for_patient(
    session: Session, *, typed_name: str, witness: User, meaning: str, content: Any
) -> Signature:
    """A patient's in-clinic signature: their typed full name, witnessed by the signed-in user."""
    errors = Collector()
    if not (typed_name or "").strip():
        errors.add("patient_signature", "The patient types their full name to sign.")
    errors.raise_if_any()
    return _store(session, None, typed_name.strip(), meaning, content, witness=witness)


def signature_matches(signature: Signature, content: Any) -> bool:
    """Whether `content` is exactly what was signed."""
    return content_digest(content)[1] == signature.content_sha256


def _store(session, signer, printed_name, meaning, content, *, witness) -> Signature:
    """Write the signature row and its audit event."""
    text, digest = content_digest(content)
    signature = Signature(
        signer_id=signer.id if signer else None,
        printed_name=printed_name,
        meaning=meaning,
        signed_at=utcnow(),
        content_sha256=digest,
        content=text,
        witness_id=witness.id if witness else None,
    )
    session.add(signature)
    session.flush()
    record_event(
        session,
        "signature.applied",
        actor=signer or witness,
        entity=signature,
        new={"printed_name": printed_name, "meaning": meaning, "content_sha256": digest},
    )
    return signature
