"""The prescriber's worklist and the dashboard's counts, read from the stored monitoring state:
due and overdue are date comparisons in SQL against today, on indexed columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.monitoring.models import MonitoringStatus
from rems.patients.models import Patient
from rems.patients.queries import visible_prescriber_ids

Status = MonitoringStatus


@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One patient on the worklist with the tests that need a result, most overdue first."""

    patient: Patient
    overdue: list[Status]
    due: list[Status]


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


def _open_today(user: User, today: date, test: str | None):
    """Conditions: the user's patients' tests whose earliest unresolved item is due or overdue."""
    conditions = [Status.next_window_start <= today]
    allowed = visible_prescriber_ids(user)
    if allowed is not None:
        conditions.append(Status.prescriber_id.in_(allowed))
    if test:
        conditions.append(Status.test_code == test)
    return conditions


def worklist_page(
    session: Session, user: User, today: date, *, test: str | None, page: int, per_page: int
) -> WorklistPage:
    """The user's patients with a due or overdue item, the longest overdue first."""
    conditions = _open_today(user, today, test)
    worst = sa.func.min(Status.overdue_after).label("worst")
    ranked = (
        sa.select(Status.patient_id, worst)
        .where(*conditions)
        .group_by(Status.patient_id)
        .order_by(worst, Status.patient_id)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(ranked.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    ids = [row.patient_id for row in session.execute(
        ranked.limit(per_page).offset((page - 1) * per_page))]  # fmt: skip
    return WorklistPage(_rows(session, ids, conditions, today), total, page, pages, per_page)


def _rows(session: Session, ids: list[int], conditions, today: date) -> list[WorklistRow]:
    """The page's patients with their due and overdue tests, in the page's order."""
    if not ids:
        return []
    patients = {p.id: p for p in session.scalars(sa.select(Patient).where(Patient.id.in_(ids)))}
    statuses = session.scalars(
        sa.select(Status)
        .where(Status.patient_id.in_(ids), *conditions)
        .order_by(Status.overdue_after, Status.test_code)
    )
    rows = {patient_id: WorklistRow(patients[patient_id], [], []) for patient_id in ids}
    for status in statuses:
        row = rows[status.patient_id]
        (row.overdue if status.overdue_after < today else row.due).append(status)
    return [rows[patient_id] for patient_id in ids]


def worklist_counts(session: Session, user: User, today: date) -> dict[str, int]:
    """How many of the user's patients have an overdue item, and an item due (not overdue)."""
    conditions = _open_today(user, today, None)
    waiting = session.scalar(
        sa.select(sa.func.count(sa.distinct(Status.patient_id))).where(*conditions)
    )
    overdue = session.scalar(
        sa.select(sa.func.count(sa.distinct(Status.patient_id))).where(
            *conditions, Status.overdue_after < today
        )
    )
    return {"overdue": overdue, "due": waiting - overdue, "total": waiting}
