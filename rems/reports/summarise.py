"""Refreshing the daily summaries (`flask rems summarise-reports`), and marking a closed day
stale when a write lands in it.

Each closed program day of each daily report is summarised in a short transaction of its own:
its old summary rows go, the day's counts from the records come in, and the day is marked
summarised. A day is summarised again when a `report_summary_stale` row names it: every flush
that adds, changes or removes a decision, an infusion or a deviation of a closed day adds one in
the same transaction. The stale rows a refresh clears are those it read *before* counting, so a
write that commits while the day is being counted leaves its mark for the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from rems.authorizations.models import AuthorizationDecision
from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.common.programday import day_of
from rems.db import UTCDateTime
from rems.infusions.models import Infusion, InfusionDeviation
from rems.reports.clinical import infusion_counts
from rems.reports.enrollments import COVERAGE, coverage_rows
from rems.reports.gate import decision_counts, denial_counts
from rems.reports.monitoring import SNAPSHOT, compliance_rows
from rems.reports.sqlfn import within
from rems.reports.statuses import SNAPSHOT as STATUSES
from rems.reports.statuses import status_rows
from rems.reports.summary_models import (
    ComplianceSnapshot,
    CoverageSnapshot,
    GateDecisionDay,
    GateDenialDay,
    InfusionDay,
    ReportSummaryDay,
    ReportSummaryStale,
    StatusSnapshot,
)

#: A day is closed this long after its midnight, so a write made just before midnight has
#: committed before the day is counted.
SETTLE = timedelta(minutes=10)
AD = AuthorizationDecision


@dataclass(frozen=True)
class Daily:
    """A report summarised per day: its table and the day's rows from the records."""

    report: str
    model: type
    rows: Callable[[Session, date, str], list[dict]]
    first_day: Callable[[Session], date | None]


def _decision_rows(session: Session, day: date, dialect: str) -> list[dict]:
    statement = decision_counts(dialect, within(AD.decided_at, day, day))
    rows = session.execute(statement).mappings()
    return [{k: row[k] for k in ("requests", "authorized", "denied")}
            | {"pharmacy_site_id": row["site_id"]} for row in rows]  # fmt: skip


def _denial_rows(session: Session, day: date, dialect: str) -> list[dict]:
    by = AD.pharmacy_site_id.label("pharmacy_site_id")
    statement = denial_counts(dialect, within(AD.decided_at, day, day), by)
    return [dict(row) for row in session.execute(statement).mappings()]


def _infusion_rows(session: Session, day: date, dialect: str) -> list[dict]:
    statement = infusion_counts(dialect, Infusion.administered_on == day)
    return [dict(row) for row in session.execute(statement).mappings()]


def _first_decision(session: Session) -> date | None:
    first = session.scalar(sa.select(sa.func.min(AD.decided_at)))
    return day_of(first) if first is not None else None


def _first_infusion(session: Session) -> date | None:
    return session.scalar(sa.select(sa.func.min(Infusion.administered_on)))


DAILY = (
    Daily("gate-decisions", GateDecisionDay, _decision_rows, _first_decision),
    Daily("gate-denials", GateDenialDay, _denial_rows, _first_decision),
    Daily("infusions", InfusionDay, _infusion_rows, _first_infusion),
)


def last_closed_day(now: datetime) -> date:
    """The last program day over (by `SETTLE`) at `now`."""
    return day_of(now - SETTLE) - timedelta(days=1)


def days_to_refresh(session: Session, daily: Daily, last: date) -> list[date]:
    """Closed days not summarised yet, and summarised days marked stale since."""
    first = daily.first_day(session)
    if first is None or first > last:
        return []
    done = set(session.scalars(sa.select(ReportSummaryDay.day).where(
        ReportSummaryDay.report == daily.report, ReportSummaryDay.day <= last,
    )))  # fmt: skip
    stale = set(session.scalars(sa.select(ReportSummaryStale.day).where(
        ReportSummaryStale.report == daily.report, ReportSummaryStale.day <= last,
    )))  # fmt: skip
    every = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return sorted({day for day in every if day not in done} | stale)


def refresh_day(session: Session, daily: Daily, day: date, dialect: str) -> int:
    """Summarise one day of one report again (the caller commits); its row count."""
    stale = list(session.scalars(sa.select(ReportSummaryStale.id).where(
        ReportSummaryStale.report == daily.report, ReportSummaryStale.day == day,
    )))  # fmt: skip
    rows = daily.rows(session, day, dialect)
    session.execute(sa.delete(daily.model).where(daily.model.day == day))
    if rows:
        session.execute(sa.insert(daily.model), [row | {"day": day} for row in rows])
    session.execute(sa.delete(ReportSummaryDay).where(
        ReportSummaryDay.report == daily.report, ReportSummaryDay.day == day,
    ))  # fmt: skip
    session.add(ReportSummaryDay(report=daily.report, day=day, refreshed_at=utcnow()))
    if stale:
        session.execute(sa.delete(ReportSummaryStale).where(ReportSummaryStale.id.in_(stale)))
    return len(rows)


def take_snapshot(session: Session, today: date) -> int:
    """Replace the monitoring-compliance snapshot with one taken now (the caller commits)."""
    columns = ["prescriber_id", "test_code", "patient_state", "patients", "overdue",
               "satisfied", "waived"]  # fmt: skip
    return _replace_snapshot(
        session, ComplianceSnapshot, SNAPSHOT, today, columns, [compliance_rows(today)]
    )


def take_status_snapshot(session: Session, today: date) -> int:
    """Replace the patient-statuses snapshot with one taken now (the caller commits)."""
    columns = ["prescriber_id", "patient_state", "patients", "due", "overdue", "signed"]
    return _replace_snapshot(
        session, StatusSnapshot, STATUSES, today, columns, [status_rows(today)]
    )


def take_coverage_snapshot(session: Session, today: date) -> int:
    """Replace the acknowledgment-coverage snapshot with one taken now (the caller commits)."""
    columns = ["document_version_id", "prescriber_id", "planned_site_id", "patient_state",
               "patients"]  # fmt: skip
    return _replace_snapshot(session, CoverageSnapshot, COVERAGE, today, columns, coverage_rows())


def _replace_snapshot(session: Session, model, report: str, today: date, columns: list[str],
                      sources) -> int:  # fmt: skip
    """Empty a snapshot table, fill it from `sources` (selects of `columns`) stamped with one
    time, mark the report's snapshot as taken today; how many rows it holds."""
    now = utcnow()
    moment = sa.literal(now, UTCDateTime())
    session.execute(sa.delete(model))
    for rows in sources:
        session.execute(
            sa.insert(model).from_select([*columns, "taken_at"], rows.add_columns(moment))
        )
    session.execute(sa.delete(ReportSummaryDay).where(ReportSummaryDay.report == report))
    session.add(ReportSummaryDay(report=report, day=today, refreshed_at=now))
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _touched(session: Session, obj) -> set[tuple[str, date]]:
    """The (report, day) pairs whose counts a pending change of `obj` alters."""
    if isinstance(obj, AuthorizationDecision):
        days = _values(obj, "decided_at")
        return {(r, day_of(d)) for d in days for r in ("gate-decisions", "gate-denials")}
    if isinstance(obj, Infusion):
        return {("infusions", d) for d in _values(obj, "administered_on")}
    if isinstance(obj, InfusionDeviation) and obj.infusion_id is not None:
        with session.no_autoflush:
            infusion = session.get(Infusion, obj.infusion_id)
        return {("infusions", infusion.administered_on)} if infusion is not None else set()
    return set()


def _values(obj, name: str) -> set:
    """The attribute's value now and any it had before this flush."""
    history = sa.inspect(obj).attrs[name].history
    return {v for v in chain(history.added, history.unchanged, history.deleted) if v is not None}


def _mark_stale(session: Session, flush_context, instances) -> None:
    """Before a flush: a closed day whose records change is stale, in the same transaction."""
    changed = chain(session.new, session.deleted,
                    (o for o in session.dirty if session.is_modified(o)))  # fmt: skip
    kinds = (AuthorizationDecision, Infusion, InfusionDeviation)
    pairs: set[tuple[str, date]] = set()
    for obj in changed:
        if isinstance(obj, kinds):
            pairs |= _touched(session, obj)
    if not pairs:
        return
    today, now = program_today(), utcnow()
    for report, day in sorted(pairs):
        if day < today:
            session.add(ReportSummaryStale(report=report, day=day, marked_at=now))


def install() -> None:
    """Mark stale days on every session's flush (once per process)."""
    if not event.contains(Session, "before_flush", _mark_stale):
        event.listen(Session, "before_flush", _mark_stale)
