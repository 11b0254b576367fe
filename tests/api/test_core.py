"""The API skeleton: ping, health, OpenAPI, bearer tokens and the error shape."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import ApiToken, Role
from rems.auth.tokens import hash_token
from rems.extensions import db


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.is_json, response.get_data(as_text=True)[:200]
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


def test_ping_needs_no_token_and_no_database(client):
    response = client.get("/api/v1/ping")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_reports_the_database(client):
    body = client.get("/api/v1/health").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"  # more: tests/observability


def test_health_is_503_when_the_database_is_unreachable():
    from rems import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = broken.test_client().get("/api/v1/health")
    _assert_error(response, 503, "service_unavailable")


def test_openapi_document_lists_the_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    assert {"/ping", "/health", "/openapi.json", "/me"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_openapi_paths_match_the_routes(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
    }
    assert routes == set(document["paths"])


def test_a_valid_token_acts_as_its_user(client, factory):
    user = factory.user(Role.AUDITOR, username="ehr-auditor")
    response = client.get("/api/v1/me", headers=_bearer(factory.token(user)))
    assert response.status_code == 200
    assert response.get_json()["username"] == "ehr-auditor"
    assert response.get_json()["role"] == "auditor"


def test_missing_and_invalid_tokens_are_401(client):
    _assert_error(client.get("/api/v1/me"), 401, "unauthorized")
    _assert_error(client.get("/api/v1/me", headers=_bearer("rems_nope")), 401, "unauthorized")
    _assert_error(
        client.get("/api/v1/me", headers={"Authorization": "Basic eA=="}), 401, "unauthorized"
    )


def test_a_token_in_the_query_string_is_refused(client, factory):
    token = factory.token(factory.user(Role.AUDITOR))
    error = _assert_error(client.get(f"/api/v1/me?access_token={token}"), 401, "unauthorized")
    assert "query string" in error["message"]
    # even beside a valid header, and even on a public endpoint
    _assert_error(
        client.get(f"/api/v1/ping?token={token}", headers=_bearer(token)), 401, "unauthorized"
    )


def test_tokens_are_stored_only_as_hashes_and_record_last_use(app, client, factory, clock):
    token = factory.token(factory.user(Role.AUDITOR))
    client.get("/api/v1/me", headers=_bearer(token))
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken))
        assert row.token_hash == hash_token(token)
        assert token not in (row.token_hash, row.prefix)
        assert row.last_used_at == clock.now()


def test_a_revoked_token_or_deactivated_user_is_refused_at_once(app, client, factory):
    from rems.auth import tokens, users

    user = factory.user(Role.AUDITOR, username="ehr")
    first, second = factory.token(user, "one"), factory.token(user, "two")
    admin = factory.user(Role.ADMIN)
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(ApiToken.name == "one"))
        tokens.revoke_token(db.session, row, actor=db.session.get(type(row.user), admin.id))
        db.session.commit()
    _assert_error(client.get("/api/v1/me", headers=_bearer(first)), 401, "unauthorized")
    assert client.get("/api/v1/me", headers=_bearer(second)).status_code == 200
    with app.app_context():
        account = users.find_user(db.session, "ehr")
        users.set_active(
            db.session, account, False, actor=users.find_user(db.session, admin.username),
            reason="left the practice",
        )  # fmt: skip
        db.session.commit()
    _assert_error(client.get("/api/v1/me", headers=_bearer(second)), 401, "unauthorized")


def test_unknown_paths_and_methods_use_the_error_shape(client):
    _assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    response = client.post("/api/v1/ping")
    _assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_api_responses_carry_a_request_id(client):
    response = client.get("/api/v1/ping", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    generated = client.get("/api/v1/ping", headers={"X-Request-ID": "bad id!"})
    assert generated.headers["X-Request-ID"] != "bad id!"
    assert len(generated.headers["X-Request-ID"]) == 16


def test_the_document_states_identifier_checks_and_the_reused_key(client):
    document = client.get("/api/v1/openapi.json").get_json()
    npi = document["paths"]["/prescribers/{npi}"]["get"]["parameters"][0]["schema"]
    assert npi["pattern"] == "^[0-9]{10}$" and "check digit" in npi["description"]
    site = document["paths"]["/sites/{site_id}"]["get"]["parameters"][0]["schema"]
    assert site["pattern"].startswith("^S") and "check character" in site["description"]
    gate = document["paths"]["/authorizations"]["post"]
    key = next(p for p in gate["parameters"] if p["name"] == "Idempotency-Key")
    assert (
        "422" in key["description"] and "Idempotency-Key" in gate["responses"]["422"]["description"]
    )
    body = document["components"]["schemas"]["AuthorizationRequest"]
    assert body["additionalProperties"] is False
    assert body["properties"]["patient_id"]["pattern"] == r"\S"  # not blank


def test_every_api_route_is_declared_once_with_its_body(app):
    from rems.api.operations import operation_of

    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            declared = operation_of(app.view_functions[rule.endpoint])
            assert declared is not None, rule.endpoint
            assert (declared.body is not None) == ("POST" in rule.methods), rule.endpoint
