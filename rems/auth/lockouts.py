"""Repeated lockouts for the administrators' dashboard: who was made to wait, and how often."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.auth import guesses, signatures
from rems.common.clock import utcnow

#: At most this many recent events are read; an attack beyond it still shows at the top.
SCAN_LIMIT = 2000
#: Sessions ended for wrong passwords typed while signed in (signatures, password changes).
LOCKOUT_REASONS = (signatures.LOCKOUT_REASON, guesses.LOCKOUT_REASON)


@dataclass(frozen=True, slots=True)
class Lockout:
    """One username's refused sign-ins and signature lockouts in the period."""

    username: str
    refused: int
    signature_lockouts: int
    last_at: datetime
    addresses: tuple[str, ...]


def recent_lockouts(session: Session, hours: int = 24) -> list[Lockout]:
    """Usernames throttled or signed out for wrong passwords lately, most refused first."""
    since = utcnow() - timedelta(hours=hours)
    events = session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.occurred_at >= since)
        .where(
            sa.or_(
                AuditEvent.action == "auth.sign_in_throttled",
                sa.and_(
                    AuditEvent.action == "auth.signed_out", AuditEvent.reason.in_(LOCKOUT_REASONS)
                ),
            )
        )
        .order_by(AuditEvent.seq.desc())
        .limit(SCAN_LIMIT)
    )
    found: dict[str, dict] = {}
    for event in events:
        name = (event.new_values or {}).get("username") or event.actor_label
        entry = found.setdefault(
            name, {"refused": 0, "sig": 0, "last": event.occurred_at, "ips": set()}
        )
        entry["sig" if event.action == "auth.signed_out" else "refused"] += 1
        if event.ip:
            entry["ips"].add(event.ip)
    lockouts = [
        Lockout(name, e["refused"], e["sig"], e["last"], tuple(sorted(e["ips"])))
        for name, e in found.items()
    ]
    return sorted(lockouts, key=lambda x: (-x.refused - x.signature_lockouts, x.username))
