"""API lookups: a prescriber by NPI, a site by its site ID, as of today."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import Role
from rems.common.identifiers import check_character
from rems.extensions import db
from rems.sites.models import Site
from tests.certification.helpers import certify, make_prescriber, make_site


def _get(client, factory, path):
    token = factory.token(factory.user(Role.AUDITOR))
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_prescriber_lookup_by_npi(app, client, factory):
    party = make_prescriber(app, factory, last_name="Lookup")
    certify(app, party, factory.user(Role.ADMIN))
    body = _get(client, factory, f"/api/v1/prescribers/{party.npi}").get_json()
    assert body == {
        "npi": party.npi,
        "name": "Elena Lookup, MD",
        "status": "certified",
        "certified_on": "2026-11-24",
        "expires_on": "2028-11-23",
    }


def test_prescriber_lookup_refuses_a_malformed_npi_and_misses_an_unknown_one(client, factory):
    malformed = _get(client, factory, "/api/v1/prescribers/1234567890")
    assert malformed.status_code == 422
    assert "npi" in malformed.get_json()["error"]["details"]
    unknown = _get(client, factory, "/api/v1/prescribers/1234567893")
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "not_found"


def test_site_lookup_by_site_id(app, client, factory):
    party = make_site(app, factory, name="Lookup Pharmacy", dispenses=True, infuses=False)
    with app.app_context():
        code = db.session.scalar(sa.select(Site.site_code).where(Site.id == party.id))
    body = _get(client, factory, f"/api/v1/sites/{code.lower()}").get_json()
    assert body["site_id"] == code
    assert body["capabilities"] == ["dispenses"]
    assert body["status"] == "submitted"
    assert body["certified_on"] is None


def test_site_lookup_checks_the_check_character(client, factory):
    unknown = "S0000000000" + check_character("S0000000000")
    assert _get(client, factory, f"/api/v1/sites/{unknown}").status_code == 404
    typo = _get(
        client, factory, f"/api/v1/sites/{unknown[:-1]}{'Z' if unknown[-1] != 'Z' else 'Y'}"
    )
    assert typo.status_code == 422
    assert typo.get_json()["error"]["details"] == {
        "site_id": ["Not a valid site ID (check the last character)."]
    }


def test_lookups_need_a_token(client):
    assert client.get("/api/v1/prescribers/1234567893").status_code == 401
