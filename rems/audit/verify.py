"""Verifying the audit chain end to end and naming the first broken row."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import AuditEvent
from rems.audit.trail import GENESIS_HASH, compute_row_hash


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verifier's finding: how many rows were checked and the first problem, if any."""

    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when every row is in place and unaltered."""
        return self.problem is None


def verify_chain(session: Session, batch_size: int = 1000) -> ChainReport:
    """Walk the chain in order, re-hashing every row; stop at the first break."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    statement = sa.select(AuditEvent).order_by(AuditEvent.seq)
    with session.scalars(statement.execution_options(yield_per=batch_size)) as rows:
        for row in rows:
            problem = _row_problem(row, expected_seq, prev_hash)
            if problem:
                return ChainReport(checked, row.seq, row.id, problem)
            checked += 1
            expected_seq, prev_hash = row.seq + 1, row.row_hash
    return ChainReport(checked)


def _row_problem(row: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    """What is wrong with this row at this position, or None."""
    if row.seq != expected_seq:
        return f"expected sequence number {expected_seq}, found {row.seq}: rows are missing"
    if row.prev_hash != prev_hash:
        return "its previous-row hash does not match the row before it"
    if row.row_hash != compute_row_hash(row):
        return "its content does not match its hash: the row was altered"
    return None
