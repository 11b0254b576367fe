"""`rems demo` shows every monitoring state, so the README's tour finds each."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from rems.common.clock import today
from rems.courses.models import Course
from rems.extensions import db
from rems.monitoring.models import AdverseEvent, MonitoringStatus, MonitoringWaiver, ResultAmendment
from rems.monitoring.queries import summary
from rems.patients.models import Patient


def _patient(last: str) -> Patient:
    return db.session.scalar(sa.select(Patient).where(Patient.last_name == last))


def test_the_demo_patients_are_in_every_monitoring_state(app, runner):
    result = runner.invoke(args=["rems", "demo"])
    assert result.exit_code == 0, result.output
    assert "Noah Price: due this week" in result.output
    with app.app_context():
        day = today()
        states = {
            last: summary(db.session, _patient(last).id, day)
            for last in ("Reed", "Price", "Ortiz", "Marsh", "Cole", "Brooks", "Walsh")
        }
        compliant = {last for last, s in states.items() if s["compliant"]}
        assert compliant == {"Reed", "Price", "Marsh", "Cole", "Brooks"}
        assert states["Ortiz"]["items_overdue"] > 0 and states["Walsh"]["items_overdue"] > 0
        soonest = db.session.scalar(
            sa.select(sa.func.min(MonitoringStatus.next_due_on)).where(
                MonitoringStatus.patient_id == _patient("Price").id
            )
        )
        assert day < soonest <= day + timedelta(days=7)
        assert db.session.scalar(sa.select(MonitoringWaiver.patient_id)) == _patient("Marsh").id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ResultAmendment)) == 1
        event = db.session.scalar(sa.select(AdverseEvent))
        assert event.serious and event.reviewed_at is None
        assert event.patient_id == _patient("Brooks").id
        walsh = db.session.scalars(
            sa.select(Course)
            .where(Course.patient_id == _patient("Walsh").id)
            .order_by(Course.number)
        ).all()
        assert [(c.number, c.historical) for c in walsh] == [(1, True), (2, True)]
    again = runner.invoke(args=["rems", "demo"])
    assert again.exit_code == 0 and "Noah Price: due this week" not in again.output
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count()).where(Patient.last_name == "Walsh")) == 1
        )
