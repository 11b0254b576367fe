"""Recording results through the one service (here over the API, as an EHR would): whole
batches or nothing, every bad row named, duplicates reported once, amendments kept."""

from __future__ import annotations

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult, ResultAmendment
from rems.monitoring.results import amend_result
from rems.program.model import add_months
from tests.monitoring.helpers import days, move_to, stored_state, treated_patient
from tests.patients.helpers import add_delegate


def _post(client, token, rems_id, results):
    return client.post(
        f"/api/v1/patients/{rems_id}/results",
        json={"results": results},
        headers={"Authorization": f"Bearer {token}"},
    )


def _results(app) -> list[LabResult]:
    with app.app_context():
        rows = db.session.scalars(sa.select(LabResult).order_by(LabResult.id)).all()
        db.session.expunge_all()
        return rows


def _setup(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    token = factory.token(treated.world.prescriber.user)
    move_to(clock, add_months(treated.first_dose, 1))
    return treated, token


def test_a_batch_is_stored_and_satisfies_the_items(app, client, factory, clock):
    treated, token = _setup(app, factory, clock)
    day = today_of(clock)
    answer = _post(client, token, treated.world.patient.rems_id, [
        {"test": "cbc", "collected_on": day.isoformat(), "value": "5.1", "unit": "10^9/L",
         "abnormal": False},
        {"test": "creatinine", "collected_on": day.isoformat()},
    ])  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() == {"stored": 2, "duplicates": []}
    rows = stored_state(app, treated.world.patient.id)
    assert (rows["cbc"].next_k, rows["cbc"].satisfied) == (2, 1)
    assert rows["urinalysis"].next_k == 1
    stored = _results(app)
    assert [(r.test_code, r.source, r.value) for r in stored] == [
        ("cbc", "api", "5.1"), ("creatinine", "api", None),
    ]  # fmt: skip
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "result.recorded")
            )
            == 2
        )


def today_of(clock):
    return clock.now().date()


def test_every_bad_row_is_named_by_index_and_nothing_is_stored(app, client, factory, clock):
    treated, token = _setup(app, factory, clock)
    day = today_of(clock)
    answer = _post(client, token, treated.world.patient.rems_id, [
        {"test": "cbc", "collected_on": day.isoformat()},
        {"test": "nope", "collected_on": (day + days(1)).isoformat()},
        {"test": "tsh", "collected_on": "2026-02-30", "value": "=cmd|' /C calc'!A0"},
        {"test": "tsh", "collected_on": day.isoformat(), "value": "x" * 101, "extra": 1},
        {"test": "liver", "collected_on": day.isoformat(), "abnormal": "perhaps"},
    ])  # fmt: skip
    assert answer.status_code == 422
    details = answer.get_json()["error"]["details"]
    assert set(details) == {
        "results.1.test", "results.1.collected_on", "results.2.collected_on",
        "results.2.value", "results.3.value", "results.3.extra", "results.4.abnormal",
    }  # fmt: skip
    assert "cannot be after today" in details["results.1.collected_on"][0]
    assert "formula" in details["results.2.value"][0]
    assert _results(app) == []


def test_duplicates_are_reported_and_stored_once(app, client, factory, clock):
    treated, token = _setup(app, factory, clock)
    row = {"test": "cbc", "collected_on": today_of(clock).isoformat(), "value": "5.1"}
    first = _post(client, token, treated.world.patient.rems_id, [row, dict(row)])
    assert first.get_json() == {"stored": 1, "duplicates": [1]}
    again = _post(client, token, treated.world.patient.rems_id, [row, {**row, "value": "5.2"}])
    assert again.get_json() == {"stored": 1, "duplicates": [0]}
    assert len(_results(app)) == 2


def test_a_result_before_the_first_dose_is_stored_but_satisfies_nothing(
    app, client, factory, clock
):
    treated, token = _setup(app, factory, clock)
    before = (treated.first_dose - days(3)).isoformat()
    answer = _post(client, token, treated.world.patient.rems_id,
                   [{"test": "cbc", "collected_on": before}])  # fmt: skip
    assert answer.get_json()["stored"] == 1
    assert stored_state(app, treated.world.patient.id)["cbc"].satisfied == 0


def test_a_patient_not_yours_is_404_like_an_unknown_one(app, client, factory, clock):
    treated, _ = _setup(app, factory, clock)
    stranger = factory.token(factory.user(Role.DELEGATE))
    row = [{"test": "cbc", "collected_on": today_of(clock).isoformat()}]
    assert _post(client, stranger, treated.world.patient.rems_id, row).status_code == 404
    assert _post(client, stranger, "P00000000000", row).status_code == 404
    delegate = add_delegate(app, factory, treated.world.prescriber)
    assert (
        _post(client, factory.token(delegate), treated.world.patient.rems_id, row).status_code
        == 201
    )


def test_malformed_bodies(app, client, factory, clock):
    treated, token = _setup(app, factory, clock)
    path = f"/api/v1/patients/{treated.world.patient.rems_id}/results"
    auth = {"Authorization": f"Bearer {token}"}
    assert (
        client.post(path, data="{", headers=auth, content_type="application/json").status_code
        == 400
    )
    assert client.post(path, json={"results": []}, headers=auth).status_code == 422
    assert client.post(path, json={"results": [1], "x": 2}, headers=auth).status_code == 422


def test_an_amendment_keeps_the_old_values_and_moves_the_schedule(app, client, factory, clock):
    treated, token = _setup(app, factory, clock)
    day = today_of(clock)
    _post(client, token, treated.world.patient.rems_id,
          [{"test": "cbc", "collected_on": day.isoformat(), "value": "5.1"}])  # fmt: skip
    with app.app_context(), writing():
        result = db.session.scalar(sa.select(LabResult))
        actor = db.session.get(User, treated.world.prescriber.user.id)
        try:
            amend_result(
                db.session, actor, result, changes={"value": "5.3"}, reason="", today=today()
            )
        except ValidationFailed as failure:
            assert set(failure.errors) == {"reason"}
        amend_result(db.session, actor, result, changes={"test": "tsh", "value": "1.2"},
                     reason="Typed into the wrong row", today=today())  # fmt: skip
        db.session.commit()
        amendment = db.session.scalar(sa.select(ResultAmendment))
        assert amendment.old_values["test_code"] == "cbc" and amendment.old_values["value"] == "5.1"
        assert amendment.new_values["test_code"] == "tsh"
    rows = stored_state(app, treated.world.patient.id)
    assert rows["cbc"].satisfied == 0 and rows["tsh"].satisfied == 1
    assert _results(app)[0].amendments == 1
