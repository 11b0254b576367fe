"""`flask rems demo`: idempotent demo data, with every demo account's sign-in printed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.common.clock import today
from rems.common.transactions import writing
from rems.demo.accounts import DEMO_PASSWORD, ensure_demo_users
from rems.demo.gate import ensure_demo_gate
from rems.demo.parties import ensure_demo_parties
from rems.demo.patients import ensure_demo_patients
from rems.extensions import db


@click.command("demo")
@with_appcontext
def demo():
    """Load demo data (safe to run again: existing records are left as they are)."""
    with writing():
        report = ensure_demo_users(db.session)
        parties = ensure_demo_parties(db.session, today())
        patients = ensure_demo_patients(db.session, today())
        patients += ensure_demo_gate(db.session, today())
        db.session.commit()
    click.echo("Demo accounts (password for all: " + DEMO_PASSWORD + "):")
    for username, role, created in report:
        click.echo(f"  {username:<16} {role:<24} {'created' if created else 'already there'}")
    click.echo("Demo prescribers and sites:")
    for line in parties:
        click.echo(f"  {line}")
    click.echo("Demo patients:")
    for line in patients:
        click.echo(f"  {line}")
