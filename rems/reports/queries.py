"""Running a report: one page of rows for the screen, or every row, streamed, for a file."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from rems.reports.framework import Filters, Report, count_of, ordered

#: Rows fetched from the database at a time while streaming an export.
BATCH = 2000


@dataclass(frozen=True)
class ReportPage:
    """One page of a report's rows, with what the pager needs."""

    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first(self) -> int:
        """The number of the first row shown."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        """The number of the last row shown."""
        return min(self.total, self.page * self.per_page)

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


def dialect_of(session: Session) -> str:
    """The database's dialect name (sqlite or postgresql)."""
    return session.get_bind().dialect.name


def report_page(
    session: Session, report: Report, filters: Filters, page: int, per_page: int
) -> ReportPage:
    """One page of the report, sorted as asked; a page past the end shows the last one."""
    dialect = dialect_of(session)
    statement = ordered(report, filters, dialect)
    total = session.scalar(count_of(statement)) or 0
    page = max(1, min(page, math.ceil(total / per_page) or 1))
    rows = session.execute(statement.limit(per_page).offset((page - 1) * per_page)).mappings()
    return ReportPage([dict(row) for row in rows], total, page, per_page)


def all_rows(session: Session, report: Report, filters: Filters) -> Iterator[dict[str, Any]]:
    """Every row of the report, fetched in batches (a server-side cursor on PostgreSQL), so
    memory does not grow with the number of rows."""
    statement = ordered(report, filters, dialect_of(session))
    result = session.execute(statement.execution_options(yield_per=BATCH))
    for row in result.mappings():
        yield dict(row)


def row_batches(
    session: Session, report: Report, filters: Filters
) -> Iterator[Sequence[Sequence[Any]]]:
    """Every row of the report as a tuple of its columns' values (in `report.columns` order),
    BATCH rows at a time: a Core result through a server-side cursor on PostgreSQL, no dict
    and no ORM object per row, so an export's memory stays flat and its rows cheap."""
    statement = ordered(report, filters, dialect_of(session))
    result = session.connection().execute(statement.execution_options(yield_per=BATCH))
    pick = _picker(list(result.keys()), [c.key for c in report.columns])
    for batch in result.partitions():
        yield batch if pick is None else list(map(pick, batch))


def _picker(keys: list[str], wanted: list[str]):
    """None when the rows already hold the wanted columns in order; else a function from a row
    to the tuple of the wanted values (None for a column the query does not select)."""
    if keys == wanted:
        return None
    where = [keys.index(key) if key in keys else None for key in wanted]
    if None in where or len(where) < 2:
        return lambda row: tuple(None if i is None else row[i] for i in where)
    return itemgetter(*where)
