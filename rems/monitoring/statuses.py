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
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.monitoring import rules
from rems.monitoring.followup_models import PatientStatusDue, PatientStatusReport
from rems.patients.models import Patient

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
