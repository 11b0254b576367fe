"""Template helpers: navigation by role, date formatting, the program in every template."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app

from rems.auth.models import Role
from rems.auth.permissions import current_actor, policy_of

#: Site capabilities some links need, beyond the route's policy.
_NEEDS_CAPABILITY = {
    "authorizations.request_form": "dispenses",
    "authorizations.live_list": "dispenses",
    "infusions.site_list": "infuses",
}
#: (endpoint, label): a link is shown only to users the route's own policy lets in.
NAVIGATION = (
    ("web.dashboard", "Dashboard"),
    ("prescribers.enrollment", "Enrollment"),
    ("prescribers.delegates", "Delegates"),
    ("sites.overview", "Your site"),
    ("authorizations.request_form", "Request authorization"),
    ("authorizations.live_list", "Authorizations"),
    ("infusions.site_list", "Infusions"),
    ("patients.patient_list", "Patients"),
    ("adverse_events.event_list", "Adverse events"),
    ("documents.document_list", "Documents"),
    ("certification.queue", "Certification"),
    ("admin.user_list", "Users"),
    ("notifications.outbox", "Outbox"),
    ("reports.catalogue", "Reports"),
    ("audit.event_list", "Audit trail"),
    ("auth.account", "Account"),
)


def _navigation() -> list[tuple[str, str]]:
    """The links whose routes the current user may open."""
    user = current_actor()
    if user is None or user.must_change_password:  # nothing to go to before the new password
        return []
    views = current_app.view_functions
    return [
        (endpoint, label)
        for endpoint, label in NAVIGATION
        if endpoint in views
        and policy_of(views[endpoint]).allows(user)
        and _has_capability(user, _NEEDS_CAPABILITY.get(endpoint))
    ]


def _has_capability(user, capability: str | None) -> bool:
    """A link needing a site capability shows only to staff of a site that has it."""
    return capability is None or bool(user.site and getattr(user.site, capability))


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
