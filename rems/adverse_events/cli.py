"""`flask rems adverse-event-clock`: the daily notice of serious events overdue to the safety
team."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.adverse_events.clock import notify_overdue
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db


@click.command("adverse-event-clock")
@with_appcontext
def adverse_event_clock():
    """Queue a message to each administrator for each serious adverse event past its
    reporting day (once per event and administrator)."""
    with writing():
        queued = notify_overdue(db.session, program_today())
        db.session.commit()
    click.echo(f"Queued {queued} message(s) about serious adverse events overdue.")
