"""The periodic patient status report: two patients of one prescriber; seven months on, both
statuses are overdue until the prescriber signs one. Once `summarise-reports` has run, the page
shows its daily snapshot, as of its time, until the next run."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import Role, User
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.status_services import record_status
from rems.patients.models import Patient
from rems.templating import format_program_datetime
from tests.factories import PASSWORD
from tests.monitoring.helpers import more_treated_patients, treated_patient
from tests.reports.test_catalogue import cells, show

ANSWERS = {"results_reviewed": True, "new_autoimmune_event": False, "new_malignancy": False,
           "still_under_care": True, "pregnancy_status": "not_applicable"}  # fmt: skip


def test_statuses_due_overdue_and_signed_per_prescriber(app, factory, clock):
    first = treated_patient(app, factory, clock)
    more_treated_patients(app, first.world, clock, 1)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert [r[2:7] for r in cells(show(auditor, "patient-statuses")[1])] == [
        ["2", "0", "0", "100.0", "0"]]  # fmt: skip
    clock.advance(days=220)  # status 1 fell due 6 months after the first dose, 30 days' grace
    sign_first(app, first)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert [r[2:7] for r in cells(show(auditor, "patient-statuses")[1])] == [
        ["2", "0", "1", "50.0", "1"]]  # fmt: skip


def sign_first(app, first) -> None:
    with app.app_context(), writing():
        record_status(db.session, db.session.get(Patient, first.world.patient.id),
                      db.session.get(User, first.world.prescriber.user.id), period=1,
                      answers=ANSWERS, password=PASSWORD, today=program_today())  # fmt: skip
        db.session.commit()


def as_of(app, clock) -> str:
    """The clock's time as the page shows an As of value (the program's time zone)."""
    with app.app_context():
        return format_program_datetime(clock.now())


def test_the_page_shows_the_daily_snapshot_as_of_its_time_until_the_next(app, factory, clock):
    first = treated_patient(app, factory, clock)
    more_treated_patients(app, first.world, clock, 1)
    clock.advance(days=220)  # both statuses overdue
    summarise(app)
    taken = as_of(app, clock)
    clock.advance(hours=3)
    sign_first(app, first)  # signed after the snapshot: counts from the next one
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    page = show(auditor, "patient-statuses")[1]
    assert [r[2:] for r in cells(page)] == [["2", "0", "2", "0.0", "0", taken]]
    assert "daily snapshot" in page
    with app.app_context():
        states = db.session.scalars(sa.select(Patient.state)).all()
    state = states[0]
    alike = str(states.count(state))
    assert [r[2:7] for r in cells(show(auditor, "patient-statuses", state=state)[1])] == [
        [alike, "0", alike, "0.0", "0"]]  # fmt: skip
    clock.advance(days=1)
    summarise(app)
    auditor = factory.signed_in(factory.user(Role.AUDITOR))  # the last sign-in has lapsed
    assert [r[2:] for r in cells(show(auditor, "patient-statuses")[1])] == [
        ["2", "0", "1", "50.0", "1", as_of(app, clock)]]  # fmt: skip


def summarise(app) -> None:
    result = app.test_cli_runner().invoke(args=["rems", "summarise-reports"])
    assert result.exit_code == 0, result.output
    assert "patient-statuses: snapshot of 1 row(s)" in result.output
