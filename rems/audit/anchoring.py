"""Anchoring only a chain that still holds its last anchor, and telling administrators when not.

`flask rems audit-anchor` first re-hashes the chain and checks it against the last anchor: a
truncated or re-chained trail must never be blessed by a fresh anchor of its forged head. Each
anchor written is recorded in the trail itself (`audit.anchored`), so an anchor file that is
missing or emptied later is a failure, not a first run. A refusal is recorded
(`audit.anchor_refused`) and every administrator is told through the outbox.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.anchor import (
    Anchor,
    AnchorError,
    anchor_path,
    anchor_problem,
    last_anchor,
    write_anchor,
)
from rems.audit.models import AuditEvent
from rems.audit.trail import record_event
from rems.audit.verify import verify_chain
from rems.auth.models import Role, User
from rems.common.clock import today
from rems.notifications.services import Message, notify_each

ANCHORED = "audit.anchored"
REFUSED = "audit.anchor_refused"
ALERT_KIND = "audit.anchor_failed"


class AnchorRefused(Exception):
    """The chain does not hold: nothing was anchored."""


@dataclass(frozen=True, slots=True)
class AnchorCheck:
    """The last anchor (None: none in the file) and what is wrong between it and the chain."""

    anchor: Anchor | None
    problem: str | None
    #: AUDIT_ANCHOR_KEY is set: anchors are expected.
    configured: bool

    @property
    def nothing_anchored(self) -> bool:
        """No anchor in the file and none recorded in the trail: a first run."""
        return self.anchor is None and self.problem is None


def check_anchor(session: Session) -> AnchorCheck:
    """The chain against the last anchor in the file (and the anchors the trail records)."""
    configured = bool(current_app.config.get("AUDIT_ANCHOR_KEY"))
    try:
        anchor = last_anchor()
        if anchor is None:
            return AnchorCheck(None, _missing_file_problem(session), configured)
        return AnchorCheck(anchor, anchor_problem(session, anchor), configured)
    except AnchorError as error:
        return AnchorCheck(None, str(error), configured)


def _missing_file_problem(session: Session) -> str | None:
    """An empty or missing file is a failure once the trail records anchors written to it."""
    recorded = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == ANCHORED)
    )
    if not recorded:
        return None
    return (
        f"the anchor file {anchor_path()} is missing or empty, although the trail records "
        f"{recorded} anchor{'s' if recorded != 1 else ''} written to it"
    )


def anchor_chain(session: Session) -> Anchor:
    """Verify the chain and its last anchor, then append the head; AnchorRefused otherwise.
    The caller commits (the `audit.anchored` event, or the refusal and its alerts)."""
    report = verify_chain(session)
    if not report.ok:
        problem = f"the chain is broken at event seq {report.broken_seq}: {report.problem}"
    else:
        problem = check_anchor(session).problem
    if problem:
        _refuse(session, problem)
    anchor = write_anchor(session)
    record_event(
        session, ANCHORED, actor=None, actor_label="cli:audit-anchor", entity_type="audit_anchor",
        new={"seq": anchor.seq, "row_hash": anchor.row_hash, "anchored_at": anchor.anchored_at},
    )  # fmt: skip
    return anchor


def _refuse(session: Session, problem: str) -> None:
    """Record the refusal, tell every administrator, raise."""
    record_event(session, REFUSED, actor=None, actor_label="cli:audit-anchor",
                 entity_type="audit_anchor", new={"problem": problem})  # fmt: skip
    alert_administrators(session, problem)
    raise AnchorRefused(problem)


def alert_administrators(session: Session, problem: str) -> int:
    """One message a day per problem to every active administrator; how many were queued."""
    fact = hashlib.sha256(problem.encode()).hexdigest()[:16]
    message = Message(
        subject="The audit trail does not match its anchor: nothing was anchored",
        body=f"The scheduled audit anchor refused to anchor the audit trail: {problem}.\n\n"
        "The trail may have been truncated or rewritten. Investigate before anything else: "
        "see the audit chain check and the operations guide (Audit trail).",
        key=f"{ALERT_KIND}:{today().isoformat()}:{fact}:user:",
        link="/audit/verify",
    )
    return notify_each(session, {User.__table__.c.role == Role.ADMIN.value: message},
                       kind=ALERT_KIND)  # fmt: skip
