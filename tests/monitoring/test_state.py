"""The stored monitoring state: kept current by doses, closing and transferring; read for the
gate's MONITORING_OVERDUE warning; rebuilt from the facts by `flask rems rebuild-monitoring`."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from rems.auth.models import User
from rems.common.clock import today
from rems.common.transactions import writing
from rems.courses.models import Course
from rems.courses.services import close_course
from rems.extensions import db
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.queries import dose_dates, overdue_tests
from rems.patients import lifecycle
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.program.model import add_months
from tests.authorizations.helpers import gate
from tests.monitoring.helpers import (
    days,
    give_course,
    more_treated_patients,
    move_to,
    stored_state,
    treated_patient,
)
from tests.patients.helpers import certified_prescriber

MONITORED = {"cbc", "creatinine", "urinalysis", "tsh", "liver", "skin_exam"}


def test_a_patient_without_a_dose_has_no_monitoring_state(app, factory):
    world = gate(app, factory)
    assert stored_state(app, world.patient.id) == {}


def test_the_doses_store_one_row_per_monitored_test(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    rows = stored_state(app, treated.world.patient.id)
    assert set(rows) == MONITORED
    cbc = rows["cbc"]
    first_due = add_months(treated.first_dose, 1)
    assert (cbc.anchor_on, cbc.ends_on) == (treated.first_dose, add_months(treated.doses[-1], 48))
    assert (cbc.next_k, cbc.next_due_on, cbc.overdue_after) == (1, first_due, first_due + days(7))
    assert cbc.next_window_start == treated.first_dose + days(1)
    assert (cbc.open_items, cbc.items_total, rows["skin_exam"].open_items) == ("1-48", 48, "1-4")


def test_the_gate_warns_of_overdue_tests_and_does_not_deny_for_them(app, factory, clock):
    world = gate(app, factory)
    given = give_course(app, world, clock, doses=2)
    first_due = add_months(given[0], 1)
    move_to(clock, first_due + days(7))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    quiet = client.post("/api/v1/authorizations", json=world.request(doses=1), headers=headers)
    assert quiet.status_code == 201
    assert "MONITORING_OVERDUE" not in [w["code"] for w in quiet.get_json()["warnings"]]
    clock.advance(days=1)  # the day after due date + grace
    warned = client.post("/api/v1/authorizations", json=world.request(doses=1), headers=headers)
    body = warned.get_json()
    assert warned.status_code == 201 and body["decision"] == "authorized"
    codes = [w["code"] for w in body["warnings"]]
    assert "MONITORING_OVERDUE" in codes
    message = next(w["message"] for w in body["warnings"] if w["code"] == "MONITORING_OVERDUE")
    assert "CBC with differential" in message and "Serum creatinine" in message
    assert f"due {first_due.isoformat()}" in message and "TSH" not in message


def test_overdue_tests_compare_dates_in_the_database(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    patient_id = treated.world.patient.id
    last_day = add_months(treated.first_dose, 1) + days(7)
    with app.app_context():
        assert overdue_tests(db.session, patient_id, last_day) == []
        late = overdue_tests(db.session, patient_id, last_day + days(1))
        assert {t.test_code for t in late} == {"cbc", "creatinine", "urinalysis"}


def test_a_closed_course_still_counts_its_given_doses(app, factory, clock):
    world = gate(app, factory)
    given = give_course(app, world, clock, doses=2)
    with app.app_context(), writing():
        course = db.session.scalar(sa.select(Course).where(Course.patient_id == world.patient.id))
        close_course(db.session, course, db.session.get(User, world.prescriber.user.id),
                     reason="Stopped after two doses")  # fmt: skip
        db.session.commit()
        assert dose_dates(db.session, world.patient.id) == list(given)
    assert stored_state(app, world.patient.id)["cbc"].anchor_on == given[0]


def test_closing_the_patient_closes_the_items_after_the_closing_date(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    closed_on = add_months(treated.first_dose, 2)
    move_to(clock, closed_on + days(3))
    with app.app_context(), writing():
        patient = db.session.get(Patient, treated.world.patient.id)
        lifecycle.close(
            db.session, patient, db.session.get(User, treated.world.prescriber.user.id),
            close_reason="death", closed_on=closed_on, note="", today=today(),
        )  # fmt: skip
        db.session.commit()
    cbc = stored_state(app, treated.world.patient.id)["cbc"]
    assert (cbc.open_items, cbc.closed, cbc.items_total) == ("1-2", 46, 48)


def test_a_transfer_moves_the_state_to_the_new_prescriber(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    other = certified_prescriber(app, factory, treated.world.admin, "Okafor")
    with app.app_context(), writing():
        patient = db.session.get(Patient, treated.world.patient.id)
        lifecycle.transfer(
            db.session, patient, db.session.get(User, treated.world.prescriber.user.id),
            new_prescriber=db.session.get(Prescriber, other.id), reason="Moved", today=today(),
        )  # fmt: skip
        db.session.commit()
    rows = stored_state(app, treated.world.patient.id)
    assert {row.prescriber_id for row in rows.values()} == {other.id}


def test_rebuild_recomputes_from_the_facts_and_reports_corrections(app, factory, clock, runner):
    treated = treated_patient(app, factory, clock)
    patient_id = treated.world.patient.id
    with app.app_context(), writing():
        db.session.execute(
            sa.update(MonitoringStatus)
            .where(MonitoringStatus.patient_id == patient_id, MonitoringStatus.test_code == "tsh")
            .values(open_items="", next_k=None, overdue_after=None)
        )
        db.session.commit()
    first = runner.invoke(args=["rems", "rebuild-monitoring"])
    assert first.exit_code == 0, first.output
    assert "Checked 1 patient(s); corrected the stored monitoring state of 1;" in first.output
    assert stored_state(app, patient_id)["tsh"].open_items == "1-16"
    again = runner.invoke(args=["rems", "rebuild-monitoring"])
    assert "corrected the stored monitoring state of 0;" in again.output


def test_rebuild_says_how_far_it_has_got_and_corrects_the_wrong_patient_only(
    app, factory, clock, runner
):
    treated = treated_patient(app, factory, clock)
    others = more_treated_patients(app, treated.world, clock, 2)
    wrong, unstated = others[0].id, others[1].id
    wanted = stored_state(app, unstated)["tsh"].item_states
    with app.app_context(), writing():
        db.session.execute(
            sa.update(MonitoringStatus)
            .where(MonitoringStatus.patient_id == wrong, MonitoringStatus.test_code == "cbc")
            .values(satisfied=5)
        )
        # as the rows stored before 0030 are: item states not computed yet
        db.session.execute(
            sa.update(MonitoringStatus)
            .where(MonitoringStatus.patient_id == unstated)
            .values(item_states=None)
        )
        db.session.commit()
    done = runner.invoke(args=["rems", "rebuild-monitoring", "--progress-every", "1"])
    assert done.exit_code == 0, done.output
    assert "... 1 of 3 patients, corrected 0" in done.output
    assert "... 2 of 3 patients, corrected 1" in done.output
    assert (
        "Checked 3 patient(s); corrected the stored monitoring state of 1; "
        "filled the item states not yet computed of 1." in done.output
    )
    assert stored_state(app, wrong)["cbc"].satisfied == 0
    assert wanted and stored_state(app, unstated)["tsh"].item_states == wanted


def test_prior_doses_count_for_the_schedule(app, factory, clock):
    from datetime import date

    from rems.prior_treatment.models import PriorDose
    from rems.prior_treatment.services import next_prior, store_prior_course

    world = gate(app, factory, with_course=False)
    first = date(2025, 3, 3)
    days = {f"dose_{n}": first + timedelta(days=n - 1) for n in range(1, 6)}
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.patient.id)
        actor = db.session.get(User, world.prescriber.user.id)
        nxt, sources = next_prior(db.session, patient), dict.fromkeys(days, "Clinic letter")
        store_prior_course(db.session, patient, actor, nxt, days, sources, _signature(actor))
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PriorDose)) == 5
        assert dose_dates(db.session, world.patient.id) == sorted(days.values())
    cbc = stored_state(app, world.patient.id)["cbc"]
    assert cbc.anchor_on == first and cbc.ends_on == add_months(first + timedelta(days=4), 48)


def _signature(actor) -> int:
    from rems.auth.signatures import sign
    from tests.factories import PASSWORD

    return sign(db.session, actor, password=PASSWORD, meaning="test", content={}).id
