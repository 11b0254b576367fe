"""`flask rems demo`: idempotent demo data, dated from the app's today, with every demo account
and the current state of everything printed; `--reset` starts over from an empty database."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.demo import status
from rems.demo.accounts import DEMO_PASSWORD, ensure_demo_users
from rems.demo.gate import ensure_demo_gate
from rems.demo.jobs import run_daily_jobs
from rems.demo.monitoring import ensure_demo_monitoring
from rems.demo.parties import ensure_demo_parties
from rems.demo.patients import ensure_demo_patients
from rems.extensions import db

TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


@click.command("demo")
@click.option(
    "--reset",
    is_flag=True,
    help="Drop every table (all data, the audit trail included) and rebuild the database from "
    "the migrations before loading the demo.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before --reset.")
@with_appcontext
def demo(reset: bool, yes: bool):
    """Load demo data (safe to run again: existing records are left as they are)."""
    if reset:
        _start_over(yes)
    before = {user.username for user in status.demo_accounts(db.session)}
    with writing():
        ensure_demo_users(db.session)
        ensure_demo_parties(db.session, program_today())
        notes = ensure_demo_patients(db.session, program_today())
        notes += ensure_demo_gate(db.session, program_today())
        notes += ensure_demo_monitoring(db.session, program_today())
        db.session.commit()
    with writing():
        jobs = run_daily_jobs(db.session, program_today())
        db.session.commit()
    made_now = {user.username for user in status.demo_accounts(db.session)} - before
    _print_state(made_now, notes)
    click.echo(jobs)


def _start_over(yes: bool) -> None:
    """Drop every table and rebuild the schema with the migrations (SQLite and PostgreSQL)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    shown = url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Delete ALL data in {shown} and start over?", abort=True)
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        _drop_sqlite_tables(url.database)
    else:
        downgrade(revision="base")  # the migrations drop what they made, functions included
    upgrade()
    db.engine.dispose()
    click.echo(f"Emptied {shown} and rebuilt it from the migrations.")


def _drop_sqlite_tables(path: str) -> None:
    """Every table of the SQLite file, in one transaction; foreign keys are not checked on the
    way (the rows go with their tables), triggers and indexes go with their tables."""
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("PRAGMA foreign_keys=OFF")
        names = [row[0] for row in raw.execute(TABLES)]
        raw.execute("BEGIN IMMEDIATE")
        for name in names:
            raw.execute(f'DROP TABLE "{name}"')
        raw.execute("COMMIT")


def _print_state(made_now: set[str], notes: list[str]) -> None:
    """Every demo account and what the database holds now."""
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    _section(status.account_lines(db.session, made_now))
    click.echo("Prescribers and sites (certification today):")
    _section(status.party_lines(db.session, program_today()))
    click.echo("Patients:")
    _section(status.patient_lines(db.session))
    click.echo("Dispensing authorizations:")
    _section(status.gate_lines(db.session, program_today()))
    if notes:
        click.echo("Loaded now:")
        _section(notes)


def _section(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"  {line}")
