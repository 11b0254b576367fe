"""`flask rems summarise-reports`: the daily job that brings the aggregate reports' summaries
up to the last closed day and takes the monitoring-compliance, patient-statuses and
acknowledgment-coverage snapshots."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.reports.queries import dialect_of
from rems.reports.summarise import (
    DAILY,
    days_to_refresh,
    last_closed_day,
    refresh_day,
    take_coverage_snapshot,
    take_snapshot,
    take_status_snapshot,
)


@click.command("summarise-reports")
@with_appcontext
def summarise_reports():
    """Summarise every closed day not summarised yet or changed since (one short transaction
    a day), then replace the monitoring-compliance, patient-statuses and acknowledgment-coverage
    snapshots.
    Idempotent."""
    session, dialect = db.session, dialect_of(db.session)
    last = last_closed_day(utcnow())
    for daily in DAILY:
        started, rows = time.perf_counter(), 0
        days = days_to_refresh(session, daily, last)
        session.rollback()
        with click.progressbar(days, label=f"{daily.report} (days)") as bar:
            for day in bar:
                with writing():
                    rows += refresh_day(session, daily, day, dialect)
                    session.commit()
        seconds = time.perf_counter() - started
        click.echo(f"{daily.report}: summarised {len(days)} day(s) up to {last}, "
                   f"{rows} row(s), in {seconds:.1f} s.")  # fmt: skip
    _snapshot("monitoring-compliance:", take_snapshot, dialect)
    _snapshot("patient-statuses:", take_status_snapshot, dialect)
    _snapshot("acknowledgments: coverage", take_coverage_snapshot, dialect)


def _snapshot(label: str, take, dialect: str) -> None:
    """One snapshot in one transaction, with no statement limit (it reads every patient)."""
    started = time.perf_counter()
    with writing():
        if dialect == "postgresql":
            db.session.execute(sa.text("SET LOCAL statement_timeout = 0"))
        rows = take(db.session, program_today())
        db.session.commit()
    seconds = time.perf_counter() - started
    click.echo(f"{label} snapshot of {rows} row(s) in {seconds:.1f} s.")
