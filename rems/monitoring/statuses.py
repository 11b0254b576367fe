"""The periodic patient status (program file `monitoring_states.status_every_months`): for each
monitored patient, every so many months from the first dose until monitoring ends, the
prescriber signs a status: results reviewed, new autoimmune or malignant events, pregnancy
status, still under care. A delegate may prepare it; it counts once the prescriber signs
(password asked again, as every signature). A period may be signed from the day it is due soon
(its due date − the program's `due_soon_days`); it is due on its date and overdue after the
program's grace. Where each patient stands is kept in `patient_status_due`, refreshed with
the monitoring state in the same transaction, so worklist and digest read it with dates."""

from __future__ import annotations

from dataclasses import replace
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
from rems.monitoring.followup_models import PatientStatusDue, PatientStatusReport
from rems.patients.models import Patient
from rems.patients.services import may_prepare_for
from rems.prescribers.models import Prescriber

STATUS_CODE = "patient_status"
STATUS_NAME = "Periodic patient status"
PREGNANCY = ("not_applicable", "not_pregnant", "pregnant", "unknown")
ANSWERS = ("results_reviewed", "new_autoimmune_event", "new_malignancy", "still_under_care")
MEANING = "I attest to this periodic status of my patient."


def status_test() -> rules.MonitoredTest:
    """The periodic status as the schedule sees a test: its interval, grace and due soon."""
    states = current_app.extensions["rems_program"].monitoring_states
    return rules.MonitoredTest(STATUS_CODE, states.status_every_months,
                               states.status_grace_days, states.due_soon_days)  # fmt: skip


def periods(
    facts: rules.ScheduleFacts, signed: set[int], test: rules.MonitoredTest | None = None
) -> list[rules.Item]:
    """Every status period with what does not depend on the day: signed (satisfied) or closed."""
    if not facts.doses:
        return []
    found = []
    for item in rules.items_of_test(
        test or status_test(), min(facts.doses), rules.facts_end(facts)
    ):
        if rules.closed_by(item, facts):
            item = replace(item, state=rules.ItemState.CLOSED)
        elif item.k in signed:
            item = replace(item, state=rules.ItemState.SATISFIED)
        found.append(item)
    return found


def signed_periods(session: Session, patient_ids: list[int]) -> dict[int, set[int]]:
    """The signed periods of these patients, by patient id."""
    found: dict[int, set[int]] = {pid: set() for pid in patient_ids}
    rows = session.execute(
        sa.select(PatientStatusReport.patient_id, PatientStatusReport.period).where(
            PatientStatusReport.patient_id.in_(patient_ids),
            PatientStatusReport.signature_id.is_not(None),
        )
    )
    for patient_id, period in rows:
        found[patient_id].add(period)
    return found


def refresh_statuses(session: Session, patients: list[Patient], facts: dict) -> set[int]:
    """Keep each patient's `patient_status_due` row what the facts say; the ids of the
    patients whose row changed."""
    ids = [p.id for p in patients]
    signed = signed_periods(session, ids)
    existing = {row.patient_id: row for row in session.scalars(
        sa.select(PatientStatusDue).where(PatientStatusDue.patient_id.in_(ids)))}  # fmt: skip
    changed: set[int] = set()
    for patient in patients:
        row, wanted = existing.get(patient.id), _wanted(patient, facts[patient.id], signed)
        if wanted is None:
            if row is not None:
                session.delete(row)
                changed.add(patient.id)
        elif row is None:
            session.add(PatientStatusDue(patient_id=patient.id, **wanted))
            changed.add(patient.id)
        elif any(getattr(row, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(row, name, value)
            changed.add(patient.id)
    return changed


def _wanted(patient: Patient, facts: rules.ScheduleFacts, signed: dict) -> dict | None:
    """The stored columns of the patient's status row (None before the first dose)."""
    return state_columns(patient.prescriber_id, facts, signed[patient.id], status_test())


def state_columns(
    prescriber_id, facts: rules.ScheduleFacts, signed: set[int], test: rules.MonitoredTest
) -> dict | None:
    """The status row's columns from the facts and the signed periods (None: no dose)."""
    if not facts.doses:
        return None
    items = periods(facts, signed, test)
    unresolved = [i for i in items if i.state is None]
    first = unresolved[0] if unresolved else None
    return {
        "prescriber_id": prescriber_id, "anchor_on": min(facts.doses),
        "ends_on": rules.facts_end(facts), "next_period": first.k if first else None,
        "next_due_on": first.due_on if first else None,
        "overdue_after": first.window_end if first else None,
        "open_periods": rules.format_ranges(i.k for i in unresolved),
        "signed": sum(1 for i in items if i.state == rules.ItemState.SATISFIED),
        "periods_total": len(items),
    }  # fmt: skip


def open_periods(status: PatientStatusDue, today: date, horizon: date) -> list[rules.Item]:
    """The unsigned periods due by `horizon`, placed on `today` (oldest first)."""
    test, found = status_test(), []
    for item in rules.open_items(test, status.anchor_on, rules.parse_ranges(status.open_periods)):
        if item.due_on > horizon:
            break
        found.append(rules.state_on(item, today))
    return found


def patient_periods(session: Session, patient: Patient, today: date) -> list[rules.Item]:
    """The patient's periods with their state today (from the facts)."""
    from rems.monitoring.queries import schedule_facts

    signed = signed_periods(session, [patient.id])[patient.id]
    return [rules.state_on(i, today) for i in periods(schedule_facts(session, patient), signed)]


def reports_of(session: Session, patient_id: int) -> list[PatientStatusReport]:
    """The patient's statuses, signed or waiting, by period."""
    statement = sa.select(PatientStatusReport).where(PatientStatusReport.patient_id == patient_id)
    return list(session.scalars(statement.order_by(PatientStatusReport.period)))


def record_status(
    session: Session, patient: Patient, actor: User, *, period: Any, answers: dict[str, Any],
    password: str | None, today: date,
) -> PatientStatusReport:  # fmt: skip
    """The prescriber signs a status (password), or a delegate prepares it for their signature;
    a prescriber signing a delegate's draft signs what the form says now."""
    from rems.monitoring.services import refresh_patient

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
