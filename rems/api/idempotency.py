"""Idempotency-Key on API writes: a retry with the same key and body gets the first answer and
stores nothing new; the same key with another body is refused (422). Keys are per user.

The first answer is built before the commit and stored in the same transaction as the write,
so a client whose connection dropped after the commit can always learn what happened.

A retry that overlaps the first request (sent while it is still running, say after a proxy
timed out) must never get a definite refusal for a write that is being stored. So a request
with a key first claims the key: on PostgreSQL a transaction-scoped advisory lock on (user,
key), taken without waiting; a retry that cannot take it answers 409 `request_in_progress`
with Retry-After, and one that takes it after the first request ended finds the stored
answer. On SQLite the request already holds the database's write lock (writers queue), so
the retry runs after the first request and finds its answer."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import jsonify, request
from sqlalchemy.orm import Session

from rems.api.models import IdempotentRequest
from rems.auth.models import User
from rems.auth.permissions import current_actor
from rems.common.clock import utcnow
from rems.common.errors import RequestInProgress, ValidationFailed
from rems.common.transactions import commit_answer
from rems.db import canonical_json
from rems.extensions import db

HEADER = "Idempotency-Key"
KEY_MISMATCH = "This key was used with a different request body."
Answer = tuple[dict[str, Any], int]


def idempotency_key() -> str | None:
    """The request's Idempotency-Key header, if sent: 1 to 200 characters, no NUL."""
    key = request.headers.get(HEADER)
    if key is not None and (not 1 <= len(key) <= 200 or "\x00" in key):
        raise ValidationFailed.single(HEADER, "Use 1 to 200 printable characters.")
    return key


def answer_once(operation: str, body: dict[str, Any], write: Callable[[], Answer]):
    """Run `write` (which returns the answer's body and status, built before any commit) and
    commit, unless an earlier request with this key did: then replay its answer."""
    key = idempotency_key()
    user = current_actor()
    digest = hashlib.sha256(canonical_json([operation, body]).encode()).hexdigest()
    if key is not None:
        _claim(db.session, user, key)
        if earlier := _earlier(db.session, user, key, digest):
            return _replay(earlier)
    try:
        answer, status = write()
        if key is not None:
            _remember(db.session, user, key, operation, digest, answer, status)
        commit_answer()
    except sa.exc.IntegrityError:
        db.session.rollback()
        # Another request with the same key committed first: its answer is the answer.
        if key is None or (earlier := _earlier(db.session, user, key, digest)) is None:
            raise
        return _replay(earlier)
    return jsonify(answer), status


def _claim(session: Session, user: User, key: str) -> None:
    """Hold the key for this transaction, or raise RequestInProgress when a request with the
    same key is still running (PostgreSQL; SQLite's writers are serialised already)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256(f"idempotency-key:{user.id}:{key}".encode()).digest()
    lock = int.from_bytes(digest[:8], "big", signed=True)
    if not session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock))):
        raise RequestInProgress(
            "A request with this Idempotency-Key is still being processed: retry with the same "
            "key after the seconds Retry-After gives to get its answer."
        )


def _earlier(session: Session, user: User, key: str, digest: str) -> IdempotentRequest | None:
    """The stored request with this key; a different body under the same key is refused."""
    earlier = session.scalar(
        sa.select(IdempotentRequest).where(
            IdempotentRequest.user_id == user.id, IdempotentRequest.key == key
        )
    )
    if earlier is not None and earlier.request_sha256 != digest:
        raise ValidationFailed.single(HEADER, KEY_MISMATCH)
    return earlier


def _remember(session, user, key, operation, digest, answer, status) -> None:
    """Store the answer in the write's own transaction."""
    session.add(
        IdempotentRequest(
            user_id=user.id,
            key=key,
            operation=operation,
            request_sha256=digest,
            status_code=status,
            response=answer,
            created_at=utcnow(),
        )
    )
    session.flush()


def _replay(earlier: IdempotentRequest):
    """The first answer, exactly, marked as a replay."""
    response = jsonify(earlier.response)
    response.status_code = earlier.status_code
    response.headers["Idempotent-Replayed"] = "true"
    return response
