"""Two nurses record the same deviating dose at the same moment: one dose, one deviation, one
case, and the other nurse gets a clean refusal (409 or 422), never a 5xx. Runs on the per-test
SQLite file, and on PostgreSQL with REMS_TEST_POSTGRES_URL."""

from __future__ import annotations

import http.client
import json
import threading
from datetime import timedelta

import sqlalchemy as sa
from werkzeug.serving import make_server

from rems.auth.models import Role
from rems.extensions import db
from rems.infusions.models import Infusion, InfusionDeviation
from rems.sites.models import Site
from tests.authorizations.helpers import gate, infusion, on_day
from tests.compliance.helpers import cases, grant
from tests.patients.pages import count_rows


def _post_together(port: int, path: str, bodies_and_tokens: list[tuple[dict, str]]) -> list[int]:
    """POST every body at once (each thread connected first, released by a barrier)."""
    barrier = threading.Barrier(len(bodies_and_tokens), timeout=60)
    statuses: list[int] = [0] * len(bodies_and_tokens)

    def one(index: int, body: dict, token: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.connect()
            barrier.wait()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection.request("POST", path, body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            response.read()
            statuses[index] = response.status
        finally:
            connection.close()

    threads = [
        threading.Thread(target=one, args=(i, body, token))
        for i, (body, token) in enumerate(bodies_and_tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=100)
    return statuses


def test_two_nurses_recording_one_dose_at_once_store_one_dose_and_one_case(app, factory, clock):
    world = gate(app, factory)
    client = app.test_client()
    number = grant(client, world)
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == world.site_code))
    second_nurse = factory.token(factory.user(Role.SITE_STAFF, site_id=site_id))
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    body = infusion(day, corticosteroid_premedication=False, deviations_acknowledged=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = f"/api/v1/authorizations/{number}/infusions"
        statuses = _post_together(
            server.server_port, path, [(body, world.nurse_token), (body, second_nurse)]
        )
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert sorted(statuses)[0] == 201 and sorted(statuses)[1] in (409, 422), statuses
    assert count_rows(app, Infusion) == 1 and count_rows(app, InfusionDeviation) == 1
    assert len(cases(app)) == 1
