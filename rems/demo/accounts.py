"""Demo accounts: one or more of every role, all with the printed demo password."""

from __future__ import annotations

from rems.auth import users
from rems.auth.models import Role

#: Shared by every demo account; long enough for the password rule, and printed on purpose.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105

DEMO_USERS = (
    ("admin", "Avery Admin", Role.ADMIN, False),
    ("auditor", "Jordan Auditor", Role.AUDITOR, False),
    ("dr.ramirez", "Elena Ramirez", Role.PRESCRIBER, False),
    ("dr.okafor", "Chidi Okafor", Role.PRESCRIBER, False),
    ("dr.chen", "Wei Chen", Role.PRESCRIBER, False),
    ("dr.nguyen", "Linh Nguyen", Role.PRESCRIBER, False),
    ("dr.patel", "Anika Patel", Role.PRESCRIBER, False),
    ("dr.hughes", "Owen Hughes", Role.PRESCRIBER, False),
    ("dr.silva", "Marta Silva", Role.PRESCRIBER, False),
    ("nurse.lee", "Morgan Lee", Role.DELEGATE, False),
    ("pharmacy.rep", "Priya Shah", Role.SITE_STAFF, True),
    ("infusion.rep", "Dana Kim", Role.SITE_STAFF, True),
    ("clinic.rep", "Rosa Alvarez", Role.SITE_STAFF, True),
    ("metro.rep", "Tom Becker", Role.SITE_STAFF, True),
    ("harbor.rep", "Ines Duarte", Role.SITE_STAFF, True),
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
