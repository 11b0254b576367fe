"""The prescriber's worklist, the dashboard's counts and the digest's patients, read from the
stored monitoring state: one row per patient and test holds the earliest unresolved item, so
"something of this test is overdue / due / due within N days" is one date comparison in SQL on
indexed columns. Only the patients shown have their open items expanded into counts.

The filters are nested, each a horizon on the earliest open item's due date: overdue ⊂ due ⊂
due within 7 ⊂ 14 ⊂ 30 days. The digest's patients are the worklist's "due within the digest's
days" patients, so the two always give the same numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.extensions import db
from rems.monitoring import rules
from rems.monitoring.followup_models import PatientStatusDue
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.statuses import STATUS_CODE, status_test
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import visible_prescriber_ids

Status = MonitoringStatus
StatusDue = PatientStatusDue
OVERDUE, DUE = "overdue", "due"


def _program():
    return current_app.extensions["rems_program"]


def filters() -> list[tuple[str, str]]:
    """The worklist's filters as (value, label), narrowest first."""
    windows = _program().monitoring_states.worklist_windows
    return [(OVERDUE, "Overdue"), (DUE, "Due now (or overdue)")] + [
        (str(days), f"Due within {days} days") for days in windows
    ]


def default_filter() -> str:
    """What the worklist shows unless told otherwise: everything due soon, due or overdue."""
    return str(_program().monitoring_states.due_soon_days)


def horizon_condition(which: str, today: date, table=Status):
    """The stored rows a filter keeps: overdue, due by today, or due within N days."""
    if which == OVERDUE:
        return table.overdue_after < today
    if which == DUE:
        return table.next_due_on <= today
    return table.next_due_on <= today + timedelta(days=int(which))


@dataclass(slots=True)
class TestCount:
    """One test of a patient on the worklist: how many items are overdue, due, due soon."""

    code: str
    overdue: int = 0
    due: int = 0
    due_soon: int = 0
    #: The earliest open item's due date, and the day after its grace (overdue from then).
    first_due_on: date | None = None
    overdue_since: date | None = None


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One patient on the worklist with a count per test, the most overdue test first."""

    patient: Patient
    tests: list[TestCount] = field(default_factory=list)

    def total(self, state: str) -> int:
        return sum(getattr(t, state) for t in self.tests)


@dataclass(frozen=True, slots=True)
class WorklistPage:
    """One page of the worklist."""

    rows: list[WorklistRow]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def conditions(
    user: User | None, today: date, which: str, test: str | None = None, table=Status
) -> list:
    """The rows of `table` (tests' or statuses') of the user's open records (every record for
    None) that the filter keeps; a test filter keeps that test's rows, or the statuses'."""
    found = [horizon_condition(which, today, table), Patient.status != PatientStatus.CLOSED]
    allowed = visible_prescriber_ids(user) if user is not None else None
    if allowed is not None:
        # The user's prescribers as literal ids, read first: behind a subquery PostgreSQL
        # planned a scan of every patient's rows (2 s at 1,000,000 patients against 0.4 ms;
        # bench/README.md, "National volume").
        found.append(table.prescriber_id.in_(db.session.scalars(allowed).all()))
    if test and table is Status:
        found.append(Status.test_code == test if test != STATUS_CODE else sa.false())
    elif test and test != STATUS_CODE:
        found.append(sa.false())
    return found


def _kept(user: User | None, today: date, which: str, test: str | None = None) -> sa.Subquery:
    """(patient id, overdue after) of every kept row: tests' and statuses'."""
    parts = [
        sa.select(table.patient_id.label("patient_id"), table.overdue_after.label("after"))
        .join(Patient, Patient.id == table.patient_id)
        .where(*conditions(user, today, which, test, table))
        for table in (Status, StatusDue)
    ]
    return sa.union_all(*parts).subquery()


def _ranked(kept: sa.Subquery) -> sa.Select:
    """The patients kept, the longest overdue first (then the soonest due)."""
    worst = sa.func.min(kept.c.after).label("worst")
    return (
        sa.select(kept.c.patient_id, worst)
        .group_by(kept.c.patient_id)
        .order_by(worst, kept.c.patient_id)
    )


def worklist_page(
    session: Session, user: User, today: date, *, which: str | None = None,
    test: str | None = None, page: int, per_page: int,
) -> WorklistPage:  # fmt: skip
    """One page of the user's patients that the filter keeps, with counts per test."""
    which = which or default_filter()
    ranked = _ranked(_kept(user, today, which, test))
    page = max(page, 1)
    found = _ranked_page(session, ranked, page, per_page)
    if found:  # the page's patients and, beside each, how many the filter keeps in all
        total = found[0].total
    else:  # an empty list, or a page past its end: count, and show the last page
        total = session.scalar(sa.select(sa.func.count()).select_from(ranked.subquery())) or 0
        page = min(page, max(1, -(-total // per_page)))
        found = _ranked_page(session, ranked, page, per_page) if total else []
    pages = max(1, -(-total // per_page))
    rows = rows_of(session, [row.patient_id for row in found], user, today, which, test)
    return WorklistPage(rows, total, page, pages, per_page)


def _ranked_page(session: Session, ranked: sa.Select, page: int, per_page: int) -> list:
    """(patient id, total) of the page's patients: the total is a window over the kept
    patients, so the list is ranked and counted in one statement, not two."""
    counted = ranked.add_columns(sa.func.count().over().label("total"))
    return session.execute(counted.limit(per_page).offset((page - 1) * per_page)).all()


def rows_of(
    session: Session, ids: list[int], user: User | None, today: date, which: str,
    test: str | None = None,
) -> list[WorklistRow]:  # fmt: skip
    """These patients, in this order, with the counts of the tests (and the periodic status)
    the filter keeps."""
    if not ids:
        return []
    patients = {p.id: p for p in session.scalars(sa.select(Patient).where(Patient.id.in_(ids)))}
    rows = {patient_id: WorklistRow(patients[patient_id]) for patient_id in ids}
    tests = {t.code: t for t in rules.monitored_tests(_program())}
    tests[STATUS_CODE] = status_test()
    for table in (Status, StatusDue):
        found = session.scalars(
            sa.select(table)
            .join(Patient, Patient.id == table.patient_id)
            .where(table.patient_id.in_(ids), *conditions(user, today, which, test, table))
        )
        for status in found:
            code = getattr(status, "test_code", STATUS_CODE)
            if code in tests:
                rows[status.patient_id].tests.append(count_test(tests[code], status, today))
    for row in rows.values():
        row.tests.sort(key=lambda t: (t.overdue_since, t.code))
    return [rows[patient_id] for patient_id in ids]


def open_items_placed(test: rules.MonitoredTest, status, today: date, horizon: date):
    """The test's (or the statuses') open items due by `horizon`, placed on `today`."""
    ranges = status.open_items if isinstance(status, Status) else status.open_periods
    for item in rules.open_items(test, status.anchor_on, rules.parse_ranges(ranges)):
        if item.due_on > horizon:
            return
        yield rules.state_on(item, today)


def count_test(test: rules.MonitoredTest, status, today: date) -> TestCount:
    """How many of the test's open items are overdue, due and due soon today."""
    counted = TestCount(test.code, first_due_on=status.next_due_on,
                        overdue_since=status.overdue_after + timedelta(days=1))  # fmt: skip
    horizon = today + timedelta(days=test.due_soon_days)
    for item in open_items_placed(test, status, today, horizon):
        if item.state == rules.ItemState.OVERDUE:
            counted.overdue += 1
        elif item.state == rules.ItemState.DUE:
            counted.due += 1
        elif item.state == rules.ItemState.DUE_SOON:
            counted.due_soon += 1
    return counted


def patients_count(session: Session, user: User | None, today: date, which: str) -> int:
    """How many of the user's patients the filter keeps."""
    kept = _kept(user, today, which)
    return session.scalar(sa.select(sa.func.count(sa.distinct(kept.c.patient_id))))


def worklist_counts(session: Session, user: User, today: date) -> dict[str, int]:
    """The dashboard's numbers, the worklist's filters': patients with something overdue, due
    now (not overdue) and due soon (neither)."""
    overdue = patients_count(session, user, today, OVERDUE)
    due = patients_count(session, user, today, DUE)
    soon = patients_count(session, user, today, default_filter())
    return {"overdue": overdue, "due": due - overdue, "due_soon": soon - due, "total": soon}
