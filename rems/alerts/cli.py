"""`flask rems escalate-alerts`: the daily job that tells the administrators of alerts still not
acknowledged after the program's `escalate_after_days`."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.alerts.services import escalate_alerts
from rems.common.clock import utcnow
from rems.common.transactions import writing
from rems.extensions import db


@click.command("escalate-alerts")
@with_appcontext
def escalate_alerts_command():
    """Escalate every alert not acknowledged within the program's days (each once)."""
    with writing():
        count = escalate_alerts(db.session, utcnow())
        db.session.commit()
    click.echo(f"Escalated {count} alert(s) to the administrators.")
