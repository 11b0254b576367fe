"""Who must act on a denial, and telling them through the outbox in the decision's own
transaction (one statement, only for denials someone else must act on).

- The prescriber's reasons (not certified, not of record, patient not enrolled, guide not
  acknowledged, course not authorized) go to the prescriber the request concerns: the matched
  patient's prescriber of record, else the prescriber named by NPI. One message per patient
  (or, unmatched, per pharmacy) and set of reasons a day, however often the pharmacy retries.
- A receiving site that is not certified hears of it (its staff), once a day per set of reasons.
- A pharmacy asking while not certified is the program's: every administrator hears of it.
- The pharmacy's own reasons (patient not found, doses exceeded) are its to act on: it has the
  answer already, and its dashboard and history list it.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.authorizations.facts import Refs
from rems.notifications.services import SUBJECT_MAX, Message, notify_each

KIND = "gate.denial"
#: Who acts on each reason code, as the decision row records it (`acting`).
ACTING = {
    "PHARMACY_NOT_CERTIFIED": "program",
    "SITE_NOT_CERTIFIED": "receiving_site",
    "PRESCRIBER_NOT_CERTIFIED": "prescriber",
    "PRESCRIBER_NOT_OF_RECORD": "prescriber",
    "PATIENT_NOT_FOUND": "pharmacy",
    "PATIENT_NOT_ENROLLED": "prescriber",
    "GUIDE_NOT_ACKNOWLEDGED": "prescriber",
    "COURSE_NOT_AUTHORIZED": "prescriber",
    "DOSES_EXCEEDED": "pharmacy",
}
ORDER = ("prescriber", "receiving_site", "pharmacy", "program")


def acting(reasons: list[dict]) -> str | None:
    """The parties who must act on these reasons, space-separated (None: nobody, a grant)."""
    parties = {ACTING.get(reason["code"], "pharmacy") for reason in reasons}
    return " ".join(party for party in ORDER if party in parties) or None


def queue_denial_notices(
    session: Session, decision_id: str, reasons: list[dict], refs: Refs, pharmacy_id, day: date
) -> int:
    """Tell each party who must act (see the module); how many messages were queued."""
    user = User.__table__
    messages: dict[sa.ColumnElement, Message] = {}
    mine = _falling_to(reasons)
    if mine.get("prescriber") and refs.prescriber_user_id is not None:
        messages[user.c.id == refs.prescriber_user_id] = _to_prescriber(
            decision_id, mine["prescriber"], refs, pharmacy_id, day
        )
    if mine.get("receiving_site") and refs.site_id is not None:
        staff = sa.and_(user.c.role == Role.SITE_STAFF.value, user.c.site_id == refs.site_id)
        messages[staff] = _to_site(mine["receiving_site"], refs, day)
    if mine.get("program"):
        messages[user.c.role == Role.ADMIN.value] = _to_program(
            decision_id, mine["program"], refs, pharmacy_id, day
        )
    return notify_each(session, messages, kind=KIND)


def _falling_to(reasons: list[dict]) -> dict[str, list[dict]]:
    """The reasons grouped by who acts."""
    grouped: dict[str, list[dict]] = {}
    for reason in reasons:
        grouped.setdefault(ACTING.get(reason["code"], "pharmacy"), []).append(reason)
    return grouped


def _codes(reasons: list[dict]) -> str:
    return "+".join(sorted(reason["code"] for reason in reasons))


def _listed(reasons: list[dict]) -> str:
    return "\n".join(f"- {reason['code']}: {reason['message']}" for reason in reasons)


def _subject(text: str) -> str:
    return " ".join(text.split())[:SUBJECT_MAX]


def _to_prescriber(decision_id, reasons, refs: Refs, pharmacy_id, day: date) -> Message:
    """The prescriber: what falls to them, for the matched patient (by REMS ID only)."""
    pharmacy = refs.pharmacy_name or "A pharmacy"
    if refs.patient_rems_id:
        about, fact = f"patient {refs.patient_rems_id}", f"patient:{refs.patient_rems_id}"
        link, whose = f"/patients/{refs.patient_rems_id}", f"your patient {refs.patient_rems_id}"
    else:
        about, fact, link = "a patient", f"pharmacy:{pharmacy_id}", "/dashboard"
        whose = "a patient, naming you as prescriber,"
    return Message(
        subject=_subject(f"LEMTRADA dispensing refused for {about}: action needed"),
        body=f"{pharmacy} asked on {day.isoformat()} to dispense LEMTRADA for {whose} and "
        f"was refused (decision {decision_id}). What falls to you:\n"
        f"{_listed(reasons)}\n\nOnce this is put right, the pharmacy can ask again.",
        key=f"gate-denial:{day.isoformat()}:prescriber:{fact}:{_codes(reasons)}:user:",
        link=link,
    )


def _to_site(reasons, refs: Refs, day: date) -> Message:
    """The receiving site's staff: a pharmacy named them, but they may not receive it."""
    pharmacy = refs.pharmacy_name or "A pharmacy"
    return Message(
        subject=_subject("LEMTRADA could not be sent to your site: it is not certified"),
        body=f"{pharmacy} asked on {day.isoformat()} to dispense LEMTRADA to be infused at "
        f"{refs.site_name or 'your site'}, and was refused:\n{_listed(reasons)}\n\n"
        "Your authorized representative renews the site's certification or contacts the REMS "
        "program.",
        key=f"gate-denial:{day.isoformat()}:receiving:{refs.site_id}:{_codes(reasons)}:user:",
        link="/dashboard",
    )


def _to_program(decision_id, reasons, refs: Refs, pharmacy_id, day: date) -> Message:
    """Administrators: a pharmacy that may not dispense asked to."""
    pharmacy = refs.pharmacy_name or "A site"
    return Message(
        subject=_subject(f"{pharmacy} asked to dispense LEMTRADA but may not"),
        body=f"{pharmacy} asked on {day.isoformat()} to dispense LEMTRADA and was refused "
        f"(decision {decision_id}):\n{_listed(reasons)}",
        key=f"gate-denial:{day.isoformat()}:program:{pharmacy_id}:{_codes(reasons)}:user:",
        link=f"/authorizations/decisions/{decision_id}",
    )
