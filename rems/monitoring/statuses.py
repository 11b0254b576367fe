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
from rems.monitoring.queries import of_patients
from rems.monitoring.tally import ranges_text, tally
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
            of_patients(PatientStatusReport.patient_id, patient_ids),
            PatientStatusReport.signature_id.is_not(None),
        )
    )
    for patient_id, period in rows:
        found[patient_id].add(period)
    return found


#: The columns of `patient_status_due` that state_columns computes (everything but the key).
STATUS_COLUMNS = ("prescriber_id", "anchor_on", "ends_on", "next_period", "next_due_on",
                  "overdue_after", "open_periods", "signed", "periods_total")  # fmt: skip


def refresh_statuses(session: Session, patients: list, facts: dict, ids: list[int]) -> set[int]:
    """Keep each patient's `patient_status_due` row what the facts say; the ids of the
    patients whose row changed. Compared as plain rows; only a row that differs is loaded."""
    test = status_test()
    signed = signed_periods(session, ids)
    columns = [getattr(PatientStatusDue, name) for name in STATUS_COLUMNS]
    stored = {patient_id: tuple(values) for patient_id, *values in session.execute(
        sa.select(PatientStatusDue.patient_id, *columns)
        .where(of_patients(PatientStatusDue.patient_id, ids)))}  # fmt: skip
    changed: set[int] = set()
    for patient in patients:
        wanted = state_columns(patient.prescriber_id, facts[patient.id], signed[patient.id], test)
        if stored.get(patient.id) != (None if wanted is None else tuple(wanted.values())):
            _store_status(session, patient.id, wanted)
            changed.add(patient.id)
    return changed


def _store_status(session: Session, patient_id: int, wanted: dict | None) -> None:
    """Make the patient's status row what was computed (none before the first dose)."""
    row = session.get(PatientStatusDue, patient_id)
    if wanted is None:
        session.delete(row)
    elif row is None:
        session.add(PatientStatusDue(patient_id=patient_id, **wanted))
    else:
        for name, value in wanted.items():
            setattr(row, name, value)


def state_columns(
    prescriber_id, facts: rules.ScheduleFacts, signed: set[int], test: rules.MonitoredTest
) -> dict | None:
    """The status row's columns from the facts and the signed periods (None: no dose)."""
    if not facts.doses:
        return None
    anchor = min(facts.doses)
    counted = tally(test, anchor, rules.facts_end(facts), facts, signed, periods=True)
    return {
        "prescriber_id": prescriber_id, "anchor_on": anchor,
        "ends_on": rules.facts_end(facts), "next_period": counted.next_k,
        "next_due_on": counted.next_due_on, "overdue_after": counted.overdue_after,
        "open_periods": ranges_text(counted.open_ks),
        "signed": counted.satisfied, "periods_total": counted.total,
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
