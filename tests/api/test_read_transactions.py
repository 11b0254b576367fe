"""API reads on PostgreSQL run without a transaction: no BEGIN before them, no ROLLBACK after."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.auth.models import Role
from rems.extensions import db
from tests.authorizations.helpers import gate


def _transaction_states(app, client, path, headers) -> list[str]:
    """PostgreSQL's transaction state right after each statement of one request."""
    states = []

    def note(conn, *_):
        states.append(conn.connection.dbapi_connection.info.transaction_status.name)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "after_cursor_execute", note)
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        sa.event.remove(engine, "after_cursor_execute", note)
    return states


@pytest.mark.postgres
def test_me_and_the_authorization_read_open_no_transaction(app, factory):
    world = gate(app, factory)
    client = app.test_client()
    pharmacy = {"Authorization": f"Bearer {world.pharmacy_token}"}
    number = client.post("/api/v1/authorizations", json=world.request(doses=1), headers=pharmacy)
    number = number.get_json()["authorization_number"]
    auditor = {"Authorization": f"Bearer {factory.token(factory.user(Role.AUDITOR))}"}
    client.get("/api/v1/me", headers=auditor)  # last_used_at written: the next reads only read
    client.get(f"/api/v1/authorizations/{number}", headers=pharmacy)
    assert _transaction_states(app, client, "/api/v1/me", auditor) == ["IDLE"]
    read = _transaction_states(app, client, f"/api/v1/authorizations/{number}", pharmacy)
    assert read == ["IDLE", "IDLE"]  # the token, then the authorization: one statement each
