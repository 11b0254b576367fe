"""Migration 0025: the old categories keep their codes, a code no longer listed becomes
`other`, and events recorded before it get the day they were recorded as their awareness."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from rems.extensions import db
from tests.adverse_events.test_safety import _report
from tests.authorizations.helpers import gate


def test_old_events_are_mapped_and_given_an_awareness_date(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    kept = _report(app, doctor, world.patient, serious="no", category="other_autoimmune")
    dropped = _report(app, doctor, world.patient, serious="no", category="malignancy")
    with app.app_context():
        db.session.remove()
        downgrade(revision="0025_adverse_events-1")
        with db.engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE adverse_event SET category = 'lupus' WHERE id = :id"),
                {"id": dropped},
            )
        upgrade()
        with db.engine.connect() as connection:
            rows = dict(
                (row.id, (row.category, row.aware_on))
                for row in connection.execute(
                    sa.text("SELECT id, category, aware_on FROM adverse_event")
                )
            )
    recorded = date(2026, 11, 24)  # the frozen clock's day, in UTC
    assert {k: (c, str(a)) for k, (c, a) in rows.items()} == {
        kept: ("other_autoimmune", recorded.isoformat()),
        dropped: ("other", recorded.isoformat()),
    }
