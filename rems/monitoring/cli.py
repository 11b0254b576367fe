"""`flask rems rebuild-monitoring`: recompute every patient's stored monitoring state."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.services import rebuild
from rems.patients.models import Patient

BATCH = 500


@click.command("rebuild-monitoring")
@with_appcontext
def rebuild_monitoring():
    """Recompute every patient's monitoring state from doses, results, waivers and closings,
    and report how many stored states were wrong and are now corrected."""
    ids = list(db.session.scalars(sa.select(Patient.id).order_by(Patient.id)))
    db.session.rollback()
    corrected = 0
    with click.progressbar(length=len(ids), label="Patients") as bar:
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            with writing():
                corrected += rebuild(db.session, chunk, today=program_today())
                db.session.commit()
            db.session.expunge_all()
            bar.update(len(chunk))
    click.echo(
        f"Checked {len(ids)} patient(s); corrected the stored monitoring state of {corrected}."
    )
