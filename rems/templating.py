"""Template helpers: navigation by role, date and time formatting (in the viewer's zone), the
program in every template."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_request_context

from rems.auth.models import Role
from rems.auth.permissions import current_actor, current_identity, policy_of
from rems.common.localtime import actor_zone, program_zone, to_local

#: Site capabilities some links need, beyond the route's policy.
_NEEDS_CAPABILITY = {
    "authorizations.request_form": "dispenses",
    "authorizations.live_list": "dispenses",
    "infusions.site_list": "infuses",
    "compliance.case_list": "representative",
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
    ("monitoring.worklist_page", "Worklist"),
    ("adverse_events.event_list", "Adverse events"),
    ("compliance.case_list", "Non-compliance"),
    ("documents.document_list", "Documents"),
    ("certification.queue", "Certification"),
    ("admin.user_list", "Users"),
    ("notifications.outbox", "Outbox"),
    ("reports.catalogue", "Reports"),
    ("audit.event_list", "Audit trail"),
    ("notifications.own_list", "Messages"),
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
    """A link needing a site capability shows only to staff of a site that has it; the
    non-compliance cases only to a site's representative among site staff."""
    if capability == "representative":
        return user.role != Role.SITE_STAFF or user.is_site_representative
    return capability is None or bool(user.site and getattr(user.site, capability))


def viewer_zone() -> ZoneInfo:
    """The zone pages show times in: the viewer's site or practice, else the program's (once
    per request)."""
    if not has_request_context():
        return program_zone()
    if "rems_viewer_zone" not in g:
        g.rems_viewer_zone = actor_zone(current_identity() or current_actor())
    return g.rems_viewer_zone


def format_datetime(value: datetime | None) -> str:
    """A stored (UTC) moment as the viewer's local time, with the zone's abbreviation:
    2026-11-24 18:30 EST."""
    return "" if value is None else to_local(value, viewer_zone()).strftime("%Y-%m-%d %H:%M %Z")


def format_time(value: datetime | None) -> str:
    """The viewer's local time of day of a stored moment: 18:30."""
    return "" if value is None else to_local(value, viewer_zone()).strftime("%H:%M")


def format_zone(value: datetime | None) -> str:
    """The abbreviation of the viewer's zone at a stored moment (EST, EDT): what a time shown
    with `time` is in."""
    return "" if value is None else to_local(value, viewer_zone()).strftime("%Z")


def format_utc(value: datetime | None) -> str:
    """A stored moment in UTC (the audit trail's pages keep UTC, as its records do)."""
    if value is None:
        return ""
    return to_local(value, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_program_datetime(value: datetime | None) -> str:
    """A stored moment in the program's time zone, with the zone's abbreviation (program-wide
    pages, and beside UTC on the audit trail's)."""
    return "" if value is None else to_local(value, program_zone()).strftime("%Y-%m-%d %H:%M %Z")


def format_date(value: date | None) -> str:
    """A date in ISO order."""
    return "" if value is None else value.isoformat()


def install(app: Flask) -> None:
    """Register filters and the context processor."""
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["time"] = format_time
    app.jinja_env.filters["zone"] = format_zone
    app.jinja_env.filters["utc_datetime"] = format_utc
    app.jinja_env.filters["program_datetime"] = format_program_datetime
    app.jinja_env.globals["viewer_zone"] = lambda: viewer_zone().key
    app.jinja_env.globals["program_time_zone"] = lambda: (
        current_app.extensions["rems_program"].time_zone
    )
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals["Role"] = Role

    @app.context_processor
    def _context() -> dict:
        return {
            "navigation": _navigation(),
            "actor": current_actor(),
            "program": current_app.extensions["rems_program"],
        }
