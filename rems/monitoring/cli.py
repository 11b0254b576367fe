"""`flask rems rebuild-monitoring`: recompute every patient's stored monitoring state."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.queries import IdSpan
from rems.monitoring.services import rebuild_counted
from rems.patients.models import Patient

#: Patients read, checked and committed together: memory holds one batch, whatever the total.
BATCH = 1000
#: How often (in patients) the command says how far it has got, on stderr.
PROGRESS_EVERY = 10_000


@click.command("rebuild-monitoring")
@click.option("--progress-every", type=click.IntRange(min=1), default=PROGRESS_EVERY,
              show_default=True, help="Say how far it has got every so many patients.")  # fmt: skip
@with_appcontext
def rebuild_monitoring(progress_every: int):
    """Recompute every patient's monitoring state from doses, results, waivers and closings,
    and report how many stored states were wrong and are now corrected."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Patient))
    db.session.rollback()
    checked = corrected = filled = 0
    for chunk in _batches(min(BATCH, progress_every)):
        with writing():
            changed, only_filled = rebuild_counted(db.session, chunk, today=program_today())
            db.session.commit()
        corrected, filled = corrected + changed - only_filled, filled + only_filled
        db.session.expunge_all()
        before, checked = checked, checked + len(chunk)
        if checked // progress_every > before // progress_every and checked < total:
            click.echo(f"... {checked:,} of {total:,} patients, corrected {corrected:,}", err=True)
    click.echo(
        f"Checked {checked} patient(s); corrected the stored monitoring state of {corrected}; "
        f"filled the item states not yet computed of {filled}."
    )


def _batches(size: int):
    """Every patient's id, in id order, `size` at a time: one short read per batch."""
    last = 0
    while ids := db.session.scalars(
        sa.select(Patient.id).where(Patient.id > last).order_by(Patient.id).limit(size)
    ).all():
        db.session.rollback()
        yield IdSpan(ids)  # every patient from the first id to the last: queried as a range
        last = ids[-1]
