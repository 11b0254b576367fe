"""/metrics: the Prometheus format for the operators' monitoring, behind METRICS_TOKEN."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.authorizations.helpers import gate

TOKEN = "scrape-secret-0123456789"


def _scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def _sample(text: str, name: str, **labels) -> float:
    """One sample's value (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.fixture
def scraping(app):
    app.config["METRICS_TOKEN"] = TOKEN
    return app


def test_metrics_are_not_public(app, client):
    assert client.get("/metrics").status_code == 404  # no token configured: no endpoint
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 404
    assert _scrape(client, "wrong-token").status_code == 404
    assert _scrape(client).status_code == 200


def test_requests_are_counted_by_route_template_and_status(scraping, client):
    before = _scrape(client).get_data(as_text=True)
    client.get("/api/v1/authorizations/A123", headers={"Authorization": "Bearer nope"})
    client.get("/api/v1/ping")
    response = _scrape(client)
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    route = {"method": "GET", "route": "/api/v1/authorizations/<number>", "status": "401"}
    name = "rems_http_requests_total"
    assert _sample(text, name, **route) == _sample(before, name, **route) + 1
    ping = {"method": "GET", "route": "/api/v1/ping"}
    count = "rems_http_request_duration_seconds_count"
    assert _sample(text, count, **ping) == _sample(before, count, **ping) + 1
    assert "A123" not in text  # raw paths never become labels


def test_decisions_are_counted_by_outcome_and_reason(scraping, client, factory):
    world = gate(scraping, factory)
    before = _scrape(client).get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {world.pharmacy_token}"}
    client.post("/api/v1/authorizations", json=world.request(), headers=bearer)
    client.post("/api/v1/authorizations", json=world.request(), headers=bearer)  # no doses left
    text = _scrape(client).get_data(as_text=True)
    for outcome in ("authorized", "denied"):
        name, labels = "rems_gate_decisions_total", {"outcome": outcome}
        assert _sample(text, name, **labels) == _sample(before, name, **labels) + 1
    name, labels = "rems_gate_denial_reasons_total", {"reason": "DOSES_EXCEEDED"}
    assert _sample(text, name, **labels) == _sample(before, name, **labels) + 1
