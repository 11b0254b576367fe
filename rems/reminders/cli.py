"""`flask rems send-reminders`: the daily monitoring digests, mailed when a relay is set."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.reminders.digest import queue_digest
from rems.reminders.services import prescribers_to_remind

#: How often (in prescribers) the command says how far it has got.
PROGRESS_EVERY = 200
#: ... or whenever the digests since the last line counted this many patients.
PATIENTS_EVERY = 10_000


@click.command("send-reminders")
@with_appcontext
def send_reminders():
    """Queue one digest per prescriber of the monitoring items that became due or overdue
    (never an item twice in the same state), then mail the outbox if MAIL_SERVER is set."""
    day = program_today()
    prescribers = prescribers_to_remind(db.session, day)
    db.session.rollback()
    digests = items = patients = said = 0
    # One prescriber per transaction (a failure keeps the digests already queued); memory
    # holds the patients a digest names and the counts, whatever the prescriber's patients.
    for done, prescriber_id in enumerate(prescribers, start=1):
        with writing():
            counts = queue_digest(db.session, day, prescriber_id)
            if counts is not None:
                digests, items = digests + 1, items + counts.items
                patients += counts.patients
            db.session.commit()
        if done < len(prescribers) and (
            done % PROGRESS_EVERY == 0 or patients - said >= PATIENTS_EVERY
        ):
            said = patients
            click.echo(f"... {done:,} of {len(prescribers):,} prescribers, "
                       f"{patients:,} patients in their digests", err=True)  # fmt: skip
    click.echo(f"Queued {digests} digest(s) telling of {items} item(s).")
    _deliver()


def _deliver() -> None:
    """Mail what the outbox holds, or say that it waits there."""
    from rems.notifications.delivery import deliver_queued

    if not current_app.config.get("MAIL_SERVER"):
        click.echo("No MAIL_SERVER configured: the digests wait in the outbox.")
        return
    with writing():
        try:
            sent, failed = deliver_queued(db.session, current_app.config, now=utcnow())
        except OSError as failure:
            raise click.ClickException(f"the mail relay could not be reached: {failure}") from None
    click.echo(f"Sent {sent} message(s); {failed} failed and will be tried again.")
