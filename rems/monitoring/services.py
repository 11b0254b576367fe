"""Keeping each patient's stored monitoring state current, and waivers. Callers commit.

What is stored, and why: one `monitoring_status` row per patient and monitored test (six per
treated patient, not the ~180 items of a 48-month schedule). It holds the earliest unresolved
item's due date, window start and last day (`overdue_after`) as indexed columns, and every
unresolved item number as ranges. Worklists, dashboard counts and the gate only ever ask "is
anything of this test due or overdue, and since when?", which the earliest unresolved item
answers: every later item is due later. So due → overdue is a date comparison in SQL at read
time (`overdue_after < today`, `next_window_start <= today`): no nightly rewrite, and no
loop over patients. A single patient's exact counts expand that patient's own ranges.

The rows change only when the facts do: a dose, a result or its amendment, a waiver, a
closing or a transfer; each of those services calls `refresh_patient` in its transaction.
`rebuild` recomputes every patient from the facts and reports what it corrected.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.auth.signatures import sign
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.monitoring import rules
from rems.monitoring.models import MonitoringStatus, MonitoringWaiver
from rems.monitoring.queries import of_patients, schedule_facts, schedule_facts_for
from rems.monitoring.statuses import refresh_statuses
from rems.monitoring.tally import ranges_text, states_text, tally
from rems.patients.models import Patient

#: The columns refresh_patient computes (everything but the key).
STATE_COLUMNS = (
    "prescriber_id", "anchor_on", "ends_on", "next_k", "next_due_on", "next_window_start",
    "overdue_after", "open_items", "satisfied", "waived", "closed", "items_total", "item_states",
)  # fmt: skip
WAIVER_MEANING = "I waive this monitoring item for the reason given."


def refresh_patient(session: Session, patient_id: int, *, today: date) -> bool:
    """Recompute the patient's stored monitoring state from the facts, in the caller's
    transaction; True when anything changed. The stored state does not depend on `today`
    (due and overdue are read against the date); it is taken for the callers' symmetry."""
    return refresh_patients(session, [patient_id], today=today) > 0


def refresh_patients(session: Session, patient_ids: list[int], *, today: date) -> int:
    """refresh_patient for several patients, their facts read together; how many changed.
    What is stored is read as plain rows and compared; only the patients whose rows differ
    are loaded as objects and written (a consistent world writes nothing)."""
    return len(_refresh(session, patient_ids)[0])


def _refresh(session: Session, patient_ids: list[int]) -> tuple[set[int], set[int]]:
    """refresh_patients: (the patients whose stored state changed, those of them whose only
    difference was an `item_states` not computed yet, NULL: rows written before 0030)."""
    if not patient_ids:
        return set(), set()
    patients = session.execute(
        sa.select(Patient.id, Patient.prescriber_id, Patient.closed_on, Patient.close_reason)
        .where(of_patients(Patient.id, patient_ids))
    ).all()  # fmt: skip
    facts = schedule_facts_for(session, patients, patient_ids)
    changed = refresh_statuses(session, patients, facts, patient_ids)  # whose status row changed
    existing = _stored(session, patient_ids)
    differ = [(p.id, wanted) for p in patients
              if existing[p.id] != _values(wanted := computed_state(p, facts[p.id]))]  # fmt: skip
    filled = {pid for pid, wanted in differ if _only_unstated(existing[pid], _values(wanted))}
    if differ:
        rows: dict[int, dict[str, MonitoringStatus]] = {pid: {} for pid, _ in differ}
        for row in session.scalars(sa.select(MonitoringStatus).where(
                MonitoringStatus.patient_id.in_(list(rows)))):  # fmt: skip
            rows[row.patient_id][row.test_code] = row
        for patient_id, wanted in differ:
            if _store_state(session, patient_id, rows[patient_id], wanted):
                changed.add(patient_id)
    if changed:
        session.flush()
    return changed, filled & changed


def _only_unstated(stored: dict[str, tuple], wanted: dict[str, tuple]) -> bool:
    """Whether the stored rows are the wanted ones but for item_states still NULL in some."""
    if stored.keys() != wanted.keys():
        return False
    # item_states is the last of STATE_COLUMNS, so the last of each row's values
    return all(stored[code] in (row, (*row[:-1], None)) for code, row in wanted.items())


def _values(state: dict[str, dict[str, Any]]) -> dict[str, tuple]:
    """computed_state's columns as tuples, in STATE_COLUMNS' order (as _stored gives them)."""
    return {code: tuple(columns.values()) for code, columns in state.items()}


def _stored(session: Session, patient_ids: list[int]) -> dict[int, dict[str, tuple]]:
    """The stored columns of each patient's tests, in STATE_COLUMNS' order."""
    found: dict[int, dict[str, tuple]] = {pid: {} for pid in patient_ids}
    columns = [getattr(MonitoringStatus, name) for name in STATE_COLUMNS]
    rows = session.execute(
        sa.select(MonitoringStatus.patient_id, MonitoringStatus.test_code, *columns).where(
            of_patients(MonitoringStatus.patient_id, patient_ids)
        )
    )
    for patient_id, code, *values in rows:
        found[patient_id][code] = tuple(values)
    return found


def _store_state(session, patient_id: int, existing: dict, wanted: dict) -> bool:
    """Make the patient's stored rows what was computed; whether anything changed."""
    changed = False
    for code, row in existing.items():
        if code not in wanted:
            session.delete(row)
            changed = True
    for code, values in wanted.items():
        row = existing.get(code)
        if row is None:
            session.add(MonitoringStatus(patient_id=patient_id, test_code=code, **values))
            changed = True
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed = True
    return changed


def computed_state(patient: Patient, facts: rules.ScheduleFacts) -> dict[str, dict[str, Any]]:
    """The stored columns of each monitored test, by test code (none before the first dose)."""
    if not facts.doses:
        return {}
    anchor = min(facts.doses)
    ends_on = rules.facts_end(facts)
    state: dict[str, dict[str, Any]] = {}
    for test in facts.tests:
        counted = tally(test, anchor, ends_on, facts)
        state[test.code] = {
            "prescriber_id": patient.prescriber_id, "anchor_on": anchor, "ends_on": ends_on,
            "next_k": counted.next_k, "next_due_on": counted.next_due_on,
            "next_window_start": counted.next_window_start,
            "overdue_after": counted.overdue_after,
            "open_items": ranges_text(counted.open_ks),
            "satisfied": counted.satisfied, "waived": counted.waived,
            "closed": counted.closed, "items_total": counted.total,
            "item_states": states_text(counted.states),
        }  # fmt: skip
    return state


def rebuild(session: Session, patient_ids: list[int], *, today: date) -> int:
    """Recompute these patients' state from the facts; how many were wrong and are corrected.
    The caller commits (the CLI does so every few hundred patients)."""
    return rebuild_counted(session, patient_ids, today=today)[0]


def rebuild_counted(session: Session, patient_ids: list[int], *, today: date) -> tuple[int, int]:
    """rebuild, and of the patients corrected how many only had their `item_states` filled
    (rows stored before they were kept: not wrong, just not computed yet)."""
    changed, filled = _refresh(session, patient_ids)
    return len(changed), len(filled)


def waive_item(
    session: Session, patient: Patient, actor: User, *, test_code: str, due_on: date | None,
    reason: str, password: str, today: date,
) -> MonitoringWaiver:  # fmt: skip
    """An administrator waives one unresolved item, with a reason and their e-signature."""
    if actor.role != Role.ADMIN:
        raise StateConflict("Only a program administrator waives monitoring items.")
    errors = Collector()
    if not (reason or "").strip():
        errors.add("reason", "Give the reason for the waiver.")
    item = _open_item(session, patient, test_code, due_on, today)
    # Read after the schedule: a waiver the schedule saw (even one committed a moment ago by
    # another administrator) is found here too, and named.
    if item is None and due_on and (earlier := _waiver_of(session, patient, test_code, due_on)):
        raise StateConflict(_already_waived(session, earlier))
    if item is None:
        errors.add("item", "Choose an item that is not yet satisfied, waived or closed.")
    errors.raise_if_any()
    content = {"patient": patient.rems_id, "test": test_code, "due_on": due_on.isoformat(),
               "reason": reason.strip()}  # fmt: skip
    signature = sign(session, actor, password=password, meaning=WAIVER_MEANING, content=content)
    waiver = MonitoringWaiver(
        patient_id=patient.id, test_code=test_code, due_on=due_on, reason=reason.strip(),
        waived_at=utcnow(), waived_by_id=actor.id, signature_id=signature.id,
    )  # fmt: skip
    try:
        with session.begin_nested():  # the item's uniqueness: one waiver, whoever came first
            session.add(waiver)
    except sa.exc.IntegrityError:
        if (earlier := _waiver_of(session, patient, test_code, due_on)) is None:
            raise
        raise StateConflict(_already_waived(session, earlier)) from None
    record_event(session, "monitoring.item_waived", actor=actor, entity=waiver,
                 new={**content, "item": item.k}, reason=reason.strip())  # fmt: skip
    refresh_patient(session, patient.id, today=today)
    return waiver


def _waiver_of(session, patient: Patient, test_code: str, due_on: date):
    """The waiver already on file for this item, if any."""
    return session.scalar(
        sa.select(MonitoringWaiver).where(
            MonitoringWaiver.patient_id == patient.id,
            MonitoringWaiver.test_code == test_code,
            MonitoringWaiver.due_on == due_on,
        )
    )


def _already_waived(session, waiver: MonitoringWaiver) -> str:
    """Who waived the item, and when: what an administrator who came second is told."""
    by = session.get(User, waiver.waived_by_id)
    return (
        f"This item was already waived by {by.full_name} ({by.username}) on "
        f"{waiver.waived_at:%Y-%m-%d at %H:%M} UTC; nothing more was recorded."
    )


def _open_item(session, patient: Patient, test_code: str, due_on: date | None, today: date):
    """The patient's unresolved item of that test due on that day, if there is one."""
    for item in rules.schedule(schedule_facts(session, patient), today):
        if item.test_code == test_code and item.due_on == due_on:
            return None if item.state in rules.RESOLVED else item
    return None
