"""The gate's hot path stays lean: SQL statements per request, counted at the driver.

A SQLAlchemy `before_cursor_execute` listener counts every statement the app sends while one
request runs. Transaction control (BEGIN, COMMIT, ROLLBACK) is not counted; everything else is,
the token check included. The token's last use is written at most once a minute, so each test
uses the token once before counting (as a busy pharmacy's system does all day long).
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from rems.extensions import db
from tests.authorizations.helpers import gate

DECISION_LIMIT = 6
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


@contextmanager
def counting(app):
    """The statements the app sends inside the block (transaction control left out)."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _decide(client, world, body, **headers):
    return client.post(
        "/api/v1/authorizations", json=body, headers={**_bearer(world.pharmacy_token), **headers}
    )


@pytest.fixture
def world(app, factory, client):
    """The gate's cast, the pharmacy's token used once (its last use recorded), versions cached."""
    world = gate(app, factory)
    assert client.get("/api/v1/me", headers=_bearer(world.pharmacy_token)).status_code == 200
    wrong_birth = world.request(date_of_birth="1901-01-01")
    assert _decide(client, world, wrong_birth).status_code == 200
    return world


def _explain(sent: list[str]) -> str:
    return f"{len(sent)} statements:\n" + "\n---\n".join(sent)


def test_a_grant_takes_at_most_six_statements(app, client, world):
    with counting(app) as sent:
        response = _decide(client, world, world.request(doses=1))
    assert response.status_code == 201, response.get_json()
    assert len(sent) <= DECISION_LIMIT, _explain(sent)


def test_a_denial_takes_at_most_six_statements(app, client, world):
    with counting(app) as sent:
        response = _decide(client, world, world.request(doses=9))
    assert response.get_json()["reasons"][0]["code"] == "DOSES_EXCEEDED"
    assert len(sent) <= DECISION_LIMIT, _explain(sent)


def test_a_denial_that_tells_the_prescriber_takes_at_most_six_statements(app, client, world):
    """A denial someone else must act on queues its notices in one more statement (an INSERT …
    SELECT into the outbox): four statements become five on SQLite, and six on PostgreSQL,
    where a denial also takes the audit chain's lock in a statement of its own."""
    with counting(app) as sent:
        response = _decide(client, world, world.request(prescriber_npi="1234567893"))
    assert response.get_json()["reasons"][0]["code"] == "PRESCRIBER_NOT_CERTIFIED"
    assert len(sent) <= DECISION_LIMIT, _explain(sent)
    assert sum("INSERT INTO notification" in statement for statement in sent) == 1


def test_an_idempotent_request_takes_at_most_six_statements(app, client, world):
    with counting(app) as sent:
        response = _decide(client, world, world.request(doses=1), **{"Idempotency-Key": "k-9"})
    assert response.status_code == 201
    assert len(sent) <= DECISION_LIMIT, _explain(sent)


def test_the_token_check_is_one_statement_and_last_use_is_written_once_a_minute(
    app, client, world, clock
):
    with counting(app) as sent:
        assert client.get("/api/v1/me", headers=_bearer(world.pharmacy_token)).status_code == 200
    assert len(sent) == 1, _explain(sent)
    clock.advance(minutes=1)
    with counting(app) as sent:
        assert client.get("/api/v1/me", headers=_bearer(world.pharmacy_token)).status_code == 200
    assert len(sent) == 2 and sent[1].lstrip().upper().startswith("UPDATE"), _explain(sent)
