"""Reads for the administrators' user pages."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import User


def user_list_statement(q: str | None, role: str | None, status: str | None) -> sa.Select:
    """Users matching the filters, by username."""
    statement = sa.select(User).order_by(User.username)
    if q:
        pattern = f"%{q.strip().lower()}%"
        statement = statement.where(
            sa.or_(
                sa.func.lower(User.username).like(pattern),
                sa.func.lower(User.full_name).like(pattern),
                sa.func.lower(User.email).like(pattern),
            )
        )
    if role:
        statement = statement.where(User.role == role)
    if status in ("active", "inactive"):
        statement = statement.where(User.active.is_(status == "active"))
    return statement
