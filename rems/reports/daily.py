"""Reading the daily summaries: which days of a report's period come from its summary rows and
which are counted from the records themselves (today, a day not summarised yet, a day whose
records changed since). The two sets are disjoint and cover the period, so a report's figures
are the same whichever way each day is read."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from rems.extensions import db
from rems.reports.summary_models import ReportSummaryDay, ReportSummaryStale

Ranges = Sequence[tuple[date, date]]


@dataclass(frozen=True)
class Period:
    """A report period split into runs of summarised days and runs of days read live."""

    summarised: Ranges
    live: Ranges


def runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    found: list[tuple[date, date]] = []
    for day in sorted(days):
        if found and found[-1][1] + timedelta(days=1) == day:
            found[-1] = (found[-1][0], day)
        else:
            found.append((day, day))
    return found


def summarised_days(session, report: str, first: date, last: date) -> set[date]:
    """The days of first…last whose summary of `report` is complete and not stale."""
    marked = set(session.scalars(sa.select(ReportSummaryDay.day).where(
        ReportSummaryDay.report == report, ReportSummaryDay.day.between(first, last),
    )))  # fmt: skip
    if not marked:
        return marked
    stale = session.scalars(sa.select(ReportSummaryStale.day).where(
        ReportSummaryStale.report == report, ReportSummaryStale.day.between(first, last),
    ))  # fmt: skip
    return marked - set(stale)


def split_period(report: str, first: date, last: date) -> Period:
    """The period's summarised days and the rest."""
    done = summarised_days(db.session, report, first, last)
    every = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return Period(runs(done), runs(day for day in every if day not in done))


def during(ranges: Ranges, between: Callable[[date, date], sa.ColumnElement]):
    """A condition true on any of the runs (false when there is none)."""
    if not ranges:
        return sa.false()
    return sa.or_(*(between(first, last) for first, last in ranges))


def day_text(day, dialect: str):
    """A date column as YYYY-MM-DD text, as `sqlfn.day_of` gives a timestamp's day."""
    if dialect == "postgresql":
        return sa.func.to_char(day, "YYYY-MM-DD")
    return sa.func.strftime("%Y-%m-%d", day)


def total(column):
    """The sum of a count column, as an integer on both databases (PostgreSQL's sum of a
    bigint is numeric)."""
    return sa.cast(sa.func.coalesce(sa.func.sum(column), 0), sa.BigInteger)
