"""One prescriber's digest in bounded memory, however many patients they have.

A national program's prescriber may have a quarter of a million patients, and a program far
behind on monitoring millions of overdue items: no one reads a message listing them, and no
job should hold them. So a digest says two things:

* **the counts**, over every item the worklist's "due within the digest's days" filter keeps:
  per test, how many items are overdue, due and due soon, and how many patients have one. They
  are read from the stored state in batches and counted from each row's open item ranges with
  each distinct schedule's due days (`tally.due_days`): the items are counted, never listed.
* **by name, the first `DIGEST_PATIENTS` (25) patients with something new** (an item in a state
  no digest told of yet), in the worklist's order (the longest overdue first), each with all
  their items as before (a test's run of more than three in one line); the rest are on the
  worklist, which the digest links to.

The items named are remembered, as before, so no digest names an item twice in the same state.
A prescriber whose patients are not all named today is named the next ones tomorrow (they
have something new); a prescriber with a few patients gets exactly the digest they always did.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.monitoring import rules
from rems.monitoring.followup_models import PatientStatusDue
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.statuses import STATUS_CODE, status_test
from rems.monitoring.tally import due_days
from rems.monitoring.worklist import conditions
from rems.patients.models import Patient
from rems.reminders.services import Counts, Reminder, mark_told, reminders_for, send_digest

#: Patients a digest names, with their items; the others are counted and on the worklist.
DIGEST_PATIENTS = 25
#: Stored rows (counts) and patients (names) read at a time.
BATCH = 2000
PAGE = 200
MAX_PAGE = 10_000


def _kept_rows(today: date, prescriber_id: int, days: int) -> sa.Select:
    """(patient id, test code, anchor, end, open ranges) of the prescriber's rows the digest
    keeps, tests' and statuses', by patient."""
    parts = []
    for table in (MonitoringStatus, PatientStatusDue):
        code = table.test_code if table is MonitoringStatus else sa.literal(STATUS_CODE)
        ranges = table.open_items if table is MonitoringStatus else table.open_periods
        parts.append(
            sa.select(table.patient_id.label("patient_id"), code.label("code"),
                      table.anchor_on, table.ends_on, ranges.label("ranges"))
            .join(Patient, Patient.id == table.patient_id)
            .where(*conditions(None, today, str(days), table=table),
                   table.prescriber_id == prescriber_id)
        )  # fmt: skip
    return sa.union_all(*parts).subquery()


def count_items(session: Session, today: date, prescriber_id: int) -> Counts:
    """The prescriber's items the digest tells of, counted per test and state, and their
    patients: one read in patient order, streamed `BATCH` rows at a time."""
    program = current_app.extensions["rems_program"]
    days = program.monitoring_states.digest_days
    tests = {t.code: t for t in rules.monitored_tests(program)} | {STATUS_CODE: status_test()}
    kept = _kept_rows(today, prescriber_id, days)
    rows = session.execute(
        sa.select(kept).order_by(kept.c.patient_id), execution_options={"yield_per": BATCH}
    )
    counts, current = Counts(), (None, False, False)
    for patient_id, code, anchor, ends_on, ranges in rows:
        if (test := tests.get(code)) is None:
            continue
        found = _count_row(test, anchor, ends_on, ranges, today, days)
        if patient_id != current[0]:
            _close(counts, current)
            current = (patient_id, False, False)
        if any(found):
            mine = counts.by_test.setdefault(code, [0, 0, 0])
            for index, number in enumerate(found):
                mine[index] += number
            current = (patient_id, True, current[2] or found[0] > 0)
    _close(counts, current)
    return counts


def _close(counts: Counts, current: tuple) -> None:
    """Count the patient just read: with something to tell, with something overdue."""
    _, told, overdue = current
    counts.patients += told
    counts.overdue_patients += overdue


def _count_row(test, anchor: date, ends_on: date, ranges: str, today: date, days: int):
    """(overdue, due, due soon) among one row's open items due by today + `days`: each a run
    of item numbers found by bisecting the schedule's due days, as `rules.state_on` places
    them (overdue after due + grace; due from the due date; due soon from due − the days)."""
    dues, day = due_days(test, anchor, ends_on), today.toordinal()
    overdue = bisect_left(dues, day - test.grace_days)  # items 1…overdue: past their grace
    due = bisect_right(dues, day)
    soon = bisect_right(dues, day + min(days, test.due_soon_days))
    return (_open_in(ranges, 0, overdue), _open_in(ranges, overdue, due),
            _open_in(ranges, due, soon))  # fmt: skip


def _open_in(ranges: str, after: int, upto: int) -> int:
    """How many open item numbers of the ranges text lie in (after, upto]."""
    found = 0
    if upto <= after:
        return 0
    for part in filter(None, (ranges or "").split(",")):
        first, _, last = part.partition("-")
        low, high = max(int(first), after + 1), min(int(last or first), upto)
        if high >= low:
            found += high - low + 1
    return found


def first_new(session: Session, today: date, prescriber_id: int) -> list[Reminder]:
    """The items of the first `DIGEST_PATIENTS` patients with something new, in the worklist's
    order, each marked when told before; their items read `PAGE` patients at a time, the ranked
    ids in pages that double up to `MAX_PAGE` (a prescriber whose first thousands of patients
    were named on earlier days is passed over in a few reads)."""
    days = current_app.extensions["rems_program"].monitoring_states.digest_days
    ranked = _ranked(today, prescriber_id, days)
    named: list[Reminder] = []
    offset, size, room = 0, PAGE, DIGEST_PATIENTS
    while room and (ids := session.scalars(ranked.limit(size).offset(offset)).all()):
        offset, size = offset + len(ids), min(size * 2, MAX_PAGE)
        for start in range(0, len(ids), PAGE):
            if room:
                room = _name_new(
                    session, today, prescriber_id, ids[start : start + PAGE], named, room
                )
    return named


def _name_new(session, today: date, prescriber_id: int, ids: list[int], named: list, room: int):
    """Add to `named` the items of these patients (in order) with something new, up to `room`
    patients; how much room is left."""
    found = mark_told(session, reminders_for(session, today, prescriber_id, ids))
    by_patient: dict[int, list[Reminder]] = {}
    for reminder in found:
        by_patient.setdefault(reminder.patient_id, []).append(reminder)
    for patient_id in ids:
        mine = by_patient.get(patient_id, [])
        if room and any(not r.told for r in mine):
            named += mine
            room -= 1
    return room


def _ranked(today: date, prescriber_id: int, days: int) -> sa.Select:
    """The prescriber's patients the digest keeps, the longest overdue first (the worklist's
    order), as patient ids."""
    parts = [
        sa.select(table.patient_id.label("patient_id"), table.overdue_after.label("after"))
        .join(Patient, Patient.id == table.patient_id)
        .where(*conditions(None, today, str(days), table=table),
               table.prescriber_id == prescriber_id)
        for table in (MonitoringStatus, PatientStatusDue)
    ]  # fmt: skip
    kept = sa.union_all(*parts).subquery()
    worst = sa.func.min(kept.c.after)
    return (
        sa.select(kept.c.patient_id).group_by(kept.c.patient_id).order_by(worst, kept.c.patient_id)
    )


def queue_digest(session: Session, today: date, prescriber_id: int) -> Counts | None:
    """Queue the prescriber's digest when something is new; what it counts, or None when
    nothing was queued."""
    named = first_new(session, today, prescriber_id)
    if not named:
        return None
    counts = count_items(session, today, prescriber_id)
    return counts if send_digest(session, prescriber_id, named, today, counts) else None
