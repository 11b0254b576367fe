"""The dose invariant under truly concurrent requests (program.md §5).

The test's app is served by a real threaded HTTP server on 127.0.0.1, and 24 threads, each with
its own TCP connection already open, are released together by a barrier to POST
/api/v1/authorizations against one 5-dose course. Exactly the course's doses may be granted;
every other answer must be a clean 200 denial (DOSES_EXCEEDED), never a 5xx or a 503 "database is
locked"; every request leaves one stored decision and one audit event, and the chain verifies.

Runs on the per-test SQLite file by default, and on PostgreSQL with REMS_TEST_POSTGRES_URL,
where one more test releases 200 requests at once.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from rems.audit.models import AuditEvent
from rems.audit.verify import verify_chain
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.common.transactions import writing
from rems.courses.models import Course
from rems.extensions import db
from tests.authorizations.helpers import Gate, gate

PARALLEL = 24
MANY = 200
COURSE_DOSES = 5
#: Generous: a request queues behind at most PARALLEL - 1 others (SQLite's busy timeout is 10 s).
REQUEST_TIMEOUT = 60


@dataclass(frozen=True)
class Answer:
    """What one request got back (status 0: no HTTP answer at all, `error` says why)."""

    doses_asked: int
    status: int
    body: dict
    error: str = ""


@pytest.fixture
def served(app):
    """The test's app on 127.0.0.1 and a free port, served from a thread (a thread per request)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def _fire(port: int, token: str, bodies: list[dict], **headers: str) -> list[Answer]:
    """POST every body at once: each thread connects first, then all send at the barrier."""
    barrier = threading.Barrier(len(bodies), timeout=60)
    answers: list[Answer | None] = [None] * len(bodies)

    def one(index: int, body: dict) -> None:
        asked = body.get("doses", 0)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            connection.connect()
            barrier.wait()
            connection.request(
                "POST",
                "/api/v1/authorizations",
                body=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    **headers,
                },
            )
            response = connection.getresponse()
            raw = response.read().decode(errors="replace")
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = {"raw": raw[:2000]}
            answers[index] = Answer(asked, response.status, parsed)
        except Exception as error:  # reported by the assertions below
            answers[index] = Answer(asked, 0, {}, f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=one, args=(index, body)) for index, body in enumerate(bodies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 40)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    return [answer for answer in answers if answer is not None]


def _check(app, world: Gate, answers: list[Answer], parallel: int = PARALLEL) -> None:
    """The invariant and its bookkeeping, whatever order the requests were served in."""
    assert len(answers) == parallel
    broken = [a for a in answers if a.status not in (200, 201)]
    assert not broken, "every request must get a clean 201 or 200, got:\n" + "\n".join(
        f"  {a.status} {a.error or json.dumps(a.body)[:500]}" for a in broken
    )
    grants = [a for a in answers if a.status == 201]
    denials = [a for a in answers if a.status == 200]
    for grant in grants:
        assert grant.body["decision"] == "authorized"
        assert grant.body["doses"] == grant.doses_asked
    for denial in denials:
        assert denial.body["decision"] == "denied", denial.body
        codes = [reason["code"] for reason in denial.body["reasons"]]
        assert codes == ["DOSES_EXCEEDED"], denial.body
    assert sum(grant.body["doses"] for grant in grants) == COURSE_DOSES, [
        (a.status, a.doses_asked) for a in answers
    ]
    numbers = {grant.body["authorization_number"] for grant in grants}
    assert len(numbers) == len(grants)
    assert len({denial.body["decision_id"] for denial in denials}) == len(denials)

    with app.app_context():
        session = db.session
        course = session.scalar(sa.select(Course).where(Course.patient_id == world.patient.id))
        assert course.doses_total == COURSE_DOSES
        assert course.doses_given + course.doses_held == COURSE_DOSES
        stored = session.scalars(sa.select(Authorization)).all()
        assert {a.number for a in stored} == numbers
        assert sum(a.doses for a in stored) == course.doses_held
        decisions = Counter(session.scalars(sa.select(AuthorizationDecision.outcome)))
        assert decisions == Counter(authorized=len(grants), denied=len(denials))
        events = Counter(
            session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.action.like("authorization.%"))
            )
        )
        assert events == Counter(
            {"authorization.granted": len(grants), "authorization.denied": len(denials)}
        )
        report = verify_chain(session)
        assert report.ok, report


def test_parallel_one_dose_requests_grant_exactly_the_course(app, factory, served):
    world = gate(app, factory)
    answers = _fire(served, world.pharmacy_token, [world.request(doses=1)] * PARALLEL)
    _check(app, world, answers)
    assert sum(a.status == 201 for a in answers) == COURSE_DOSES


def test_parallel_mixed_requests_never_over_authorize(app, factory, served):
    world = gate(app, factory)
    bodies = [world.request(doses=1 + index % 2) for index in range(PARALLEL)]
    answers = _fire(served, world.pharmacy_token, bodies)
    # Twelve 1-dose requests against five doses: the course always ends fully held.
    _check(app, world, answers)


def test_parallel_retries_with_one_idempotency_key_grant_once(app, factory, served):
    """The same request, same Idempotency-Key, 24 times at once: one grant, 24 equal answers."""
    world = gate(app, factory)
    body = world.request(doses=2)
    answers = _fire(served, world.pharmacy_token, [body] * PARALLEL, **{"Idempotency-Key": "k-1"})
    assert [a.status for a in answers] == [201] * PARALLEL, [
        (a.status, a.error or a.body) for a in answers if a.status != 201
    ]
    assert all(a.body == answers[0].body for a in answers)
    with app.app_context():
        session = db.session
        course = session.scalar(sa.select(Course).where(Course.patient_id == world.patient.id))
        assert (course.doses_given, course.doses_held) == (0, 2)
        assert session.scalar(sa.select(sa.func.count()).select_from(AuthorizationDecision)) == 1
        assert session.scalars(sa.select(Authorization.number)).all() == [
            answers[0].body["authorization_number"]
        ]
        granted = sa.select(sa.func.count()).where(AuditEvent.action == "authorization.granted")
        assert session.scalar(granted) == 1
        assert verify_chain(session).ok


@pytest.mark.postgres
def test_two_hundred_parallel_requests_on_postgresql_grant_exactly_the_course(app, factory, served):
    """200 connections released at once against one 5-dose course (PostgreSQL only: a SQLite
    file serialises writers anyway, and 200 threads are within this machine's limits)."""
    world = gate(app, factory)
    bodies = [world.request(doses=1 + index % 2) for index in range(MANY)]
    answers = _fire(served, world.pharmacy_token, bodies)
    _check(app, world, answers, parallel=MANY)
    assert sum(a.status == 201 for a in answers) <= COURSE_DOSES


@pytest.mark.parametrize("column", ["doses_held", "doses_given"])
def test_the_database_refuses_an_update_that_breaks_the_invariant(app, factory, column):
    world = gate(app, factory)
    table = Course.__table__
    with app.app_context(), writing():
        course_id = db.session.scalar(
            sa.select(Course.id).where(Course.patient_id == world.patient.id)
        )
        with pytest.raises(sa.exc.IntegrityError) as refused:
            db.session.execute(
                table.update()
                .where(table.c.id == course_id)
                .values({column: table.c.doses_total + 1})
            )
        assert "dose_invariant" in str(refused.value)
        db.session.rollback()
        # One dose below the limit is accepted: the constraint bites exactly at the invariant.
        db.session.execute(
            table.update().where(table.c.id == course_id).values({column: table.c.doses_total})
        )
        db.session.rollback()


def test_the_database_refuses_it_outside_the_orm_too(app, factory):
    """Any client that reaches the database, not just the app's session, is refused."""
    world = gate(app, factory)
    with app.app_context():
        engine = db.engine
    with engine.connect() as connection:
        transaction = connection.begin()
        with pytest.raises(sa.exc.IntegrityError) as refused:
            connection.execute(
                sa.text("UPDATE course SET doses_held = 3, doses_given = 3 WHERE patient_id = :p"),
                {"p": world.patient.id},
            )
        assert "dose_invariant" in str(refused.value)
        transaction.rollback()
