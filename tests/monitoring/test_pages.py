"""Monitoring pages: one result typed in, the patient's monitoring section, amending, waiving,
the worklist and the dashboard counts."""

from __future__ import annotations

import sqlalchemy as sa

from rems.extensions import db
from rems.monitoring.models import LabResult, MonitoringWaiver
from rems.program.model import add_months
from tests.factories import csrf_token
from tests.monitoring.helpers import (
    days,
    more_treated_patients,
    move_to,
    stored_state,
    treated_patient,
)
from tests.patients.helpers import add_delegate


def _count_results(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LabResult))


def _record(client, rems_id, **fields):
    path = f"/patients/{rems_id}/results/new"
    data = {"csrf_token": csrf_token(client, path), "test": "cbc", "value": "", "unit": ""}
    return client.post(path, data=data | fields)


def test_a_delegate_records_a_result_and_the_patient_page_shows_it(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    delegate = add_delegate(app, factory, treated.world.prescriber)
    client = factory.signed_in(delegate)
    rems_id = treated.world.patient.rems_id
    day = clock.now().date().isoformat()
    future = (clock.now().date() + days(1)).isoformat()
    refused = _record(client, rems_id, collected_on=future)
    assert refused.status_code == 422
    assert "Collection date: cannot be after today (" in refused.get_data(as_text=True)
    assert _count_results(app) == 0
    done = _record(client, rems_id, collected_on=day, value="5.1", unit="10^9/L")
    assert done.status_code == 302
    page = client.get(f"/patients/{rems_id}").get_data(as_text=True)
    assert 'id="monitoring-timeline"' in page and "CBC with differential #1" in page
    assert "5.1 10^9/L" in page and "#1 (due " in page
    again = _record(client, rems_id, collected_on=day, value="5.1", unit="10^9/L")
    assert again.status_code == 302 and _count_results(app) == 1


def test_the_timeline_reads_without_colour(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    client = factory.signed_in(treated.world.prescriber.user)
    page = client.get(f"/patients/{treated.world.patient.rems_id}").get_data(as_text=True)
    assert "Not compliant" in page and 'id="overdue-items"' in page
    assert ": overdue</span>" in page and ": upcoming</span>" in page  # words, not colours
    assert "<b>!</b> overdue" in page


def test_an_amendment_keeps_the_old_value_in_the_history(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    client = factory.signed_in(treated.world.prescriber.user)
    rems_id = treated.world.patient.rems_id
    _record(client, rems_id, collected_on=clock.now().date().isoformat(), value="5.1")
    with app.app_context():
        result_id = db.session.scalar(sa.select(LabResult.id))
    path = f"/results/{result_id}/amend"
    form = {"csrf_token": csrf_token(client, path), "test": "cbc",
            "collected_on": clock.now().date().isoformat(), "value": "5.4", "unit": ""}  # fmt: skip
    assert client.post(path, data=form).status_code == 422  # no reason
    assert client.post(path, data=form | {"reason": "Lab corrected it"}).status_code == 302
    page = client.get(f"/patients/{rems_id}").get_data(as_text=True)
    assert "Reason: Lab corrected it" in page and "was cbc" in page and "5.4" in page
    stranger = factory.signed_in(add_delegate(app, factory, treated_patient_for(app, factory)))
    assert stranger.get(path).status_code == 404


def treated_patient_for(app, factory):
    """Another certified prescriber (whose delegate must not see our patient)."""
    from rems.auth.models import Role
    from tests.patients.helpers import certified_prescriber

    return certified_prescriber(app, factory, factory.user(Role.ADMIN), "Other")


def test_an_administrator_waives_an_item_with_a_signature(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    admin = factory.signed_in(treated.world.admin)
    rems_id = treated.world.patient.rems_id
    path = f"/patients/{rems_id}/monitoring/waive"
    item = f"cbc|{add_months(treated.first_dose, 1).isoformat()}"
    form = {"csrf_token": csrf_token(admin, path), "item": item, "reason": "Hospitalised"}
    wrong = admin.post(path, data=form | {"password": "wrong"})
    assert wrong.status_code == 422 and "password is not correct" in wrong.get_data(as_text=True)
    assert (
        admin.post(path, data=form | {"password": treated.world.admin.password}).status_code == 302
    )
    with app.app_context():
        waiver = db.session.scalar(sa.select(MonitoringWaiver))
        assert waiver.reason == "Hospitalised" and waiver.signature_id is not None
    cbc = stored_state(app, treated.world.patient.id)["cbc"]
    assert (cbc.waived, cbc.next_k) == (1, 2)
    page = admin.get(f"/patients/{rems_id}").get_data(as_text=True)
    assert ": waived</span>" in page


def test_the_worklist_is_sorted_filtered_paged_and_counted(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    world = treated.world
    others = more_treated_patients(app, world, clock, 2)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))  # the first patient is overdue
    app.config["REMS_PAGE_SIZE"] = 2
    client = factory.signed_in(world.prescriber.user)
    page = client.get("/worklist").get_data(as_text=True)
    assert page.index(world.patient.rems_id) < page.index(others[0].rems_id)
    assert "Showing 1–2 of 3" in page
    second = client.get("/worklist?page=2").get_data(as_text=True)
    assert others[1].rems_id in second and "Showing 3–3 of 3" in second
    beyond = client.get("/worklist?page=9").get_data(as_text=True)  # past the end: the last page
    assert others[1].rems_id in beyond and "Showing 3–3 of 3" in beyond
    empty = client.get("/worklist?test=tsh&show=overdue").get_data(as_text=True)
    assert world.patient.rems_id not in empty and "Showing" not in empty
    # the first patient's CBC is overdue, the second's due, the third's due soon (in 2 days)
    due_now = client.get("/worklist?test=cbc&show=due").get_data(as_text=True)
    assert others[0].rems_id in due_now and others[1].rems_id not in due_now
    assert world.patient.rems_id in due_now
    overdue = client.get("/worklist?show=overdue").get_data(as_text=True)
    assert world.patient.rems_id in overdue and others[0].rems_id not in overdue
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert (
        "patients with overdue tests" in dashboard and "patients with tests due soon" in dashboard
    )
    with app.app_context():
        from rems.auth.models import User
        from rems.common.clock import today
        from rems.monitoring.worklist import worklist_counts

        user = db.session.get(User, world.prescriber.user.id)
        assert worklist_counts(db.session, user, today()) == {
            "overdue": 1, "due": 1, "due_soon": 1, "total": 3}  # fmt: skip
    _record(client, others[0].rems_id, test="cbc", collected_on=clock.now().date().isoformat())
    due_now = client.get("/worklist?test=cbc&show=due").get_data(as_text=True)
    assert others[0].rems_id not in due_now  # its next CBC is not due
