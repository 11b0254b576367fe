"""Registering CDS Hooks clients: administrators only, CSRF-protected, audited; the JWKS must
hold public RSA or EC keys only; a URL must be https."""

from __future__ import annotations

import json

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.extensions import db
from rems.interop.cds_models import CdsClient
from tests.factories import csrf_token
from tests.interop.cds_helpers import KeyPair

NEW = "/admin/cds-clients/new"


def _form(keys: KeyPair, **changes) -> dict:
    values = {"name": "Harbor EHR", "issuer": "https://ehr.harbor.example", "jwks":
              json.dumps(keys.jwks), "jwks_url": "", "site_code": "",
              "organisation": "Harbor Neurology"}  # fmt: skip
    return values | changes


def _clients(app) -> list[CdsClient]:
    with app.app_context():
        return list(db.session.scalars(sa.select(CdsClient)))


def test_an_administrator_registers_a_client_and_it_is_audited(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    data = _form(KeyPair()) | {"csrf_token": csrf_token(browser, NEW)}
    response = browser.post(NEW, data=data)
    assert response.status_code == 302
    (client,) = _clients(app)
    assert client.issuer == "https://ehr.harbor.example" and client.jwks["keys"][0]["kty"] == "EC"
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "cds_client.registered"))  # fmt: skip
        assert event.new_values["key_ids"] == ["test-key-1"]
    page = browser.get("/admin/cds-clients").get_data(as_text=True)
    assert "Harbor EHR" in page and "test-key-1" in page
    token = csrf_token(browser, "/admin/cds-clients")
    done = browser.post(f"/admin/cds-clients/{client.id}/deactivate",
                        data={"csrf_token": token, "reason": "Contract ended"})  # fmt: skip
    assert done.status_code == 302
    assert not _clients(app)[0].active


def test_private_keys_http_urls_and_missing_csrf_are_refused(app, factory):
    browser = factory.signed_in(factory.user(Role.ADMIN))
    keys = KeyPair()
    private = {"keys": [keys.jwks["keys"][0] | {"d": "AAAA"}]}
    token = csrf_token(browser, NEW)
    page = browser.post(NEW, data=_form(keys, jwks=json.dumps(private)) | {"csrf_token": token})
    assert page.status_code == 200 and "private key" in page.get_data(as_text=True)
    page = browser.post(NEW, data=_form(keys, jwks="", jwks_url="http://ehr.example/jwks")
                        | {"csrf_token": token})  # fmt: skip
    assert "must be an https URL" in page.get_data(as_text=True)
    assert browser.post(NEW, data=_form(keys)).status_code in (400, 200)
    assert _clients(app) == []


def test_auditors_see_the_list_but_may_not_register(app, factory):
    browser = factory.signed_in(factory.user(Role.AUDITOR))
    assert browser.get("/admin/cds-clients").status_code == 200
    assert browser.get(NEW).status_code == 403
    assert browser.post(NEW, data=_form(KeyPair())).status_code in (400, 403)
    assert _clients(app) == []
