"""A retry that overlaps its first request (issue: a proxy timed out, the client retried with
the same Idempotency-Key while the first request was still writing). The retry must get the
first request's answer, or 409 `request_in_progress` with Retry-After: never a definite
refusal for a write that is stored.

The first request is held by the test between its write and its commit; the retry is a second
real request on its own connection. On PostgreSQL the retry must answer while the first is
held; on a SQLite file writers queue, so the retry waits for the first request's commit and
must then replay its answer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rems.api import idempotency
from rems.audit.models import AuditEvent
from rems.extensions import db
from rems.infusions.models import Infusion
from tests.authorizations.helpers import gate, infusion, on_day
from tests.concurrent import Background, Reply, send, serving

HOLD_LIMIT = 30  # seconds: how long today's blocking retry is waited for before giving up


class Overlap:
    """Holds answer_once's first commit until released, and notes the retry's arrival."""

    def __init__(self, app, monkeypatch):
        self.held, self.release, self.retry_arrived = (threading.Event() for _ in range(3))
        self.sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        commit, first = idempotency.commit_answer, [True]

        def held_commit():
            if first:
                first.clear()
                self.held.set()
                self.release.wait(HOLD_LIMIT)
            commit()

        monkeypatch.setattr(idempotency, "commit_answer", held_commit)
        inner = app.wsgi_app

        def noting(environ, start_response):
            if environ.get("HTTP_X_TEST_RETRY"):
                self.retry_arrived.set()
            return inner(environ, start_response)

        app.wsgi_app = noting

    def run(self, first_call, retry_call) -> tuple[Reply, Reply]:
        """The first request, held before its commit; the retry sent meanwhile."""
        first = Background(first_call)
        assert self.held.wait(HOLD_LIMIT), first.reply()
        retry = Background(retry_call)
        # PostgreSQL: the retry must answer while the first is held. SQLite: it queues for the
        # write lock the first holds, so the first is released once the retry is in.
        (self.retry_arrived if self.sqlite else retry.done).wait(HOLD_LIMIT)
        answered_while_held = retry.done.is_set()
        self.release.set()
        if not self.sqlite:
            assert answered_while_held, "the retry waited for the first request"
        return first.reply(), retry.reply()


@pytest.fixture
def overlap(app, monkeypatch):
    return Overlap(app, monkeypatch)


@pytest.fixture
def port(app, overlap):
    with serving(app) as port:
        yield port


def _post(port, token, path, body, key, *, retry=False) -> Reply:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    if retry:
        headers["X-Test-Retry"] = "1"
    return send(port, "POST", path, json_body=body, **headers)


def _granted(port, world) -> str:
    reply = send(port, "POST", "/api/v1/authorizations", json_body=world.request(),
                 Authorization=f"Bearer {world.pharmacy_token}")  # fmt: skip
    assert reply.status == 201, reply
    return reply.json()["authorization_number"]


def _same_answer_or_in_progress(first: Reply, retry: Reply) -> None:
    """The retry's answer: the first one replayed, or "still in progress" — nothing else."""
    if retry.status == 409:
        assert retry.json()["error"]["code"] == "request_in_progress", retry
        assert int(retry.headers["Retry-After"]) >= 1
    else:
        assert (retry.status, retry.json()) == (first.status, first.json()), retry
        assert retry.headers.get("Idempotent-Replayed") == "true"


def _events(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == action))


def test_an_infusion_retry_overlapping_the_first_request_never_gets_a_refusal(
    app, factory, clock, overlap, port
):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_granted(port, world)}/infusions"
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    body, key = infusion(day), "dose-1-retried-early"
    first, retry = overlap.run(
        lambda: _post(port, world.nurse_token, path, body, key),
        lambda: _post(port, world.nurse_token, path, body, key, retry=True),
    )
    assert first.status == 201, first
    _same_answer_or_in_progress(first, retry)
    later = _post(port, world.nurse_token, path, body, key)
    assert (later.status, later.json()) == (201, first.json())
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Infusion)) == 1
    assert _events(app, "infusion.recorded") == 1


def test_a_reversal_retry_overlapping_the_first_request_never_gets_a_refusal(
    app, factory, overlap, port
):
    world = gate(app, factory)
    path = f"/api/v1/authorizations/{_granted(port, world)}/reversal"
    body, key = {"reason": "Ordered by mistake"}, "undo-retried-early"
    first, retry = overlap.run(
        lambda: _post(port, world.pharmacy_token, path, body, key),
        lambda: _post(port, world.pharmacy_token, path, body, key, retry=True),
    )
    assert first.status == 200 and first.json()["status"] == "reversed", first
    _same_answer_or_in_progress(first, retry)
    later = _post(port, world.pharmacy_token, path, body, key)
    assert (later.status, later.json()) == (200, first.json())
    assert _events(app, "authorization.reversed") == 1
