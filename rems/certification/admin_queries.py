"""Reads for the administrators' certification pages: party lists, each party's standing as of
today, and everything the submission and party pages show."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.auth.signatures import signature_matches
from rems.certification import queries
from rems.certification.models import AssessmentAttempt, CertificationSubmission, CertStatus
from rems.certification.rules import (
    TRANSITIONS,
    Transition,
    TransitionRefused,
    days_to_expiry,
    expiring_soon,
    next_status,
)
from rems.certification.services import pending_submission, submission_party
from rems.prescribers.models import Prescriber
from rems.prescribers.services import FORM_FIELDS
from rems.sites.models import Site
from rems.sites.services import SITE_FIELDS
from rems.web.queries import site_staff

#: What an administrator may do to a party from its page, in the order the page offers them.
ADMIN_ACTIONS = (Transition.SUSPEND, Transition.REINSTATE, Transition.REVOKE)
STATUS_VALUES = frozenset(status.value for status in CertStatus)


@dataclass(frozen=True, slots=True)
class Standing:
    """A party's certification as of a day: a lapsed certification reads expired."""

    party: Prescriber | Site
    status: CertStatus
    days_left: int | None
    expiring: bool

    @property
    def kind(self) -> str:
        """The kind of party as the pages and their URLs spell it: prescriber or site."""
        return "prescriber" if isinstance(self.party, Prescriber) else "site"


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One submission of the review queue with its party's standing today."""

    submission: CertificationSubmission
    standing: Standing


def warning_days() -> int:
    """How many days before the end a certification counts as expiring (program file)."""
    return current_app.extensions["rems_program"].certification.expiry_warning_days


def standing(party: Prescriber | Site, today: date) -> Standing:
    """The party's status, days left and renewal warning as of `today`."""
    return Standing(
        party=party,
        status=queries.status_today(party, today),
        days_left=days_to_expiry(party.expires_on, today),
        expiring=expiring_soon(party.status, party.expires_on, today, warning_days()),
    )


def standings(parties: Iterable[Prescriber | Site], today: date) -> list[Standing]:
    """The standing of each party, in order."""
    return [standing(party, today) for party in parties]


def _search(statement: sa.Select, columns: Sequence[Any], q: str | None) -> sa.Select:
    """Rows where any of the columns contains the search text (case-insensitive)."""
    if not q or not q.strip():
        return statement
    pattern = f"%{q.strip().lower()}%"
    return statement.where(sa.or_(*(sa.func.lower(column).like(pattern) for column in columns)))


def prescriber_list_statement(q: str | None, status: str | None) -> sa.Select:
    """Prescribers by name, searched by name or NPI, filtered by their stored status."""
    full_name = Prescriber.first_name + " " + Prescriber.last_name
    statement = sa.select(Prescriber).order_by(
        Prescriber.last_name, Prescriber.first_name, Prescriber.id
    )
    statement = _search(statement, (full_name, Prescriber.last_name, Prescriber.npi), q)
    if status in STATUS_VALUES:
        statement = statement.where(Prescriber.status == CertStatus(status))
    return statement


def site_list_statement(q: str | None, status: str | None) -> sa.Select:
    """Healthcare settings by name, searched by name, NPI, NCPDP ID or site code."""
    statement = sa.select(Site).order_by(Site.name, Site.id)
    columns = (Site.name, Site.npi, Site.ncpdp_id, Site.site_code)
    statement = _search(statement, columns, q)
    if status in STATUS_VALUES:
        statement = statement.where(Site.status == CertStatus(status))
    return statement


def queue_rows(
    session: Session, submissions: Sequence[CertificationSubmission], today: date
) -> list[QueueRow]:
    """The queue page's rows: parties loaded in two queries, not one per row."""
    prescriber_ids = {s.prescriber_id for s in submissions if s.prescriber_id is not None}
    site_ids = {s.site_id for s in submissions if s.site_id is not None}
    prescribers = _by_id(session, Prescriber, prescriber_ids)
    sites = _by_id(session, Site, site_ids)
    return [
        QueueRow(s, standing(prescribers[s.prescriber_id] if s.prescriber_id else sites[s.site_id],
                             today))
        for s in submissions
    ]  # fmt: skip


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    """Rows of `model` with these ids, by id."""
    if not ids:
        return {}
    return {row.id: row for row in session.scalars(sa.select(model).where(model.id.in_(ids)))}


def usernames(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Usernames of these accounts, by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(sa.select(User.id, User.username).where(User.id.in_(wanted)))
    return {user_id: username for user_id, username in rows}


def refusal(party: Prescriber | Site, action: Transition, today: date) -> str | None:
    """Why `action` is not allowed from the party's status today, or None when it is."""
    try:
        next_status(queries.status_today(party, today), action)
    except TransitionRefused as refused:
        return str(refused)
    return None


def allowed_actions(party: Prescriber | Site, today: date) -> list[Transition]:
    """The administrator's actions that the party's status today allows."""
    current = queries.status_today(party, today)
    return [action for action in ADMIN_ACTIONS if current in TRANSITIONS[action][0]]


def submission_page(
    session: Session, submission: CertificationSubmission, today: date
) -> dict[str, Any]:
    """Everything the submission page shows besides the decision form."""
    party = submission_party(session, submission)
    earlier = [s for s in queries.submissions_of(session, party) if s.id != submission.id]
    signature = submission.signature
    return {
        "submission": submission,
        "standing": standing(party, today),
        "signature": signature,
        "signature_ok": signature_matches(signature, submission.form),
        "attempt": _attempt_of(session, submission),
        "history": queries.history_of(session, party),
        "earlier": earlier,
        "names": usernames(
            session,
            [submission.submitted_by_id, submission.decided_by_id]
            + [s.decided_by_id for s in earlier],
        ),
    }


def _attempt_of(session: Session, submission: CertificationSubmission) -> AssessmentAttempt | None:
    """The assessment attempt a prescriber's submission names, if it still exists."""
    attempt_id = (submission.form.get("assessment") or {}).get("attempt_id")
    return session.get(AssessmentAttempt, attempt_id) if attempt_id is not None else None


def party_page(session: Session, party: Prescriber | Site, today: date) -> dict[str, Any]:
    """Everything a party page shows besides the action forms."""
    submissions = queries.submissions_of(session, party)
    is_prescriber = isinstance(party, Prescriber)
    return {
        "standing": standing(party, today),
        "fields": form_fields(party),
        "history": queries.history_of(session, party),
        "submissions": submissions,
        "pending": pending_submission(session, party),
        "attempts": queries.attempts_of(session, party) if is_prescriber else [],
        "staff": [] if is_prescriber else site_staff(session, party),
        "names": usernames(session, [s.decided_by_id for s in submissions]),
        "actions": allowed_actions(party, today),
    }


def form_fields(party: Prescriber | Site) -> dict[str, Any]:
    """The party's enrollment form fields as they are now, in form order."""
    if isinstance(party, Prescriber):
        return {name: getattr(party, name) for name, _, _ in FORM_FIELDS}
    fields = {name: getattr(party, name) for name, _, _ in SITE_FIELDS}
    return fields | {"dispenses": party.dispenses, "infuses": party.infuses}
