"""Onboarding a historic patient: "monitoring done elsewhere until <date>". The monitoring
items due on or before that day that no result here satisfies are waived, all of them under
the one signed reason of the import (not one signature per item), and the 12-month interval
between prior courses is checked (a shorter one is stored as the chart shows it, flagged,
and told to the prescriber of record). Callers commit."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.common.clock import utcnow
from rems.monitoring import rules
from rems.monitoring.models import MonitoringWaiver
from rems.monitoring.queries import schedule_facts
from rems.monitoring.services import refresh_patient
from rems.notifications.services import notify
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.program.model import add_months

COLUMN = "monitoring_elsewhere_until"
REASON_MAX = 2000


def interval_warning(previous_last: date | None, first: date, number: int) -> str | None:
    """Why course `number` starting on `first` breaks the program's interval (None: it does
    not), from the previous course's last dose."""
    if previous_last is None:
        return None
    months = current_app.extensions["rems_program"].dosing.min_months_between_courses
    earliest = add_months(previous_last, months)
    if first >= earliest:
        return None
    return (
        f"Course {number} began on {first}, less than {months} months after the previous "
        f"course's last dose ({previous_last}; the program allows it from {earliest}). It is "
        "stored as the source shows it, flagged for the prescriber of record."
    )


def reason_problem(reason: str, needed: bool) -> str | None:
    """The one reason the waivers are signed with: required when a date is given."""
    text = reason.strip()
    if needed and not text:
        return "Give the reason monitoring was done elsewhere (it is signed with the import)."
    if len(text) > REASON_MAX:
        return f"Use at most {REASON_MAX} characters."
    return None


def waive_before(
    session: Session, patient: Patient, actor: User, *, until: date, reason: str,
    signature_id: int, today: date,
) -> int:  # fmt: skip
    """Waive each of the patient's open items due on or before `until`, under the batch's
    signature and reason; one audit event for the patient. How many items were waived."""
    items = [
        item
        for item in rules.schedule(schedule_facts(session, patient), today)
        if item.due_on <= until and item.state not in rules.RESOLVED
    ]
    for item in items:
        session.add(MonitoringWaiver(
            patient_id=patient.id, test_code=item.test_code, due_on=item.due_on,
            reason=reason.strip(), waived_at=utcnow(), waived_by_id=actor.id,
            signature_id=signature_id,
        ))  # fmt: skip
    session.flush()
    record_event(
        session, "monitoring.waived_elsewhere", actor=actor, entity=patient,
        new={"until": until, "items": [f"{i.test_code} {i.due_on}" for i in items],
             "count": len(items), "signature_id": signature_id},
        reason=reason.strip(),
    )  # fmt: skip
    refresh_patient(session, patient.id, today=today)
    return len(items)


def tell_prescriber(session: Session, patient: Patient, warnings: list[str]) -> None:
    """The prescriber of record hears of the imported courses that broke the interval."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    doctor = session.get(User, prescriber.user_id) if prescriber else None
    if doctor is None or not doctor.active:
        return
    notify(
        session, doctor, kind="prior_treatment.interval_short",
        subject=f"Imported prior treatment of patient {patient.rems_id}: interval under the "
        "program's",
        body=" ".join(warnings),
        link=f"/patients/{patient.rems_id}",
    )  # fmt: skip
