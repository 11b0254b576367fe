"""Recording the periodic patient status: the prescriber signs it (password asked again), or a
delegate prepares it for the prescriber's signature. Audited; the patient's status row is
refreshed in the same transaction. Callers commit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.auth.signatures import sign
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.monitoring import rules
from rems.monitoring.followup_models import PatientStatusReport
from rems.monitoring.services import refresh_patient
from rems.monitoring.statuses import ANSWERS, MEANING, PREGNANCY, patient_periods
from rems.patients.models import Patient
from rems.patients.services import may_prepare_for
from rems.prescribers.models import Prescriber


def record_status(
    session: Session, patient: Patient, actor: User, *, period: Any, answers: dict[str, Any],
    password: str | None, today: date,
) -> PatientStatusReport:  # fmt: skip
    """The prescriber signs a status (password), or a delegate prepares it for their signature;
    a prescriber signing a delegate's draft signs what the form says now."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    if not may_prepare_for(session, actor, prescriber):
        raise StateConflict("Only the prescriber of record or their delegate records a status.")
    errors = Collector()
    item = _period(session, patient, period, today, errors)
    _check_answers(answers, errors)
    signing = actor.role == Role.PRESCRIBER
    if signing and not (password or ""):
        errors.add("password", "Enter your password to sign the status.")
    errors.raise_if_any()
    report = session.scalar(
        sa.select(PatientStatusReport).where(
            PatientStatusReport.patient_id == patient.id, PatientStatusReport.period == item.k
        )
    )
    if report is not None and report.signature_id is not None:
        raise StateConflict(f"The status for period {item.k} is already signed.")
    if report is None:
        report = PatientStatusReport(patient_id=patient.id, period=item.k, due_on=item.due_on)
        session.add(report)
    values = {name: bool(answers[name]) for name in ANSWERS}
    values["pregnancy_status"] = answers["pregnancy_status"]
    note = (answers.get("note") or "").strip() or None
    for name, value in {**values, "note": note}.items():
        setattr(report, name, value)
    report.prepared_at, report.prepared_by_id = utcnow(), actor.id
    content = {"patient": patient.rems_id, "period": item.k, "due_on": item.due_on.isoformat(),
               **values, "note": note}  # fmt: skip
    if signing:
        signature = sign(session, actor, password=password, meaning=MEANING, content=content)
        report.signature_id, report.signed_at, report.signed_by_id = (
            signature.id, utcnow(), actor.id)  # fmt: skip
    session.flush()
    action = "patient_status.signed" if signing else "patient_status.prepared"
    record_event(session, action, actor=actor, entity=patient, new=content)
    refresh_patient(session, patient.id, today=today)
    return report


def _period(session: Session, patient: Patient, period: Any, today: date, errors: Collector):
    """The open period the status is for; errors name `period` when there is none yet."""
    try:
        number = int(period)
    except (TypeError, ValueError):
        errors.add("period", "Choose the period the status is for.")
        return None
    states = current_app.extensions["rems_program"].monitoring_states
    for item in patient_periods(session, patient, today):
        if item.k != number:
            continue
        if item.state in (rules.ItemState.CLOSED,):
            errors.add("period", f"Period {number} is closed: monitoring ended before it.")
            return None
        if item.state == rules.ItemState.UPCOMING:
            opens = item.due_on - timedelta(days=states.due_soon_days)
            errors.add("period", f"Period {number} is not yet due: it falls due on "
                                 f"{item.due_on.isoformat()} and may be signed from "
                                 f"{opens.isoformat()}.")  # fmt: skip
            return None
        return item
    errors.add("period", f"Period {number} is not one of this patient's status periods.")
    return None


def _check_answers(answers: dict[str, Any], errors: Collector) -> None:
    """Each question answered (yes or no), and a known pregnancy status."""
    for name in ANSWERS:
        if answers.get(name) not in (True, False):
            errors.add(name, "Answer yes or no.")
    if answers.get("pregnancy_status") not in PREGNANCY:
        errors.add("pregnancy_status", f"Choose one of: {', '.join(PREGNANCY)}.")
