"""A visit that ended without an infusion (program §5): its day and reason on record, audited,
and no dose counted. Callers commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.authorizations.models import Authorization
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.common.localtime import site_zone, today_in
from rems.infusions.models import NotInfusedVisit
from rems.sites.models import Site


def record_not_infused(
    session: Session, authorization: Authorization, actor: User, record: dict[str, Any]
) -> NotInfusedVisit:
    """The receiving site records a visit that ended not infused, with its reason."""
    if actor.site_id != authorization.infusion_site_id:
        raise StateConflict("Only the receiving infusion site records its visits.")
    site = session.get(Site, authorization.infusion_site_id)
    _check(record, today_in(site_zone(site)), site.name)
    visit = NotInfusedVisit(
        authorization_id=authorization.id, patient_id=authorization.patient_id,
        site_id=site.id, visit_on=record["visit_on"], reason=record["reason"],
        notes=(record.get("notes") or "").strip() or None, recorded_at=utcnow(),
        recorded_by_id=actor.id,
    )  # fmt: skip
    session.add(visit)
    session.flush()
    new = {"authorization": authorization.number, "visit_on": visit.visit_on.isoformat(),
           "reason": visit.reason}  # fmt: skip
    record_event(
        session, "infusion.not_infused", actor=actor, entity=visit, new=new, reason=visit.notes
    )
    return visit


def _check(record: dict[str, Any], today: date, where: str) -> None:
    """The day not after today at the site, a reason of the program's, notes for "other"."""
    reasons = current_app.extensions["rems_program"].deviations.not_infused_reasons
    problems = Collector()
    day = record.get("visit_on")
    if not isinstance(day, date):
        problems.add("visit_on", "Enter the day of the visit (YYYY-MM-DD).")
    elif day > today:
        problems.add("visit_on", f"The visit is after today at {where} ({today}).")
    if record.get("reason") not in reasons:
        problems.add("reason", f"Choose one of: {', '.join(reasons)}.")
    elif record["reason"] == "other" and not (record.get("notes") or "").strip():
        problems.add("notes", "Say why the patient was not infused.")
    problems.raise_if_any()
