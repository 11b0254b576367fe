"""Building the daily digests. A prescriber's digest is the worklist's "due within the digest's
days" list (rems.monitoring.worklist: the same conditions, so the same patients and numbers),
grouped by patient: name, REMS ID, what is overdue, what falls due this week, and a link to the
patient's page. It is queued only when it tells of something new (an item in a state no digest
told of yet), with the dedupe key of the prescriber and the day; the items it tells of are
remembered in the same transaction, so a re-run the same day sends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import groupby

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.monitoring import rules
from rems.monitoring.followup_models import PatientStatusDue
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.statuses import STATUS_CODE, STATUS_NAME, status_test
from rems.monitoring.worklist import conditions, open_items_placed
from rems.notifications.services import notify
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reminders.models import MonitoringReminder

REMINDED = (rules.ItemState.DUE_SOON, rules.ItemState.DUE, rules.ItemState.OVERDUE)
#: A patient's items of one test and state named one by one up to this many (else one line).
ITEMS_BY_NUMBER = 3


@dataclass(slots=True)
class Reminder:
    """One item to tell a prescriber of."""

    patient_id: int
    rems_id: str
    name: str
    item: rules.Item
    #: Whether an earlier digest already told of the item in this state.
    told: bool = False

    @property
    def key(self) -> tuple:
        """What makes it the same reminder."""
        return (self.patient_id, self.item.test_code, self.item.k, self.item.state.value)

    @property
    def overdue(self) -> bool:
        return self.item.state == rules.ItemState.OVERDUE


@dataclass(slots=True)
class Counts:
    """What a digest counts (rems.reminders.digest): items per test and state, patients."""

    #: test code → [overdue, due, due soon]
    by_test: dict[str, list[int]] = field(default_factory=dict)
    patients: int = 0
    overdue_patients: int = 0

    @property
    def items(self) -> int:
        return sum(sum(counts) for counts in self.by_test.values())


def _program():
    return current_app.extensions["rems_program"]


def prescribers_to_remind(session: Session, today: date) -> list[int]:
    """The prescribers with something for a digest today (an open record with an item overdue
    or falling due within the digest's days), in id order: one small read, so the digests can
    be built prescriber by prescriber and memory holds one prescriber's items at a time."""
    days = str(_program().monitoring_states.digest_days)
    parts = [
        sa.select(table.prescriber_id.label("prescriber_id"))
        .join(Patient, Patient.id == table.patient_id)
        .where(*conditions(None, today, days, table=table))
        for table in (MonitoringStatus, PatientStatusDue)
    ]
    kept = sa.union(*parts).subquery()
    return list(session.scalars(sa.select(kept.c.prescriber_id).order_by(kept.c.prescriber_id)))


def reminders_for(
    session: Session, today: date, prescriber_id: int, patient_ids: list[int] | None = None
) -> list[Reminder]:
    """The prescriber's overdue items and those falling due within the digest's days, of
    their open records: tests and periodic statuses; only these patients' when given."""
    days = _program().monitoring_states.digest_days
    tests = {t.code: t for t in rules.monitored_tests(_program())}
    horizon = today + timedelta(days=days)
    found: list[Reminder] = []
    for table in (MonitoringStatus, PatientStatusDue):
        where = [*conditions(None, today, str(days), table=table),
                 table.prescriber_id == prescriber_id]  # fmt: skip
        if patient_ids is not None:
            where.append(table.patient_id.in_(patient_ids))
        rows = session.execute(
            sa.select(table, Patient.rems_id, Patient.first_name, Patient.last_name)
            .join(Patient, Patient.id == table.patient_id)
            .where(*where)
            .order_by(table.patient_id)
        )
        for status, rems_id, first, last in rows:
            test = tests.get(status.test_code) if table is MonitoringStatus else status_test()
            if test is None:
                continue
            for placed in open_items_placed(test, status, today, horizon):
                if placed.state in REMINDED:
                    found.append(Reminder(status.patient_id, rems_id, f"{first} {last}", placed))
    return found


def candidates(
    session: Session, today: date, prescriber_id: int | None = None
) -> Iterator[tuple[int, list[Reminder]]]:
    """(prescriber id, their reminders), prescriber by prescriber, each read when it is
    reached; or only the one prescriber's."""
    ids = [prescriber_id] if prescriber_id is not None else prescribers_to_remind(session, today)
    for one in ids:
        if found := reminders_for(session, today, one):
            yield one, found


def new_reminders(session: Session, found: list[Reminder]) -> list[Reminder]:
    """The digest to send: every item found (each marked when told before), or nothing when
    every one of them was already told of in its present state."""
    found = mark_told(session, found)
    return found if any(not r.told for r in found) else []


def mark_told(session: Session, found: list[Reminder]) -> list[Reminder]:
    """The items, each marked when an earlier digest told of it in its present state."""
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
    for r in found:
        r.told = r.key in told
    return found


def send_digest(
    session: Session, prescriber_id: int, fresh: list[Reminder], today: date,
    counts: Counts | None = None,
) -> bool:  # fmt: skip
    """Queue the prescriber's digest and remember the items it names; False when nothing was
    queued (nothing new, an inactive account, or today's digest already sent). `counts`: all
    the prescriber's items when the digest names only some patients (rems.reminders.digest)."""
    prescriber = session.get(Prescriber, prescriber_id)
    user = session.get(User, prescriber.user_id) if prescriber else None
    if not fresh or user is None or not user.active:
        return False
    overdue = len({r.patient_id for r in fresh if r.overdue})
    patients = len({r.patient_id for r in fresh})
    if counts is not None:
        overdue, patients = counts.overdue_patients, counts.patients
    message = notify(
        session, user, kind="monitoring.reminder",
        subject=f"Monitoring: {overdue:,} patient(s) overdue, {patients:,} overdue or due "
        "this week",
        body=digest_text(fresh, today, counts),
        key=f"reminders:{prescriber_id}:{today.isoformat()}",
        link="/worklist",
    )  # fmt: skip
    if message is None:
        return False
    for r in fresh:
        if not r.told:
            session.add(MonitoringReminder(
                patient_id=r.patient_id, test_code=r.item.test_code, item=r.item.k,
                due_on=r.item.due_on, state=r.item.state.value, notification_id=message.id,
                reminded_on=today,
            ))  # fmt: skip
    session.flush()
    return True


def digest_by_patient(fresh: list[Reminder]) -> list[tuple[Reminder, list, list]]:
    """(the patient's first reminder, overdue ones, due this week), patients with overdue
    items first, then by REMS ID."""
    ordered = sorted(fresh, key=lambda r: (r.rems_id, r.item.due_on, r.item.test_code))
    grouped = []
    for _, group in groupby(ordered, key=lambda r: r.rems_id):
        items = list(group)
        grouped.append((items[0], [r for r in items if r.overdue],
                        [r for r in items if not r.overdue]))  # fmt: skip
    return sorted(grouped, key=lambda g: (not g[1], g[0].rems_id))


def digest_text(fresh: list[Reminder], today: date, counts: Counts | None = None) -> str:
    """The digest's body: one block per patient named, with a link to the patient's page;
    first the counts when it names only some of the patients (`counts`)."""
    names = {t.code: t.name for t in _program().tests} | {STATUS_CODE: STATUS_NAME}
    base = (current_app.config.get("REMS_BASE_URL") or "").rstrip("/")
    lines = [f"Monitoring as of {today.isoformat()}: what is overdue, and what falls due this "
             "week.", ""]  # fmt: skip
    grouped = digest_by_patient(fresh)
    if counts is not None and counts.patients > len(grouped):
        lines += _counted(counts, names, len(grouped), base)
    for first, overdue, due in grouped:
        lines.append(f"{first.name} ({first.rems_id}) — {base}/patients/{first.rems_id}")
        lines += [f"  - overdue: {text}" for text in _items(overdue, names)]
        lines += [f"  - due this week: {text}" for text in _items(due, names)]
        lines.append("")
    lines.append("Enter the results from the worklist, or on each patient's page.")
    return "\n".join(lines)


def _counted(counts: Counts, names: dict[str, str], named: int, base: str) -> list[str]:
    """The counts' lines: patients, then items per test (in program order) and state."""
    order = {code: index for index, code in enumerate(names)}
    lines = [
        f"{counts.patients:,} of your patients have something overdue or due this week "
        f"({counts.overdue_patients:,} overdue): {counts.items:,} item(s) in all."
    ]
    for code, (overdue, due, soon) in sorted(counts.by_test.items(), key=lambda c: order[c[0]]):
        lines.append(f"  {names.get(code, code)}: {overdue:,} overdue, {due:,} due, "
                     f"{soon:,} due within the week")  # fmt: skip
    lines += [f"Below, {named:,} patient(s) the longest overdue with something no digest told "
              f"of yet; every patient is on your worklist: {base}/worklist", ""]  # fmt: skip
    return lines


def _items(reminders: list[Reminder], names: dict[str, str]) -> list[str]:
    """The lines of one patient's items in one state: each item, or when a test has more
    than `ITEMS_BY_NUMBER` of them one line for the run ("CBC with differential: 23 items,
    #1 (due 2025-01-03) to #23 (due 2026-11-03)"), so a patient far behind takes a few lines."""
    by_test: dict[str, list[Reminder]] = {}
    for r in reminders:
        by_test.setdefault(r.item.test_code, []).append(r)
    lines = []
    for r in reminders:
        mine = by_test[r.item.test_code]
        if len(mine) <= ITEMS_BY_NUMBER:
            lines.append(_item(r, names))
        elif r is mine[0]:
            name, last = names.get(r.item.test_code, r.item.test_code), mine[-1]
            lines.append(f"{name}: {len(mine)} items, #{r.item.k} (due {r.item.due_on}) to "
                         f"#{last.item.k} (due {last.item.due_on})")  # fmt: skip
    return lines


def _item(r: Reminder, names: dict[str, str]) -> str:
    """One item as the digest says it: "CBC with differential #3 (due 2026-12-01)"."""
    return f"{names.get(r.item.test_code, r.item.test_code)} #{r.item.k} (due {r.item.due_on})"
