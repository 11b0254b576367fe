"""Hot statements built once: the few Core statements every dispensing request sends (the token
check, the decision's facts, the dose hold, its inserts, the audit row).

Each is built and compiled once per process (SQLAlchemy's compiled cache keeps the compiled
form) and run through `Session.execute`, in the session's transaction, with every engine event,
error wrapping and column default SQLAlchemy gives. Running them straight on the driver instead
was measured (`bench/hot_statements.py`, bench/README.md): on a quiet machine it bought +14 %
decision throughput on SQLite and nothing on PostgreSQL — under the 20 % that would have been
worth leaning on two SQLAlchemy internals for, so that path was removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


class Statement:
    """A Core statement built once, run through the session."""

    __slots__ = ("statement",)

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list:
        """Every row."""
        return list(session.execute(self.statement, dict(params or {})).all())

    def first(self, session: Session, params: Mapping[str, Any] | None = None):
        """The first row, or None."""
        return session.execute(self.statement, dict(params or {})).first()

    def one(self, session: Session, params: Mapping[str, Any] | None = None):
        """Exactly one row (NoResultFound / MultipleResultsFound otherwise)."""
        return session.execute(self.statement, dict(params or {})).one()

    def execute(self, session: Session, params: Mapping[str, Any] | None = None) -> None:
        """Run it for its effect."""
        session.execute(self.statement, dict(params or {}))
