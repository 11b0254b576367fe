"""Extending a patient's monitoring past its end ("or longer if clinically indicated"), by the
prescriber of record with a reason. Callers commit."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.monitoring import rules
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.queries import schedule_facts
from rems.monitoring.services import refresh_patient
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber


def current_end(session: Session, patient: Patient) -> date | None:
    """The patient's last day of monitoring today (extensions included; None: no dose)."""
    return rules.facts_end(schedule_facts(session, patient))


def extend_monitoring(
    session: Session, patient: Patient, actor: User, *, ends_on: date | None, reason: str,
    today: date,
) -> MonitoringExtension:  # fmt: skip
    """Move the patient's last day of monitoring to `ends_on` (later than today's end)."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    if actor.role != Role.PRESCRIBER or prescriber.user_id != actor.id:
        raise StateConflict("Only the prescriber of record extends a patient's monitoring.")
    if patient.status == PatientStatus.CLOSED:
        raise StateConflict("A closed record's monitoring cannot be extended.")
    end = current_end(session, patient)
    errors = Collector()
    if end is None:
        errors.add("ends_on", "The patient has no dose on record: there is no monitoring yet.")
    elif ends_on is None:
        errors.add("ends_on", "Give the new last day of monitoring (YYYY-MM-DD).")
    elif ends_on <= end:
        errors.add("ends_on", f"The new end must be later than the present end, "
                              f"{end.isoformat()}.")  # fmt: skip
    if not (reason or "").strip():
        errors.add("reason", "Give the clinical reason for the extension.")
    errors.raise_if_any()
    extension = MonitoringExtension(
        patient_id=patient.id, ends_on=ends_on, previous_ends_on=end, reason=reason.strip(),
        extended_at=utcnow(), extended_by_id=actor.id,
    )  # fmt: skip
    session.add(extension)
    session.flush()
    record_event(session, "monitoring.extended", actor=actor, entity=patient,
                 old={"ends_on": end.isoformat()}, new={"ends_on": ends_on.isoformat()},
                 reason=reason.strip())  # fmt: skip
    refresh_patient(session, patient.id, today=today)
    return extension
