"""Two PostgreSQL roles: the owner runs the migrations; the app logs in as a role that may read
and write the tables but only INSERT and SELECT the append-only ones, so it can neither rewrite
the audit trail nor disable the triggers that guard it (only a table's owner may)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

#: Tables the app may only add to and read.
APPEND_ONLY = frozenset({"audit_event", "record_access"})
#: Tables the app may only read.
READ_ONLY = frozenset({"alembic_version"})
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleError(Exception):
    """The role cannot be granted (not PostgreSQL, a bad name, no such role)."""


def privileges_for(table: str) -> str:
    """What the app's role may do to `table`."""
    if table in APPEND_ONLY:
        return "SELECT, INSERT"
    if table in READ_ONLY:
        return "SELECT"
    return "SELECT, INSERT, UPDATE, DELETE"


def grant_app_role(session: Session, role: str) -> int:
    """Grant `role` the app's privileges on every table; return how many tables."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        raise RoleError("Database roles apply to PostgreSQL only.")
    if not ROLE_RE.match(role):
        raise RoleError("Name the role in lower-case letters, digits and underscores.")
    exists = session.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        raise RoleError(f"No role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD …).")
    tables = sa.inspect(bind).get_table_names()
    session.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    for table in tables:
        session.execute(sa.text(f'REVOKE ALL ON TABLE "{table}" FROM "{role}"'))
        session.execute(sa.text(f'GRANT {privileges_for(table)} ON TABLE "{table}" TO "{role}"'))
    session.execute(sa.text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    return len(tables)
