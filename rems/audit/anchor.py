"""The audit chain's anchor outside the database.

`flask rems audit-anchor` (a scheduled job) appends the chain's head, (seq, row hash, time), to
a file with an HMAC keyed by AUDIT_ANCHOR_KEY, a key the database never holds.
`flask rems audit-verify` then checks the chain against the last anchor: deleting the newest
rows, or rewriting a row and re-hashing every row after it, leaves a chain that verifies on its
own but no longer holds the anchored hash at the anchored position. Without the key nobody can
write a matching anchor for a rewritten chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.audit.trail import GENESIS_HASH
from rems.common.clock import utcnow


class AnchorError(Exception):
    """The anchor cannot be written or read (no key, an unreadable file)."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """One anchored head of the chain."""

    seq: int
    row_hash: str
    anchored_at: str
    hmac: str


def anchor_path() -> Path:
    """Where anchors are appended: AUDIT_ANCHOR_PATH, else the instance folder."""
    configured = current_app.config.get("AUDIT_ANCHOR_PATH")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-anchors"


def write_anchor(session: Session) -> Anchor:
    """Append the chain's current head to the anchor file; return it."""
    head = session.execute(
        sa.select(AuditEvent.seq, AuditEvent.row_hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, row_hash = (head.seq, head.row_hash) if head else (0, GENESIS_HASH)
    at = utcnow().isoformat()
    anchor = Anchor(seq, row_hash, at, _mac(seq, row_hash, at))
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(asdict(anchor), sort_keys=True) + "\n")
        file.flush()
        os.fsync(file.fileno())
    return anchor


def last_anchor() -> Anchor | None:
    """The newest anchor in the file, or None when nothing was anchored yet."""
    path = anchor_path()
    if not path.exists():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        return None
    try:
        return Anchor(**json.loads(lines[-1]))
    except (ValueError, TypeError) as error:
        raise AnchorError(f"The last line of {path} is not an anchor: {error}") from None


def anchor_problem(session: Session, anchor: Anchor) -> str | None:
    """What is wrong between the chain and `anchor`, or None when the chain still holds it."""
    expected = _mac(anchor.seq, anchor.row_hash, anchor.anchored_at)
    if not hmac.compare_digest(expected, str(anchor.hmac)):
        return "the anchor's HMAC does not match: the anchor file was altered"
    if anchor.seq == 0:
        return None
    row_hash = session.scalar(sa.select(AuditEvent.row_hash).where(AuditEvent.seq == anchor.seq))
    if row_hash is None:
        return (
            f"event seq {anchor.seq}, anchored at {anchor.anchored_at}, is missing: "
            "the newest rows were deleted"
        )
    if row_hash != anchor.row_hash:
        return (
            f"event seq {anchor.seq} no longer has the hash anchored at {anchor.anchored_at}: "
            "the chain was rewritten and re-hashed"
        )
    return None


def _mac(seq: int, row_hash: str, anchored_at: str) -> str:
    """HMAC-SHA256 of the head under the anchor key."""
    key = current_app.config.get("AUDIT_ANCHOR_KEY")
    if not key:
        raise AnchorError("AUDIT_ANCHOR_KEY is not set: the anchor needs a key kept outside the "
                          "database.")  # fmt: skip
    message = f"{seq}:{row_hash}:{anchored_at}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
