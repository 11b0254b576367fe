"""Auditors signing the same draft narrative at the same moment: one signature is applied, every
other auditor gets a clear 409 page (never a 500, never a second signature). Real concurrent
requests on the per-test SQLite file, or PostgreSQL with REMS_TEST_POSTGRES_URL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.auth.models import Role
from rems.extensions import db
from rems.reports.narrative_models import AssessmentNarrative
from tests.concurrent import send, serving, together
from tests.factories import csrf_token

AUDITORS = 4
PAGE = "/reports/assessment?from=2026-10-01&to=2026-10-31"
POST = "/reports/assessment/narrative?from=2026-10-01&to=2026-10-31"


def _cookie_and_token(client) -> tuple[str, str]:
    """The form's CSRF token (read first: it may set the session), then the session cookie."""
    token = csrf_token(client, PAGE)
    return client.get_cookie("rems_session").value, token


@pytest.fixture
def port(app):
    with serving(app) as port:
        yield port


def test_concurrent_signatures_of_one_draft_apply_one(app, factory, port):
    auditors = [factory.user(Role.AUDITOR) for _ in range(AUDITORS)]
    clients = [factory.signed_in(auditor) for auditor in auditors]
    first = clients[0]
    saved = first.post(POST, data={"csrf_token": csrf_token(first, PAGE), "action": "save",
                                   "narrative": "Draft for all."})  # fmt: skip
    assert saved.status_code == 303
    sessions = [_cookie_and_token(c) for c in clients]
    calls = [
        lambda cookie=cookie, token=token, auditor=auditor: send(
            port, "POST", POST, Cookie=f"rems_session={cookie}",
            form={"csrf_token": token, "action": "sign", "password": auditor.password},
        )
        for auditor, (cookie, token) in zip(auditors, sessions, strict=True)
    ]  # fmt: skip
    replies = together(calls)
    assert sorted(r.status for r in replies) == [303] + [409] * (AUDITORS - 1), [
        (r.status, re.sub(r"<[^>]+>", " ", r.text)[-1500:]) for r in replies if r.status != 303
    ]
    for loser in (r for r in replies if r.status == 409):
        assert "signed and locked" in loser.text, loser.text[-3000:]
    with app.app_context():
        [row] = db.session.scalars(sa.select(AssessmentNarrative)).all()
        assert row.state == "signed" and row.signature_id is not None
        signatures = db.session.scalar(sa.text("SELECT count(*) FROM signature"))
        assert signatures == 1
