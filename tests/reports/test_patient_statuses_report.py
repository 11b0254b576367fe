"""The periodic patient status report: two patients of one prescriber; seven months on, both
statuses are overdue until the prescriber signs one."""

from __future__ import annotations

from rems.auth.models import Role, User
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.status_services import record_status
from rems.patients.models import Patient
from tests.factories import PASSWORD
from tests.monitoring.helpers import more_treated_patients, treated_patient
from tests.reports.test_catalogue import cells, show

ANSWERS = {"results_reviewed": True, "new_autoimmune_event": False, "new_malignancy": False,
           "still_under_care": True, "pregnancy_status": "not_applicable"}  # fmt: skip


def test_statuses_due_overdue_and_signed_per_prescriber(app, factory, clock):
    first = treated_patient(app, factory, clock)
    more_treated_patients(app, first.world, clock, 1)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert [r[2:] for r in cells(show(auditor, "patient-statuses")[1])] == [
        ["2", "0", "0", "100.0", "0"]]  # fmt: skip
    clock.advance(days=220)  # status 1 fell due 6 months after the first dose, 30 days' grace
    with app.app_context(), writing():
        record_status(db.session, db.session.get(Patient, first.world.patient.id),
                      db.session.get(User, first.world.prescriber.user.id), period=1,
                      answers=ANSWERS, password=PASSWORD, today=program_today())  # fmt: skip
        db.session.commit()
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert [r[2:] for r in cells(show(auditor, "patient-statuses")[1])] == [
        ["2", "0", "1", "50.0", "1"]]  # fmt: skip
