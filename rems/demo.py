"""`flask rems demo`: idempotent demo data, with every demo account's sign-in printed."""

from __future__ import annotations

import click

from rems.auth import users
from rems.auth.models import Role
from rems.cli import rems_cli
from rems.common.transactions import writing
from rems.extensions import db

#: Shared by every demo account; long enough for the password rule, and printed on purpose.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105

DEMO_USERS = (
    ("admin", "Avery Admin", Role.ADMIN, False),
    ("auditor", "Jordan Auditor", Role.AUDITOR, False),
    ("dr.ramirez", "Elena Ramirez", Role.PRESCRIBER, False),
    ("dr.okafor", "Chidi Okafor", Role.PRESCRIBER, False),
    ("nurse.lee", "Morgan Lee", Role.DELEGATE, False),
    ("pharmacy.rep", "Priya Shah", Role.SITE_STAFF, True),
    ("pharmacy.tech", "Sam Rivera", Role.SITE_STAFF, False),
    ("infusion.rep", "Dana Kim", Role.SITE_STAFF, True),
    ("infusion.nurse", "Alex Novak", Role.SITE_STAFF, False),
)


def ensure_demo_users(session) -> list[tuple[str, str, bool]]:
    """Create the demo accounts that do not exist yet; report (username, role, created)."""
    report = []
    for username, full_name, role, representative in DEMO_USERS:
        existing = users.find_user(session, username)
        if existing is None:
            users.create_user(
                session, actor=None, actor_label="cli:demo", username=username,
                email=f"{username}@demo.rems.example", full_name=full_name, role=role,
                password=DEMO_PASSWORD, is_authorized_representative=representative,
            )  # fmt: skip
        report.append((username, role.label, existing is None))
    return report


@rems_cli.command("demo")
def demo():
    """Load demo data (safe to run again: existing records are left as they are)."""
    with writing():
        report = ensure_demo_users(db.session)
        db.session.commit()
    click.echo("Demo accounts (password for all: " + DEMO_PASSWORD + "):")
    for username, role, created in report:
        click.echo(f"  {username:<16} {role:<24} {'created' if created else 'already there'}")
