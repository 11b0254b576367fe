"""Raising alerts with the result that fires them (same transaction), acknowledging them with an
action note, escalating the unacknowledged ones to the administrators. Every write is audited;
callers commit."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.alerts.models import LabAlert
from rems.alerts.rules import course_start, fires
from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.monitoring.models import LabResult, ResultValue
from rems.monitoring.queries import dose_dates_for
from rems.notifications.services import notify
from rems.patients.models import Patient
from rems.prescribers.delegates import delegates_of
from rems.prescribers.models import Prescriber
from rems.program.analytes import BASELINE_TIMES

NOTE_LIMIT = 2000


def _coded():
    return current_app.extensions["rems_program"].coded


def raise_alerts(session: Session, values: list[tuple[LabResult, ResultValue]]) -> list[LabAlert]:
    """Every alert the stored values fire, each audited and told to the patient's prescriber
    and delegates (outbox) at once."""
    coded = _coded()
    raised = []
    for result, stored in values:
        for rule in (r for r in coded.alert_rules if r.analyte == stored.analyte):
            analyte = coded.analyte(stored.analyte)
            baseline = _baseline(session, result, stored) if rule.when == BASELINE_TIMES else None
            compared = fires(rule, analyte, stored.value, baseline)
            if compared is not None:
                raised.append(_raise(session, result, stored, rule, compared))
    return raised


def _baseline(session: Session, result: LabResult, stored: ResultValue) -> float | None:
    """The patient's baseline of the analyte: its last value collected on or before the first
    dose of the course under way when the result was collected."""
    doses = dose_dates_for(session, [result.patient_id])[result.patient_id]
    start = course_start(doses, result.collected_on)
    if start is None:
        return None
    return session.scalar(
        sa.select(ResultValue.value)
        .join(LabResult, LabResult.id == ResultValue.result_id)
        .where(LabResult.patient_id == result.patient_id, ResultValue.analyte == stored.analyte)
        .where(LabResult.collected_on <= start, ResultValue.id != stored.id)
        .order_by(LabResult.collected_on.desc(), LabResult.id.desc())
        .limit(1)
    )


def _raise(session: Session, result: LabResult, stored: ResultValue, rule, compared: str):
    patient = session.get(Patient, result.patient_id)
    alert = LabAlert(
        patient_id=patient.id, prescriber_id=patient.prescriber_id, result_id=result.id,
        result_value_id=stored.id, rule=rule.code, label=rule.label[:300],
        analyte=stored.analyte, value=stored.value, unit=stored.unit, compared_with=compared,
        raised_at=utcnow(),
    )  # fmt: skip
    session.add(alert)
    session.flush()
    new = {
        "rule": rule.code, "value": stored.value, "unit": stored.unit, "compared": compared,
        "patient_id": patient.rems_id, "collected_on": result.collected_on.isoformat(),
    }  # fmt: skip
    record_event(session, "alert.raised", actor=None, actor_label="system", entity=alert, new=new)
    body = (
        f"Patient {patient.rems_id}: {rule.label}. {_shown(alert)} ({compared}), collected "
        f"{result.collected_on.isoformat()}. Acknowledge it with the action taken from your "
        'dashboard\'s "Needs attention" panel.'
    )
    for user in _team(session, patient):
        notify(
            session, user, kind="alert.raised", subject=f"Alert: {rule.label} ({patient.rems_id})",
            body=body, key=f"alert:{alert.id}:user:{user.id}", link=f"/alerts/{alert.id}",
        )  # fmt: skip
    return alert


def _shown(alert: LabAlert) -> str:
    return f"{alert.analyte.replace('_', ' ').capitalize()} {alert.value:g} {alert.unit}"


def _team(session: Session, patient: Patient) -> list[User]:
    """The patient's prescriber of record and their current delegates (active accounts)."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    users = [session.get(User, prescriber.user_id)] if prescriber.user_id else []
    users += [user for _, user in delegates_of(session, prescriber)]
    return [user for user in users if user is not None and user.active]


def acknowledge_alert(session: Session, alert: LabAlert, actor: User, *, note: str) -> None:
    """The prescriber or a delegate acknowledges the alert with the action taken (audited).
    The caller has checked that the patient is the actor's (else a 404)."""
    if actor.role not in (Role.PRESCRIBER, Role.DELEGATE):
        raise StateConflict("Only the prescriber of record or a delegate acknowledges alerts.")
    text = (note or "").strip()
    if not text:
        raise ValidationFailed.single("action_note", "Say what was done about this result.")
    if len(text) > NOTE_LIMIT or "\x00" in text:
        raise ValidationFailed.single("action_note", f"Use at most {NOTE_LIMIT} characters.")
    if alert.acknowledged_at is not None:
        raise StateConflict("This alert was already acknowledged.")
    alert.acknowledged_at, alert.acknowledged_by_id, alert.action_note = utcnow(), actor.id, text
    record_event(
        session, "alert.acknowledged", actor=actor, entity=alert,
        old={"acknowledged": False}, new={"acknowledged": True}, reason=text,
    )  # fmt: skip


def escalate_alerts(session: Session, now: datetime) -> int:
    """Tell the administrators of each alert still not acknowledged `escalate_after_days`
    after it was raised (once per alert). Returns how many alerts escalated."""
    cutoff = now - timedelta(days=_coded().escalate_after_days)
    due = session.scalars(
        sa.select(LabAlert)
        .where(LabAlert.acknowledged_at.is_(None), LabAlert.escalated_at.is_(None))
        .where(LabAlert.raised_at <= cutoff)
        .order_by(LabAlert.id)
    ).all()
    admins = session.scalars(sa.select(User).where(User.role == Role.ADMIN, User.active)).all()
    for alert in due:
        patient = session.get(Patient, alert.patient_id)
        alert.escalated_at = now
        record_event(
            session, "alert.escalated", actor=None, actor_label="system", entity=alert,
            old={"escalated": False}, new={"escalated": True},
        )  # fmt: skip
        days = _coded().escalate_after_days
        body = (
            f"Patient {patient.rems_id}: {alert.label}. {_shown(alert)} ({alert.compared_with}), "
            f"raised {alert.raised_at:%Y-%m-%d}, not acknowledged by the prescriber or a "
            f"delegate within {days} day(s)."
        )
        for admin in admins:
            notify(
                session, admin, kind="alert.escalated",
                subject=f"Alert not acknowledged: {alert.label} ({patient.rems_id})", body=body,
                key=f"alert-escalated:{alert.id}:user:{admin.id}", link=f"/alerts/{alert.id}",
            )  # fmt: skip
    return len(due)
