"""Building the daily digests. Candidates come from the stored monitoring state with one
indexed date comparison (`next_window_start <= today`: something of that test is due or
overdue); only those patients' open items are expanded. Each prescriber's digest is queued
with the dedupe key of the prescriber and the day, and the items it tells of are remembered
in the same transaction, so neither a re-run nor a later day repeats an item in a state."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from itertools import groupby

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.monitoring import rules
from rems.monitoring.models import MonitoringStatus
from rems.notifications.services import notify
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.reminders.models import MonitoringReminder

REMINDED = (rules.ItemState.DUE, rules.ItemState.OVERDUE)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One item to tell a prescriber of."""

    patient_id: int
    rems_id: str
    item: rules.Item

    @property
    def key(self) -> tuple:
        """What makes it the same reminder."""
        return (self.patient_id, self.item.test_code, self.item.k, self.item.state.value)


def candidates(session: Session, today: date) -> Iterator[tuple[int, list[Reminder]]]:
    """(prescriber id, every due or overdue item of their patients), prescriber by prescriber."""
    tests = {t.code: t for t in rules.monitored_tests(current_app.extensions["rems_program"])}
    rows = session.execute(
        sa.select(MonitoringStatus, Patient.rems_id)
        .join(Patient, Patient.id == MonitoringStatus.patient_id)
        .where(MonitoringStatus.next_window_start <= today, Patient.status != PatientStatus.CLOSED)
        .order_by(MonitoringStatus.prescriber_id, MonitoringStatus.patient_id)
    )
    for prescriber_id, group in groupby(rows, key=lambda row: row[0].prescriber_id):
        found = []
        for status, rems_id in group:
            test = tests.get(status.test_code)
            if test is None:
                continue
            ks = rules.parse_ranges(status.open_items)
            for item in rules.open_items(test, status.anchor_on, ks):
                placed = rules.state_on(item, today)
                if placed.state in REMINDED:
                    found.append(Reminder(status.patient_id, rems_id, placed))
        yield prescriber_id, found


def new_reminders(session: Session, found: list[Reminder]) -> list[Reminder]:
    """Those of the items no digest told of yet in their present state."""
    patient_ids = sorted({r.patient_id for r in found})
    told = set()
    for start in range(0, len(patient_ids), 500):
        told |= set(
            session.execute(
                sa.select(
                    MonitoringReminder.patient_id, MonitoringReminder.test_code,
                    MonitoringReminder.item, MonitoringReminder.state,
                ).where(MonitoringReminder.patient_id.in_(patient_ids[start : start + 500]))
            ).all()
        )  # fmt: skip
    return [r for r in found if r.key not in told]


def send_digest(session: Session, prescriber_id: int, fresh: list[Reminder], today: date) -> bool:
    """Queue the prescriber's digest and remember its items; False when nothing was queued
    (nothing new, an inactive account, or today's digest already sent)."""
    prescriber = session.get(Prescriber, prescriber_id)
    user = session.get(User, prescriber.user_id) if prescriber else None
    if not fresh or user is None or not user.active:
        return False
    overdue = sum(1 for r in fresh if r.item.state == rules.ItemState.OVERDUE)
    message = notify(
        session, user, kind="monitoring.reminder",
        subject=f"Monitoring: {overdue} item(s) overdue, {len(fresh) - overdue} due",
        body=digest_text(fresh, today), key=f"reminders:{prescriber_id}:{today.isoformat()}",
        link="/dashboard",
    )  # fmt: skip
    if message is None:
        return False
    for r in fresh:
        session.add(MonitoringReminder(
            patient_id=r.patient_id, test_code=r.item.test_code, item=r.item.k,
            due_on=r.item.due_on, state=r.item.state.value, notification_id=message.id,
            reminded_on=today,
        ))  # fmt: skip
    session.flush()
    return True


def digest_text(fresh: list[Reminder], today: date) -> str:
    """The digest's body: one line per patient and test, overdue first (REMS IDs, no names)."""
    program = current_app.extensions["rems_program"]
    lines = [f"Monitoring items that became due or overdue, as of {today.isoformat()}:", ""]
    ordered = sorted(fresh, key=lambda r: (r.item.state != rules.ItemState.OVERDUE, r.rems_id))
    for (state, rems_id, code), group in groupby(
        ordered, key=lambda r: (r.item.state, r.rems_id, r.item.test_code)
    ):
        items = list(group)
        name = program.test(code).name
        dues = ", ".join(r.item.due_on.isoformat() for r in items)
        lines.append(f"- {rems_id}: {name}: {state.value} (due {dues})")
    lines += ["", "Enter the results, or see the patients on your dashboard."]
    return "\n".join(lines)
