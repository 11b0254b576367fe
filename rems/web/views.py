"""The landing page and one dashboard per role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from rems.adverse_events.clock import dashboard_facts as overdue_facts
from rems.adverse_events.presenters import event_rows
from rems.adverse_events.queries import awaiting_review, awaiting_review_count
from rems.auth.lockouts import recent_lockouts
from rems.auth.models import Role
from rems.auth.permissions import current_actor, public, signed_in
from rems.authorizations import history
from rems.common.localtime import program_today
from rems.compliance.forms import STATES as CASE_STATES
from rems.compliance.notices import party_name
from rems.compliance.queries import open_cases_for
from rems.courses.drafts import waiting_drafts
from rems.extensions import db
from rems.monitoring.worklist import worklist_counts
from rems.notifications.queries import recent_for
from rems.prescribers.delegates import prescribers_for_delegate
from rems.prescribers.models import Prescriber
from rems.prescribers.services import prescriber_for
from rems.sites.models import Site
from rems.web import queries

bp = Blueprint("web", __name__)


@bp.get("/")
@public
def index():
    """Signed-in users go to their dashboard, everyone else to the sign-in page."""
    target = "web.dashboard" if current_actor() else "auth.sign_in"
    return redirect(url_for(target))


@bp.get("/dashboard")
@signed_in
def dashboard():
    """The dashboard of the signed-in user's role."""
    user = current_actor()
    facts = _DASHBOARD_FACTS[user.role](user)
    notifications = recent_for(db.session, user)
    return render_template(
        f"dashboard/{user.role.value}.html", user=user, notifications=notifications,
        **_open_cases(user), **facts,
    )  # fmt: skip


def _open_cases(user) -> dict:
    """The open non-compliance cases the user must act on (None: the user answers for none)."""
    if user.role in (Role.AUDITOR, Role.DELEGATE) or (
        user.role == Role.SITE_STAFF and not user.is_site_representative
    ):
        return {"open_cases": None}
    cases = open_cases_for(db.session, user)
    return {
        "open_cases": [(case, party_name(db.session, case)) for case in cases],
        "case_states": CASE_STATES,
    }


def _program_overview(user) -> dict:
    """Administrators and auditors: the whole program at a glance."""
    session = db.session
    return {
        "users_by_role": queries.users_by_role(session),
        "prescriber_counts": queries.certification_counts(session, Prescriber),
        "site_counts": queries.certification_counts(session, Site),
        "events_today": queries.events_since(session),
        "live_tokens": queries.live_token_count(session),
        "recent_events": queries.recent_events(session),
        "pending_submissions": queries.pending_submission_count(session),
        "patients": queries.patient_counts(session, user),
    }


def _serious_events() -> dict:
    """Serious adverse events awaiting an administrator's review: the oldest few and the count."""
    rows = db.session.execute(awaiting_review().limit(10)).all()
    events = event_rows(db.session, [event for event, _ in rows])
    return {
        "serious_events": [(row, patient) for row, (_, patient) in zip(events, rows, strict=True)],
        "serious_total": awaiting_review_count(db.session),
    } | overdue_facts(db.session, program_today())


def _admin_facts(user) -> dict:
    """Administrators: the overview, and the accounts made to wait after wrong passwords."""
    overview = _program_overview(user) | _serious_events()
    denials = history.program_denials(db.session)
    return overview | {"lockouts": recent_lockouts(db.session), "denials": denials}


def _prescriber_facts(user) -> dict:
    """A prescriber: their own certification as of today, with any renewal warning."""
    prescriber = prescriber_for(db.session, user)
    return {
        "prescriber": prescriber,
        "standing": queries.standing(prescriber),
        "patients": queries.patient_counts(db.session, user),
        "monitoring": worklist_counts(db.session, user, program_today()),
        "drafts": waiting_drafts(db.session, user),
        "denials": history.prescriber_denials(db.session, [prescriber.id] if prescriber else []),
    }


def _delegate_facts(user) -> dict:
    """A delegate: the prescribers they work for, each with its status as of today."""
    prescribers = prescribers_for_delegate(db.session, user)
    return {
        "prescribers": [(p, queries.standing(p)) for p in prescribers],
        "patients": queries.patient_counts(db.session, user),
        "monitoring": worklist_counts(db.session, user, program_today()),
        "drafts": waiting_drafts(db.session, user),
        "denials": history.prescriber_denials(db.session, [p.id for p in prescribers]),
    }


def _site_facts(user) -> dict:
    """Site staff: their site's certification as of today and, for the representative, staff."""
    site = user.site
    staff = queries.site_staff(db.session, site) if site and user.is_site_representative else []
    denials = history.site_denials(db.session, site.id) if site else []
    return {"site": site, "staff": staff, "standing": queries.standing(site), "denials": denials}


_DASHBOARD_FACTS = {
    Role.ADMIN: _admin_facts,
    Role.AUDITOR: _program_overview,
    Role.PRESCRIBER: _prescriber_facts,
    Role.DELEGATE: _delegate_facts,
    Role.SITE_STAFF: _site_facts,
}
