"""Faults under load (PostgreSQL): workers killed with `kill -9` and database backends
terminated while pharmacies ask for decisions and infusion sites record doses and reversals.

Every client write carries an Idempotency-Key and is retried with it until it gets a definite
answer, as a careful client would. Afterwards the records must be whole (every decision has its
audit event, every authorization its decision, no course holds more doses than it allows, every
dose counted), every definite answer must match what is on record, and the audit chain must
verify. Bounded in time; marked `slow` (run by .ci/run with `-m slow` on PostgreSQL).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import psycopg
import pytest
import sqlalchemy as sa

from rems.api.models import IdempotentRequest
from rems.audit.models import AuditEvent
from rems.audit.verify import verify_chain
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.courses.models import Course
from rems.extensions import db
from rems.infusions.models import Infusion
from tests.authorizations.helpers import authorize, gate, infusion
from tests.patients.helpers import enroll_patient
from tests.production.servers import LOOPBACK, gunicorn, served_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PATIENTS = 24  # one dose per patient per day on the served (frozen) day: many patients
CLIENTS = 6
LOAD_SECONDS = 30
FAULT_EVERY = 1.2  # seconds between faults, alternating kill -9 and pg_terminate_backend
RETRIES = 8
TODAY = date(2026, 11, 24)


@dataclass
class Tally:
    """What happened, for the assertions and the closing figures."""

    requests: Counter = field(default_factory=Counter)
    answers: list = field(default_factory=list)  # (kind, key, status, body)
    indefinite: Counter = field(default_factory=Counter)  # no answer, 5xx, 429: retried
    unresolved: list = field(default_factory=list)
    not_json: list = field(default_factory=list)
    workers_killed: int = 0
    backends_terminated: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class NotJson(str):
    """An answer under /api that is not JSON (an HTML error page): never acceptable."""


def _call(port, method, path, token, body, key):
    """One HTTP attempt: (status, body), or (None, error) when no answer came."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=15)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "Idempotency-Key": key}  # fmt: skip
        connection.request(method, path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except (OSError, http.client.HTTPException) as error:
        return None, repr(error)
    finally:
        connection.close()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, NotJson(raw[:300].decode(errors="replace"))


def _definite(status) -> bool:
    """An answer the client may rely on: anything but no answer, a 5xx, or a 429."""
    return status is not None and status < 500 and status != 429


def _describe(status, answer) -> str:
    """How an attempt failed to get a definite answer."""
    if status is None:
        return "no answer"
    code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
    return f"{status} {code or ''}".strip()


def _write(port, tally, kind, path, token, body):
    """Send a write until a definite answer: the same key on every retry."""
    key = f"{kind}-{random.getrandbits(64):016x}"
    for attempt in range(RETRIES):
        with tally.lock:
            tally.requests[kind] += 1
        status, answer = _call(port, "POST", path, token, body, key)
        if isinstance(answer, NotJson):
            with tally.lock:
                tally.not_json.append((kind, status, str(answer)))
        if _definite(status):
            with tally.lock:
                tally.answers.append((kind, key, status, answer))
            return status, answer
        with tally.lock:
            tally.indefinite[_describe(status, answer)] += 1
        time.sleep(0.1 * (attempt + 1))
    with tally.lock:
        tally.unresolved.append((kind, key))
    return None, None


class Load:
    """Clients that ask, infuse and reverse until told to stop."""

    def __init__(self, port, world, patients, tally):
        self.port, self.world, self.patients, self.tally = port, world, patients, tally
        self.stop = threading.Event()

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        held: list[tuple[str, str]] = []  # (authorization number, patient id)
        while not self.stop.is_set():
            if held and rng.random() < 0.7:
                self._use(rng, held)
            else:
                self._ask(rng, held)

    def _ask(self, rng, held) -> None:
        patient = rng.choice(self.patients)
        body = {**self.world.request(patient_id=patient.rems_id), "doses": rng.randint(1, 3)}
        status, answer = _write(self.port, self.tally, "decision", "/api/v1/authorizations",
                                self.world.pharmacy_token, body)  # fmt: skip
        if status == 201:
            held.append((answer["authorization_number"], patient.rems_id))

    def _use(self, rng, held) -> None:
        number, _ = held[-1]
        base = f"/api/v1/authorizations/{number}"
        if rng.random() < 0.25:
            held.pop()
            _write(self.port, self.tally, "reversal", f"{base}/reversal",
                   self.world.pharmacy_token, {"reason": "fault test"})  # fmt: skip
            return
        # The served clock stays on TODAY and no dose may be dated after the site's today, so
        # each patient takes at most today's dose; a second one is refused (one dose a day).
        status, _ = _write(self.port, self.tally, "infusion", f"{base}/infusions",
                           self.world.nurse_token, infusion(TODAY))  # fmt: skip
        if status in (201, 409, 422):
            held.pop()


def _faults(server, admin_url, database, tally, stop) -> None:
    """Alternately kill -9 a worker and terminate every backend of the app's database."""
    strike = 0
    while not stop.wait(FAULT_EVERY):
        strike += 1
        if strike % 2:
            pids = server.worker_pids()
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)
                tally.workers_killed += 1
            continue
        with psycopg.connect(admin_url, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()[0]
        tally.backends_terminated += killed


@pytest.fixture
def world(app, factory):
    """Pharmacy, infusion site, prescriber and PATIENTS patients with authorized courses."""
    base = gate(app, factory)
    patients = [base.patient]
    for _ in range(PATIENTS - 1):
        patient = enroll_patient(app, base.prescriber)
        authorize(app, patient, base.prescriber)
        patients.append(patient)
    return base, patients


def test_kill_9_and_terminated_backends_leave_whole_records_and_true_answers(
    app, world, database_url, tmp_path, redis_url
):
    base, patients = world
    url = sa.make_url(database_url)
    admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    env = served_env(database_url, RATELIMIT_STORAGE_URI=redis_url)  # two workers, one count
    tally = Tally()
    with gunicorn(tmp_path, env, workers=2) as server:
        load = Load(server.port, base, patients, tally)
        stop_faults = threading.Event()
        threads = [threading.Thread(target=load.run, args=(seed,)) for seed in range(CLIENTS)]
        threads.append(threading.Thread(
            target=_faults, args=(server, admin_url, url.database, tally, stop_faults)
        ))  # fmt: skip
        for thread in threads:
            thread.start()
        stop_faults.wait(LOAD_SECONDS)
        stop_faults.set()
        load.stop.set()
        for thread in threads:
            thread.join(timeout=120)
    _report(tally)
    assert tally.workers_killed >= 5 and tally.backends_terminated >= 5
    assert not tally.not_json, f"answers that were not JSON: {tally.not_json}"
    assert not tally.unresolved, f"writes that never got a definite answer: {tally.unresolved}"
    with app.app_context():
        broken = _broken_records(db.session) + _untrue_answers(db.session, tally)
        assert broken == [], broken
        assert verify_chain(db.session).ok


def _report(tally: Tally) -> None:
    """The figures, printed for the closing note (pytest -s, or on failure)."""
    statuses = Counter((kind, status) for kind, _key, status, _body in tally.answers)
    print(f"\nrequests sent: {dict(tally.requests)} (total {sum(tally.requests.values())})")
    print(f"definite answers: {dict(statuses)}")
    print(f"attempts retried (no definite answer): {dict(tally.indefinite)}")
    print(f"faults: {tally.workers_killed} workers killed with kill -9, "
          f"{tally.backends_terminated} database backends terminated")  # fmt: skip


def _broken_records(session) -> list[str]:
    """Records that are not whole."""
    broken = []
    audited = {
        (event.action, (event.new_values or {}).get("decision_id"))
        for event in session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action.like("authorization.%"))
        )
    }
    for decision in session.scalars(sa.select(AuthorizationDecision)):
        action = "authorization.granted" if decision.authorization_id else "authorization.denied"
        if (action, decision.decision_id) not in audited:
            broken.append(f"decision {decision.decision_id} has no audit event")
    decided = set(session.scalars(sa.select(AuthorizationDecision.authorization_id)))
    for number, auth_id in session.execute(sa.select(Authorization.number, Authorization.id)):
        if auth_id not in decided:
            broken.append(f"authorization {number} has no decision")
    for course in session.scalars(sa.select(Course)):
        broken += _course_problems(session, course)
    infusions = session.scalar(sa.select(sa.func.count()).select_from(Infusion))
    recorded = session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "infusion.recorded")
    )
    if infusions != recorded:
        broken.append(f"{infusions} infusions but {recorded} infusion.recorded events")
    return broken


def _course_problems(session, course: Course) -> list[str]:
    """Doses given and held must add up, never beyond the course's doses."""
    given = session.scalar(
        sa.select(sa.func.count()).select_from(Infusion).where(Infusion.course_id == course.id)
    )
    live = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Authorization.doses - Authorization.doses_given), 0))
        .where(Authorization.course_id == course.id)
        .where(Authorization.status.in_(["issued", "partially_used"]))
    ).scalar()
    problems = []
    if course.doses_given + course.doses_held > course.doses_total:
        problems.append(f"course {course.number} of patient {course.patient_id} over-held")
    if course.doses_given != given or course.doses_held != live:
        problems.append(
            f"course {course.id}: given {course.doses_given} vs {given} infusions, "
            f"held {course.doses_held} vs {live} live"
        )
    return problems


def _untrue_answers(session, tally: Tally) -> list[str]:
    """Every definite answer matches the record: a success is on record exactly once, and a
    refusal stored nothing under its key."""
    stored_keys = set(session.scalars(sa.select(IdempotentRequest.key)))
    stored_keys |= set(
        session.scalars(
            sa.select(AuthorizationDecision.idempotency_key).where(
                AuthorizationDecision.idempotency_key.is_not(None)
            )
        )
    )
    untrue = []
    for kind, key, status, body in tally.answers:
        succeeded = status in (200, 201)
        if succeeded != (key in stored_keys):
            untrue.append(f"{kind} {key}: answered {status} {body} but stored={not succeeded}")
        if kind == "decision" and status == 201:
            found = session.scalar(
                sa.select(Authorization.id).where(
                    Authorization.number == body["authorization_number"]
                )
            )
            if found is None:
                untrue.append(f"decision {key}: granted {body['authorization_number']}, missing")
    return untrue
