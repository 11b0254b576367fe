"""CDS Hooks trust and bad input: every call needs a JWT from a registered client (allowed
algorithm, `aud` the exact service URL, live `exp`/`iat`, an unused `jti`); malformed bodies
and prefetches that contradict the context are refused; nothing is created by a refusal."""

from __future__ import annotations

import json

import jwt
import pytest
import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.extensions import db
from rems.interop.cds_models import CdsClient, CdsTokenUse
from tests.authorizations.helpers import gate
from tests.interop.cds_helpers import BASE, KeyPair, call, hook_body, register


@pytest.fixture
def keys():
    return KeyPair()


@pytest.fixture
def world(app, factory, keys):
    world = gate(app, factory)
    register(app, world.admin, keys)
    return world


def _spent(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(CdsTokenUse.id)))


def _refused(app, response, status: int, words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert words in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecordAccess.id))) == 0


def test_a_replayed_jwt_is_refused(app, client, world, keys, clock):
    token = keys.sign(clock)
    assert call(client, token, hook_body(world)).status_code == 200
    assert _spent(app) == 1
    response = call(client, token, hook_body(world))
    assert response.status_code == 401 and "used before" in response.get_json()["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aud": f"{BASE}/lemtrada-rems-order-select"}, "'aud' must be this service's URL"),
        ({"aud": "https://other.example.org/cds-services/lemtrada-rems-order-sign"}, "'aud'"),
        ({"iss": "https://unknown.example.org"}, "not a registered CDS client"),
        ({"issued_ago": 400}, "expired"),
        ({"life": 3600}, "at most 5 minutes"),
        ({"issued_ago": -600}, "issued in the future"),
    ],
)
def test_bad_claims_are_401_and_nothing_is_created(app, client, world, keys, clock, change, words):
    response = call(client, keys.sign(clock, **change), hook_body(world))
    _refused(app, response, 401, words)
    assert _spent(app) == 0


def test_other_keys_algorithms_and_missing_tokens_are_refused(app, client, world, keys, clock):
    stranger = KeyPair(kid=keys.kid)  # same kid, another key: the signature fails
    _refused(app, call(client, stranger.sign(clock), hook_body(world)), 401, "signature")
    now = int(clock.now().timestamp())
    claims = {"iss": "https://ehr.example.org", "aud": f"{BASE}/lemtrada-rems-order-sign",
              "iat": now, "exp": now + 60, "jti": "x1"}  # fmt: skip
    hmac = jwt.encode(claims, "a shared secret of at least thirty-two bytes", algorithm="HS256")
    _refused(app, call(client, hmac, hook_body(world)), 401, "algorithm must be one of")
    _refused(app, call(client, None, hook_body(world)), 401, "Bearer")
    _refused(app, call(client, "not.a.jwt", hook_body(world)), 401, "malformed")
    assert _spent(app) == 0


def test_a_deactivated_client_is_refused(app, client, world, keys, clock):
    with app.app_context():
        db.session.execute(sa.update(CdsClient).values(active=False))
        db.session.commit()
    _refused(app, call(client, keys.sign(clock), hook_body(world)), 401, "not a registered")


def _contradicting(world):
    body = hook_body(world)
    body["prefetch"]["patient"]["id"] = "someone-else"
    return body


def _no_patient_prefetch(world):
    body = hook_body(world)
    del body["prefetch"]["patient"]
    return body


def _order_for_another_patient(world):
    body = hook_body(world)
    body["context"]["draftOrders"]["entry"][0]["resource"]["subject"]["reference"] = "Patient/x"
    return body


@pytest.mark.parametrize(
    ("build", "status", "words"),
    [
        (lambda w: json.dumps(hook_body(w))[:-1] + ",}", 400, "not valid JSON"),
        (lambda w: hook_body(w) | {"hook": "patient-view"}, 400, "'hook' must be 'order-sign'"),
        (lambda w: hook_body(w) | {"context": {"userId": "Practitioner/1"}}, 400, "patientId"),
        (_contradicting, 400, "contradicts 'context.patientId'"),
        (_order_for_another_patient, 400, "not the context's patient"),
        (_no_patient_prefetch, 412, "'patient' prefetch is required"),
        (lambda w: [1, 2], 400, "JSON object"),
    ],
)
def test_bad_requests_are_refused_and_the_token_is_not_spent(
    app, client, world, keys, clock, build, status, words
):
    _refused(app, call(client, keys.sign(clock), build(world)), status, words)
    assert _spent(app) == 0


def test_an_unknown_service_is_404(client, world, keys, clock):
    response = call(client, keys.sign(clock), hook_body(world), "no-such-service")
    assert response.status_code == 404 and "error" in response.get_json()
