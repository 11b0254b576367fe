"""`flask rems notify-expiring-certifications`: the daily job that tells prescribers and sites
their certification ends in 60, 30 or 7 days (once each), through the notifications outbox."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.certification.notices import notify_expiring
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db


@click.command("notify-expiring-certifications")
@with_appcontext
def notify_expiring_certifications():
    """Queue notices of certifications ending in 60, 30 or 7 days (daily job, idempotent)."""
    with writing():
        queued = notify_expiring(db.session, program_today())
        db.session.commit()
    click.echo(f"Queued {queued} notice(s) of certifications ending in 60, 30 or 7 days.")
