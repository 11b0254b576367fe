"""Safe retries on infusions and reversals: the same Idempotency-Key and body get the first
answer and store nothing new; the same key with another body, or on another record, is refused."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.extensions import db
from rems.infusions.models import Infusion
from tests.authorizations.helpers import gate, infusion, on_day


def _post(client, token, path, body, **headers):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {token}", **headers})


def _granted(client, world) -> str:
    response = _post(client, world.pharmacy_token, "/api/v1/authorizations", world.request())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["authorization_number"]


def _count(app, *where) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(*where))


def _events(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action))


def test_a_retried_infusion_gets_the_first_answer_and_stores_one_dose(app, client, factory, clock):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_granted(client, world)}/infusions"
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    key = {"Idempotency-Key": "dose-1-of-course-1"}
    first = _post(client, world.nurse_token, path, infusion(day), **key)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    retry = _post(client, world.nurse_token, path, infusion(day), **key)
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json() and first.get_json()["dose_number"] == 1
    assert _count(app, Infusion) == 1 and _events(app, "infusion.recorded") == 1
    # Later doses do not change what the first key answers.
    on_day(clock, day + timedelta(days=1))
    second = _post(client, world.nurse_token, path, infusion(day + timedelta(days=1)))
    assert second.get_json()["dose_number"] == 2
    late_retry = _post(client, world.nurse_token, path, infusion(day), **key)
    assert late_retry.get_json() == first.get_json() and _count(app, Infusion) == 2


def test_without_a_key_a_retried_infusion_is_a_new_attempt(app, client, factory, clock):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_granted(client, world)}/infusions"
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    assert _post(client, world.nurse_token, path, infusion(day)).status_code == 201
    again = _post(client, world.nurse_token, path, infusion(day))
    assert again.status_code == 422 and _count(app, Infusion) == 1


def test_a_key_reused_with_another_body_or_record_is_refused(app, client, factory, clock):
    world = gate(app, factory)
    number = _granted(client, world)
    path = f"/api/v1/authorizations/{number}/infusions"
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    key = {"Idempotency-Key": "k-1"}
    assert _post(client, world.nurse_token, path, infusion(day), **key).status_code == 201
    other = _post(client, world.nurse_token, path, infusion(day, notes="changed"), **key)
    assert other.status_code == 422
    assert other.get_json()["error"]["details"] == {
        "Idempotency-Key": ["This key was used with a different request body."]
    }
    too_long = _post(
        client, world.nurse_token, path, infusion(day), **{"Idempotency-Key": "x" * 201}
    )
    assert too_long.status_code == 422
    assert "Idempotency-Key" in too_long.get_json()["error"]["details"]
    assert _count(app, Infusion) == 1


def test_a_retried_reversal_gets_the_first_answer(app, client, factory):
    world = gate(app, factory)
    number = _granted(client, world)
    path = f"/api/v1/authorizations/{number}/reversal"
    key = {"Idempotency-Key": "undo-order-7"}
    body = {"reason": "Ordered by mistake"}
    first = _post(client, world.pharmacy_token, path, body, **key)
    assert first.status_code == 200 and first.get_json()["status"] == "reversed"
    retry = _post(client, world.pharmacy_token, path, body, **key)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert _events(app, "authorization.reversed") == 1
    # Without the key, a second reversal is a conflict, as before.
    assert _post(client, world.pharmacy_token, path, body).status_code == 409
    other = _post(client, world.pharmacy_token, path, {"reason": "Another reason"}, **key)
    assert other.status_code == 422
    # The same key and body on another authorization is another request: refused too.
    elsewhere = f"/api/v1/authorizations/{_granted(client, world)}/reversal"
    assert _post(client, world.pharmacy_token, elsewhere, body, **key).status_code == 422


def test_keys_belong_to_their_user(app, client, factory, clock):
    world = gate(app, factory)
    number = _granted(client, world)
    key = {"Idempotency-Key": "shared-key"}
    reversal = f"/api/v1/authorizations/{number}/reversal"
    assert _post(client, world.pharmacy_token, reversal, {"reason": "x"}, **key).status_code == 200
    # The nurse's same key is hers alone: her infusion is judged on its own (reversed: a dose
    # beyond the authorization is a deviation she must confirm).
    infusions = f"/api/v1/authorizations/{number}/infusions"
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    refused = _post(client, world.nurse_token, infusions, infusion(day), **key)
    assert refused.status_code == 422 and "Idempotent-Replayed" not in refused.headers
    assert refused.get_json()["error"]["code"] == "deviations_not_acknowledged"
