"""Guessing a patient's date of birth at the gate: PATIENT_NOT_FOUND answers, counted.

- Per pharmacy site: every token of the site counts together (a user without a site counts
  by token). Once REMS_PATIENT_NOT_FOUND_LIMIT is spent, the site's requests are refused with
  429 before anything is decided or stored, so no number of tokens buys more guesses.
- Per patient: the REMS ID as the gate matches it (normalised: case, dashes, spaces,
  look-alikes), across every site. This count refuses no one — refusing would let any token
  lock every pharmacy out of a patient, the right date of birth included — but when it runs
  out every administrator is told, once per window.

While the shared store (Redis) is down these counts are kept per process
(`rems.ratelimit.guessing_strategy`): weaker, never absent.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import RateLimitItem, parse
from sqlalchemy.orm import Session

from rems import ratelimit
from rems.auth.models import Role, User
from rems.common.clock import today
from rems.common.identifiers import normalize_identifier
from rems.common.transactions import writing
from rems.notifications.services import Message, notify_each

NOT_FOUND_KEY = "patient-not-found"
ALERT_KIND = "gate.dob_guessing"
REFUSED = "Too many requests named a patient that was not found; wait before trying again."


def _limit() -> RateLimitItem:
    return parse(current_app.config["REMS_PATIENT_NOT_FOUND_LIMIT"])


def site_key(identity) -> str:
    """Whom the guesses count against: the requester's site, else their token."""
    site_id = getattr(identity, "site_id", None)
    return f"site:{site_id}" if site_id is not None else ratelimit.caller_key()


def check_site_guesses(identity) -> None:
    """Refuse (429) when the requester's site has used up its not-found answers."""
    item, strategy = _limit(), ratelimit.guessing_strategy()
    keys = (NOT_FOUND_KEY, "site", site_key(identity))
    if not strategy.test(item, *keys):
        reset = strategy.get_window_stats(item, *keys).reset_time
        raise ratelimit.RateLimited(max(1, math.ceil(reset - time.time())), REFUSED)


def note_outcome(session: Session, identity, outcome, patient_id: str) -> None:
    """After a decision is committed: count it if it answered PATIENT_NOT_FOUND (a replayed
    answer was counted the first time)."""
    reasons = outcome.decision.reasons or ()
    if not outcome.replayed and any(r["code"] == "PATIENT_NOT_FOUND" for r in reasons):
        note_patient_not_found(session, identity, patient_id)


def note_name_not_found(identity) -> None:
    """Count one unmatched name-and-birth-date lookup (FHIR `$rems-etasu`) against the site:
    there is no patient ID to count it against."""
    strategy = ratelimit.guessing_strategy()
    strategy.hit(_limit(), NOT_FOUND_KEY, "site", site_key(identity))


def note_patient_not_found(session: Session, identity, patient_id: str) -> None:
    """Count one PATIENT_NOT_FOUND answer against the site and the patient ID; tell the
    administrators (in a short transaction of its own) when the patient's count runs out."""
    item, strategy = _limit(), ratelimit.guessing_strategy()
    strategy.hit(item, NOT_FOUND_KEY, "site", site_key(identity))
    patient = normalize_identifier(patient_id)
    if strategy.hit(item, NOT_FOUND_KEY, "patient", patient):
        return
    once = type(item)(1, item.multiples)  # one alert per window of the limit
    if strategy.hit(once, NOT_FOUND_KEY, "alerted", patient):
        with writing():
            _alert_administrators(session, patient, item)
            session.commit()


def _alert_administrators(session: Session, patient: str, item: RateLimitItem) -> int:
    """Every active administrator hears that a patient's date of birth is being guessed."""
    message = Message(
        subject=f"Dates of birth guessed for patient ID {patient}",
        body=f"More than {item.amount} gate requests per {item.multiples} {item.GRANULARITY.name}"
        f" named patient ID {patient} with a date of birth that did not match, from one or more "
        "pharmacies. Each pharmacy is limited on its own; the patient is not blocked. Find out "
        "which pharmacies asked (the decisions list) and whether this is an attack.",
        key=f"{ALERT_KIND}:{today().isoformat()}:{patient}:user:",
        link="/dashboard",
    )
    return notify_each(session, {User.__table__.c.role == Role.ADMIN.value: message},
                       kind=ALERT_KIND)  # fmt: skip
