"""Template helpers: navigation by role, date formatting, the program in every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app

from rems.auth.models import Role
from rems.auth.permissions import current_actor

#: (endpoint, label, roles that see it); a link is shown only to roles its route allows.
NAVIGATION = (
    ("web.dashboard", "Dashboard", tuple(Role)),
    ("admin.user_list", "Users", (Role.ADMIN,)),
    ("audit.event_list", "Audit trail", (Role.ADMIN, Role.AUDITOR)),
    ("auth.account", "Account", tuple(Role)),
)


def _navigation() -> list[tuple[str, str]]:
    """The links the current user's role may follow."""
    user = current_actor()
    if user is None:
        return []
    return [(endpoint, label) for endpoint, label, allowed in NAVIGATION if user.role in allowed]


def format_datetime(value: datetime | None) -> str:
    """A UTC timestamp as people read it."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def format_date(value: date | None) -> str:
    """A date in ISO order."""
    return "" if value is None else value.isoformat()


def install(app: Flask) -> None:
    """Register filters and the context processor."""
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Role"] = Role

    @app.context_processor
    def _context() -> dict:
        return {
            "navigation": _navigation(),
            "actor": current_actor(),
            "program": current_app.extensions["rems_program"],
        }
