"""Running a report: one page of rows for the screen, or every row, streamed, for a file."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy.orm import Session

from rems.reports.framework import Filters, Report, capped_count_of, ordered

#: Rows fetched from the database at a time while streaming an export.
BATCH = 2000


@dataclass(frozen=True)
class ReportPage:
    """One page of a report's rows, with what the pager needs."""

    items: list[dict[str, Any]]
    total: int  # exact up to the count's cap
    page: int
    per_page: int
    capped: bool = False  # there are more rows than `total`: the pager offers `total`'s pages

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
        return (self.page - 1) * self.per_page + len(self.items) if self.items else 0

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
    session: Session, report: Report, filters: Filters, page: int, per_page: int, cap: int
) -> ReportPage:
    """One page of the report, sorted as asked; a page past the end shows the last one.

    Rows are counted up to `cap` only (a report of millions of rows would count them all for
    every page): beyond it the pager says "more than `cap`" and offers the pages up to the cap.
    A page that is not full needs no count at all: its rows end the report (a summary of a few
    rows, grouped over the whole table, is then aggregated once, not twice)."""
    statement = ordered(report, filters, dialect_of(session))
    page = max(1, min(page, math.ceil(cap / per_page)))
    rows = _rows(session, statement, page, per_page)
    if 0 < len(rows) < per_page or (page == 1 and not rows):
        return ReportPage(rows, (page - 1) * per_page + len(rows), page, per_page)
    counting = statement if report.counted is None else report.counted(filters, dialect_of(session))
    counted = session.scalar(capped_count_of(counting, cap)) or 0
    total, capped = min(counted, cap), counted > cap
    last = max(1, math.ceil(total / per_page))
    if page > last:  # past the end: the last page
        page, rows = last, _rows(session, statement, last, per_page)
    return ReportPage(rows, total, page, per_page, capped)


def _rows(session: Session, statement, page: int, per_page: int) -> list[dict[str, Any]]:
    """The rows of page `page`."""
    paged = statement.limit(per_page).offset((page - 1) * per_page)
    return [dict(row) for row in session.execute(paged).mappings()]


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
