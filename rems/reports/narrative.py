"""The auditor's narrative of a REMS assessment: saved as a draft, signed with the auditor's
e-signature (rems.auth.signatures), then locked; a new version may be started from a signed one.
Every write records its audit event; the caller commits once."""

from __future__ import annotations

import hashlib
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.auth.signatures import sign
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.notifications.services import Message, notify_each
from rems.reports.narrative_models import DRAFT, SIGNED, AssessmentNarrative

MEANING = "Author of the REMS assessment narrative"
SIGNED_KIND = "assessment.narrative_signed"
MAX_CHARS = 20_000
LOCKED = "This version is signed and locked; start a new version to change the narrative."
RACED = "Another auditor saved this version a moment ago: reload the page and try again."


def versions(session: Session, date_from: date, date_to: date) -> list[AssessmentNarrative]:
    """Every version of the period's narrative, newest first."""
    return list(
        session.scalars(
            sa.select(AssessmentNarrative)
            .where(AssessmentNarrative.period_from == date_from,
                   AssessmentNarrative.period_to == date_to)
            .order_by(AssessmentNarrative.version.desc())
        )
    )  # fmt: skip


def _latest(session, date_from, date_to) -> AssessmentNarrative | None:
    """The newest version, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite's
    writers are one at a time already), so two auditors cannot both sign one draft."""
    return session.scalar(
        sa.select(AssessmentNarrative)
        .where(AssessmentNarrative.period_from == date_from,
               AssessmentNarrative.period_to == date_to)
        .order_by(AssessmentNarrative.version.desc())
        .limit(1)
        .with_for_update()
    )  # fmt: skip


def _add(session: Session, narrative: AssessmentNarrative) -> None:
    """Store a new version; one saved a moment ago by another auditor is a conflict."""
    try:
        with session.begin_nested():
            session.add(narrative)
    except sa.exc.IntegrityError:
        raise StateConflict(RACED) from None


def _auditor(actor: User) -> None:
    if actor.role != Role.AUDITOR:
        raise StateConflict("Only an auditor writes and signs the assessment's narrative.")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _checked(text: str | None) -> str:
    errors = Collector()
    text = (text or "").strip()
    if not text:
        errors.add("narrative", "Write the narrative before saving it.")
    elif len(text) > MAX_CHARS:
        errors.add("narrative", f"The narrative is longer than {MAX_CHARS:,} characters.")
    errors.raise_if_any()
    return text


def save(session: Session, actor: User, date_from: date, date_to: date, text: str | None):
    """Save the draft (the first version when there is none); a signed version is locked."""
    _auditor(actor)
    text = _checked(text)
    latest = _latest(session, date_from, date_to)
    if latest is not None and latest.state == SIGNED:
        raise StateConflict(LOCKED)
    now = utcnow()
    if latest is None:
        latest = AssessmentNarrative(
            period_from=date_from, period_to=date_to, version=1, text=text, state=DRAFT,
            created_at=now, created_by_id=actor.id, updated_at=now, updated_by_id=actor.id,
        )  # fmt: skip
        _add(session, latest)
        old = None
    else:
        old = {"sha256": _digest(latest.text), "chars": len(latest.text)}
        latest.text, latest.updated_at, latest.updated_by_id = text, now, actor.id
    session.flush()
    record_event(
        session, "assessment.narrative_saved", actor=actor, entity=latest, old=old,
        new={**_period(latest), "sha256": _digest(text), "chars": len(text)},
    )  # fmt: skip
    return latest


def _period(narrative: AssessmentNarrative) -> dict:
    return {"from": narrative.period_from.isoformat(), "to": narrative.period_to.isoformat(),
            "version": narrative.version}  # fmt: skip


def sign_draft(session: Session, actor: User, date_from: date, date_to: date, password: str):
    """Sign the period's draft with the auditor's e-signature; it is locked from then on."""
    _auditor(actor)
    latest = _latest(session, date_from, date_to)
    if latest is None:
        raise StateConflict("Save the narrative before signing it.")
    if latest.state == SIGNED:
        raise StateConflict(LOCKED)
    content = {**_period(latest), "text": latest.text}
    signature = sign(session, actor, password=password, meaning=MEANING, content=content)
    latest.state, latest.signature_id, latest.signed_at = SIGNED, signature.id, signature.signed_at
    session.flush()
    record_event(
        session, "assessment.narrative_signed", actor=actor, entity=latest,
        old={"state": DRAFT},
        new={**_period(latest), "state": SIGNED, "sha256": signature.content_sha256},
    )  # fmt: skip
    _tell_administrators(session, actor, latest)
    return latest


def _tell_administrators(session: Session, actor: User, narrative: AssessmentNarrative) -> None:
    """Administrators, who submit the assessment, hear that its narrative is signed."""
    period = f"{narrative.period_from} to {narrative.period_to}"
    link = f"/reports/assessment?from={narrative.period_from}&to={narrative.period_to}"
    message = Message(
        subject=f"REMS assessment narrative signed: {period} (version {narrative.version})",
        body=f"{actor.full_name} signed version {narrative.version} of the narrative of the REMS "
        f"assessment for {period}. It is locked; the assessment and its PDF carry it.",
        key=f"{SIGNED_KIND}:{narrative.period_from}:{narrative.period_to}:{narrative.version}:",
        link=link,
    )
    notify_each(session, {User.__table__.c.role == Role.ADMIN.value: message}, kind=SIGNED_KIND)


def start_version(session: Session, actor: User, date_from: date, date_to: date):
    """A new draft version from the signed one (its text copied); the signed one stays."""
    _auditor(actor)
    latest = _latest(session, date_from, date_to)
    if latest is None or latest.state != SIGNED:
        raise StateConflict("A new version starts from a signed one; edit the draft instead.")
    now = utcnow()
    draft = AssessmentNarrative(
        period_from=date_from, period_to=date_to, version=latest.version + 1, text=latest.text,
        state=DRAFT, created_at=now, created_by_id=actor.id, updated_at=now,
        updated_by_id=actor.id,
    )  # fmt: skip
    _add(session, draft)
    session.flush()
    record_event(
        session, "assessment.narrative_version_started", actor=actor, entity=draft,
        new={**_period(draft), "from_version": latest.version},
    )  # fmt: skip
    return draft
