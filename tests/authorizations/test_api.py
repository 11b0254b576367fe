"""The gate over the API: grants, denials with every reason, idempotency, reversal, infusions."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.authorizations.models import AuthorizationDecision
from rems.extensions import db
from rems.infusions.models import Infusion
from tests.authorizations.helpers import gate, infusion, on_day
from tests.patients.pages import count_rows


def _post(client, token, path, body, **headers):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}", **headers})


def _get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_a_complete_request_is_granted(app, client, factory, clock):
    world = gate(app, factory)
    response = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["decision"] == "authorized"
    assert body["doses"] == 5
    assert body["course"] == {
        "number": 1,
        "doses_total": 5,
        "doses_given": 0,
        "doses_authorized": 5,
    }
    assert body["valid_from"] == "2026-11-24" and body["valid_until"] == "2026-12-01"
    assert body["first_dose_by"] == "2026-12-19"  # baseline collected 2026-11-19 + 30 days
    assert body["warnings"] == []


def test_a_denial_lists_every_reason_and_is_stored(app, client, factory):
    world = gate(app, factory, with_course=False)
    body = world.request(prescriber_npi="1234567893", infusion_site_id=world.pharmacy_code)
    response = _post(client, world.pharmacy_token, "/api/v1/authorizations", body)
    assert response.status_code == 200
    denial = response.get_json()
    codes = {reason["code"] for reason in denial["reasons"]}
    assert codes == {"SITE_NOT_CERTIFIED", "PRESCRIBER_NOT_CERTIFIED", "COURSE_NOT_AUTHORIZED"}
    assert all(reason["action_by"] and reason["message"] for reason in denial["reasons"])
    with app.app_context():
        stored = db.session.scalar(sa.select(AuthorizationDecision))
        assert stored.decision_id == denial["decision_id"] and stored.outcome == "denied"
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "authorization.denied")
            )
            == 1
        )


def test_wrong_date_of_birth_is_patient_not_found(app, client, factory):
    world = gate(app, factory)
    body = world.request(date_of_birth="1984-03-01")
    denial = _post(client, world.pharmacy_token, "/api/v1/authorizations", body).get_json()
    assert [r["code"] for r in denial["reasons"]] == ["PATIENT_NOT_FOUND"]


def test_idempotency_key_replays_the_first_answer(app, client, factory):
    world = gate(app, factory)
    key = {"Idempotency-Key": "order-42"}
    first = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request(), **key)
    again = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request(), **key)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    other = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request(doses=1), **key
    )
    assert other.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthorizationDecision)) == 1


def test_more_doses_than_left_are_refused(app, client, factory):
    world = gate(app, factory)
    first = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request(doses=3))
    assert first.status_code == 201
    second = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request(doses=3))
    assert [r["code"] for r in second.get_json()["reasons"]] == ["DOSES_EXCEEDED"]
    rest = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert rest.get_json()["doses"] == 2


def test_bad_bodies_get_the_documented_errors(app, client, factory):
    world = gate(app, factory)
    path = "/api/v1/authorizations"
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    assert (
        client.post(path, data="{", headers=headers, content_type="application/json").status_code
        == 400
    )
    assert client.post(path, data="a=b", headers=headers).status_code == 400
    unknown = _post(client, world.pharmacy_token, path, world.request(admin=True))
    assert unknown.status_code == 422 and "admin" in unknown.get_json()["error"]["details"]
    bad = _post(
        client, world.pharmacy_token, path, world.request(date_of_birth="1984-02-30", doses=0)
    )
    assert set(bad.get_json()["error"]["details"]) == {"date_of_birth", "doses"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuthorizationDecision)) == 0


def test_only_the_parties_see_an_authorization(app, client, factory):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    for token in (world.pharmacy_token, world.nurse_token):
        body = _get(client, token, f"/api/v1/authorizations/{number}").get_json()
        assert body["status"] == "issued" and body["doses_given"] == 0
    from tests.authorizations.helpers import site_with_staff

    _, stranger = site_with_staff(
        app, factory, world.admin, dispenses=True, infuses=True, name="Elsewhere"
    )
    assert _get(client, stranger, f"/api/v1/authorizations/{number}").status_code == 404


def test_reversal_returns_the_doses(app, client, factory):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    path = f"/api/v1/authorizations/{number}/reversal"
    assert _post(client, world.pharmacy_token, path, {}).status_code == 422
    reversed_ = _post(client, world.pharmacy_token, path, {"reason": "Ordered by mistake"})
    assert reversed_.get_json()["status"] == "reversed"
    assert _post(client, world.pharmacy_token, path, {"reason": "again"}).status_code == 409
    again = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert again.status_code == 201 and again.get_json()["doses"] == 5


def test_infusions_complete_the_course(app, client, factory, clock):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    path = f"/api/v1/authorizations/{number}/infusions"
    start = clock.now().date() + timedelta(days=2)
    for dose in range(1, 6):
        day = start + timedelta(days=dose - 1)
        on_day(clock, day)
        response = _post(client, world.nurse_token, path, infusion(day))
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["dose_number"] == dose
    assert response.get_json()["authorization_status"] == "used"
    assert response.get_json()["course_status"] == "completed"
    assert (
        _post(client, world.nurse_token, path, infusion(start + timedelta(days=6))).status_code
        == 409
    )
    assert _post(client, world.pharmacy_token, path, infusion(start)).status_code == 404


def test_an_infusion_with_deviations_is_stored_only_once_acknowledged(app, client, factory, clock):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    record = infusion(
        day, corticosteroid_premedication=False, observation_ended_at=f"{day}T08:29:00Z"
    )
    path = f"/api/v1/authorizations/{number}/infusions"
    response = _post(client, world.nurse_token, path, record)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "deviations_not_acknowledged"
    listed = error["details"]["deviations_acknowledged"]
    assert listed[1].startswith("premedication_missing (major): Dose 1 was given without")
    assert listed[2].startswith("observation_short (major): The patient was observed for 119")
    assert count_rows(app, Infusion) == 0
    stored = _post(client, world.nurse_token, path, {**record, "deviations_acknowledged": True})
    assert stored.status_code == 201, stored.get_json()
    body = stored.get_json()
    assert [(d["code"], d["party"]) for d in body["deviations"]] == [
        ("premedication_missing", "site"),
        ("observation_short", "site"),
    ]
    assert body["dose_number"] == 1 and body["course_status"] == "in_progress"
    assert body["deviations"][0]["case_id"] == body["deviations"][1]["case_id"]


def test_impossible_data_is_refused_field_by_field(app, client, factory, clock):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    record = infusion(
        day, infusion_ended_at=f"{day}T04:00:00Z", observation_ended_at=f"{day}T23:00:00Z"
    )
    response = _post(
        client, world.nurse_token, f"/api/v1/authorizations/{number}/infusions",
        {**record, "deviations_acknowledged": True},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"
    assert set(response.get_json()["error"]["details"]) == {
        "infusion_ended_at",
        "observation_ended_at",
    }
    assert count_rows(app, Infusion) == 0


def test_a_visit_not_infused_is_recorded_by_the_api(app, client, factory, clock):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    path = f"/api/v1/authorizations/{number}/not-infused"
    today = clock.now().date().isoformat()
    bad = _post(client, world.nurse_token, path, {"visit_on": today, "reason": "asleep"})
    assert bad.status_code == 422 and "reason" in bad.get_json()["error"]["details"]
    done = _post(client, world.nurse_token, path, {"visit_on": today, "reason": "patient_declined"})
    assert done.status_code == 201
    assert done.get_json()["reason"] == "patient_declined"
    assert (
        _post(
            client, world.pharmacy_token, path, {"visit_on": today, "reason": "other"}
        ).status_code
        == 404
    )
    assert count_rows(app, Infusion) == 0


def test_a_visit_not_infused_takes_the_reasons_the_program_file_lists(app, client, factory, clock):
    program = app.extensions["rems_program"]
    reasons = ("active_infection", "vein_access_failed", "other")
    app.extensions["rems_program"] = dataclasses.replace(
        program, deviations=dataclasses.replace(program.deviations, not_infused_reasons=reasons)
    )
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request()
    ).get_json()["authorization_number"]
    path = f"/api/v1/authorizations/{number}/not-infused"
    today = clock.now().date().isoformat()
    dropped = _post(
        client, world.nurse_token, path, {"visit_on": today, "reason": "patient_declined"}
    )
    assert dropped.status_code == 422
    assert dropped.get_json()["error"]["details"]["reason"] == [
        "Choose one of: active_infection, vein_access_failed, other."
    ]
    added = _post(
        client, world.nurse_token, path, {"visit_on": today, "reason": "vein_access_failed"}
    )
    assert added.status_code == 201 and added.get_json()["reason"] == "vein_access_failed"


def test_expiry_returns_unused_doses_and_the_job_is_idempotent(app, client, factory, clock, runner):
    world = gate(app, factory)
    number = _post(
        client, world.pharmacy_token, "/api/v1/authorizations", world.request(doses=2)
    ).get_json()["authorization_number"]
    clock.advance(days=8)  # past valid_until (issue day + 7)
    body = _get(client, world.pharmacy_token, f"/api/v1/authorizations/{number}").get_json()
    assert body["status"] == "expired"
    assert runner.invoke(args=["rems", "expire-authorizations"]).output.startswith("Expired 0")
    fresh = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert fresh.status_code == 201 and fresh.get_json()["doses"] == 5
